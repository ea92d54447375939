"""Reviews on an engine: ``lazy.suspects(reviews=store)`` ranks as the in-memory
``Analysis.suspects(reviews=store)`` on the same rows (DuckDB), the reviews moving the careless
annotator's prior, the detector's slope and a noisy occupation's slice; reviewed rows go last;
reviews of unknown samples or of another label set are refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import errlens as el
from errlens.changelog import LabelStore
from errlens.engines import LazyAnalysis

NUMBERS = ["age", "education_num", "hours_per_week", "capital_gain", "capital_loss"]
CLASSES = ["<=50K", ">50K"]
METHOD = "confident_learning"
NOISY_JOB = "Craft-repair"
TOP = 1000


@pytest.fixture(scope="module")
def planted(adult: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Adult whose labels one careless annotator (of five) flipped 35 % of, the others 3 %, and
    30 % of the Craft-repair rows' whoever labelled them; out-of-fold probabilities of a
    logistic regression on the numbers. Returns the frame, the true labels and the proba."""
    rng = np.random.default_rng(0)
    who = rng.integers(0, 5, len(adult))
    truth = (adult["income"].astype(str) == ">50K").to_numpy().astype(int)
    job = (adult["occupation"].astype(str) == NOISY_JOB).to_numpy()
    flip = rng.random(len(adult)) < np.where(job, 0.30, np.where(who == 0, 0.35, 0.03))
    noisy = np.where(flip, 1 - truth, truth)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    proba = cross_val_predict(model, adult[NUMBERS], noisy, cv=3, method="predict_proba")
    data = adult[NUMBERS].assign(occupation=adult["occupation"].astype(str),
                                 sex=adult["sex"].astype(str))
    data["id"] = np.arange(len(adult))
    data["y"] = np.asarray(CLASSES, dtype=object)[noisy]
    data["pred"] = np.asarray(CLASSES, dtype=object)[proba.argmax(axis=1)]
    data["p0"], data["p1"] = proba[:, 0], proba[:, 1]
    data["annotator"] = np.array([f"ann{w}" for w in who], dtype=object)
    return data, np.asarray(CLASSES, dtype=object)[truth], proba


@pytest.fixture(scope="module")
def pair(planted: Any) -> tuple[el.Analysis, LazyAnalysis]:
    data, _, proba = planted
    ev = el.Analysis.from_predictions(data.drop(columns=["p0", "p1"]), y_true="y",
                                      y_pred="pred", id="id", proba=proba,
                                      proba_out_of_fold=True, annotator="annotator")
    lazy = LazyAnalysis.from_duckdb(duckdb.from_df(data), y_true="y", y_pred="pred", id="id",
                                    proba=["p0", "p1"], annotator="annotator",
                                    definition=ev.segments.definition)
    return ev, lazy


def review(store: LabelStore, ev: el.Analysis, truth: np.ndarray, samples: Any,
           doubted: str | None = None) -> None:
    """Each sample's truth revealed, as a reviewer of ``METHOD``'s suspects would; a reviewer
    who relabels every row of the annotator ``doubted``, right or wrong."""
    ranked = ev.suspects(METHOD)
    who = ev.features["annotator"].to_numpy() if doubted else None
    specs = []
    for sample in samples:
        row = int(ev.ids.get_indexer([sample])[0])
        given = ev.y_true.iloc[row]
        wrong = truth[row] != given or (who is not None and who[row] == doubted)
        other = CLASSES[1 - CLASSES.index(given)]  # binary: the other class is the truth
        specs.append({"op": "set" if wrong else "confirm", "id": sample,
                      "label": other if wrong else None, "cause": ranked.cause(sample)})
    store.record_many(specs)


def assert_same(got: Any, want: Any) -> None:
    """Equal records, floats to 1e-9 relative (the engine sums in another order)."""
    if isinstance(want, dict):
        assert sorted(got) == sorted(want)
        for key in want:
            assert_same(got[key], want[key])
    elif isinstance(want, list):
        assert len(got) == len(want)
        for a, b in zip(got, want, strict=True):
            assert_same(a, b)
    elif isinstance(want, float):
        assert got == pytest.approx(want, rel=1e-9)
    else:
        assert got == want


