"""LabelStore behaviour on real data (UCI Adult): edits, undo, versions, diffs, schema."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from errlens.changelog import ChangelogError, DatasetMismatchError, LabelStore, merge_logs
from errlens.changelog.frames import EVENT_COLUMNS


@pytest.fixture(scope="module")
def income(adult: pd.DataFrame) -> pd.Series:
    return pd.Series(adult["income"].to_numpy(), index=adult["id"])


@pytest.fixture
def store(income: pd.Series, tmp_path) -> LabelStore:
    return LabelStore(income, tmp_path / "adult.jsonl", author="ana")


def test_edits_replay_identically_after_reopening(store, income, tmp_path):
    ids = income.index[:6].tolist()
    flip = {"<=50K": ">50K", ">50K": "<=50K"}
    store.relabel(ids[0], flip[income[ids[0]]], note="capital gain 99999",
                  cause={"detector": "cleanlab", "score": 0.97, "rank": 1}, confidence=0.8,
                  time_spent=12.5)
    store.confirm(ids[1])
    store.skip(ids[2], note="unsure")
    store.comment(ids[3], "check the occupation")
    store.relabel_many(ids[4:6], ">50K")
    expected = income.copy()
    expected[ids[0]] = flip[income[ids[0]]]
    expected[ids[4:6]] = ">50K"
    pd.testing.assert_series_equal(store.labels(), expected.rename("label"), check_names=False)
    again = LabelStore(income, store.path, author="ben")
    assert again.labels().equals(store.labels())
    assert again.events().drop(columns="version").equals(store.events().drop(columns="version"))
    assert (store.labels() != income).sum() == 1 + int((income[ids[4:6]] != ">50K").sum())


def test_events_frame_has_the_documented_columns(store, income):
    sid = income.index[0]
    store.relabel(sid, ">50K", cause={"detector": "cleanlab"})
    frame = store.events()
    assert list(frame.columns) == EVENT_COLUMNS
    row = frame.iloc[0]
    assert (row.op, row.sample_id, row.old_label, row.new_label, row.author) == (
        "set", sid, income[sid], ">50K", "ana")
    assert str(frame["timestamp"].dt.tz) == "UTC"
    assert row.cause == {"detector": "cleanlab"} and row.parents == [] and row["round"] == 1


def test_undo_reverts_last_event_and_undo_of_undo_redoes(store, income):
    sid = income.index[10]
    before = income[sid]
    other = ">50K" if before == "<=50K" else "<=50K"
    first = store.relabel(sid, other)
    undo = store.undo()
    assert undo.refs == (first.event_id,) and store.labels()[sid] == before
    assert store.events().set_index("event_id").loc[first.event_id, "reverted"]
    store.undo(undo.event_id)
    assert store.labels()[sid] == other
    assert not store.events().set_index("event_id").loc[first.event_id, "reverted"]


def test_undo_skips_already_undone_events(store, income):
    a, b = income.index[:2]
    store.relabel(a, ">50K")
    store.relabel(b, ">50K")
    store.undo()
    store.undo()
    assert store.labels()[[a, b]].tolist() == income[[a, b]].tolist()
    with pytest.raises(ChangelogError, match="nothing to undo"):
        store.undo()


def test_versions_and_row_level_diff(store, income):
    a, b, c = income.index[:3]
    store.tag("v1")
    store.relabel(a, ">50K", note="salary in notes")
    store.relabel(b, ">50K")
    store.tag("v2")
    store.relabel(c, ">50K")
    diff = store.diff("v1", "v2")
    changed = {x for x in (a, b) if income[x] != ">50K"}
    assert set(diff["sample_id"]) == changed
    if a in changed:
        row = diff.set_index("sample_id").loc[a]
        assert (row["from"], row["to"], row["author"], row["note"]) == (
            income[a], ">50K", "ana", "salary in notes")
    assert store.labels("v1").equals(store.labels("original"))
    assert store.labels("v2")[c] == income[c]
    versions = store.versions()
    assert versions["version"].tolist() == ["v1", "v2"]
    assert versions["n_changed"].tolist() == [0, len(changed)]
    with pytest.raises(ChangelogError, match="unknown version 'v9'"):
        store.labels("v9")
    with pytest.raises(ChangelogError, match="already exists"):
        store.tag("v1")


def test_history_lists_every_event_on_one_sample(store, income):
    sid = income.index[3]
    store.relabel(sid, ">50K")
    store.comment(sid, "looks right")
    store.relabel(income.index[4], ">50K")
    hist = store.history(sid)
    assert hist["op"].tolist() == ["set", "comment"]
    assert hist["parents"].iloc[0] == [] and hist["note"].iloc[1] == "looks right"


def test_unknown_class_is_rejected_until_the_schema_is_extended(store, income):
    sid = income.index[0]
    before = Path(store.path).read_bytes()
    with pytest.raises(ChangelogError, match="not one of the classes"):
        store.relabel(sid, "unknown")
    assert Path(store.path).read_bytes() == before
    store.add_class("unknown", definition="income cannot be told from the record",
                    example="all fields missing", edge_cases=["students"])
    store.relabel(sid, "unknown")
    assert store.labels()[sid] == "unknown" and "unknown" in store.classes
    assert store.schema.guidelines["unknown"]["edge_cases"] == ["students"]


def test_rename_and_merge_classes_relabel_history(income, tmp_path):
    s = LabelStore(income, tmp_path / "r.jsonl", author="ana")
    sid = income.index[0]
    s.add_class("unsure")
    s.relabel(sid, "unsure")
    s.tag("before")
    s.rename_class(">50K", "high")
    assert s.classes == ["<=50K", "high", "unsure"]
    assert (s.labels() == "high").sum() == (income == ">50K").sum() - (income[sid] == ">50K")
    s.merge_classes(["unsure", "<=50K"], into="low")
    assert set(s.labels()) == {"low", "high"}
    assert s.labels("before")[sid] == "unsure"  # versions replay the schema of their time
    reopened = LabelStore(income, s.path, author="ben")
    assert reopened.labels().equals(s.labels()) and reopened.classes == ["low", "high"]
    s.set_guideline("high", definition="income above 50K a year")
    assert s.schema.to_frame().set_index("class").loc["high", "definition"].startswith("income")


def test_a_log_for_another_dataset_fails_clearly(store, income, tmp_path):
    store.relabel(income.index[0], ">50K")
    other = income.copy()
    other.iloc[5] = ">50K" if other.iloc[5] == "<=50K" else "<=50K"
    with pytest.raises(DatasetMismatchError, match="written for another dataset"):
        LabelStore(other, store.path, author="ana")
    with pytest.raises(DatasetMismatchError, match="48842 samples"):
        LabelStore(income.iloc[:100], store.path, author="ana")


def test_analysis_source_and_from_log(adult, tmp_path):
    from errlens import Analysis

    df = adult.iloc[:500]
    ev = Analysis.from_predictions(df, y_true="income", y_pred=df["income"], id="id")
    s = LabelStore(ev, tmp_path / "ev.jsonl", author="ana", role="reviewer")
    s.relabel(ev.ids[0], ">50K")
    s.tag("v1")
    assert s.original.equals(ev.y_true.rename("label"))
    log_only = LabelStore.from_log(s.path, author="cli")
    assert log_only.labels().to_dict() == {ev.ids[0]: ">50K"}
    assert log_only.versions()["version"].tolist() == ["v1"]
    with pytest.raises(ChangelogError, match="original label of sample"):
        log_only.relabel(ev.ids[1], ">50K")


def test_concurrent_edits_conflict_and_only_explicit_events_resolve(income, tmp_path):
    import shutil

    sid = income.index[0]
    base = LabelStore(income, tmp_path / "base.jsonl", author="lead")
    shutil.copy(base.path, tmp_path / "ben.jsonl")
    ana = base
    ben = LabelStore(income, tmp_path / "ben.jsonl", author="ben")
    ana.relabel(sid, ">50K")
    ben.confirm(sid)
    ana.merge(ben.path)
    conflicts = ana.conflicts()
    assert conflicts["sample_id"].tolist() == [sid]
    assert sorted(conflicts["authors"].iloc[0]) == ["ben", "lead"]
    assert ana.labels()[sid] == income[sid]  # the last state both had seen, not the latest
    assert ana.resolve("role")["label"].tolist() == [None]  # two annotators: no precedence
    carl = ana.record("set", sid, ">50K", author="carl", role="reviewer",
                      parents=list(ana.conflicts()["event_ids"].iloc[0]))
    assert carl.parents and ana.conflicts().empty and ana.labels()[sid] == ">50K"
    merged = merge_logs([ana.path, ben.path], tmp_path / "m.jsonl")
    assert merged.conflicts == []


def test_resolve_policies_write_adjudicate_events(income, tmp_path):
    sid = income.index[2]
    s = LabelStore(income, tmp_path / "p.jsonl", author="lead", role="adjudicator")
    s.record_many([{"op": "set", "id": sid, "label": ">50K", "author": "ana"},
                   {"op": "set", "id": sid, "label": ">50K", "author": "ben"},
                   {"op": "confirm", "id": sid, "author": "cleo", "role": "reviewer"}])
    assert len(s.conflicts()) == 1
    out = s.resolve("majority")
    assert out[["label", "reason"]].values.tolist() == [[">50K", "2 of 3 votes"]]
    last = s.events().iloc[-1]
    assert (last.op, last.new_label, last.author, last.role) == (
        "adjudicate", ">50K", "lead", "adjudicator")
    assert s.conflicts().empty and s.labels()[sid] == ">50K"
    with pytest.raises(ChangelogError, match="needs reviewer"):
        s.resolve("reviewer")


def test_reviewer_policy_and_adjudicate(income, tmp_path):
    a, b = income.index[3:5]
    s = LabelStore(income, tmp_path / "q.jsonl", author="lead")
    s.record_many([{"op": "set", "id": a, "label": ">50K", "author": "ana"},
                   {"op": "confirm", "id": a, "author": "ben"},
                   {"op": "set", "id": b, "label": ">50K", "author": "ana"},
                   {"op": "confirm", "id": b, "author": "ben"}])
    out = s.resolve("reviewer", reviewer="ben")
    assert out["label"].tolist() == [income[a], income[b]]
    assert s.conflicts().empty
    ev = s.adjudicate(a, ">50K", note="pay stub attached")
    assert ev.op == "adjudicate" and s.labels()[a] == ">50K"
    with pytest.raises(ChangelogError, match="not edits of sample"):
        s.adjudicate(a, ">50K", resolves=[s.events()["event_id"].iloc[2]])


def test_an_ordinary_edit_does_not_close_a_conflict(income, tmp_path):
    sid = income.index[(income == "<=50K").to_numpy()][0]
    s = LabelStore(income, tmp_path / "c.jsonl", author="ana")
    s.record_many([{"op": "set", "id": sid, "label": ">50K", "author": "ana"},
                   {"op": "confirm", "id": sid, "author": "ben"}])
    assert len(s.conflicts()) == 1
    again = s.relabel(sid, ">50K", note="still sure")
    assert len(again.parents) == 1 and len(s.conflicts()) == 1
    s.adjudicate(sid, ">50K")
    assert s.conflicts().empty


def test_integer_ids_and_classes_round_trip_as_json_numbers(tmp_path):
    from errlens.datasets import load_digits

    frame, _images = load_digits()
    labels = pd.Series(frame["digit"].to_numpy(), index=pd.RangeIndex(len(frame)))
    s = LabelStore(labels, tmp_path / "digits.jsonl", author="ana")
    first = int(labels.iloc[0])
    s.relabel(0, (first + 1) % 10, note="looks like the next digit")
    again = LabelStore(labels, s.path, author="ben")
    assert again.labels()[0] == (first + 1) % 10 and again.labels().dtype == labels.dtype
    assert again.history(0)["old_label"].tolist() == [first]
    with pytest.raises(ChangelogError, match="not one of the classes"):
        again.relabel(1, "7")


def test_missing_folder_is_a_clear_error(income, tmp_path):
    with pytest.raises(ChangelogError, match="does not exist; create it first"):
        LabelStore(income, tmp_path / "nope" / "l.jsonl", author="ana")


def test_changelog_reads_a_log_without_its_dataset_and_never_writes(income, tmp_path):
    from errlens.changelog import Changelog, ChangelogWarning

    store = LabelStore(income, tmp_path / "l.jsonl", author="ana")
    a, b = income.index[:2]
    flip = {">50K": "<=50K", "<=50K": ">50K"}
    store.relabel(a, flip[income[a]], note="typo")
    store.tag("v1")
    store.relabel(b, flip[income[b]])
    store.undo()
    log = Changelog(store.path)
    assert log.labels().to_dict() == {a: flip[income[a]], b: income[b]}
    assert log.labels("original").to_dict() == {a: income[a], b: income[b]}
    assert log.versions()["version"].tolist() == ["v1"]
    assert log.diff("original", "v1")[["sample_id", "from", "to", "note"]].to_dict(
        "records") == [{"sample_id": a, "from": income[a], "to": flip[income[a]],
                        "note": "typo"}]
    assert log.history(b)["op"].tolist() == ["set", "revert"]
    assert log.events().equals(store.events()) and log.verify().ok
    assert not hasattr(log, "relabel") and "4 events" in repr(log)
    before = Path(store.path).read_bytes()
    with open(store.path, "ab") as fh:
        fh.write(b'{"torn')
    with pytest.warns(ChangelogWarning, match="incomplete last line"):
        Changelog(store.path)
    assert Path(store.path).read_bytes() == before + b'{"torn'
    with pytest.raises(ChangelogError, match="does not exist"):
        Changelog(tmp_path / "nope.jsonl")


def test_a_merge_that_cannot_apply_writes_nothing_and_changes_nothing(income, tmp_path):
    import shutil

    ids = income.index[:40].tolist()
    base = LabelStore(income, tmp_path / "ana.jsonl", author="ana")
    shutil.copy(base.path, tmp_path / "ben.jsonl")
    ben = LabelStore(income, tmp_path / "ben.jsonl", author="ben")
    for k, sid in enumerate(ids):
        base.relabel(sid, ">50K") if k % 2 else base.confirm(sid)
        ben.relabel(sid, "<=50K") if k % 3 else ben.skip(sid)
    base.add_class("unsure")
    ben.add_class("unsure")  # two writers add one class: the second cannot apply
    before = (Path(base.path).read_bytes(), base.labels(), base.conflicts(), base.events())
    with pytest.raises(ChangelogError, match="cannot add class 'unsure': it exists"):
        base.merge(ben.path)
    after = (Path(base.path).read_bytes(), base.labels(), base.conflicts(), base.events())
    assert after[0] == before[0]
    pd.testing.assert_series_equal(after[1], before[1])
    pd.testing.assert_frame_equal(after[2], before[2])
    pd.testing.assert_frame_equal(after[3], before[3])
    base.relabel(ids[0], "<=50K")  # the store still works, and reads back the same
    assert LabelStore(income, base.path, author="x").labels().equals(base.labels())


def test_policies_resolve_alike_from_written_and_reopened_events(income, tmp_path):
    import shutil

    ids = income.index[:60].tolist()
    base = LabelStore(income, tmp_path / "ana.jsonl", author="ana")
    for name in ("ben", "cleo"):
        shutil.copy(base.path, tmp_path / f"{name}.jsonl")
    ben = LabelStore(income, tmp_path / "ben.jsonl", author="ben", role="reviewer")
    cleo = LabelStore(income, tmp_path / "cleo.jsonl", author="cleo")
    for k, sid in enumerate(ids):
        base.relabel(sid, ">50K")
        ben.relabel(sid, ">50K" if k % 3 else "<=50K")
        if k % 4:
            cleo.relabel(sid, "<=50K" if k % 2 else ">50K")
    base.merge(ben.path)
    base.merge(cleo.path)  # base holds its events as written objects
    shutil.copy(base.path, tmp_path / "copy.jsonl")
    reopened = LabelStore(income, tmp_path / "copy.jsonl", author="ana")  # parsed from the file
    assert len(base.conflicts()) == len(reopened.conflicts()) > len(ids) // 2
    majority = base.resolve("majority")
    assert 0 < majority["label"].notna().sum() < len(ids)  # two-way ties stay open
    pd.testing.assert_frame_equal(reopened.resolve("majority"), majority)
    reviewer = base.resolve("reviewer", reviewer="ben")
    assert reviewer["label"].notna().all() and base.conflicts().empty
    pd.testing.assert_frame_equal(reopened.resolve("reviewer", reviewer="ben"), reviewer)
    assert reopened.labels().equals(base.labels())
