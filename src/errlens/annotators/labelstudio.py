"""Round trips with Label Studio: import tasks with the model's pre-annotation, read exports back.

:func:`export_labelstudio` writes Label Studio *import* JSON (one task per sample, ``data``
holding ``sample_id``, the text and chosen features, the model's prediction under
``predictions``) and the matching labeling config (:func:`labelstudio_config`). Annotators
label in Label Studio; its full JSON export (``exportType=JSON``, all tasks) comes back through
:func:`import_labelstudio`: each annotation becomes an event by its annotator, with
``lead_time`` as ``time_spent``, ``created_at`` as the timestamp, a cancelled (skipped)
annotation as ``skip``, and
``cause={"import": "labelstudio", "project": .., "task": .., "annotation": .., "answer": ..}``.
Label Studio does not check choices against its config, so every label is checked here.
Importing the same export twice records each annotation once; an annotation edited in Label
Studio since its import is recorded again (its ``answer`` fingerprint changed).

>>> print(labelstudio_config(["neg", "pos"]).splitlines()[2])
  <Choices name="label" toName="text" choice="single" showInline="true">
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from errlens.annotators.exchange import (
    ImportErrors,
    batch_frame,
    batch_ids,
    label_lookup,
    loads_bounded,
    plain,
    text_lookup,
)
from errlens.changelog.errors import ChangelogError
from errlens.changelog.safe_files import atomic_write, output_target, require_regular_file

FROM_NAME, TO_NAME, NOTE_NAME = "label", "text", "note"


def labelstudio_config(classes: Sequence[Any], *, guidelines: Mapping[Any, Any] | None = None,
                       title: str | None = None) -> str:
    """Label Studio labeling config: the text, one single-choice ``label``, an optional note.

    Each class's guideline definition becomes the choice's hint (shown on hover).
    """
    if not classes:
        raise ChangelogError("a labeling config needs at least one class")
    lines = ["<View>"]
    if title:
        lines.append(f"  <Header value={quoteattr(title)}/>")
    lines += [f'  <Text name="{TO_NAME}" value="${TO_NAME}"/>',
              f'  <Choices name="{FROM_NAME}" toName="{TO_NAME}" choice="single" '
              f'showInline="true">']
    for cls in classes:
        hint = ((guidelines or {}).get(cls) or {}).get("definition")
        extra = f" hint={quoteattr(hint)}" if hint else ""
        lines.append(f"    <Choice value={quoteattr(str(cls))}{extra}/>")
    lines += ["  </Choices>",
              f'  <TextArea name="{NOTE_NAME}" toName="{TO_NAME}" rows="2" maxSubmissions="1" '
              f'placeholder="Note (optional)"/>',
              "</View>"]
    return "\n".join(lines)


def _choice(value: Any) -> dict[str, Any]:
    return {"from_name": FROM_NAME, "to_name": TO_NAME, "type": "choices",
            "value": {"choices": [str(value)]}}


def labelstudio_tasks(store: Any, ids: Iterable[Any] | None = None, *, analysis: Any = None,
                      text_column: str | None = None, columns: Sequence[str] = (),
                      suspects: Any = None, model_version: str = "errlens") -> list[dict]:
    """Label Studio import tasks for ``ids`` (default: the suspects' ids, else every sample).

    ``data.text`` is ``text_column`` of ``analysis.features``, or else one ``name: value``
    line per column in ``columns``; every chosen column is also kept in ``data``. With an
    analysis, the model's prediction (score: its probability) is the task's pre-annotation.
    """
    shown = list(columns) + ([text_column] if text_column and text_column not in columns else [])
    ids_list = batch_ids(store, ids, suspects)
    frame = batch_frame(store, ids_list, analysis=analysis, columns=shown, suspects=suspects)
    tasks = []
    for sample, row in zip(ids_list, frame.to_dict("records"), strict=True):
        data: dict[str, Any] = {"sample_id": sample,
                                "given_label": plain(row["given_label"]),
                                "current_label": plain(row["current_label"])}
        data.update({col: plain(row[col]) for col in shown})
        if text_column:
            data[TO_NAME] = "" if data[text_column] is None else str(data[text_column])
        else:
            data[TO_NAME] = "\n".join(f"{c}: {data[c]}" for c in shown) or f"sample {sample}"
        if suspects is not None:
            data["cause"] = json.loads(row["cause"])
        task: dict[str, Any] = {"data": data}
        if analysis is not None:
            pred: dict[str, Any] = {"model_version": model_version,
                                    "result": [_choice(row["prediction"])]}
            if "probability" in row:
                pred["score"] = float(row["probability"])
            task["predictions"] = [pred]
        tasks.append(task)
    return tasks


def export_labelstudio(store: Any, path: str | os.PathLike[str],
                       ids: Iterable[Any] | None = None, *, analysis: Any = None,
                       text_column: str | None = None, columns: Sequence[str] = (),
                       suspects: Any = None, model_version: str = "errlens") -> list[dict]:
    """Write the tasks of :func:`labelstudio_tasks` as JSON to ``path`` and the labeling
    config beside it (``<name>.config.xml``); returns the tasks."""
    path = Path(path)
    side = path.with_suffix(".config.xml")
    for target in (path, side):  # both refused or both written
        output_target(target, overwrite=True)
    tasks = labelstudio_tasks(store, ids, analysis=analysis, text_column=text_column,
                              columns=columns, suspects=suspects, model_version=model_version)
    guidelines = getattr(getattr(store, "schema", None), "guidelines", None)
    atomic_write(path, json.dumps(tasks, ensure_ascii=False, indent=1).encode(),
                 overwrite=True)
    atomic_write(side, labelstudio_config(store.classes, guidelines=guidelines).encode(),
                 overwrite=True)
    return tasks


def user_names(users: Any) -> dict[Any, str]:
    """``{user id: email}`` from a mapping or the list ``GET /api/users/`` returns."""
    if users is None:
        return {}
    if isinstance(users, Mapping):
        return {str(k): str(v) for k, v in users.items()}
    names = {}
    for user in users:
        if not isinstance(user, Mapping) or "id" not in user:
            raise ChangelogError("users must map id -> email, or be the list GET /api/users/ "
                                 "returns (objects with 'id' and 'email')")
        names[str(user["id"])] = str(user.get("email") or user.get("username") or user["id"])
    return names


def _author(completed_by: Any, names: dict[Any, str]) -> str:
    if isinstance(completed_by, Mapping):
        uid = completed_by.get("id")
        return names.get(str(uid)) or str(completed_by.get("email") or f"labelstudio-user-{uid}")
    return names.get(str(completed_by)) or f"labelstudio-user-{completed_by}"


def _read_tasks(path_or_tasks: Any) -> tuple[list[Any], str]:
    if isinstance(path_or_tasks, (str, os.PathLike)):
        path = Path(require_regular_file(path_or_tasks))
        try:
            tasks = loads_bounded(path.read_bytes())
        except ValueError as exc:
            raise ChangelogError(f"{path} is not JSON ({exc}); export the project from Label "
                                 f"Studio as JSON (not JSON_MIN or CSV)") from None
        source = path.name
    else:
        tasks, source = path_or_tasks, "Label Studio tasks"
    if not isinstance(tasks, list):
        raise ChangelogError(f"{source}: expected a list of tasks (Label Studio's JSON export)")
    return tasks, source


def _imported_annotations(store: Any) -> dict[tuple[str, str], str | None]:
    """The latest answer fingerprint imported for each ``(task, annotation)`` (None for
    imports recorded before answers were fingerprinted)."""
    latest: dict[tuple[str, str], str | None] = {}
    for _, _, cause in store.imported("labelstudio"):
        if cause.get("task") is not None and cause.get("annotation") is not None:
            latest[(str(cause["task"]), str(cause["annotation"]))] = cause.get("answer")
    return latest


def _answer(annotation: Mapping[str, Any]) -> tuple[list[Any], str | None]:
    """The choices and note of one annotation; ValueError names what is malformed."""
    result = annotation.get("result") or []
    if not isinstance(result, list):
        raise ValueError("its result is not a list")
    choices: list[Any] = []
    notes: list[str] = []
    for item in result:
        if not isinstance(item, Mapping) or not isinstance(item.get("value", {}), Mapping):
            raise ValueError("a result item is not an object with a value object")
        value = item.get("value", {})
        if item.get("type") == "choices":  # any Choices control: a custom config's too
            picked = value.get("choices") or []
            if not isinstance(picked, list):
                raise ValueError(f"choices {picked!r} is not a list")
            choices.extend(picked)
        elif item.get("type") == "textarea" and item.get("from_name") == NOTE_NAME:
            texts = value.get("text") or []
            notes.extend(str(t) for t in (texts if isinstance(texts, list) else [texts]))
    note = "\n".join(n for n in notes if n.strip()) or None
    return choices, note


def _digest(*parts: Any) -> str:
    text = json.dumps(parts, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def labelstudio_specs(store: Any, tasks: list[Any], *, users: Any = None,
                      source: str = "Label Studio tasks") -> list[dict[str, Any]]:
    """Validated ``record_many`` entries for the annotations not imported before, or raise."""
    names = user_names(users)
    ids, classes = text_lookup(store.original.index), label_lookup(store)
    current, done = store.labels(), _imported_annotations(store)
    problems: list[str] = []
    found: list[tuple[str, dict[str, Any]]] = []
    for n, task in enumerate(tasks):
        data = task.get("data") if isinstance(task, Mapping) else None
        where = f"task {task.get('id', n) if isinstance(task, Mapping) else n}"
        if not isinstance(data, Mapping) or "sample_id" not in data:
            problems.append(f"{where}: no data.sample_id; import tasks written by "
                            f"export_labelstudio so each task names its sample")
            continue
        sample = ids.get(str(data["sample_id"]))
        if sample is None:
            problems.append(f"{where}: unknown sample_id {data['sample_id']!r}")
            continue
        annotations = task.get("annotations") or []
        if task.get("id") is None or not isinstance(annotations, list):
            problems.append(f"{where}: no task id, or its annotations are not a list; export "
                            f"the project again from Label Studio as JSON")
            continue
        for ann in annotations:
            if not isinstance(ann, Mapping) or ann.get("id") is None:
                problems.append(f"{where}: an annotation without an id; export the project "
                                f"again from Label Studio as JSON")
                continue
            try:
                choices, note = _answer(ann)
            except ValueError as exc:
                problems.append(f"{where}, annotation {ann.get('id')}: {exc}")
                continue
            lead = ann.get("lead_time")
            if lead is not None and (isinstance(lead, bool) or not isinstance(lead, (int, float))
                                     or not 0 <= lead < math.inf):
                problems.append(f"{where}, annotation {ann.get('id')}: lead_time {lead!r} is "
                                f"not a number of seconds")
                continue
            answer = _digest(choices, note, bool(ann.get("was_cancelled")))
            key = (str(task.get("id")), str(ann.get("id")))
            if key in done and done[key] in (None, answer):
                continue  # imported before, unchanged since (or from before fingerprints)
            cause: dict[str, Any] = {"import": "labelstudio", "project": ann.get("project"),
                                     "task": task.get("id"), "annotation": ann.get("id"),
                                     "answer": answer}
            if isinstance(data.get("cause"), Mapping):
                cause["suspect"] = dict(data["cause"])
            spec: dict[str, Any] = {"id": sample, "author": _author(ann.get("completed_by"),
                                                                    names),
                                    "note": note, "cause": cause,
                                    "time_spent": ann.get("lead_time"),
                                    "timestamp": ann.get("created_at")}
            if ann.get("was_cancelled") or not choices:
                spec["op"] = "skip"
            elif len(choices) > 1:
                problems.append(f"{where}, annotation {ann.get('id')}: several choices "
                                f"{choices}; the config allows one label")
                continue
            elif str(choices[0]) not in classes:
                problems.append(f"{where}, annotation {ann.get('id')}: label {choices[0]!r} is "
                                f"not a class {[str(c) for c in store.classes]} (Label Studio "
                                f"does not check choices; fix the project's config)")
                continue
            else:
                spec["label"] = classes[str(choices[0])]
            found.append((str(ann.get("created_at") or ""), spec))
    if problems:
        raise ImportErrors(source, problems)
    found.sort(key=lambda item: item[0])
    specs = []
    seen: dict[tuple[Any, str], Any] = {}
    for _, spec in found:
        if spec.get("op") != "skip":
            before = seen.get((spec["id"], spec["author"]), current.get(spec["id"]))
            spec["op"] = "confirm" if spec["label"] == before else "set"
            seen[(spec["id"], spec["author"])] = spec["label"]
        specs.append(spec)
    return specs


def import_labelstudio(store: Any, path_or_tasks: Any, *, users: Any = None) -> list:
    """Record the annotations of a Label Studio JSON export as events; returns them.

    A submitted annotation with no choice counts as a skip, like a cancelled one.
    ``users`` maps Label Studio user ids to names (``{1: "ana@example.com"}``, or the list
    ``GET /api/users/`` returns); unknown ids become ``labelstudio-user-<id>``. Everything is
    checked first: on any problem nothing is written and the error lists each one.
    """
    tasks, source = _read_tasks(path_or_tasks)
    specs = labelstudio_specs(store, tasks, users=users, source=source)
    return store.record_many(specs) if specs else []
