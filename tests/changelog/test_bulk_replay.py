"""Hypothesis properties: loading a log in bulk (whole-column checks, vectorised heads) gives
exactly the state and the errors of applying its events one by one."""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from errlens.changelog import ChangelogError, CorruptLogError, LabelStore, merge_logs, verify_file
from errlens.changelog.dataset import Dataset
from errlens.changelog.events import canonical, event_from_dict, seal
from errlens.changelog.lines import scan
from errlens.changelog.replay import Replay, replay
from errlens.changelog.schema import LabelSchema

CLASSES = ["cat", "dog", "fox"]
LABELS = pd.Series([CLASSES[i % 3] for i in range(6)], index=[f"img-{i}" for i in range(6)])

edit = st.one_of(
    st.tuples(st.just("set"), st.integers(0, 5), st.sampled_from([*CLASSES, "owl", "hound"])),
    st.tuples(st.just("confirm"), st.integers(0, 5), st.none()),
    st.tuples(st.just("skip"), st.integers(0, 5), st.none()),
    st.tuples(st.just("comment"), st.integers(0, 5), st.none()),
    st.tuples(st.just("undo"), st.none(), st.none()),
    st.tuples(st.just("undo_any"), st.integers(0, 40), st.none()),
    st.tuples(st.just("adjudicate"), st.integers(0, 5), st.sampled_from(CLASSES)),
    st.tuples(st.just("many"), st.integers(0, 5), st.sampled_from(CLASSES)),
    st.tuples(st.just("tag"), st.none(), st.none()),
)
# Schema changes only in the first annotator's log (two logs renaming one class do not merge).
op = st.one_of(
    edit,
    st.tuples(st.just("add_class"), st.none(), st.just("owl")),
    st.tuples(st.just("rename"), st.none(), st.just("hound")),
    st.tuples(st.just("merge"), st.none(), st.none()),
)
plan = st.tuples(st.lists(op, max_size=14), st.lists(edit, max_size=10), st.booleans())


def _apply(store: LabelStore, ops: list, name: str) -> None:
    for k, (kind, i, label) in enumerate(ops):
        sid = None if i is None else LABELS.index[i % 6]
        with contextlib.suppress(ChangelogError):
            if kind == "set":
                store.relabel(sid, label)
            elif kind in ("confirm", "skip"):
                getattr(store, kind)(sid)
            elif kind == "comment":
                store.comment(sid, "look again")
            elif kind == "undo":
                store.undo()
            elif kind == "undo_any":
                events = store.events()["event_id"]
                if len(events):
                    store.undo(events.iloc[i % len(events)])
            elif kind == "adjudicate":
                store.adjudicate(sid, label)
            elif kind == "many":
                store.relabel_many(list(LABELS.index[i:i + 3]), label)
            elif kind == "tag":
                store.tag(f"{name}-{k}")
            elif kind == "add_class":
                store.add_class(label, definition="a bird")
            elif kind == "rename":
                store.rename_class("dog", label)
            else:
                store.merge_classes(["cat", "fox"], into="cat")


