"""LazyAnalysis.label_health(): the in-memory Analysis.label_health() tables counted in the
engine (the per-class table from one GROUP BY of the confident rows, the annotators' and
sources' from the priors' GROUP BYs), on Adult with a planted careless annotator and on ten
digit classes; Spark within the quantiles' tolerance; clear errors without probabilities."""

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
from errlens.engines import LazyAnalysis
from errlens.suspects.health import LabelHealth
from errlens.views.health import group_cohort, health_groups, health_payload
from errlens.views.source import source_of


@pytest.fixture(scope="module")
def planted(careless_adult: Any) -> tuple[pd.DataFrame, np.ndarray]:
    """Adult with a careless annotator (tests/engines/conftest.py): frame and proba."""
    data, _, proba = careless_adult
    return data, proba


def _memory(data: pd.DataFrame, proba: np.ndarray, **sources: Any) -> el.Analysis:
    return el.Analysis.from_predictions(data.drop(columns=["p0", "p1"]), y_true="y",
                                        y_pred="pred", id="id", proba=proba,
                                        proba_out_of_fold=True, **sources)


def same_classes(engine: LabelHealth, memory: LabelHealth, atol: float = 0.0) -> None:
    """The per-class, confusion and joint tables equal (integers exactly)."""
    pd.testing.assert_frame_equal(engine.classes, memory.classes, atol=atol, rtol=0)
    pd.testing.assert_frame_equal(engine.confusions, memory.confusions, atol=atol, rtol=0)
    pd.testing.assert_frame_equal(engine.joint, memory.joint, atol=atol, rtol=0)


def same_sources(engine: pd.DataFrame, memory: pd.DataFrame, flags: pd.Series,
                 rtol: float) -> None:
    """Every figure of the in-memory table; ``suspects`` counts the engine's filter's flags
    (``flags``: the in-memory confident_learning count per group)."""
    assert engine.index.tolist() == memory.index.tolist()
    assert engine.columns.tolist() == memory.columns.tolist()
    for column in ("n", "given", "likely_true", "confusion_count"):
        assert engine[column].tolist() == memory[column].tolist(), column
    for column in ("estimated_errors", "noise_rate", "ci_low", "ci_high", "prior"):
        np.testing.assert_allclose(engine[column], memory[column], rtol=rtol, err_msg=column)
    assert engine["suspects"].tolist() == flags.reindex(engine.index).tolist()


def test_duckdb_label_health_is_the_in_memory_one(planted):
    data, proba = planted
    ev = _memory(data, proba, annotator="annotator", source="vendor")
    lazy = LazyAnalysis.from_duckdb(duckdb.from_df(data), y_true="y", y_pred="pred", id="id",
                                    proba=["p0", "p1"], annotator="annotator", source="vendor")
    memory, engine = ev.label_health(), lazy.label_health()
    same_classes(engine, memory)
    assert engine.classes["estimated_mislabeled"].sum() > 2000  # a real estimate, not zeros
    cl = ev.suspects("confident_learning")
    for got, want, prior in ((engine.annotators, memory.annotators, cl.priors[0]),
                             (engine.sources, memory.sources, cl.priors[1])):
        assert got is not None and want is not None
        same_sources(got, want, prior.table["suspects"], rtol=1e-9)
    assert engine.annotators["noise_rate"].idxmax() == "ann0"
    low = engine.annotators.loc["ann0", "ci_low"]
    assert low > engine.annotators.drop(index="ann0")["ci_high"].max()
    assert "(missing)" in engine.sources.index
    # predicted_neq_given counts other flags, and leaves the rates as they are
    other = lazy.label_health("predicted_neq_given").annotators
    assert other is not None
    assert other["suspects"].tolist() == ev.suspect_rates(
        "annotator", "predicted_neq_given")["suspects"].reindex(other.index).tolist()
    np.testing.assert_allclose(other["noise_rate"], engine.annotators["noise_rate"])
    assert other["suspects"].tolist() != engine.annotators["suspects"].tolist()
    # nothing declared: the class tables alone
    plain = LazyAnalysis.from_duckdb(duckdb.from_df(data.drop(columns=["annotator", "vendor"])),
                                     y_true="y", y_pred="pred", id="id", proba=["p0", "p1"])
    bare = plain.label_health()
    assert bare.annotators is None and bare.sources is None
    same_classes(bare, memory)


