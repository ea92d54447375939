"""Annotator / source priors of the engine's suspects ranking: the same per-source noise tables,
priors, posteriors and top-k order as the in-memory Analysis on the same rows (DuckDB bins the
evidence as np.quantile does: equal to rounding; Spark's approximate quantiles: within a
tolerance), and clear errors for what an engine does not take."""

from __future__ import annotations

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
from errlens.datasets import load_digits
from errlens.engines import LazyAnalysis, ScaleOutError
from errlens.engines.priors import MAX_SOURCES

RATES = np.array([0.35, 0.03, 0.03, 0.03, 0.03])  # ann0 careless, the others careful
TOP = 1000
FIGURES = ["n", "suspects", "estimated_errors", "noise_rate", "ci_low", "ci_high", "prior",
           "given", "likely_true", "confusion_count"]


@pytest.fixture(scope="module")
def planted(careless_adult: Any) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Adult with a careless annotator (tests/engines/conftest.py): frame, flips, proba."""
    return careless_adult


def _memory(data: pd.DataFrame, proba: np.ndarray, **sources: Any) -> el.Analysis:
    return el.Analysis.from_predictions(data.drop(columns=["p0", "p1"]), y_true="y",
                                        y_pred="pred", id="id", proba=proba,
                                        proba_out_of_fold=True, **sources)


def _lazy(data: pd.DataFrame, **sources: Any) -> LazyAnalysis:
    return LazyAnalysis.from_duckdb(duckdb.from_df(data), y_true="y", y_pred="pred", id="id",
                                    proba=["p0", "p1"], **sources)


def _same_noise(engine: pd.DataFrame, memory: pd.DataFrame, rtol: float) -> None:
    assert engine.index.tolist() == memory.index.tolist()
    assert engine.columns.tolist() == memory.columns.tolist() == FIGURES
    for column in ("n", "suspects", "given", "likely_true", "confusion_count"):
        assert engine[column].tolist() == memory[column].tolist(), column
    for column in ("estimated_errors", "noise_rate", "ci_low", "ci_high", "prior"):
        np.testing.assert_allclose(engine[column], memory[column], rtol=rtol, err_msg=column)


def test_duckdb_ranks_by_the_in_memory_posterior_and_finds_the_careless_annotator(planted):
    data, flip, proba = planted
    ev = _memory(data, proba, annotator="annotator", source="vendor")
    lazy = _lazy(data, annotator="annotator", source="vendor")
    assert lazy.label_sources == {"annotator": "annotator", "source": "vendor"}
    assert {"annotator", "vendor"} <= set(lazy.features)  # sliceable, as in memory
    women = el.Cohort.where("sex", "==", "Female")
    for cohort in (None, women):
        memory = ev.suspects("confident_learning", cohort=cohort, top=TOP)
        engine = lazy.suspects("confident_learning", cohort=cohort, top=TOP)
        # the same bins as np.quantile: the same order, and figures equal to rounding
        assert engine.table.index.tolist() == memory.table.index.tolist()
        assert engine.table.columns.tolist() == memory.table.columns.tolist()
        for column in ("prior", "posterior", "score"):
            np.testing.assert_allclose(engine.table[column], memory.table[column], rtol=1e-9)
        assert engine.table["flagged"].tolist() == memory.table["flagged"].tolist()
        assert engine.table["annotator"].tolist() == memory.table["annotator"].tolist()
        assert engine.table["vendor"].fillna("-").tolist() == \
            memory.table["vendor"].fillna("-").tolist()
    for got, want in zip(engine.priors, memory.priors, strict=True):
        _same_noise(got.table, want.table, rtol=1e-9)
        assert (got.method, got.name) == (want.method, want.name)
    annotators = engine.priors[0].table
    assert annotators["noise_rate"].idxmax() == "ann0"
    assert annotators.loc["ann0", "ci_low"] > annotators.drop(index="ann0")["ci_high"].max()
    assert "(missing)" in engine.priors[1].table.index  # missing vendor: its own group
    assert engine.cause(engine.table.index[0])["why"].startswith("annotator ann0: est.")
    # the prior moves flips up: more of them in the top than the plain engine ranking has
    plain = lazy.suspects("confident_learning", top=TOP, prior=None)
    assert "posterior" not in plain.table
    assert flip[engine.table.index].sum() > flip[plain.table.index].sum()
    tables = lazy.source_noise()
    _same_noise(tables["annotator"], ev.suspects("confident_learning").priors[0].table, 1e-9)
    assert tables["annotator"].index.name == "annotator"


def test_sources_given_rows_alike_leave_the_engines_score_order(planted):
    data, _, proba = planted
    alike = data.assign(annotator=np.random.default_rng(1).permutation(data["annotator"]))
    lazy = _lazy(alike, annotator="annotator")
    ranked = lazy.suspects("confident_learning", top=TOP)
    assert ranked.table["prior"].nunique() == 1  # one prior for every annotator
    every = lazy.suspects("confident_learning", top=len(data), prior=None).table
    by_score = every.reset_index().sort_values(["score", "id"], kind="stable")["id"]
    assert ranked.table.index.tolist() == by_score.head(TOP).tolist()
    assert ranked.table["flagged"].sum() == every.loc[ranked.table.index, "flagged"].sum()
    memory = _memory(alike, proba, annotator="annotator").suspects("confident_learning", top=TOP)
    assert ranked.table.index.tolist() == memory.table.index.tolist()


def test_ten_classes_and_predicted_neq_given_match_memory():
    frame, _ = load_digits()
    truth = frame["digit"].to_numpy()
    rng = np.random.default_rng(3)
    who = rng.integers(0, len(RATES), len(truth))
    flip = rng.random(len(truth)) < np.array([0.40, 0.03, 0.03, 0.03, 0.03])[who]
    noisy = np.where(flip, (truth + rng.integers(1, 10, len(truth))) % 10, truth)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    proba = cross_val_predict(model, frame.drop(columns=["id", "digit"]), noisy, cv=5,
                              method="predict_proba")
    data = pd.DataFrame({"id": frame["id"], "ink": frame.drop(columns=["id", "digit"]).sum(1),
                         "y": noisy, "pred": proba.argmax(axis=1),
                         "annotator": [f"ann{w}" for w in who]})
    for k in range(10):
        data[f"p{k}"] = proba[:, k]
    ev = el.Analysis.from_predictions(data[["id", "ink", "y", "pred", "annotator"]], y_true="y",
                                      y_pred="pred", id="id", proba=proba,
                                      proba_out_of_fold=True, annotator="annotator")
    lazy = LazyAnalysis.from_duckdb(duckdb.from_df(data), y_true="y", y_pred="pred", id="id",
                                    proba=[f"p{k}" for k in range(10)], classes=list(range(10)),
                                    annotator="annotator")
    for method in ("confident_learning", "predicted_neq_given"):
        memory = ev.suspects(method, top=300)
        engine = lazy.suspects(method, top=300)
        assert engine.table.index.tolist() == memory.table.index.tolist()
        np.testing.assert_allclose(engine.table["posterior"], memory.table["posterior"],
                                   rtol=1e-9)
        _same_noise(engine.priors[0].table, memory.priors[0].table, rtol=1e-9)
    assert engine.priors[0].table["noise_rate"].idxmax() == "ann0"


def test_bad_declarations_and_what_an_engine_does_not_take_say_what_to_do(planted):
    data = planted[0].head(3000)
    with pytest.raises(KeyError, match="annotator='who' is not a column of data"):
        _lazy(data, annotator="who")
    with pytest.raises(TypeError, match="names a column of the data on an engine"):
        _lazy(data, annotator=["a"] * len(data))
    with pytest.raises(ValueError, match="source='y' is the y_true column"):
        _lazy(data, source="y")
    with pytest.raises(ValueError, match="'p1' is the proba column"):
        _lazy(data, annotator="p1")
    lazy = _lazy(data, annotator="annotator")
    with pytest.raises(KeyError, match="prior='nope' is not a feature column"):
        lazy.suspects(prior="nope")
    with pytest.raises(ScaleOutError, match="not a declared source"):
        lazy.suspects(prior=["age"])
    with pytest.raises(TypeError, match="expected a LabelStore or its events"):
        lazy.suspects(reviews=object())
    with pytest.raises(ScaleOutError, match="ranks rows across a whole class"):
        lazy.suspects("prune_by_noise_rate")
    with pytest.raises(ValueError, match="method must be one of"):
        lazy.source_noise("nope")
    with pytest.raises(ValueError, match="no label source declared"):
        _lazy(data).source_noise()
    many = data.assign(batch=[f"b{i % 1500}" for i in range(len(data))])
    with pytest.raises(ScaleOutError, match="'batch' has 1,500 values; an engine's prior takes "
                                           f"at most {MAX_SOURCES:,}"):
        _lazy(many, source="batch").suspects()


@pytest.mark.spark
def test_spark_rates_and_top_k_agree_with_memory_within_the_quantiles_tolerance(spark, planted):
    data, _, proba = planted
    ev = _memory(data, proba, annotator="annotator")
    lazy = LazyAnalysis.from_spark(spark.createDataFrame(data.drop(columns="vendor")),
                                   y_true="y", y_pred="pred", id="id", proba=["p0", "p1"],
                                   annotator="annotator")
    memory = ev.suspects("confident_learning", top=TOP)
    engine = lazy.suspects("confident_learning", top=TOP)
    # percentile_approx returns data values, np.quantile interpolates: bins differ slightly
    got, want = engine.priors[0].table, memory.priors[0].table
    np.testing.assert_allclose(got["noise_rate"], want["noise_rate"], atol=0.005)
    np.testing.assert_allclose(got["prior"], want["prior"], atol=0.005)
    assert got["suspects"].tolist() == want["suspects"].tolist()
    overlap = len(set(engine.table.index) & set(memory.table.index)) / TOP
    assert overlap >= 0.99, overlap


def test_a_source_the_model_sees_differently_keeps_the_joint_in_memory_and_engine(planted):
    data, _, proba = planted
    # sex: rows not given alike (the model predicts >50K far more often for men)
    memory = _memory(data, proba, source="sex").suspects("confident_learning", top=TOP)
    engine = _lazy(data, source="sex").suspects("confident_learning", top=TOP)
    assert memory.priors[0].method == engine.priors[0].method == "confident joint"
    assert engine.table.index.tolist() == memory.table.index.tolist()
    _same_noise(engine.priors[0].table, memory.priors[0].table, rtol=1e-9)
    # the annotators, given rows at random, keep the contrast in both
    memory = _memory(data, proba, annotator="annotator").suspects("confident_learning", top=TOP)
    engine = _lazy(data, annotator="annotator").suspects("confident_learning", top=TOP)
    assert memory.priors[0].method == engine.priors[0].method == "contrast"
