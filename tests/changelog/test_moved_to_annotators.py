"""The annotator workflow moved from ``errlens.changelog`` to ``errlens.annotators``: the old
module paths still work and warn; merge and resolve decide without writing, the store writes."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pandas as pd
import pytest

from errlens.annotators import exchange, labelstudio, quality, reports
from errlens.changelog import LabelStore, merge

MOVED = [("agreement", "errlens.annotators.agreement"), ("agreement_quality", quality.__name__),
         ("agreement_store", reports.__name__), ("exchange", exchange.__name__),
         ("labelstudio", labelstudio.__name__)]


@pytest.mark.parametrize(("old", "new"), MOVED)
def test_old_paths_warn_and_give_the_same_functions(old: str, new: str) -> None:
    sys.modules.pop(f"errlens.changelog.{old}", None)
    with pytest.warns(DeprecationWarning, match=f"errlens.changelog.{old} moved to {new}"):
        shim = importlib.import_module(f"errlens.changelog.{old}")
    moved = importlib.import_module(new)
    public = [n for n in vars(moved) if not n.startswith("_") and callable(getattr(moved, n))]
    assert public and all(getattr(shim, n) is getattr(moved, n) for n in public)


def test_an_old_import_still_round_trips_a_csv(tmp_path: Path) -> None:
    store = LabelStore(pd.Series(["cat", "dog"], index=["a", "b"]), tmp_path / "l.jsonl",
                       author="lead")
    sys.modules.pop("errlens.changelog.exchange", None)
    with pytest.warns(DeprecationWarning):
        from errlens.changelog.exchange import export_csv, import_csv
    export_csv(store, tmp_path / "batch.csv")
    answered = pd.read_csv(tmp_path / "batch.csv", dtype=str)
    answered["label"] = ["dog", "dog"]
    answered["annotator"] = "ana"
    answered.to_csv(tmp_path / "answered.csv", index=False)
    events = import_csv(store, tmp_path / "answered.csv")
    assert [(e.op, e.sample_id, e.new_label, e.author) for e in events] \
        == [("set", "a", "dog", "ana"), ("confirm", "b", "dog", "ana")]


def test_resolution_returns_the_events_and_writes_nothing(tmp_path: Path) -> None:
    store = LabelStore(pd.Series(["cat", "dog", "fox"], index=[1, 2, 3]), tmp_path / "l.jsonl",
                       author="lead")
    store.record_many([{"op": "set", "id": 1, "label": "dog", "author": "ana"},
                       {"op": "set", "id": 1, "label": "fox", "author": "ben"},
                       {"op": "set", "id": 1, "label": "dog", "author": "cy"}])
    size = os.path.getsize(store.path)
    table, events = merge.resolution(store._state, "majority")
    assert os.path.getsize(store.path) == size  # decided, not written
    assert table.set_index("sample_id")["label"].to_dict() == {1: "dog"}
    assert [(e["op"], e["id"], e["label"]) for e in events] == [("adjudicate", 1, "dog")]
    assert store.resolve("majority")["label"].tolist() == ["dog"]  # the store writes them
    assert store.conflicts().empty and os.path.getsize(store.path) > size


def test_missing_events_are_returned_for_the_store_to_append(tmp_path: Path) -> None:
    labels = pd.Series(["cat", "dog"], index=["a", "b"])
    ana = LabelStore(labels, tmp_path / "ana.jsonl", author="ana")
    ana.relabel("a", "dog")
    ben = LabelStore(labels, tmp_path / "ben.jsonl", author="ben")
    ben.relabel("b", "cat")
    _, theirs = merge.read_log(ben.path)
    size = os.path.getsize(ana.path)
    new, trial = merge.missing_events(ana._state, theirs, ana._check_sample, ana.path)
    assert [e.sample_id for e in new] == ["b"] and os.path.getsize(ana.path) == size
    assert trial.label("b", "dog") == "cat" and ana._state.label("b", "dog") == "dog"
    assert ana.merge(ben) == 1 and ana.labels().to_dict() == {"a": "dog", "b": "cat"}