def test_duckdb_ranks_after_reviews_as_in_memory(pair, planted, tmp_path: Path):
    ev, lazy = pair
    _, truth, _ = planted
    store = LabelStore(ev, tmp_path / "labels.jsonl", author="ana")
    flagged = ev.suspects(METHOD).flagged_ids
    picked = np.random.default_rng(1).choice(len(flagged), 601, replace=False)
    review(store, ev, truth, flagged[picked[:600]])
    store.skip(flagged[picked[600]])
    memory = ev.suspects(METHOD, reviews=store, top=TOP)
    engine = lazy.suspects(METHOD, reviews=store, top=TOP)
    # what the reviews moved: the same priors, slope and slices
    assert engine.params["reviewed"] == memory.params["reviewed"] == 600
    calibration = engine.params["review_calibration"]
    assert calibration["slope"] > 1.2  # the detector's evidence is stronger than assumed
    for name in ("review_calibration", "review_slices", "prior", "reviewed"):
        assert_same(engine.params[name], memory.params[name])
    moved = engine.review_slices[engine.review_slices["moved"].astype(bool)]
    assert ("occupation", NOISY_JOB) in set(zip(moved["feature"], moved["segment"],
                                                strict=True))
    for got, want in zip(engine.priors, memory.priors, strict=True):
        np.testing.assert_allclose(got.table["prior"], want.table["prior"], rtol=1e-9)
        assert got.table["reviewed"].tolist() == want.table["reviewed"].tolist()
    assert engine.priors[0].table["prior"].idxmax() == "ann0"
    # the same top rows in the same order, with the same figures
    assert engine.table.index.tolist() == memory.table.index.tolist()
    assert engine.table.columns.tolist() == memory.table.columns.tolist()
    for column in ("prior", "posterior", "score"):
        np.testing.assert_allclose(engine.table[column], memory.table[column], rtol=1e-9)
    assert engine.table["review"].isna().all()  # every top row is still undecided
    # the reviews moved the order, not only took the reviewed rows out
    static = lazy.suspects(METHOD, top=TOP).table.index
    kept = static[~static.isin(flagged[picked])]
    assert engine.table.index[:100].tolist() != kept[:100].tolist()
    top = engine.table.index[0]
    assert engine.cause(top)["why"] == memory.cause(top)["why"]
    # a reviewed row goes last, as in memory, its verdict shown
    every = lazy.suspects(METHOD, reviews=store, top=len(ev.ids))
    whole = ev.suspects(METHOD, reviews=store)
    assert every.table.index.tolist() == whole.table.index.tolist()
    assert every.table["review"].fillna("-").tolist() == whole.table["review"].fillna("-").tolist()
    tail = every.table.tail(600)
    assert set(tail["review"]) == {"relabeled", "confirmed"}
    assert every.table["review"].value_counts()["skipped"] == 1
    craft = el.Cohort.segment("occupation", NOISY_JOB)  # a cohort: its rows, ranked alike
    in_memory = ev.suspects(METHOD, reviews=store, cohort=craft, top=300).table
    assert len(in_memory) == 300 and in_memory["review"].isna().all()
    assert lazy.suspects(METHOD, reviews=store, cohort=craft, top=300).table.index.tolist() == \
        in_memory.index.tolist()


def test_reviews_that_doubt_an_annotator_move_its_prior_alike(pair, planted, tmp_path: Path):
    ev, lazy = pair
    _, truth, _ = planted
    store = LabelStore(ev, tmp_path / "labels.jsonl", author="ana")
    flagged = ev.suspects(METHOD).flagged_ids
    review(store, ev, truth, flagged[np.random.default_rng(3).permutation(len(flagged))[:400]],
           doubted="ann2")
    memory = ev.suspects(METHOD, reviews=store, top=TOP)
    engine = lazy.suspects(METHOD, reviews=store, top=TOP)
    doubted = engine.priors[0].table.loc["ann2"]
    assert doubted["prior"] > 2 * doubted["prior_before_reviews"]
    assert doubted["relabeled"] == doubted["reviewed"] >= 20
    for column in ("prior", "predicted_precision", "review_precision"):
        np.testing.assert_allclose(engine.priors[0].table[column],
                                   memory.priors[0].table[column], rtol=1e-9)
    assert engine.table.index.tolist() == memory.table.index.tolist()
    np.testing.assert_allclose(engine.table["posterior"], memory.table["posterior"], rtol=1e-9)
    assert (engine.table["annotator"].head(100) == "ann2").sum() > (
        lazy.suspects(METHOD, top=TOP).table["annotator"].head(100) == "ann2").sum()


def test_reviews_without_learning_put_decided_rows_last(pair, planted, tmp_path: Path):
    ev, lazy = pair
    _, truth, _ = planted
    store = LabelStore(ev, tmp_path / "labels.jsonl", author="ana")
    first = ev.suspects(METHOD).table.index[:5]
    review(store, ev, truth, first)
    memory = ev.suspects(METHOD, reviews=store, prior=None, top=TOP)
    engine = lazy.suspects(METHOD, reviews=store, prior=None, top=TOP)
    assert engine.table.columns.tolist() == memory.table.columns.tolist()
    assert engine.table.index.tolist() == memory.table.index.tolist()
    assert not set(first) & set(engine.table.index)  # decided: behind every flagged row


