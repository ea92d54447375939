"""CSV round trips with annotators: export a review batch, fill it, import it back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import make_pipeline

import errlens as el
from errlens.annotators.exchange import ImportErrors, export_csv, from_cell, import_csv
from errlens.annotators.quality import detector_precision
from errlens.changelog.errors import ChangelogError, ChangelogWarning
from errlens.changelog.store import LabelStore
from errlens.datasets import load_tweets


@pytest.fixture(scope="module")
def tweets_analysis() -> el.Analysis:
    """400 tweets with out-of-fold probabilities of a TF-IDF + logistic regression model."""
    batch = load_tweets().sample(400, random_state=4)
    model = make_pipeline(TfidfVectorizer(min_df=2), LogisticRegression(max_iter=500))
    proba = cross_val_predict(model, batch["text"], batch["sentiment"], cv=3,
                              method="predict_proba")
    return el.Analysis.from_predictions(batch, y_true="sentiment", id="id", proba=proba,
                                        features=["text", "confidence"],
                                        classes=sorted(batch["sentiment"].unique()),
                                        proba_out_of_fold=True)


@pytest.fixture
def store(tweets_analysis, tmp_path) -> LabelStore:
    return LabelStore(tweets_analysis, tmp_path / "labels.jsonl", author="lead")


def _fill(path: Path, answers: dict[str, list]) -> pd.DataFrame:
    batch = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col, values in answers.items():
        batch[col] = values
    batch.to_csv(path, index=False, lineterminator="\r\n")  # as spreadsheets save it
    return batch


def test_export_writes_the_batch_and_instructions(store, tweets_analysis, tmp_path) -> None:
    ev = tweets_analysis
    suspects = ev.suspects("confident_learning", top=25)
    path = export_csv(store, tmp_path / "batch.csv", columns=["text"], analysis=ev,
                      suspects=suspects)
    batch = pd.read_csv(path, keep_default_na=False)
    assert batch.columns.tolist() == ["sample_id", "given_label", "current_label", "prediction",
                                      "probability", "text", "cause", "label", "note",
                                      "annotator"]
    assert batch["sample_id"].tolist() == suspects.table.index.tolist()
    rows = ev.ids.get_indexer(batch["sample_id"])
    assert batch["prediction"].tolist() == ev.y_pred.iloc[rows].tolist()
    np.testing.assert_allclose(batch["probability"], ev.proba[rows, ev.y_pred_codes[rows]])
    # tweets starting with @ are written '@ (a formula in a spreadsheet otherwise)
    text = batch["text"].map(from_cell)
    assert text.tolist() == ev.features["text"].iloc[rows].tolist()
    assert (text.str[:1] == "@").any() and (batch["text"] == "'" + text)[text.str[:1] == "@"].all()
    assert (batch[["label", "note", "annotator"]] == "").all().all()
    guide = path.with_suffix(".instructions.md").read_text()
    assert all(f"### {c}" in guide for c in store.classes) and "`?`" in guide


def test_round_trip_loses_nothing(store, tweets_analysis, tmp_path) -> None:
    ids = list(tweets_analysis.ids[:8])
    path = export_csv(store, tmp_path / "batch.csv", ids, columns=["text"],
                      analysis=tweets_analysis)
    cur = store.labels()
    other = [next(c for c in store.classes if c != cur[i]) for i in ids]
    answers = {
        "label": [other[0], cur[ids[1]], "?", "", other[4], cur[ids[5]], "", other[7]],
        "note": ["sarcasm", "", "can't tell", "duplicate of another tweet", "", "", "", "é, \"q\""],
        "annotator": ["ana", "ana", "ben", "ben", "", "ben", "", "ana"],
        "confidence": ["0.9", "", "", "", "1", "", "", "0.25"],
    }
    _fill(path, answers)
    events = import_csv(store, path, author="cy")
    got = [(e.op, e.sample_id, e.new_label, e.author, e.note, e.confidence, e.cause["line"])
           for e in events]
    assert got == [
        ("set", ids[0], other[0], "ana", "sarcasm", 0.9, 2),
        ("confirm", ids[1], cur[ids[1]], "ana", None, None, 3),
        ("skip", ids[2], None, "ben", "can't tell", None, 4),
        ("comment", ids[3], None, "ben", "duplicate of another tweet", None, 5),
        ("set", ids[4], other[4], "cy", None, 1.0, 6),
        ("confirm", ids[5], cur[ids[5]], "ben", None, None, 7),
        ("set", ids[7], other[7], "ana", 'é, "q"', 0.25, 9),
    ]
    assert all(e.cause["import"] == "csv" and e.cause["file"] == "batch.csv" for e in events)
    labels = store.labels()
    assert labels[ids[0]] == other[0] and labels[ids[4]] == other[4]
    assert store.events()["event_id"].tolist()[-7:] == [e.event_id for e in events]


def test_suspect_causes_survive_the_round_trip(store, tweets_analysis, tmp_path) -> None:
    suspects = tweets_analysis.suspects("confident_learning", top=10)
    path = export_csv(store, tmp_path / "s.csv", suspects=suspects)
    cur = store.labels()
    ids = suspects.table.index.tolist()
    fix = [next(c for c in store.classes if c != cur[i]) for i in ids[:4]]
    _fill(path, {"label": fix + [cur[i] for i in ids[4:]], "annotator": "ana"})
    events = import_csv(store, path)
    assert events[0].cause["suspect"] == suspects.cause(ids[0])
    table = detector_precision(store, store.original, store.labels())
    assert table.loc["confident_learning", ["reviewed", "relabeled", "confirmed"]].tolist() == [
        10, 4, 6]


def _attempt(store, path: Path) -> str:
    before = store.events()["event_id"].tolist()
    with pytest.raises(ChangelogError) as info:
        import_csv(store, path)
    assert store.events()["event_id"].tolist() == before  # nothing written
    return str(info.value)


def test_bad_answers_are_all_reported_and_nothing_is_written(store, tmp_path) -> None:
    ids = list(store.original.index[:6])
    path = export_csv(store, tmp_path / "b.csv", ids)
    batch = _fill(path, {"label": [store.classes[0], "Positive", "neutral", "neutral", "neg",
                                   "negative"],
                         "annotator": ["ana", "ana", "", "ben", "ben", "ben"],
                         "confidence": ["", "", "", "1.5", "", "x"]})
    batch.loc[5, "sample_id"] = "tweet-nope"
    batch.to_csv(path, index=False, lineterminator="\r\n")
    message = _attempt(store, path)
    for needle in ("line 3: label 'Positive' is not a class", "line 4: no annotator",
                   "line 5: confidence '1.5'", "line 6: label 'neg' is not a class",
                   "line 7: unknown sample_id 'tweet-nope'", "5 problem(s), nothing was written"):
        assert needle in message


@pytest.mark.parametrize(("content", "needle"), [
    ("", "is empty"),
    ("sample_id,note\nx,y\n", "missing column(s) ['label']"),
    ("id,label\n1,a\n", "missing column(s) ['sample_id']"),
    ("sample_id,label\n\"unterminated,a\n", "not a readable UTF-8 CSV"),
])
def test_malformed_files_fail_clearly(store, tmp_path, content: str, needle: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert needle in _attempt(store, path)


def test_duplicate_answers_and_missing_file(store, tmp_path) -> None:
    sample = store.original.index[0]
    path = tmp_path / "dup.csv"
    pd.DataFrame({"sample_id": [sample, sample], "label": ["neutral", "positive"],
                  "annotator": ["ana", "ana"]}).to_csv(path, index=False)
    assert "already answered" in _attempt(store, path)
    with pytest.raises(ChangelogError, match="does not exist"):
        import_csv(store, tmp_path / "nope.csv")
    with pytest.raises(ImportErrors):
        pd.DataFrame({"sample_id": [sample], "label": ["neutral"]}).to_csv(path, index=False)
        import_csv(store, path)  # no annotator column and no author=


def test_integer_ids_and_labels_come_back_as_their_own_types(tmp_path) -> None:
    original = pd.Series([0, 1, 1, 0], index=[10, 11, 12, 13])
    store = LabelStore(original, tmp_path / "l.jsonl", author="lead")
    path = export_csv(store, tmp_path / "ints.csv")
    _fill(path, {"label": ["1", "1", "", "?"], "annotator": "ana"})
    events = import_csv(store, path)
    assert [(e.op, e.sample_id, e.new_label) for e in events] == [
        ("set", 10, 1), ("confirm", 11, 1), ("skip", 13, None)]
    assert store.labels().tolist() == [1, 1, 1, 0]


def test_export_rejects_what_it_cannot_show(store, tweets_analysis, tmp_path) -> None:
    with pytest.raises(ChangelogError, match="unknown sample ids"):
        export_csv(store, tmp_path / "x.csv", ["tweet-nope"])
    with pytest.raises(ChangelogError, match="pass analysis="):
        export_csv(store, tmp_path / "x.csv", columns=["text"])
    with pytest.raises(ChangelogError, match="not features of the analysis"):
        export_csv(store, tmp_path / "x.csv", columns=["txt"], analysis=tweets_analysis)


def test_answers_written_before_a_rename_resolve_to_the_new_name(store, tmp_path) -> None:
    ids = list(store.original.index[:2])
    path = export_csv(store, tmp_path / "r.csv", ids)
    store.rename_class("neutral", "mixed")
    _fill(path, {"label": ["neutral", "mixed"], "annotator": "ana"})
    events = import_csv(store, path)
    assert [e.new_label for e in events] == ["mixed", "mixed"]
    assert store.labels()[ids].tolist() == ["mixed", "mixed"]


def test_semicolon_csv_from_a_spreadsheet_with_bom_is_read(store, tmp_path) -> None:
    ids = list(store.original.index[:2])
    path = export_csv(store, tmp_path / "eu.csv", ids)
    batch = _fill(path, {"label": ["positive", "?"], "note": ["a; b, c", ""],
                         "annotator": "ana"})
    batch.to_csv(path, index=False, sep=";", encoding="utf-8-sig")
    events = import_csv(store, path)
    assert [(e.op, e.note) for e in events] == [
        ("confirm" if store.original[ids[0]] == "positive" else "set", "a; b, c"),
        ("skip", None)]


def test_importing_the_same_answers_twice_writes_nothing_new(store, tweets_analysis,
                                                            tmp_path) -> None:
    ids = list(tweets_analysis.ids[:5])
    path = export_csv(store, tmp_path / "batch.csv", ids)
    cur = store.labels()
    other = [next(c for c in store.classes if c != cur[i]) for i in ids]
    batch = _fill(path, {"label": [other[0], cur[ids[1]], "?", "", other[4]],
                         "note": ["", "", "unsure", "spam?", ""],
                         "annotator": ["ana", "ana", "ben", "ben", "ana"]})
    first = import_csv(store, path)
    assert len(first) == 5
    size = Path(store.path).stat().st_size
    assert import_csv(store, path) == []
    copy = tmp_path / "batch (1).csv"  # the same answers, renamed and rows reordered
    batch.iloc[::-1].to_csv(copy, index=False)
    assert import_csv(store, copy) == [] and Path(store.path).stat().st_size == size
    batch.loc[1, "label"] = other[1]  # ana changes one answer: only that row is new
    batch.to_csv(path, index=False)
    again = import_csv(store, path)
    assert [(e.sample_id, e.new_label, e.cause["line"]) for e in again] == [
        (ids[1], other[1], 3)]
    reopened = LabelStore(tweets_analysis, store.path, author="lead")
    assert len(reopened.events()) == 6 and reopened.labels()[ids[1]] == other[1]
    reopened.comment(ids[2], '"import" is a word in this tweet')  # not an imported answer
    assert reopened.imported_causes("csv") == store.imported_causes("csv")
    assert import_csv(reopened, path) == []
    with pytest.warns(ChangelogWarning, match="go back to what the same annotator answered"):
        back = import_csv(reopened, copy)  # the old copy: ana's earlier answer is her answer now
    assert [(e.sample_id, e.author) for e in back] == [(ids[1], "ana")]
    assert reopened.labels()[ids[1]] != other[1] and import_csv(reopened, copy) == []
    assert LabelStore(tweets_analysis, store.path, author="x").imported_causes("csv") == \
        [e["cause"] for e in reopened.events().to_dict("records")
         if isinstance(e["cause"], dict) and e["cause"].get("import") == "csv"]


FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


def test_hostile_cells_are_neutralised_and_round_trip_exactly(tmp_path) -> None:
    """Ids, labels, notes and text that a spreadsheet would run as formulas are written with
    a leading ', and come back exactly: with the ' a spreadsheet keeps, or without it."""
    import csv

    ids = ["=A1", "+1", "@x", "-3", "'=quoted", "plain", "'plain"]
    original = pd.Series(["-1", "=cmd", "+2", "@at", "ok", "-1", "ok"], index=ids)
    store = LabelStore(original, tmp_path / "l.jsonl", author="lead")
    ev = el.Analysis.from_predictions(pd.DataFrame({"text": [*FORMULAS, "fine"]}),
                                      y_true=original.tolist(),
                                      y_pred=original.tolist()[::-1], id=ids)
    path = export_csv(store, tmp_path / "batch.csv", analysis=ev, columns=["text"])
    with open(path, newline="", encoding="utf-8") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert cells and not [c for c in cells if c[:1] in "=+-@\t\r" and c]
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert raw["sample_id"].tolist() == ["'=A1", "'+1", "'@x", "'-3", "''=quoted", "plain",
                                         "'plain"]
    assert raw["given_label"].tolist()[:4] == ["'-1", "'=cmd", "'+2", "'@at"]
    assert raw["prediction"].tolist()[:4] == ["ok", "'-1", "ok", "'@at"]
    assert raw["text"].tolist() == ["'" + t for t in FORMULAS] + ["fine"]
    # answers as spreadsheets save them: some keep the ', some drop it
    batch = _fill(path, {"label": ["'=cmd", "-1", "'-1", "@at", "+2", "'+2", "ok"],
                         "note": [*FORMULAS, "'@kept"], "annotator": "'@ana"})
    assert batch["note"].iloc[0].startswith("=")
    events = import_csv(store, path)
    assert [e.sample_id for e in events] == ids
    assert [e.new_label for e in events] == ["=cmd", "-1", "-1", "@at", "+2", "+2", "ok"]
    assert [e.note for e in events] == [n.strip() for n in FORMULAS] + ["@kept"]
    assert {e.author for e in events} == {"@ana"}


def test_negative_numbers_are_text_ids_but_numbers_elsewhere(tmp_path) -> None:
    """An integer id -3 is written '-3 (ids are matched back by their text) and comes back as
    the integer -3; a numeric feature -1.5 stays a number (it cannot run as a formula)."""
    original = pd.Series([-1, 1, 1], index=[-3, 0, 7])
    ev = el.Analysis.from_predictions({"score": [-1.5, 0.5, 2.0]}, y_true=original,
                                      y_pred=[1, 1, -1], id=original.index.to_numpy(),
                                      features=["score"])
    store = LabelStore(original, tmp_path / "l.jsonl", author="lead")
    path = export_csv(store, tmp_path / "ints.csv", analysis=ev, columns=["score"])
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert raw["sample_id"].tolist() == ["'-3", "0", "7"]
    assert raw["given_label"].tolist() == ["'-1", "1", "1"]
    assert raw["score"].tolist() == ["-1.5", "0.5", "2.0"]
    _fill(path, {"label": ["1", "'-1", "-1"], "annotator": "ana"})
    events = import_csv(store, path)
    assert [(e.op, e.sample_id, e.new_label) for e in events] == [
        ("set", -3, 1), ("set", 0, -1), ("set", 7, -1)]
    assert all(type(e.sample_id) is int and type(e.new_label) is int for e in events)


def test_a_cause_nested_as_deep_as_an_import_allows_is_recorded(tmp_path) -> None:
    """The deepest cause an import accepts is one the changelog's writer accepts too, so
    the refusal comes with its line, never from the store."""
    from errlens.annotators.exchange import MAX_JSON_DEPTH

    store = LabelStore(pd.Series(["cat", "dog"], index=["a", "b"]), tmp_path / "l.jsonl",
                       author="lead")
    path = tmp_path / "answers.csv"
    for depth, ok in ((MAX_JSON_DEPTH, True), (MAX_JSON_DEPTH + 1, False)):
        cause = "[" * depth + "]" * depth
        path.write_text(f'sample_id,label,annotator,cause\na,dog,ana{depth},"{cause}"\n')
        if ok:
            assert len(import_csv(store, path)) == 1
        else:
            with pytest.raises(ImportErrors, match="line 2: the cause column is not errlens"):
                import_csv(store, path)
