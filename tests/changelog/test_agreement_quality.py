"""Annotator accuracy, confusion, throughput and detector precision, on stores of real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import make_pipeline

import errlens as el
from errlens.annotators.agreement import adjudicated, label_matrix
from errlens.annotators.quality import (
    annotator_accuracy,
    annotator_confusion,
    crowdlab,
    detector_precision,
    throughput,
)
from errlens.annotators.reports import agreement_report, review_precision
from errlens.changelog.store import LabelStore
from errlens.datasets import load_tweets

ERROR_RATES = {"ana": 0.05, "ben": 0.2, "cy": 0.4}


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    """400 tweets judged by three simulated annotators with known error rates; a lead
    adjudicates the first 100 with the true (given) label."""
    tweets = load_tweets().sample(400, random_state=11)
    truth = pd.Series(tweets["sentiment"].to_numpy(), index=tweets["id"])
    store = LabelStore(truth, tmp_path_factory.mktemp("panel") / "l.jsonl", author="lead")
    classes = store.classes
    rng = np.random.default_rng(5)
    specs, start = [], pd.Timestamp("2026-03-02T09:00:00Z")
    for k, (who, rate) in enumerate(ERROR_RATES.items()):
        for j, (sample, label) in enumerate(truth.items()):
            wrong = rng.random() < rate
            # cy mistakes every error for "neutral" (or "negative" when the truth is neutral).
            if who == "cy":
                answer = ("negative" if label == "neutral" else "neutral") if wrong else label
            else:
                answer = rng.choice([c for c in classes if c != label]) if wrong else label
            specs.append({"op": "confirm" if answer == label else "set", "id": sample,
                          "label": answer, "author": who, "time_spent": 6.0 * (k + 1),
                          "timestamp": start + pd.Timedelta(seconds=20 * j)})
    store.record_many(specs)
    store.record_many([{"op": "adjudicate", "id": s, "label": truth[s], "role": "adjudicator"}
                       for s in truth.index[:100]])
    return store, truth


def test_accuracy_against_adjudicated_and_leave_one_out_consensus(panel) -> None:
    store, truth = panel
    matrix = label_matrix(store)
    report = annotator_accuracy(matrix, adjudicated(store), original=store.original)
    assert list(report.index) == ["ana", "ben", "cy"]
    assert (report["judged"] == 400).all() and (report["vs_adjudicated"] == 100).all()
    exact = (matrix.eq(truth, axis=0)).mean()
    # A consensus of noisy peers is itself wrong at times: the ranking survives, and the
    # estimate stays close to the truth for the better annotators.
    assert report["accuracy"].is_monotonic_decreasing
    assert abs(report.loc["ana", "accuracy"] - exact["ana"]) < 0.1
    vs_truth = annotator_accuracy(matrix, truth)
    assert vs_truth["accuracy"].to_dict() == pytest.approx(exact.to_dict())
    assert (vs_truth["compared"] == 400).all() and (vs_truth["vs_adjudicated"] == 400).all()
    for who, rate in ERROR_RATES.items():
        assert vs_truth.loc[who, "ci_low"] <= 1 - rate <= vs_truth.loc[who, "ci_high"]
    assert vs_truth["kappa"].is_monotonic_decreasing


def test_confusion_pattern_shows_a_systematic_annotator(panel) -> None:
    store, truth = panel
    table = annotator_confusion(label_matrix(store), "cy", truth, classes=store.classes)
    assert table.shape == (3, 3) and table.to_numpy().sum() == 400
    assert table.loc["positive", "negative"] == 0  # cy only ever errs towards neutral
    assert table.loc["positive", "neutral"] > 0 and table.loc["neutral", "negative"] > 0
    with pytest.raises(KeyError, match="no annotator 'zoe'"):
        annotator_confusion(label_matrix(store), "zoe")


def test_throughput_from_time_spent_and_from_timestamps(panel) -> None:
    store, _ = panel
    table = throughput(store)
    assert table.loc["ana", "items_per_hour"] == pytest.approx(600.0)  # 6 s per item
    assert table.loc["cy", "items_per_hour"] == pytest.approx(200.0)
    assert (table.loc[["ana", "ben", "cy"], "items"] == 400).all()
    # Without time_spent, gaps between events count, up to the idle threshold.
    events = store.events().assign(time_spent=np.nan)
    by_stamp = throughput(events)
    assert by_stamp.loc["ana", "items_per_hour"] == pytest.approx(180.0)  # 20 s apart
    assert by_stamp.loc["ana", "timed"] == 399  # the first event's duration is unknown
    assert throughput(events, idle=10).loc["ana", "timed"] == 0
    # A CSV import is stamped at import time: its gaps are not working time.
    imported = events.assign(cause=[{"import": "csv", "line": i} for i in range(len(events))])
    assert throughput(imported).loc["ana", "timed"] == 0
    assert np.isnan(throughput(imported).loc["ana", "items_per_hour"])


def test_detector_precision_per_detector_and_slice(tmp_path) -> None:
    tweets = load_tweets().sample(50, random_state=2)
    store = LabelStore(pd.Series(tweets["sentiment"].to_numpy(), index=tweets["id"]),
                       tmp_path / "l.jsonl", author="ana")
    ids, cur = list(store.original.index), store.labels()
    other = {i: next(c for c in store.classes if c != cur[i]) for i in ids}

    def cause(method: str, slice_: str) -> dict:
        return {"method": method, "score": 0.9, "rank": 1, "slice": slice_}

    specs = (
        [{"op": "set", "id": i, "label": other[i], "cause": cause("cl", "short")}
         for i in ids[:6]]
        + [{"op": "confirm", "id": i, "cause": cause("cl", "long")} for i in ids[6:8]]
        + [{"op": "skip", "id": ids[8], "cause": cause("cl", "long")}]
        + [{"op": "confirm", "id": i, "cause": {"detector": "knn"}} for i in ids[9:13]]
        + [{"op": "set", "id": ids[13], "label": other[ids[13]]}]  # no detector: not counted
    )
    store.record_many(specs)
    store.record("confirm", ids[9], author="ben", cause={"detector": "knn"})  # 2nd review
    table = detector_precision(store, store.original, store.labels())
    assert table.loc["cl"][["reviewed", "relabeled", "confirmed", "skipped"]].tolist() == [
        9, 6, 2, 1]
    assert table.loc["cl", "precision"] == pytest.approx(6 / 8)
    assert table.loc["knn", "reviewed"] == 4 and table.loc["knn", "precision"] == 0
    by_slice = detector_precision(store, store.original, store.labels(),
                                  by=("detector", "slice"))
    assert by_slice.loc[("cl", "short"), "precision"] == 1.0
    assert by_slice.loc[("cl", "long"), "precision"] == 0.0
    assert by_slice.loc[("knn", "(none)"), "reviewed"] == 4
    # An undone review is no review: that suspect leaves the counts.
    first = store.events().query("op == 'set'")["event_id"].iloc[0]
    store.undo(first)
    table = detector_precision(store, store.original, store.labels())
    assert table.loc["cl", ["reviewed", "relabeled"]].tolist() == [8, 5]
    assert table.loc["cl", "precision"] == pytest.approx(5 / 7)
    with pytest.raises(ValueError, match="cannot group by"):
        detector_precision(store, store.original, store.labels(), by=("author",))


def test_store_report_ties_the_pieces_together(panel) -> None:
    store, truth = panel
    report = agreement_report(store)
    assert report.summary["annotators"] == 3 and report.summary["samples_multi"] == 400
    assert len(report.pairwise) == 3
    assert report.consensus["adjudicated"].notna().sum() == 100
    assert (report.consensus["label"] == truth.reindex(report.consensus.index)).mean() > 0.85
    assert report.annotators.loc["ana", "items_per_hour"] == pytest.approx(600.0)
    assert report.annotators["accuracy"].is_monotonic_decreasing
    assert review_precision(store).empty  # nobody reviewed a detector's suspects


def test_crowdlab_consensus_ranks_annotators_by_quality(panel) -> None:
    store, truth = panel
    tweets = load_tweets().set_index("id").loc[truth.index].reset_index()
    model = make_pipeline(TfidfVectorizer(min_df=2), LogisticRegression(max_iter=500))
    proba = cross_val_predict(model, tweets["text"], tweets["sentiment"], cv=3,
                              method="predict_proba")
    ev = el.Analysis.from_predictions(tweets, y_true="sentiment", id="id", proba=proba,
                                      features=["text"], proba_out_of_fold=True,
                                      classes=sorted(truth.unique()))
    matrix = label_matrix(store)
    samples, annotators = crowdlab(matrix, ev)
    assert samples.index.equals(matrix.index)
    assert set(samples["consensus_label"]) <= set(store.classes)
    assert (samples["consensus_label"] == truth.reindex(samples.index)).mean() > 0.9
    assert annotators["annotator_quality"].loc[["ana", "ben", "cy"]].is_monotonic_decreasing
    assert annotators.loc["cy", "worst_class"] in store.classes
    with pytest.raises(ValueError, match="not in the analysis"):
        crowdlab(matrix.set_axis([f"x{i}" for i in range(len(matrix))]), ev)
