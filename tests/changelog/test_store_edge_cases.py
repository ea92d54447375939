"""Edge cases found by reviewing the store as a user would: label types, renames then a reused
class name, stale stores writing adjudications and tags, reserved version names, empty
datasets, agreement after renames, and what counts as a vote."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from errlens.annotators.agreement import fleiss_kappa, label_matrix, majority_vote
from errlens.annotators.reports import agreement_report, consensus
from errlens.changelog import Changelog, ChangelogError, LabelStore, merge_logs


@pytest.mark.parametrize("label", [True, 2.0, "1", np.float64(1.0)])
def test_a_label_must_have_its_class_type(tmp_path: Path, label: object) -> None:
    store = LabelStore(pd.Series([0, 1, 2], index=["x", "y", "z"]), tmp_path / "l.jsonl",
                       author="lead")
    before = (tmp_path / "l.jsonl").read_bytes()
    with pytest.raises(ChangelogError, match="is not one of the classes"):
        store.relabel("x", label)
    assert (tmp_path / "l.jsonl").read_bytes() == before
    store.relabel("x", np.int64(1))  # a numpy integer is the integer class
    assert store.labels().tolist() == [1, 1, 2]


def test_a_class_name_reused_after_a_rename_leaves_the_original_labels_renamed(
        tmp_path: Path) -> None:
    path = tmp_path / "l.jsonl"
    labels = pd.Series(["cat", "dog", "cat", "dog"], index=list("abcd"))
    store = LabelStore(labels, path, author="ana")
    store.relabel("a", "dog")
    store.rename_class("dog", "canine")
    store.add_class("dog", definition="a new, narrower class")
    store.relabel("c", "dog")
    expected = {"a": "canine", "b": "canine", "c": "dog", "d": "canine"}
    assert store.labels().to_dict() == expected
    assert LabelStore(labels, path, author="ben").labels().to_dict() == expected
    assert Changelog(path).labels().to_dict() == {"a": "canine", "c": "dog"}


def test_stale_stores_adjudicate_and_tag_what_is_in_the_file(tmp_path: Path) -> None:
    path, labels = tmp_path / "l.jsonl", pd.Series(["a", "b"], index=[1, 2])
    lead = LabelStore(labels, path, author="lead", role="adjudicator")
    ben = LabelStore(labels, path, author="ben")
    ben.record_many([{"op": "set", "id": 2, "label": "a", "author": "ana"},
                     {"op": "confirm", "id": 2, "author": "cy"}])
    ben.relabel(2, "a")
    lead.adjudicate(2, "b")  # lead has not seen ben's lines: it must read them first
    assert lead.conflicts().empty and lead.labels()[2] == "b"
    ben.relabel(1, "b")
    lead.tag("v1")
    assert lead.labels("v1").to_dict() == lead.labels().to_dict() == {1: "b", 2: "b"}


@pytest.mark.parametrize("name", ["original", "current"])
def test_reserved_version_names_are_refused(tmp_path: Path, name: str) -> None:
    store = LabelStore(pd.Series(["a", "b"], index=[1, 2]), tmp_path / "l.jsonl", author="ana")
    with pytest.raises(ChangelogError, match="reserved version name"):
        store.tag(name)
    assert store.versions().empty


def test_an_empty_dataset_is_refused_before_any_file_is_written(tmp_path: Path) -> None:
    with pytest.raises(ChangelogError, match="at least one class"):
        LabelStore(pd.Series([], dtype=object), tmp_path / "l.jsonl", author="ana")
    assert not (tmp_path / "l.jsonl").exists()


def test_agreement_counts_labels_under_their_current_class_names(tmp_path: Path) -> None:
    store = LabelStore(pd.Series(["cat", "dog", "cat"], index=["x", "y", "z"]),
                       tmp_path / "l.jsonl", author="lead")
    store.record_many([{"op": "set", "id": "x", "label": "dog", "author": "ana"},
                       {"op": "set", "id": "x", "label": "dog", "author": "ben"},
                       {"op": "confirm", "id": "y", "author": "ana"},
                       {"op": "set", "id": "y", "label": "cat", "author": "ben"}])
    store.rename_class("dog", "canine")
    report = agreement_report(store)
    assert report.matrix.loc["x"].tolist() == ["canine", "canine"]
    assert report.consensus.loc["x", "label"] == "canine"
    assert report.consensus.loc["y", "label"] == "canine"  # a tie: the original (renamed) stays
    assert consensus(store)["label"].to_dict() == report.consensus["label"].to_dict()


def test_no_votes_give_no_label_rather_than_an_error(tmp_path: Path) -> None:
    store = LabelStore(pd.Series(["a", "b"], index=[1, 2]), tmp_path / "l.jsonl", author="ana")
    store.skip(1)
    matrix = label_matrix(store)
    assert majority_vote(matrix)["label"].isna().all()
    assert np.isnan(fleiss_kappa(matrix))


def test_resolve_by_majority_counts_the_votes_consensus_counts(tmp_path: Path) -> None:
    """An undo is not a vote: ana's undone 'b' leaves ben's 'b' against cy's 'a', a tie."""
    labels = pd.Series(["a", "b"], index=[1, 2])
    paths = {}
    for name in ("ana", "ben", "cy"):
        paths[name] = tmp_path / f"{name}.jsonl"
    base = LabelStore(labels, paths["ana"], author="ana")
    for name in ("ben", "cy"):
        paths[name].write_bytes(paths["ana"].read_bytes())
    base.relabel(1, "b")
    base.undo()
    LabelStore(labels, paths["ben"], author="ben").relabel(1, "b")
    LabelStore(labels, paths["cy"], author="cy").confirm(1)
    store = LabelStore(labels, paths["ana"], author="lead", role="adjudicator")
    store.merge(paths["ben"])
    store.merge(paths["cy"])
    assert consensus(store).loc[1, "tie"]
    outcome = store.resolve("majority")
    assert outcome.loc[0, "label"] is None and "tie" in outcome.loc[0, "reason"]


