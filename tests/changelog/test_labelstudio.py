"""Label Studio tasks, config and import, without a server (a recorded export as fixture).

``fixtures/labelstudio_export.json`` was recorded by ``test_labelstudio_server.py`` from a real
Label Studio 1.23.2 (full JSON export, ``download_all_tasks=true``); ``labelstudio_users.json``
is the matching ``GET /api/users/`` (ids and emails only).
"""

from __future__ import annotations

import copy
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import errlens as el
from errlens.annotators.agreement import label_matrix
from errlens.annotators.exchange import MAX_JSON_DEPTH
from errlens.annotators.labelstudio import (
    export_labelstudio,
    import_labelstudio,
    labelstudio_config,
    labelstudio_tasks,
    user_names,
)
from errlens.annotators.quality import detector_precision
from errlens.changelog.errors import ChangelogError
from errlens.changelog.store import LabelStore
from errlens.datasets import load_tweets

FIXTURES = Path(__file__).parent / "fixtures"
EXPORT = json.loads((FIXTURES / "labelstudio_export.json").read_text())
USERS = json.loads((FIXTURES / "labelstudio_users.json").read_text())


@pytest.fixture(scope="module")
def tweets() -> pd.DataFrame:
    """The 300 tweets the recorded export was made from (same sample as the server test)."""
    return load_tweets().sample(300, random_state=0)


@pytest.fixture
def store(tweets, tmp_path) -> LabelStore:
    return LabelStore(pd.Series(tweets["sentiment"].to_numpy(), index=tweets["id"]),
                      tmp_path / "labels.jsonl", author="lead")


def _events(store: LabelStore) -> list[str]:
    return store.events()["event_id"].tolist()


def test_recorded_export_imports_as_events_by_each_annotator(store) -> None:
    events = import_labelstudio(store, FIXTURES / "labelstudio_export.json", users=USERS)
    got = [(e.author, e.sample_id, e.op, e.old_label, e.new_label, e.time_spent, e.note)
           for e in events]
    assert got == [
        ("ana@example.com", "tweet-30058", "set", "neutral", "negative", 4.25,
         "sarcasm, not praise"),
        ("ana@example.com", "tweet-11152", "confirm", "negative", "negative", 2.5, None),
        ("ana@example.com", "tweet-24484", "skip", "neutral", None, 7.0, None),
        ("ben@example.com", "tweet-30058", "confirm", "neutral", "neutral", 5.5, None),
        ("ben@example.com", "tweet-11152", "set", "negative", "neutral", 1.75, None),
        ("ben@example.com", "tweet-34196", "confirm", "positive", "positive", 3.0, "clear"),
    ]
    created = sorted(a["created_at"] for t in EXPORT for a in t["annotations"])
    stamps = store.events()["timestamp"].iloc[-6:]
    assert stamps.tolist() == [pd.Timestamp(c) for c in created]
    answer = events[0].cause.pop("answer")  # fingerprint of the choices, note, cancel flag
    assert len(answer) == 20 and events[0].cause == {"import": "labelstudio", "project": 1,
                                                     "task": 1, "annotation": 1}
    # Concurrent, disagreeing answers are conflicts, left for an adjudicator.
    assert set(store.conflicts()["sample_id"]) == {"tweet-30058", "tweet-11152"}
    matrix = label_matrix(store)
    assert matrix.loc["tweet-11152"].tolist() == ["negative", "neutral"]


def test_importing_the_same_export_twice_records_each_annotation_once(store) -> None:
    first = import_labelstudio(store, EXPORT, users=USERS)
    assert import_labelstudio(store, EXPORT, users=USERS) == []
    grown = copy.deepcopy(EXPORT)
    grown[4]["annotations"] = [dict(grown[0]["annotations"][0], id=99, task=5)]
    added = import_labelstudio(store, grown, users=USERS)
    assert len(first) == 6 and [(e.sample_id, e.cause["annotation"]) for e in added] == [
        (grown[4]["data"]["sample_id"], 99)]


def test_an_annotation_edited_in_label_studio_is_imported_again(store) -> None:
    """Same task and annotation ids, another answer: the annotator's new answer is recorded,
    also when it goes back to their first one; an unchanged re-import records nothing."""
    import_labelstudio(store, EXPORT, users=USERS)
    task, ann = EXPORT[0], EXPORT[0]["annotations"][0]
    first = ann["result"][0]["value"]["choices"][0]
    other = next(c for c in store.classes if c != first)
    for choice, expected in ((other, 1), (other, 0), (first, 1), (first, 0)):
        edited = copy.deepcopy(EXPORT)
        edited[0]["annotations"][0]["result"][0]["value"]["choices"] = [choice]
        events = import_labelstudio(store, edited, users=USERS)
        assert [e.new_label for e in events] == [choice] * expected
    history = store.history(task["data"]["sample_id"])
    mine = history[history["author"] == user_names(USERS)[str(ann["completed_by"])]]
    assert mine["new_label"].tolist()[-3:] == [first, other, first]