def test_ten_digit_classes_match_memory():
    frame, _ = load_digits()
    truth = frame["digit"].to_numpy()
    rng = np.random.default_rng(3)
    flip = rng.random(len(truth)) < 0.1
    noisy = np.where(flip, (truth + rng.integers(1, 10, len(truth))) % 10, truth)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    proba = cross_val_predict(model, frame.drop(columns=["id", "digit"]), noisy, cv=5,
                              method="predict_proba")
    data = pd.DataFrame({"id": frame["id"], "ink": frame.drop(columns=["id", "digit"]).sum(1),
                         "y": noisy, "pred": proba.argmax(axis=1)})
    for k in range(10):
        data[f"p{k}"] = proba[:, k]
    ev = el.Analysis.from_predictions(data[["id", "ink", "y", "pred"]], y_true="y",
                                      y_pred="pred", id="id", proba=proba,
                                      proba_out_of_fold=True)
    lazy = LazyAnalysis.from_duckdb(duckdb.from_df(data), y_true="y", y_pred="pred", id="id",
                                    proba=[f"p{k}" for k in range(10)], classes=list(range(10)))
    memory, engine = ev.label_health(), lazy.label_health()
    same_classes(engine, memory)
    assert len(engine.confusions) > 20


def test_without_probabilities_or_with_a_one_row_class_it_says_what_to_do(planted):
    data, _ = planted
    rel = duckdb.from_df(data.head(2000))
    bare = LazyAnalysis.from_duckdb(rel, y_true="y", y_pred="pred", id="id")
    with pytest.raises(ValueError, match="label health needs one probability column per class"):
        bare.label_health()
    lazy = LazyAnalysis.from_duckdb(rel, y_true="y", y_pred="pred", id="id",
                                    proba=["p0", "p1"])
    with pytest.raises(ValueError, match="method must be one of"):
        lazy.label_health("prune_by_noise_rate")
    one = data.head(2000).assign(y=["<=50K"] * 1999 + [">50K"])
    single = LazyAnalysis.from_duckdb(duckdb.from_df(one), y_true="y", y_pred="pred", id="id",
                                      proba=["p0", "p1"])
    with pytest.raises(ValueError, match=r"classes at positions \[1\] have a single example"):
        single.label_health()


@pytest.mark.spark
def test_spark_label_health_matches_memory(spark, planted):
    data, proba = planted
    ev = _memory(data, proba, annotator="annotator")
    lazy = LazyAnalysis.from_spark(spark.createDataFrame(data.drop(columns="vendor")),
                                   y_true="y", y_pred="pred", id="id", proba=["p0", "p1"],
                                   annotator="annotator")
    memory, engine = ev.label_health(), lazy.label_health()
    same_classes(engine, memory)  # counts and thresholds need no quantile: exact
    got, want = engine.annotators, memory.annotators
    assert got is not None and want is not None
    assert got.index.tolist() == want.index.tolist()
    assert got["n"].tolist() == want["n"].tolist()
    # percentile_approx returns data values, np.quantile interpolates: bins differ slightly
    np.testing.assert_allclose(got["noise_rate"], want["noise_rate"], atol=0.005)
    assert got["noise_rate"].idxmax() == "ann0"
    # the health panel's counts of a selection: one GROUP BY in Spark
    source = source_of(lazy)
    groups = health_groups(lazy, run=source.run)
    women = el.Cohort.where("sex", "==", "Female")
    (panel,) = health_payload(groups, source.select(women))["groups"]
    counts = data.loc[data["sex"] == "Female", "annotator"].value_counts()
    assert {r["label"]: r["selected"] for r in panel["rows"]} == counts.to_dict()
    first = group_cohort(groups, "annotator", 0)
    assert first == el.Cohort.where("annotator", "==", panel["rows"][0]["label"])
    (panel,) = health_payload(groups, source.select(first))["groups"]
    assert [r["selected"] for r in panel["rows"]] == [panel["rows"][0]["n"]] + [0] * 4