def test_undoing_an_adjudication_reopens_its_conflict(tmp_path: Path) -> None:
    """The undo retracts the adjudication (no label of its own): the heads it settled are
    heads again, for the writing store, a reopened one and a read-only Changelog; undoing
    the undo settles the conflict again."""
    labels = pd.Series(["a", "b"], index=[1, 2])
    base = tmp_path / "base.jsonl"
    lead = LabelStore(labels, base, author="lead")
    lead.add_class("c")
    lead.relabel(1, "b")
    for name, label in (("ana", "c"), ("ben", "a")):
        (tmp_path / f"{name}.jsonl").write_bytes(base.read_bytes())
        LabelStore(labels, tmp_path / f"{name}.jsonl", author=name).relabel(1, label)
    judge = LabelStore(labels, tmp_path / "ana.jsonl", author="lead", role="adjudicator")
    judge.merge(tmp_path / "ben.jsonl")
    conflict = judge.conflicts()[["sample_id", "current", "labels"]].to_dict("records")
    assert conflict == [{"sample_id": 1, "current": "b", "labels": ["c", "a"]}]
    settled = judge.adjudicate(1, "a")
    assert judge.conflicts().empty and judge.labels()[1] == "a"
    undo = judge.undo(settled.event_id)
    assert undo.new_label is None
    for view in (judge, LabelStore(labels, judge.path, author="x"), Changelog(judge.path)):
        assert view.conflicts()[["sample_id", "current", "labels"]].to_dict(
            "records") == conflict
    judge.undo(undo.event_id)  # redo
    reopened = LabelStore(labels, judge.path, author="y")
    assert reopened.conflicts().empty and reopened.labels()[1] == "a" and reopened.verify().ok


def test_two_annotators_tagging_one_name_still_merge(tmp_path: Path) -> None:
    """Same name, same state: one version. Same name, different states: the merged log
    refuses to guess and names both as name@author; each own log keeps its meaning."""
    labels = pd.Series(["a", "b", "a"], index=[1, 2, 3])
    base = tmp_path / "base.jsonl"
    LabelStore(labels, base, author="lead")
    paths = {name: tmp_path / f"{name}.jsonl" for name in ("ana", "ben")}
    for name, path in paths.items():
        path.write_bytes(base.read_bytes())
        LabelStore(labels, path, author=name).tag("start")
    merged = tmp_path / "m1.jsonl"
    merge_logs(list(paths.values()), merged)
    assert LabelStore(labels, merged, author="x").versions()["version"].tolist() == ["start"]
    ana = LabelStore(labels, paths["ana"], author="ana")
    ana.relabel(1, "b")
    ana.tag("round1")
    ben = LabelStore(labels, paths["ben"], author="ben")
    ben.relabel(2, "a")
    ben.tag("round1")
    for order in (list(paths.values()), list(paths.values())[::-1]):
        out = tmp_path / f"m-{order[0].stem}.jsonl"
        merge_logs(order, out)
        store = LabelStore(labels, out, author="x")
        assert set(store.versions()["version"]) == {"start", "round1@ana", "round1@ben"}
        with pytest.raises(ChangelogError, match=r"ambiguous.*round1@ana"):
            store.labels("round1")
        assert store.labels("round1@ana").equals(ana.labels("round1"))
        assert store.labels("round1@ben").equals(ben.labels("round1"))
        with pytest.raises(ChangelogError, match="already exists"):
            store.tag("round1")
    assert (tmp_path / "m-ana.jsonl").read_bytes() == (tmp_path / "m-ben.jsonl").read_bytes()
    with pytest.raises(ChangelogError, match="already exists"):
        ana.tag("round1")
