"""Read-only views of a LabelStore as pandas tables: labels by version, events, history,
versions, row-level diffs, conflicts. Mixed into :class:`~errlens.changelog.LabelStore`.

>>> import pandas as pd, tempfile, os
>>> from errlens.changelog import LabelStore
>>> s = LabelStore(pd.Series(["a", "b"], index=[1, 2]), os.path.join(tempfile.mkdtemp(), "l.jsonl"),
...                author="ana")
>>> _ = s.tag("v1"); _ = s.relabel(1, "b", note="typo"); _ = s.tag("v2")
>>> s.diff("v1", "v2")[["sample_id", "from", "to", "author", "note"]].to_dict("records")
[{'sample_id': 1, 'from': 'a', 'to': 'b', 'author': 'ana', 'note': 'typo'}]
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import fields
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from errlens.changelog.errors import ChangelogError
from errlens.changelog.events import OPS, Event
from errlens.changelog.logfile import gc_paused
from errlens.changelog.replay import Replay, replay
from errlens.changelog.schema import LabelSchema
from errlens.changelog.timeutil import parse_utc

if TYPE_CHECKING:
    from errlens.changelog.dataset import Dataset
    from errlens.changelog.logfile import LogFile
    from errlens.changelog.verify import VerifyReport

EVENT_COLUMNS = ["event_id", "seq", "op", "sample_id", "old_label", "new_label", "author",
                 "role", "round", "timestamp", "note", "confidence", "time_spent", "cause",
                 "parents", "refs", "version", "reverted", "origin"]
CURRENT, ORIGINAL = "current", "original"
#: The module of the annotator reports (see ``ViewsMixin.agreement_report``).


class ViewsMixin:
    """Table views over the replay state (``self._state``) and dataset (``self.dataset``)."""

    _state: Replay
    _base_schema: LabelSchema
    dataset: Dataset
    _log: LogFile
    _lines: int

    # ---------------------------------------------------------------- basics
    @property
    def schema(self) -> LabelSchema:
        """The current label schema (a copy): classes and their guidelines."""
        return self._state.schema.copy()

    @property
    def classes(self) -> list[Any]:
        """Current classes."""
        return list(self._state.schema.classes)

    @property
    def original(self) -> pd.Series:
        """Original labels indexed by sample id, in ``y_true``'s dtype (see :meth:`labels`)."""
        return self.labels(ORIGINAL)

    def _state_at(self, version: str | None) -> Replay | None:
        if version is None or version == CURRENT:
            return self._state
        if version == ORIGINAL:
            return None
        if version in self._state.ambiguous:
            named = [t for t in self._state.tags if t.startswith(f"{version}@")]
            raise ChangelogError(f"version {version!r} is ambiguous: several annotators tagged "
                                 f"different states with that name; use one of {named}")
        if version not in self._state.tags:
            known = ", ".join(self._state.tags) or "none yet (create one with store.tag('v1'))"
            raise ChangelogError(f"unknown version {version!r}; versions: {known}, "
                                 f"'{ORIGINAL}', '{CURRENT}'")
        tag = self._state.events[self._state.tags[version]]
        clock = tag.clock or {}
        cols, n, extra = self._state.events.parts()
        if cols is None:
            return replay(self._base_schema, [e for e in extra
                                              if e.oseq <= clock.get(e.origin, 0)], check=False)
        limit = np.array([clock.get(name, 0) for name in cols.origins] + [0], dtype=np.int64)
        origin = np.frombuffer(cols.origin, dtype=np.int64)[:n]
        mask = np.frombuffer(cols.oseq, dtype=np.int64)[:n] <= limit[origin]
        state = Replay.bulk(self._base_schema, cols, n, mask)
        for e in extra:
            if e.oseq <= clock.get(e.origin, 0):
                state.apply(e, check=False)
        return state

    def labels(self, version: str | None = None) -> pd.Series:
        """Labels at a version (a tag name, 'original' or None for the current labels).

        Samples in an unresolved conflict keep the label all sides had seen; see
        :meth:`conflicts`. Labels come back in the dtype ``y_true`` had (``int64``, ``bool``,
        ``str``, a ``category`` with its categories and order, ...), so
        ``model.fit(X, store.labels("v2"))`` works as on the original labels; a category gains
        classes added since, and a class that does not fit the dtype (text added to integer
        labels) makes the labels ``object``. A :class:`~errlens.Changelog` opened without its
        dataset uses the dtype pandas gives the log's classes (``int64``, ``bool``, ``str``).
        """
        return self._labels(version)[0]

    def _labels(self, version: str | None, *, plain: bool = False
                ) -> tuple[pd.Series, LabelSchema]:
        """Labels at a version (``plain``: as plain values, object dtype), and their schema."""
        state = self._state_at(version)
        if state is None:
            return self.dataset.labels_at(self._base_schema, {}, renamed=False,
                                          plain=plain), self._base_schema
        originals, now = self.dataset.lookup, state.schema.current_name
        changed = {s: state.label(s, now(originals.get(s))) for s in state.heads}
        # renamed: classes renamed or merged since the start
        labels = self.dataset.labels_at(state.schema, changed,
                                        renamed=bool(state.schema.from_start), plain=plain)
        return labels, state.schema

    # ---------------------------------------------------------------- events
    def events(self, *, first: int | None = None, last: int | None = None) -> pd.DataFrame:
        """One row per event, in file order (timestamps tz-aware UTC). ``first`` / ``last``:
        only the first / last that many, which stays cheap at any size (the whole table of a
        million events takes seconds)."""
        n = len(self._state.events)
        if first is not None and last is not None:
            raise ValueError("give first= or last=, not both")
        if first is not None:
            return self._frame(range(min(max(first, 0), n)))
        return self._frame(range(0 if last is None else max(0, n - last), n))

    def event_ops(self) -> pd.DataFrame:
        """``sample_id``, ``op`` and ``author`` of every event in file order, read from the
        compact columns without parsing any event: cheap at a million events (``events()``
        is not).

        >>> # store.event_ops().groupby("sample_id")["op"].agg(["size", "last"])
        """
        cols, n, extra = self._state.events.parts()
        out: dict[str, list[Any]] = {"sample_id": [], "op": [], "author": []}
        if cols is not None and n:
            for name, codes, table in (("sample_id", cols.sample, cols.samples),
                                       ("author", cols.author, cols.authors)):
                code = np.frombuffer(codes, dtype=np.int64)[:n]
                values = np.array([*table, None], dtype=object)
                out[name] = values[np.where(code >= 0, code, len(values) - 1)].tolist()
            op = np.frombuffer(cols.op, dtype=np.int8)[:n]
            out["op"] = np.array(OPS, dtype=object)[op].tolist()
        for name in out:
            out[name] += [getattr(e, name) for e in extra]
        return pd.DataFrame(out, dtype=object)

    def imported_causes(self, fmt: str) -> list[dict[str, Any]]:
        """The ``cause`` of every event imported from ``fmt`` files (``"csv"``,
        ``"labelstudio"``), in file order. Only lines that mention ``"import"`` are parsed
        (one byte search of the log), so this stays cheap at a million events.

        >>> # {c["answer"] for c in store.imported_causes("csv")}
        """
        return [cause for _, _, cause in self.imported(fmt)]

    def imported(self, fmt: str) -> list[tuple[Any, str, dict[str, Any]]]:
        """``(sample_id, author, cause)`` of every event imported from ``fmt`` files, in file
        order (cheap at any size, like :meth:`imported_causes`)."""
        cols, n, extra = self._state.events.parts()
        rows: list[int] = []
        if cols is not None and n:
            hits = [m.start() for m in re.finditer(rb'"import"', cols.data)]
            offsets = np.frombuffer(cols.offsets, dtype=np.int64)[:n]
            found = np.unique(np.searchsorted(offsets, hits, side="right") - 1)
            rows = found[found >= 0].tolist()  # a hit before the first event is the header's
        found_events: list[tuple[Any, Any, Any]] = [
            (r.get("sample_id"), r.get("author"), r.get("cause"))
            for r in (cols.records(rows) if cols is not None else [])]
        found_events += [(e.sample_id, e.author, e.cause) for e in extra]
        return [(s, a, c) for s, a, c in found_events
                if isinstance(c, dict) and c.get("import") == fmt]

    def history(self, id: Any) -> pd.DataFrame:
        """Every event on one sample, oldest first."""
        return self._frame(self._state.events.on_sample(id))

    def _frame(self, positions: Iterable[int]) -> pd.DataFrame:
        with gc_paused():  # millions of acyclic records: the collector's scans would dominate
            return self._build_frame(positions)

    def _build_frame(self, positions: Iterable[int]) -> pd.DataFrame:
        state = self._state
        cols, n, extra = state.events.parts()
        pos = list(positions)
        names = ("event_id", "op", "sample_id", "old_label", "new_label", "author", "role",
                 "round", "timestamp", "note", "confidence", "time_spent", "cause", "parents",
                 "refs", "origin")
        data: dict[str, list[Any]] = {name: [] for name in (*names, "version")}
        for start in range(0, len(pos), 8192):  # records of one chunk at a time: less memory
            part = pos[start:start + 8192]
            parsed = iter(cols.records([i for i in part if i < n]) if cols is not None else ())
            recs = [next(parsed) if i < n else _record(extra[i - n]) for i in part]
            for name in names:
                default = _DEFAULTS.get(name)
                data[name] += [r.get(name, default) for r in recs]
            version = _version_of(state, list(zip(part, recs, strict=True)))
            data["version"] += [version.get(r["event_id"]) for r in recs]
        data["seq"] = [i + 1 for i in pos]
        for name in ("parents", "refs"):
            data[name] = [p if type(p) is list else list(p) for p in data[name]]
        data["reverted"] = [state.is_reverted(e) for e in data["event_id"]]
        columns: dict[str, Any] = dict(data, timestamp=parse_utc(data["timestamp"]))
        for name in ("old_label", "new_label", "sample_id", "note", "cause"):
            columns[name] = pd.Series(data[name], dtype=object)  # labels keep their own types
        return pd.DataFrame(columns, columns=EVENT_COLUMNS)

    def versions(self) -> pd.DataFrame:
        """One row per version tag: name, who, when, note, events covered, samples changed."""
        rows = []
        original = self.dataset.original
        for name, pos in self._state.tags.items():
            tag: Event = self._state.events[pos]
            labels, _ = self._labels(name, plain=True)
            rows.append({"version": name, "event_id": tag.event_id, "author": tag.author,
                         "timestamp": tag.timestamp, "note": tag.note,
                         "n_events": sum((tag.clock or {}).values()),
                         "n_changed": int((labels != original).sum())})
        frame = pd.DataFrame(rows, columns=["version", "event_id", "author", "timestamp", "note",
                                            "n_events", "n_changed"])
        frame["timestamp"] = parse_utc(frame["timestamp"].tolist())
        return frame

    def diff(self, a: str | None = ORIGINAL, b: str | None = None) -> pd.DataFrame:
        """Samples whose label differs between versions ``a`` and ``b`` (default: now).

        Columns: sample_id, from, to, author, note, cause, event_id (the edit that set ``to``);
        ``from`` and ``to`` have the dtype of ``labels(a)`` and ``labels(b)``.
        """
        (left, left_schema), (right, right_schema) = (self._labels(a, plain=True),
                                                      self._labels(b, plain=True))
        changed = left.index[(left != right).to_numpy()]
        state = self._state_at(b)
        rows = []
        for sample in changed:
            heads = state.heads.get(sample, []) if state is not None else []
            edits = [state.get(h.event_id) for h in heads] if state is not None else []
            rows.append({"sample_id": sample, "from": left[sample], "to": right[sample],
                         "author": ", ".join(sorted({e.author for e in edits})) or None,
                         "note": "; ".join(e.note for e in edits if e.note) or None,
                         "cause": edits[-1].cause if edits else None,
                         "event_id": edits[-1].event_id if edits else None})
        frame = pd.DataFrame(rows, columns=["sample_id", "from", "to", "author", "note", "cause",
                                            "event_id"])
        frame["from"] = self.dataset.typed(frame["from"], left_schema)
        frame["to"] = self.dataset.typed(frame["to"], right_schema)
        return frame

    def conflicts(self) -> pd.DataFrame:
        """Samples where concurrent edits disagree (one row each); never resolved silently."""
        originals = self.dataset.lookup
        rows = []
        for sample in self._state.conflicted():
            heads = self._state.heads[sample]
            edits = [self._state.get(h.event_id) for h in heads]
            rows.append({"sample_id": sample, "original": originals.get(sample),
                         "current": self._state.label(
                             sample, self._state.schema.current_name(originals.get(sample))),
                         "labels": [h.label for h in heads],
                         "event_ids": [h.event_id for h in heads],
                         "authors": [e.author for e in edits], "roles": [e.role for e in edits]})
        frame = pd.DataFrame(rows, columns=["sample_id", "original", "current", "labels",
                                            "event_ids", "authors", "roles"])
        frame["original"] = self.dataset.typed(frame["original"], self._base_schema)
        frame["current"] = self.dataset.typed(frame["current"], self._state.schema)
        return frame

    # ---------------------------------------------------------------- annotators
    def events_in_current_names(self) -> pd.DataFrame:
        """:meth:`events` with every label under today's class names: a label written before
        a ``rename_class`` or ``merge_classes`` is renamed as the schema changed after it
        (what the annotator reports compare).

        >>> # store.events_in_current_names()["new_label"]
        """
        events = self.events()
        schema, logged = self._base_schema.copy(), self._state.events
        for seq in events.loc[events["op"] == "schema", "seq"].tolist():
            mapping = schema.apply(logged[seq - 1].change or {})
            if mapping:
                before = events["seq"] < seq
                for column in ("old_label", "new_label"):
                    events.loc[before, column] = events.loc[before, column].map(
                        lambda v, m=mapping: m.get(v, v))
        return events

    def original_in_current_names(self) -> pd.Series:
        """:attr:`original` under today's class names.

        >>> # store.original_in_current_names().value_counts()
        """
        return self.original.map(self._state.schema.current_name)

    def verify(self) -> VerifyReport:
        """Re-read the file and check every hash link, line and event (see VerifyReport)."""
        from errlens.changelog.verify import Problem, verify_file

        report = verify_file(self._log.path, dataset=self.dataset)
        if report.n_lines < self._lines:
            report.problems.append(Problem(0, f"the file has {report.n_lines} complete lines but "
                                              f"this store wrote or read {self._lines}: lines were "
                                              f"removed from the end"))
        return report


_DEFAULTS: dict[str, Any] = {"role": "annotator", "round": 1, "parents": (), "refs": ()}


def _record(ev: Event) -> dict[str, Any]:
    return {f.name: getattr(ev, f.name) for f in fields(ev)}


def _version_of(state: Replay, events: list[tuple[int, dict[str, Any]]]) -> dict[str, str]:
    """Event id -> first version tag that includes it, for the given (position, record)s."""
    tags = [(name, pos, state.events[pos].clock or {}) for name, pos in state.tags.items()]
    out: dict[str, str] = {}
    for i, e in events:
        for name, pos, clock in tags:
            if i <= pos and (e["oseq"] <= clock.get(e["origin"], 0) or (
                    e["op"] == "tag" and e.get("tag") == name)):
                out[e["event_id"]] = name
                break
    return out