def _one_by_one(path: Path) -> tuple[Replay, list[tuple[int, str]]]:
    """The reference: every event parsed, checked and applied in file order."""
    result = scan(path.read_bytes(), prev="")
    state = Replay(LabelSchema.from_json(result.lines[0].obj["classes"]))
    errors = []
    for line in result.lines[1:]:
        try:
            ev = event_from_dict(dict(line.obj))
            if ev.sample_id is not None and ev.sample_id not in LABELS.index:
                raise ChangelogError(f"sample id {ev.sample_id!r} is not in the dataset")
            state.apply(ev)
        except ChangelogError as exc:
            errors.append((line.lineno, str(exc)))
    return state, errors


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns with None for missing values (an all-missing column may come as None
    in a small frame and as NaN in a large one)."""
    out = frame.astype(object)
    return out.where(out.notna(), None).reset_index(drop=True)


def _header_schema(path: Path) -> LabelSchema:
    return LabelSchema.from_json(json.loads(path.read_bytes().splitlines()[0])["classes"])


def _summary(state: Replay) -> dict[str, Any]:
    return {"heads": {s: [(h.event_id, h.label) for h in hs] for s, hs in state.heads.items()},
            "order": list(state.heads), "by_id": state.by_id, "clock": state.clock,
            "tags": state.tags, "reverted_by": state.reverted_by,
            "classes": state.schema.classes, "renames": state.schema.renames,
            "events": [e.body() for e in state.events],
            "labels": {s: state.label(s, LABELS[s]) for s in state.heads}}


def _log(tmp: Path, steps: tuple) -> Path:
    ana_ops, ben_ops, merged = steps
    ana, ben = tmp / "ana.jsonl", tmp / "ben.jsonl"
    LabelStore(LABELS, ana, author="lead")
    ben.write_bytes(ana.read_bytes())
    _apply(LabelStore(LABELS, ana, author="ana"), ana_ops, "ana")
    _apply(LabelStore(LABELS, ben, author="ben", role="reviewer"), ben_ops, "ben")
    if not merged:
        return ana
    out = tmp / "merged.jsonl"
    merge_logs([ana, ben], out)
    _apply(LabelStore(LABELS, out, author="cy", role="adjudicator"), ben_ops[:4], "cy")
    return out


SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(plan)
def test_bulk_load_equals_event_by_event_replay(steps):
    with tempfile.TemporaryDirectory() as d:
        path = _log(Path(d), steps)
        reference, errors = _one_by_one(path)
        assert errors == []
        store = LabelStore(LABELS, path, author="check")
        assert _summary(store._state) == _summary(reference)
        assert verify_file(path, dataset=Dataset.from_source(LABELS)).ok
        events = store.events()
        assert store.event_ops().equals(events[["sample_id", "op", "author"]].astype(object))
        for sid in LABELS.index[:3]:
            pd.testing.assert_frame_equal(
                _plain(store.history(sid)),
                _plain(events[events["sample_id"] == sid].reset_index(drop=True)))
        for name, pos in reference.tags.items():
            clock = reference.events[pos].clock or {}
            covered = replay(_header_schema(path),
                             [e for e in reference.events if e.oseq <= clock.get(e.origin, 0)],
                             check=False)
            expected = LABELS.copy().astype(object)
            for s in covered.heads:
                expected[s] = covered.label(s, LABELS[s])
            assert store.labels(name).map(covered.schema.resolve).to_dict() == \
                expected.map(covered.schema.resolve).to_dict()
        store.relabel(LABELS.index[0], store.classes[-1])  # appended after a bulk load
        store.tag("after")
        store.relabel(LABELS.index[1], store.classes[0])
        reopened = LabelStore(LABELS, path, author="check")
        for name in reopened.versions()["version"]:
            assert store.labels(name).equals(reopened.labels(name))
        assert store.diff("after").equals(reopened.diff("after"))
        assert store.event_ops().equals(
            store.events()[["sample_id", "op", "author"]].astype(object))
        undoable = [e.event_id for e in reference.events if e.author == "ana" and e.op in (
            "set", "confirm", "skip", "adjudicate", "comment")
            and not reference.is_reverted(e.event_id)]
        if undoable:  # undo in a bulk-loaded store finds the author's last event
            assert LabelStore(LABELS, path, author="ana").undo().refs == (undoable[-1],)


MUTATIONS = {
    "new_label": st.sampled_from(["owl", "hound", "emu", 3, None, ["cat"], 1.5, True]),
    "sample_id": st.sampled_from(["img-0", "img-9", 4, None, True, 2.5]),
    "op": st.sampled_from(["set", "confirm", "skip", "revert", "adjudicate", "tag", "fly"]),
    "parents": st.sampled_from([[], ["nope"], "x", None, [1]]),
    "refs": st.sampled_from([[], ["nope"], None, ["a", "b"]]),
    "oseq": st.sampled_from([0, 1, 2, -1, "3", 10**30]),
    "event_id": st.sampled_from(["", "x" * 65, 5, "dup"]),
    "timestamp": st.sampled_from(["2026-02-30T00:00:00.000000Z", "2026-01-01T00:00:00Z",
                                  "2026-01-01T24:00:00.000000Z", "2026-01-01", 7]),
    "confidence": st.sampled_from([0.5, 1.2, -0.1, "high", True]),
    "round": st.sampled_from([1, 2, 0, True]),
    "role": st.sampled_from(["reviewer", "boss"]),
    "author": st.sampled_from(["ana", " ", ""]),
    "colour": st.just("red"),
}


@SETTINGS
@given(plan, st.data())
def test_bulk_load_refuses_exactly_what_event_by_event_replay_refuses(steps, data):
    with tempfile.TemporaryDirectory() as d:
        path = _log(Path(d), steps)
        lines = path.read_bytes().splitlines()
        if len(lines) < 3:
            return
        k = data.draw(st.integers(1, len(lines) - 1))
        field = data.draw(st.sampled_from(sorted(MUTATIONS)))
        value = data.draw(MUTATIONS[field])
        obj = json.loads(lines[k])
        obj.pop("hash")
        if value == "dup":
            value = json.loads(lines[1])["event_id"]
        obj[field] = value
        prev = json.loads(lines[k - 1])["hash"] if k else ""
        out, digest = [*lines[:k]], prev
        for raw in [canonical(obj).encode(), *lines[k + 1:]]:
            body = json.loads(raw)
            body.pop("hash", None)
            line, digest = seal(canonical(body), digest)
            out.append(line.encode())
        path.write_bytes(b"\n".join(out) + b"\n")
        _, errors = _one_by_one(path)
        report = verify_file(path, dataset=Dataset.from_source(LABELS))
        assert [(p.line, p.message) for p in report.problems] == errors
        if errors:
            with pytest.raises(CorruptLogError) as info:
                LabelStore(LABELS, path, author="check")
            assert f"line {errors[0][0]}:" in str(info.value)
        else:
            LabelStore(LABELS, path, author="check")