def test_unmapped_users_get_a_stable_name(store) -> None:
    events = import_labelstudio(store, EXPORT)
    assert {e.author for e in events} == {"labelstudio-user-1", "labelstudio-user-2"}
    events = import_labelstudio(store, [dict(EXPORT[3], id=40)],
                                users={2: "ben"})
    assert [e.author for e in events] == ["ben"]


def _broken(change) -> list[dict]:
    tasks = copy.deepcopy(EXPORT)
    change(tasks)
    return tasks


@pytest.mark.parametrize(("change", "needle"), [
    (lambda t: t[0]["annotations"][0]["result"][0]["value"].update(choices=["Positive"]),
     "label 'Positive' is not a class"),
    (lambda t: t[0]["annotations"][0]["result"][0]["value"].update(
        choices=["negative", "neutral"]), "several choices"),
    (lambda t: t[1]["data"].pop("sample_id"), "no data.sample_id"),
    (lambda t: t[1]["data"].update(sample_id="tweet-nope"), "unknown sample_id 'tweet-nope'"),
    (lambda t: t.append("not a task"), "no data.sample_id"),
    (lambda t: t[0].update(annotations=[None]), "an annotation without an id"),
    (lambda t: t[0]["annotations"][0].pop("id"), "an annotation without an id"),
    (lambda t: t[0].update(annotations={"id": 1}), "annotations are not a list"),
    (lambda t: t[0]["annotations"][0].update(result=["negative"]), "a result item is not"),
    (lambda t: t[0]["annotations"][0]["result"][0].update(value=None), "a result item is not"),
    (lambda t: t[0]["annotations"][0]["result"][0]["value"].update(choices="negative"),
     "choices 'negative' is not a list"),
    (lambda t: t[0]["annotations"][0].update(lead_time="slow"), "lead_time 'slow' is not"),
])
def test_bad_exports_fail_clearly_and_write_nothing(store, change, needle) -> None:
    before = _events(store)
    with pytest.raises(ChangelogError, match="nothing was written") as info:
        import_labelstudio(store, _broken(change), users=USERS)
    assert needle in str(info.value)
    assert _events(store) == before


def test_unreadable_files_fail_clearly(store, tmp_path) -> None:
    bad = tmp_path / "export.json"
    bad.write_text("[{")
    with pytest.raises(ChangelogError, match="not JSON"):
        import_labelstudio(store, bad)
    bad.write_text('{"tasks": []}')
    with pytest.raises(ChangelogError, match="expected a list of tasks"):
        import_labelstudio(store, bad)
    with pytest.raises(ChangelogError, match="does not exist"):
        import_labelstudio(store, tmp_path / "missing.json")
    bad.write_text('[{"id": 1, "data": {"sample_id": 1, "cause": ' + "[" * 100_000 +
                   "]" * 100_000 + "}}]")  # a RecursionError before
    with pytest.raises(ChangelogError, match=f"nested more than {MAX_JSON_DEPTH} levels deep"):
        import_labelstudio(store, bad)
    os.mkfifo(tmp_path / "pipe.json")  # blocked forever before
    with pytest.raises(ChangelogError, match=r"is a named pipe \(FIFO\), not a regular file"):
        import_labelstudio(store, tmp_path / "pipe.json")
    with pytest.raises(ChangelogError, match="users must map"):
        import_labelstudio(store, EXPORT, users=[1, 2])


def test_config_lists_classes_with_hints_and_escapes_them() -> None:
    xml = labelstudio_config(["neg", 'say "hi" & <go>'], guidelines={"neg": {
        "definition": "unhappy \"tone\""}}, title="Tweets")
    root = ET.fromstring(xml)
    choices = root.find("Choices")
    assert choices is not None and choices.get("name") == "label"
    assert choices.get("toName") == "text" and choices.get("choice") == "single"
    assert [(c.get("value"), c.get("hint")) for c in choices] == [
        ("neg", 'unhappy "tone"'), ('say "hi" & <go>', None)]
    assert root.find("TextArea").get("name") == "note"  # type: ignore[union-attr]
    with pytest.raises(ChangelogError, match="at least one class"):
        labelstudio_config([])