def test_reviews_of_other_rows_or_labels_are_refused(pair, planted, tmp_path: Path):
    _, lazy = pair
    data = planted[0]
    events = pd.DataFrame({"op": ["confirm", "confirm"], "sample_id": [3, 10**9],
                           "author": "ana", "new_label": [None, None], "cause": [None, None]})
    with pytest.raises(KeyError, match="1 reviewed samples are not rows"):
        lazy.suspects(METHOD, reviews=events)
    other = el.Analysis.from_predictions(
        {"x": range(4)}, y_true=["cat", "dog", "cat", "dog"], id=[1, 2, 3, 4],
        proba=[[.9, .1], [.2, .8], [.3, .7], [.2, .8]], proba_out_of_fold=True)
    store = LabelStore(other, tmp_path / "pets.jsonl", author="ana")
    store.confirm(1)
    with pytest.raises(ValueError, match="the store labels classes"):
        lazy.suspects(METHOD, reviews=store)
    shuffled = el.Analysis.from_predictions(
        data[["age"]], y_true=data["y"].sample(frac=1, random_state=0).to_numpy(), id=data["id"],
        proba=planted[2], proba_out_of_fold=True)
    store = LabelStore(shuffled, tmp_path / "shuffled.jsonl", author="ana")
    for sample in range(40):
        store.confirm(sample)
    with pytest.raises(ValueError, match=r"original labels of .* reviewed samples differ"):
        lazy.suspects(METHOD, reviews=store)


def test_reviews_with_no_source_declared_still_move_slices_and_slope(planted, tmp_path: Path):
    data, truth, proba = planted
    plain = data.drop(columns="annotator")
    ev = el.Analysis.from_predictions(plain.drop(columns=["p0", "p1"]), y_true="y",
                                      y_pred="pred", id="id", proba=proba,
                                      proba_out_of_fold=True)
    lazy = LazyAnalysis.from_duckdb(duckdb.from_df(plain), y_true="y", y_pred="pred", id="id",
                                    proba=["p0", "p1"], definition=ev.segments.definition)
    store = LabelStore(ev, tmp_path / "labels.jsonl", author="ana")
    flagged = ev.suspects(METHOD).flagged_ids
    review(store, ev, truth, flagged[np.random.default_rng(2).permutation(len(flagged))[:500]])
    memory = ev.suspects(METHOD, reviews=store, top=TOP)
    engine = lazy.suspects(METHOD, reviews=store, top=TOP)
    assert engine.priors == () and engine.params["review_slices"]
    assert_same(engine.params["review_slices"], memory.params["review_slices"])
    assert engine.table.index.tolist() == memory.table.index.tolist()
    np.testing.assert_allclose(engine.table["posterior"], memory.table["posterior"], rtol=1e-9)


@pytest.mark.spark
def test_spark_ranks_after_reviews_within_the_quantiles_tolerance(spark, pair, planted,
                                                                   tmp_path: Path):
    ev, _ = pair
    data, truth, _ = planted
    lazy = LazyAnalysis.from_spark(spark.createDataFrame(data), y_true="y", y_pred="pred",
                                   id="id", proba=["p0", "p1"], annotator="annotator",
                                   definition=ev.segments.definition)
    store = LabelStore(ev, tmp_path / "labels.jsonl", author="ana")
    flagged = ev.suspects(METHOD).flagged_ids
    review(store, ev, truth, flagged[np.random.default_rng(1).permutation(len(flagged))[:600]])
    memory = ev.suspects(METHOD, reviews=store, top=TOP)
    engine = lazy.suspects(METHOD, reviews=store, top=TOP)
    # percentile_approx bins the evidence a little differently: priors within 0.005
    np.testing.assert_allclose(engine.priors[0].table["prior"], memory.priors[0].table["prior"],
                               atol=0.005)
    moved = {(s["feature"], s["segment"]) for s in engine.params["review_slices"]}
    assert moved == {(s["feature"], s["segment"]) for s in memory.params["review_slices"]}
    assert engine.table["review"].isna().all()
    overlap = len(set(engine.table.index) & set(memory.table.index)) / TOP
    assert overlap >= 0.98, overlap


def test_annotators_judging_moves_their_priors_in_the_engine_as_in_memory(pair, planted,
                                                                        tmp_path: Path):
    """A round trip: the five annotators judge 200 rows they did not label; the careless one
    (ann0, wrong 35 % of the time as a judge too) disagrees with CROWDLAB's consensus far more
    than the others, which raises its prior in memory and in the engine alike."""
    ev, lazy = pair
    _, truth, _ = planted
    rng = np.random.default_rng(3)
    who = ev.features["annotator"].to_numpy()
    rows = rng.choice(np.flatnonzero(who != "ann0"), 200, replace=False)
    store = LabelStore(ev, tmp_path / "labels.jsonl", author="lead")
    specs = []
    for row in rows:
        for judge, rate in zip([f"ann{g}" for g in range(5)], [0.35, .03, .03, .03, .03],
                               strict=True):
            label = truth[row] if rng.random() >= rate else CLASSES[1 - CLASSES.index(truth[row])]
            specs.append({"op": "set", "id": ev.ids[row], "label": label, "author": judge,
                          "role": "annotator"})
    store.record_many(specs)
    memory = ev.suspects(METHOD, reviews=store, top=TOP)
    engine = lazy.suspects(METHOD, reviews=store, top=TOP)
    table = memory.priors[0].table
    assert table.loc["ann0", "judge_disagreement"] > 0.2
    assert table.loc["ann0", "prior"] > table.loc["ann0", "prior_before_judging"]
    np.testing.assert_allclose(engine.priors[0].table["prior"], table["prior"], rtol=1e-9)
    assert engine.table.index.tolist() == memory.table.index.tolist()
