"""Round trips with annotators through CSV: export a batch to review, import the answers.

The CSV has one row per sample: ``sample_id``, ``given_label`` (original), ``current_label``,
the model's ``prediction`` and ``probability`` (with ``analysis=``), chosen feature or text
columns, the suspect ``cause`` (with ``suspects=``), then the empty answer columns ``label``,
``note`` and ``annotator``. Instructions (the classes and their guidelines) are written beside
it as ``<name>.instructions.md``. Cells a spreadsheet would run as a formula (starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return) are written with a leading ``'``
(OWASP's advice against CSV injection) and read back without it, so an id ``"=A1"`` or a
label ``"-1"`` round-trips exactly. Answers come back as events with
``cause={"import": "csv", "file": ..., "line": ..., "answer": ...}``, authored by each row's
annotator; ``answer`` fingerprints the answer (sample, annotator, label, note, confidence, time
spent), so importing the same file again, or a copy with rows reordered, writes nothing new.

>>> import pandas as pd, tempfile, os
>>> from errlens.changelog.store import LabelStore
>>> d = tempfile.mkdtemp()
>>> store = LabelStore(pd.Series(["cat", "dog"], index=["a", "b"]), os.path.join(d, "l.jsonl"),
...                    author="lead")
>>> path = export_csv(store, os.path.join(d, "batch.csv"))
>>> batch = pd.read_csv(path)
>>> batch["label"] = ["dog", "dog"]; batch["annotator"] = "ana"
>>> batch.to_csv(path, index=False)
>>> [(e.op, e.sample_id, e.new_label) for e in import_csv(store, path)]
[('set', 'a', 'dog'), ('confirm', 'b', 'dog')]
>>> import_csv(store, path)
[]
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from errlens.base import jsonvalue
from errlens.changelog.errors import ChangelogError, ChangelogWarning
from errlens.changelog.events import MAX_DEPTH
from errlens.changelog.safe_files import atomic_write, output_target, require_regular_file

#: Answer written in the ``label`` column to mark a sample unsure (a ``skip`` event).
SKIP = "?"
ANSWER_COLUMNS = ("label", "note", "annotator")
REQUIRED_COLUMNS = ("sample_id", "label")
MAX_REPORTED = 20
#: First characters that make a spreadsheet read a cell as a formula (OWASP: CSV injection).
FORMULA_START = frozenset("=+-@\t\r")
#: Deepest JSON nesting accepted in an imported file (a suspect's cause is 3 levels deep): it
#: is stored one level inside the event's cause, which writers keep within MAX_DEPTH.
MAX_JSON_DEPTH = MAX_DEPTH - 1


class ImportErrors(ChangelogError):
    """An import file has problems; every problem is listed and nothing was written."""

    def __init__(self, source: str, problems: list[str]) -> None:
        shown = problems[:MAX_REPORTED]
        more = len(problems) - len(shown)
        lines = "\n".join(f"  - {p}" for p in shown)
        tail = f"\n  ... and {more} more" if more else ""
        super().__init__(f"{source}: {len(problems)} problem(s), nothing was written:\n"
                         f"{lines}{tail}")
        self.problems = problems


def plain(value: Any) -> Any:
    """A JSON-safe value for a CSV cell or a Label Studio task: the project's one encoder,
    :func:`errlens.base.jsonvalue.plain`, with any object it leaves as is given as text.

    >>> plain(float("nan")), plain(pd.Timestamp("2024-01-02")), plain(Path("a"))
    (None, '2024-01-02T00:00:00', 'a')
    """
    value = jsonvalue.plain(value)
    return value if value is None or isinstance(value, (str, int, float, bool, list)) \
        else str(value)


def text_lookup(values: Iterable[Any]) -> dict[str, Any]:
    """Map each value's text form back to the value (CSV and JSON answers come as text)."""
    return {str(v): v for v in values}


def label_lookup(store: Any) -> dict[str, Any]:
    """Answer text -> current class; names from before a rename or merge resolve to the new one."""
    schema = getattr(store, "schema", None)
    renamed = getattr(schema, "renames", {}) or {}
    lookup = {str(old): schema.resolve(old) for old in renamed} if schema is not None else {}
    return lookup | text_lookup(store.classes)


def batch_ids(store: Any, ids: Iterable[Any] | None, suspects: Any = None) -> list[Any]:
    """The sample ids to export: ``ids``, else the suspects' ranked ids, else every sample."""
    if ids is None:
        ids = suspects.table.index if suspects is not None else store.original.index
    chosen = [plain(i) for i in ids]
    known = store.original.index
    unknown = [i for i in chosen if i not in known]
    if unknown:
        raise ChangelogError(f"cannot export unknown sample ids {unknown[:5]}; pick ids from "
                             f"store.original.index")
    return chosen


