"""Hypothesis properties: merging is commutative, associative and idempotent (byte-identical
files), versions replay the same everywhere, and conflicts are exactly the disagreeing
concurrent edits."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from errlens.changelog import LabelStore, merge_logs
from errlens.changelog.events import Event
from errlens.changelog.merge import _place_one_by_one, canonical_order

CLASSES = ["cat", "dog", "fox"]
LABELS = pd.Series([CLASSES[i % 3] for i in range(8)], index=[f"img-{i}" for i in range(8)])

op = st.one_of(
    st.tuples(st.just("set"), st.integers(0, 7), st.sampled_from(CLASSES)),
    st.tuples(st.just("confirm"), st.integers(0, 7), st.none()),
    st.tuples(st.just("skip"), st.integers(0, 7), st.none()),
    st.tuples(st.just("undo"), st.none(), st.none()),
    st.tuples(st.just("tag"), st.none(), st.none()),
)
# Each annotator starts from the base log or from a merge of earlier annotators' logs.
plan = st.lists(st.tuples(st.lists(op, max_size=6), st.booleans()), min_size=3, max_size=3)


def _apply(store: LabelStore, ops: list, name: str) -> None:
    for k, (kind, i, label) in enumerate(ops):
        sid = None if i is None else LABELS.index[i]
        if kind == "set":
            store.relabel(sid, label)
        elif kind == "confirm":
            store.confirm(sid)
        elif kind == "skip":
            store.skip(sid)
        elif kind == "undo":
            with contextlib.suppress(ValueError):
                store.undo()
        else:
            store.tag(f"{name}-{k}")


def _build(tmp: Path, steps: list) -> list[Path]:
    base = tmp / "base.jsonl"
    LabelStore(LABELS, base, author="lead")
    paths: list[Path] = []
    for n, (ops, from_merge) in enumerate(steps):
        path = tmp / f"a{n}.jsonl"
        if from_merge and paths:
            merge_logs([base, *paths], path)
        else:
            shutil.copy(base, path)
        _apply(LabelStore(LABELS, path, author=f"ann{n}"), ops, f"ann{n}")
        paths.append(path)
    return paths


SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(plan)
def test_merge_is_commutative_associative_idempotent(steps):
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        a, b, c = _build(tmp, steps)

        def merged(name: str, *inputs: Path) -> bytes:
            merge_logs(list(inputs), tmp / name)
            return (tmp / name).read_bytes()

        ab, ba = merged("ab", a, b), merged("ba", b, a)
        assert ab == ba
        assert merged("ab_again", tmp / "ab", tmp / "ab") == ab
        assert merged("ab_b", tmp / "ab", b) == ab
        merged("bc", b, c)
        left, right = merged("ab_c", tmp / "ab", c), merged("a_bc", a, tmp / "bc")
        assert left == right == merged("abc", c, a, b)


@SETTINGS
@given(plan)
def test_versions_replay_identically_in_every_log_that_holds_them(steps):
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        paths = _build(tmp, steps)
        merge_logs(paths, tmp / "all.jsonl")
        everything = LabelStore(LABELS, tmp / "all.jsonl", author="x")
        for path in paths:
            own = LabelStore(LABELS, path, author="y")
            for version in own.versions()["version"]:
                assert own.labels(version).equals(everything.labels(version))
                assert own.labels(version).equals(own.labels(version))
        # merging into a store by appending gives the same labels as the merged file
        into = LabelStore(LABELS, paths[0], author="z")
        for path in paths[1:]:
            into.merge(path)
            assert into.merge(path) == 0  # idempotent
        assert into.labels().equals(everything.labels())
        assert set(into.conflicts()["sample_id"]) == set(everything.conflicts()["sample_id"])


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 7), st.sampled_from(CLASSES)), min_size=1,
                max_size=6),
       st.lists(st.tuples(st.integers(0, 7), st.sampled_from(CLASSES)), min_size=1,
                max_size=6))
def test_conflicts_are_exactly_the_disagreeing_concurrent_edits(ana_ops, ben_ops):
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        LabelStore(LABELS, tmp / "ana.jsonl", author="lead")
        shutil.copy(tmp / "ana.jsonl", tmp / "ben.jsonl")
        ana = LabelStore(LABELS, tmp / "ana.jsonl", author="ana")
        ben = LabelStore(LABELS, tmp / "ben.jsonl", author="ben")
        final: dict[str, dict[str, str]] = {"ana": {}, "ben": {}}
        for store, ops in ((ana, ana_ops), (ben, ben_ops)):
            for i, label in ops:
                store.relabel(LABELS.index[i], label)
                final[store.author][LABELS.index[i]] = label
        report = merge_logs([tmp / "ana.jsonl", tmp / "ben.jsonl"], tmp / "m.jsonl")
        expected = {s for s in final["ana"].keys() & final["ben"].keys()
                    if final["ana"][s] != final["ben"][s]}
        assert set(report.conflicts) == expected
        merged = LabelStore(LABELS, tmp / "m.jsonl", author="lead")
        labels = merged.labels()
        for s in LABELS.index:
            if s in expected:
                assert labels[s] == LABELS[s]  # never silently the latest edit
            else:
                assert labels[s] == final["ana"].get(s, final["ben"].get(s, LABELS[s]))


def test_a_conflict_keeps_the_last_state_both_sides_had_seen(tmp_path):
    lead = LabelStore(LABELS, tmp_path / "lead.jsonl", author="lead")
    lead.relabel("img-0", "fox")  # both annotators start from this edit
    shutil.copy(lead.path, tmp_path / "ben.jsonl")
    ana, ben = lead, LabelStore(LABELS, tmp_path / "ben.jsonl", author="ben")
    ana.relabel("img-0", "dog")
    ben.relabel("img-0", "cat")
    ben.relabel("img-0", "dog")
    ben.relabel("img-0", "cat")
    merge_logs([ana.path, ben.path], tmp_path / "m.jsonl")
    merged = LabelStore(LABELS, tmp_path / "m.jsonl", author="x")
    assert merged.conflicts()["sample_id"].tolist() == ["img-0"]
    assert merged.labels()["img-0"] == "fox"


dag = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 5),
                         st.lists(st.integers(0, 30), max_size=2)), min_size=1, max_size=30)


@settings(max_examples=300, deadline=None)
@given(dag, st.randoms(use_true_random=False))
def test_the_order_by_time_is_kept_only_when_it_is_the_causal_order(spec, rnd):
    """Events of three origins on skewed clocks (a child often earlier than its parent):
    the quick order by time equals Kahn's algorithm's whenever it is taken."""
    events: list[Event] = []
    for k, (origin, minute, parents) in enumerate(spec):
        events.append(Event(
            event_id=f"e{k:03d}", op="set", author="ana", origin=f"o{origin}", oseq=k + 1,
            timestamp=f"2026-01-01T00:{minute:02d}:00.000000Z", sample_id="img-1",
            new_label="cat", parents=tuple(sorted({f"e{p:03d}" for p in parents if p < k}))))
    rnd.shuffle(events)
    got = canonical_order(events)
    assert got == _place_one_by_one(events, {e.event_id for e in events})
    where = {e.event_id: i for i, e in enumerate(got)}
    assert all(where[p] < where[e.event_id] for e in got for p in e.parents)