def test_tasks_carry_sample_text_and_the_model_prediction(tweets, tmp_path) -> None:
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(3), size=len(tweets))
    ev = el.Analysis.from_predictions(tweets, y_true="sentiment", id="id", proba=proba,
                                      features=["text", "confidence"],
                                      classes=["negative", "neutral", "positive"])
    store = LabelStore(ev, tmp_path / "l.jsonl", author="lead")
    ids = list(ev.ids[:5])
    tasks = export_labelstudio(store, tmp_path / "tasks.json", ids, analysis=ev,
                               text_column="text", columns=["confidence"])
    assert json.loads((tmp_path / "tasks.json").read_text()) == tasks
    assert ET.fromstring((tmp_path / "tasks.config.xml").read_text()).tag == "View"
    rows = ev.ids.get_indexer(ids)
    for task, row in zip(tasks, rows, strict=True):
        assert task["data"]["sample_id"] == ev.ids[row]
        assert task["data"]["text"] == ev.features["text"].iloc[row]
        conf = ev.features["confidence"].iloc[row]
        assert task["data"]["confidence"] == (None if np.isnan(conf) else conf)  # JSON null
        (pred,) = task["predictions"]
        assert pred["result"][0]["value"]["choices"] == [ev.y_pred.iloc[row]]
        assert pred["score"] == pytest.approx(proba[row].max())
    plain = labelstudio_tasks(store, ids, analysis=ev, columns=["confidence"])
    assert [t["data"]["text"] for t in plain] == [f"confidence: {t['data']['confidence']}"
                                                  for t in tasks]
    assert "predictions" not in labelstudio_tasks(store, ids[:1])[0]


def _annotate(tasks: list[dict], answers: list[tuple[int, int, str | None, float]]) -> list:
    """What Label Studio's export holds after the given (task, user, label, lead) answers."""
    out = copy.deepcopy(tasks)
    for n, task in enumerate(out):
        task["id"], task["annotations"] = 100 + n, []
    for k, (n, user, label, lead) in enumerate(answers):
        result = [] if label is None else [{"from_name": "label", "to_name": "text",
                                            "type": "choices", "value": {"choices": [label]}}]
        out[n]["annotations"].append({
            "id": k + 1, "completed_by": user, "result": result, "was_cancelled": label is None,
            "lead_time": lead, "created_at": f"2026-05-01T10:00:{k:02d}.000000Z", "project": 7})
    return out


def test_suspects_round_trip_feeds_detector_precision(tweets, tmp_path) -> None:
    ev = el.Analysis.from_predictions(
        tweets, y_true="sentiment", id="id", features=["text"], proba_out_of_fold=True,
        proba=np.random.default_rng(1).dirichlet(np.ones(3) * 0.3, size=len(tweets)),
        classes=["negative", "neutral", "positive"])
    store = LabelStore(ev, tmp_path / "l.jsonl", author="lead")
    suspects = ev.suspects("predicted_neq_given", top=4)
    tasks = labelstudio_tasks(store, analysis=ev, text_column="text", suspects=suspects)
    assert [t["data"]["sample_id"] for t in tasks] == suspects.table.index.tolist()
    given = [t["data"]["current_label"] for t in tasks]
    pred = [t["predictions"][0]["result"][0]["value"]["choices"][0] for t in tasks]
    export = _annotate(tasks, [(0, 1, pred[0], 3.0), (1, 1, pred[1], 2.0),
                               (2, 1, given[2], 4.0), (3, 1, None, 1.0)])
    events = import_labelstudio(store, export, users={1: "ana"})
    assert [e.op for e in events] == ["set", "set", "confirm", "skip"]
    assert events[0].cause["suspect"] == suspects.cause(tasks[0]["data"]["sample_id"])
    table = detector_precision(store, store.original, store.labels())
    assert table.loc["predicted_neq_given", ["reviewed", "relabeled", "confirmed",
                                             "skipped"]].tolist() == [4, 2, 1, 1]


def test_custom_control_names_and_empty_submissions(store) -> None:
    tasks = copy.deepcopy(EXPORT[:2])
    tasks[0]["annotations"][0]["result"][0]["from_name"] = "sentiment"  # a custom config
    tasks[1]["annotations"][0]["result"] = []  # submitted without a choice
    events = import_labelstudio(store, tasks, users=USERS)
    assert [(e.sample_id, e.op, e.new_label) for e in events][:2] == [
        ("tweet-30058", "set", "negative"), ("tweet-11152", "skip", None)]