def batch_frame(store: Any, ids: list[Any], *, analysis: Any = None,
                columns: Sequence[str] = (), suspects: Any = None) -> pd.DataFrame:
    """What annotators see for each sample: labels, prediction, chosen columns, cause."""
    index = pd.Index(ids, name="sample_id")
    current = store.labels()
    frame = pd.DataFrame({"given_label": store.original.reindex(index).to_numpy(),
                          "current_label": current.reindex(index).to_numpy()}, index=index)
    if columns and analysis is None:
        raise ChangelogError("columns= picks features of an analysis; pass analysis=ev too")
    if analysis is not None:
        missing = [i for i in ids if i not in analysis.ids]
        if missing:
            raise ChangelogError(f"sample ids {missing[:5]} are not in the analysis; export "
                                 f"ids the analysis knows, or leave analysis= out")
        frame["prediction"] = analysis.y_pred.reindex(index).to_numpy()
        if analysis.proba is not None:
            rows = analysis.ids.get_indexer(index)
            frame["probability"] = analysis.proba[rows, analysis.y_pred_codes[rows]]
        absent = [c for c in columns if c not in analysis.features.columns]
        if absent:
            raise ChangelogError(f"columns {absent} are not features of the analysis; choose "
                                 f"from {list(analysis.features.columns)[:20]}")
        for col in columns:
            frame[col] = analysis.features[col].reindex(index).to_numpy()
    if suspects is not None:
        frame["cause"] = [json.dumps(suspects.cause(i), sort_keys=True) for i in ids]
    return frame


def instructions(store: Any, *, skip_word: str = SKIP) -> str:
    """Markdown instructions for annotators: how to answer and each class's guideline."""
    lines = ["# Labeling instructions", "",
             "For each row, write your answer in the `label` column:",
             "- one of the classes below, exactly as written (the given label if it is right);",
             f"- `{skip_word}` if you cannot tell;",
             "- nothing, to leave the row unanswered.",
             "Add a short `note` when it helps (a note without a label is kept as a comment),",
             "and write your name in `annotator`. Do not edit `sample_id`.", "", "## Classes", ""]
    guidelines = getattr(getattr(store, "schema", None), "guidelines", {}) or {}
    for cls in store.classes:
        g = guidelines.get(cls, {})
        lines.append(f"### {cls}")
        for key, title in (("definition", "Definition"), ("example", "Example")):
            if g.get(key):
                lines.append(f"- {title}: {g[key]}")
        lines.extend(f"- Edge case: {case}" for case in g.get("edge_cases", ()))
        lines.append("")
    return "\n".join(lines)


def export_csv(store: Any, path: str | os.PathLike[str], ids: Iterable[Any] | None = None, *,
               columns: Sequence[str] = (), analysis: Any = None,
               suspects: Any = None) -> Path:
    """Write a review batch as CSV (plus ``<name>.instructions.md``); returns the CSV path.

    ``ids`` default to ``suspects``' ranked ids (e.g. ``ev.suspects(top=200)``) or every
    sample; ``columns`` are feature or text columns of ``analysis`` shown to annotators.
    """
    path = Path(path)
    side = path.with_suffix(".instructions.md")
    for target in (path, side):  # both refused or both written
        output_target(target, overwrite=True)
    ids_list = batch_ids(store, ids, suspects)
    frame = batch_frame(store, ids_list, analysis=analysis, columns=columns, suspects=suspects)
    for col in ANSWER_COLUMNS:
        frame[col] = ""
    atomic_write(path, csv_bytes(frame.reset_index(), text=("sample_id", "given_label",
                                                           "current_label", "prediction")),
                 overwrite=True)
    atomic_write(side, instructions(store).encode(), overwrite=True)
    return path


def to_cell(text: str) -> str:
    """``text`` as a CSV cell no spreadsheet runs as a formula: a leading ``'`` when its
    first character after any ``'`` is one of :data:`FORMULA_START` (so :func:`from_cell`
    can tell the ``'`` it added from one in the data).

    >>> to_cell("=HYPERLINK(0)"), to_cell("-3"), to_cell("'+x"), to_cell("cat")
    ("'=HYPERLINK(0)", "'-3", "''+x", 'cat')
    """
    return "'" + text if text.lstrip("'")[:1] in FORMULA_START else text


def from_cell(text: str) -> str:
    """The value of a cell :func:`to_cell` wrote (a cell without its ``'`` is kept as is,
    as a spreadsheet may save it).

    >>> from_cell("'-3"), from_cell("-3"), from_cell("''+x"), from_cell("'cat")
    ('-3', '-3', "'+x", "'cat")
    """
    return text[1:] if text[:1] == "'" and text.lstrip("'")[:1] in FORMULA_START else text


def csv_bytes(frame: pd.DataFrame, *, text: Sequence[str] = ()) -> bytes:
    """``frame`` as UTF-8 CSV for spreadsheets, every cell that could run as a formula
    neutralised by :func:`to_cell`, the header too. Numbers stay numbers (``-1.5`` is not
    a formula) except in the ``text`` columns, matched back by their text (an id ``-3`` is
    written ``'-3``)."""
    out = frame.copy()
    for col in out.columns:
        kind, types = out[col].dtype, pd.api.types
        number = types.is_numeric_dtype(kind) and not types.is_bool_dtype(kind)
        if col not in text and (number or types.is_datetime64_any_dtype(kind)):
            continue
        out[col] = [v if plain(v) is None else to_cell(str(v)) for v in out[col].tolist()]
    out.columns = [to_cell(str(c)) for c in out.columns]
    # CRLF rows (RFC 4180) so that any cell holding a bare \r or \n is quoted.
    return out.to_csv(index=False, lineterminator="\r\n").encode()


def loads_bounded(text: str | bytes) -> Any:
    """Parse JSON nested at most :data:`MAX_JSON_DEPTH` deep; ValueError otherwise (never a
    RecursionError, however deep the input)."""
    try:
        value = orjson.loads(text)  # refuses nesting beyond 1024 instead of recursing
    except orjson.JSONDecodeError as exc:
        try:
            value = json.loads(text)  # what orjson refuses but errlens writes: NaN
        except RecursionError:
            raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep") from None
        if "depth" in str(exc):  # orjson's limit, where Python's own parser got through
            raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep") from None
    depth, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            depth = max(depth, level)
            if depth > MAX_JSON_DEPTH:
                raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep")
            stack.extend((x, level + 1) for x in item)
    return value


def _read_csv(path: Path) -> pd.DataFrame:
    require_regular_file(path)
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        header = handle.readline()
    # Spreadsheets in many locales save "CSV" with semicolons.
    sep = ";" if ";" in header and "," not in header else ","
    try:
        # index_col=False: a row with a cell too many (a trailing separator) must not shift
        # every column; cells beyond the header's columns have no meaning and are dropped
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            rows = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False,
                               index_col=False, encoding="utf-8-sig", sep=sep)
    except pd.errors.EmptyDataError:
        raise ChangelogError(f"{path} is empty; expected the CSV written by export_csv") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ChangelogError(f"{path} is not a readable UTF-8 CSV ({exc}); save it as "
                             f"'CSV UTF-8' and try again") from None
    rows.columns = [from_cell(c) for c in rows.columns]
    return rows.map(from_cell)


def _number(text: str, name: str, line: int, problems: list[str],
            low: float, high: float) -> float | None:
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (low <= value <= high) or math.isinf(value):
        span = f"from {low:g} to {high:g}" if math.isfinite(high) else f"of at least {low:g}"
        problems.append(f"line {line}: {name} {text!r} must be a finite number {span}")
        return None
    return value


def answers_to_specs(rows: pd.DataFrame, store: Any, *, author: str | None, source: str,
                     fmt: str = "csv") -> list[dict[str, Any]]:
    """Turn answer rows (text cells) into validated ``record_many`` entries, or raise."""
    problems: list[str] = []
    missing = [c for c in REQUIRED_COLUMNS if c not in rows.columns]
    if missing:
        raise ImportErrors(source, [
            f"missing column(s) {missing}; the file must keep the columns export_csv wrote "
            f"(at least {', '.join(REQUIRED_COLUMNS)})"])
    ids = text_lookup(store.original.index)
    classes = label_lookup(store)
    current = store.labels()
    latest, earlier = answer_history(store, fmt)
    specs: list[dict[str, Any]] = []
    seen: dict[tuple[Any, str], int] = {}
    went_back: list[str] = []
    for pos, row in enumerate(rows.to_dict("records")):
        line = pos + 2  # line 1 is the header
        answer = row["label"].strip()
        note = row.get("note", "").strip() or None
        if not answer and not note:
            continue
        sample = ids.get(row["sample_id"].strip())
        if sample is None:
            problems.append(f"line {line}: unknown sample_id {row['sample_id']!r}; do not edit "
                            f"the sample_id column")
            continue
        who = row.get("annotator", "").strip() or author
        if not who:
            problems.append(f"line {line}: no annotator; fill the annotator column, or give "
                            f"a default author (--author NAME; author= in Python)")
            continue
        if (sample, who) in seen:
            problems.append(f"line {line}: {who} already answered sample {sample!r} on line "
                            f"{seen[(sample, who)]}; keep one answer per sample and annotator")
            continue
        seen[(sample, who)] = line
        answer_key = _fingerprint(sample, who, answer, note, row)
        if latest.get((sample, who)) == answer_key:
            continue  # what this annotator's last import on the sample said already
        if (sample, who, answer_key) in earlier:
            went_back.append(f"{sample!r} by {who}")
        cause: dict[str, Any] = {"import": fmt, "file": source, "line": line,
                                 "answer": answer_key}
        if row.get("cause", "").strip():
            try:
                cause["suspect"] = loads_bounded(row["cause"])
            except ValueError as exc:
                problems.append(f"line {line}: the cause column is not errlens' JSON ({exc}); "
                                f"do not edit it")
        spec: dict[str, Any] = {"id": sample, "author": who, "note": note, "cause": cause}
        if "confidence" in row:
            spec["confidence"] = _number(row["confidence"].strip(), "confidence", line,
                                         problems, 0.0, 1.0)
        if "time_spent" in row:
            spec["time_spent"] = _number(row["time_spent"].strip(), "time_spent", line,
                                         problems, 0.0, math.inf)
        if not answer:
            spec["op"] = "comment"
        elif answer == SKIP and SKIP not in classes:
            spec["op"] = "skip"
        elif answer in classes:
            label = classes[answer]
            spec["op"] = "confirm" if label == current.get(sample) else "set"
            spec["label"] = label
        else:
            problems.append(f"line {line}: label {answer!r} is not a class; use one of "
                            f"{[str(c) for c in store.classes]} or {SKIP!r} if unsure")
            continue
        specs.append(spec)
    if problems:
        raise ImportErrors(source, problems)
    if went_back:
        warnings.warn(f"{len(went_back)} answer(s) in {source} go back to what the same "
                      f"annotator answered before their latest import (e.g. "
                      f"{', '.join(went_back[:3])}); they are recorded as the annotator's "
                      f"answer now. If {source} is an old copy, undo those events",
                      ChangelogWarning, stacklevel=3)
    return specs


def _fingerprint(sample: Any, who: str, answer: str, note: str | None,
                 row: Mapping[Any, Any]) -> str:
    """A short digest of one answer: what makes a re-imported row the same answer."""
    parts = [sample, who, answer, note, str(row.get("confidence", "")).strip(),
             str(row.get("time_spent", "")).strip()]
    text = json.dumps(parts, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def answer_history(store: Any, fmt: str = "csv"
                   ) -> tuple[dict[tuple[Any, str], str], set[tuple[Any, str, str]]]:
    """The answers imported from ``fmt`` files: the fingerprint of each annotator's latest
    answer on each sample (``{(sample_id, annotator): fingerprint}``), and every
    ``(sample_id, annotator, fingerprint)`` imported so far."""
    latest: dict[tuple[Any, str], str] = {}
    every: set[tuple[Any, str, str]] = set()
    for sample, author, cause in store.imported(fmt):
        if isinstance(cause.get("answer"), str):
            latest[(sample, author)] = cause["answer"]
            every.add((sample, author, cause["answer"]))
    return latest, every


def import_csv(store: Any, path: str | os.PathLike[str], *, author: str | None = None) -> list:
    """Record the answers of a returned review CSV as events; returns them.

    Each answered row becomes a ``set`` (a new label), ``confirm`` (the current label),
    ``skip`` (``?``) or ``comment`` (a note alone) by the row's ``annotator`` (or ``author``).
    A row is skipped when it repeats what the same annotator's latest import on that
    sample said (same label, note, confidence and time spent), so importing a file twice
    writes nothing the second time, while an annotator who changes an answer, even back to
    an earlier one, is heard. All rows are
    checked first: on any problem nothing is written and the error lists each problem with
    its line.
    """
    path = Path(path)
    rows = _read_csv(path)
    specs = answers_to_specs(rows, store, author=author, source=path.name)
    return store.record_many(specs) if specs else []
