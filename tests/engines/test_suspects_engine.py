"""Confident-learning suspects computed in DuckDB / Spark: the same flags as cleanlab's
find_label_issues, the same ranking as the in-memory Analysis, and clear errors for the filters
that do not run in an engine."""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from cleanlab.filter import find_label_issues
from sklearn.datasets import load_digits
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict

import errlens as el
from errlens.engines import LazyAnalysis, ScaleOutError

FEATURES = ["age", "education_num", "hours_per_week", "capital_gain", "sex", "workclass"]


def _with_proba(features: pd.DataFrame, labels: np.ndarray, proba: np.ndarray,
                classes: list[Any], ids: Any) -> pd.DataFrame:
    data = features.copy()
    data["id"], data["y"] = np.asarray(ids), np.asarray(classes, dtype=object)[labels]
    data["pred"] = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    for k in range(len(classes)):
        data[f"p{k}"] = proba[:, k]
    return data


@pytest.fixture(scope="module")
def adult_oof(adult: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Adult with out-of-fold probabilities of a small gradient-boosting model."""
    X = adult[FEATURES]
    classes = sorted(adult["income"].astype(str).unique())
    labels = np.searchsorted(classes, adult["income"].astype(str))
    model = HistGradientBoostingClassifier(max_iter=20, categorical_features="from_dtype",
                                           random_state=0)
    proba = cross_val_predict(model, X, labels, cv=3, method="predict_proba")
    features = X.assign(sex=X["sex"].astype(str), workclass=X["workclass"].astype(object))
    return _with_proba(features, labels, proba, classes, adult["id"]), labels, proba


@pytest.fixture(scope="module")
def adult_lazy(adult_oof: tuple[pd.DataFrame, np.ndarray, np.ndarray]) -> LazyAnalysis:
    data = adult_oof[0]
    return LazyAnalysis.from_duckdb(duckdb.from_df(data), y_true="y", y_pred="pred", id="id",
                                    proba=["p0", "p1"], features=FEATURES)


@pytest.mark.parametrize("method", ["confident_learning", "predicted_neq_given"])
def test_duckdb_flags_equal_cleanlab_on_adult(adult_oof, adult_lazy, method):
    data, labels, proba = adult_oof
    expected = set(data["id"][find_label_issues(labels, proba, filter_by=method)])
    found = adult_lazy.suspects(method, top=len(data))
    assert set(found.flagged_ids) == expected
    assert found.meta["flagged_in_cohort"] == len(expected) > 1000


def test_duckdb_flags_equal_cleanlab_on_ten_digit_classes():
    digits = load_digits()
    labels = digits.target
    proba = cross_val_predict(LogisticRegression(max_iter=300), digits.data / 16, labels, cv=3,
                              method="predict_proba")
    # Plant 5 % label flips so there is something to find.
    rng = np.random.default_rng(0)
    flip = rng.random(len(labels)) < 0.05
    noisy = np.where(flip, (labels + rng.integers(1, 10, len(labels))) % 10, labels)
    features = pd.DataFrame({"ink": digits.data.sum(axis=1), "top": digits.data[:, :8].sum(1)})
    data = _with_proba(features, noisy, proba, list(range(10)), np.arange(len(labels)))
    lazy = LazyAnalysis.from_duckdb(duckdb.from_df(data), y_true="y", y_pred="pred", id="id",
                                    proba=[f"p{k}" for k in range(10)], classes=list(range(10)))
    for method in ("confident_learning", "predicted_neq_given"):
        expected = np.flatnonzero(find_label_issues(noisy, proba, filter_by=method))
        found = lazy.suspects(method, top=len(data))
        assert sorted(found.flagged_ids) == expected.tolist()
    caught = set(lazy.suspects("confident_learning", top=len(data)).flagged_ids)
    assert len(caught & set(np.flatnonzero(flip))) > 0.7 * flip.sum()


@pytest.mark.parametrize("rank_by", ["self_confidence", "normalized_margin"])
def test_ranking_and_cohort_match_the_in_memory_analysis(adult_oof, adult_lazy, rank_by):
    data, _, proba = adult_oof
    ev = el.Analysis.from_predictions(data.drop(columns=["p0", "p1"]), y_true="y",
                                      y_pred="pred", id="id", proba=proba,
                                      proba_out_of_fold=True, features=FEATURES)
    women = el.Cohort.where("sex", "==", "Female")
    for cohort in (None, women):
        memory = ev.suspects("confident_learning", rank_by=rank_by, cohort=cohort, top=40)
        engine = adult_lazy.suspects("confident_learning", rank_by=rank_by, cohort=cohort,
                                     top=40)
        assert engine.table.index.tolist() == memory.table.index.tolist()
        np.testing.assert_allclose(engine.table["score"], memory.table["score"], rtol=1e-12)
        np.testing.assert_allclose(engine.table["p_given"], memory.table["p_given"])
        assert engine.table["given"].tolist() == memory.table["given"].tolist()
        assert engine.table["rank"].tolist() == list(range(1, 41))
    assert engine.params["cohort_rows"] == int(ev.mask(women).sum()) == 16_192
    assert engine.cause(engine.table.index[0])["method"] == "confident_learning"


def test_what_does_not_run_in_an_engine_says_so(adult_oof, adult_lazy):
    for method in ("prune_by_noise_rate", "knn"):
        with pytest.raises(ScaleOutError, match="confident_learning"):
            adult_lazy.suspects(method)
    with pytest.raises(ValueError, match="rank_by"):
        adult_lazy.suspects("confident_learning", rank_by="confidence_weighted_entropy")
    with pytest.raises(ValueError, match="top must be a positive integer"):
        adult_lazy.suspects("confident_learning", top=0)
    data = adult_oof[0]
    without = LazyAnalysis.from_duckdb(duckdb.from_df(data), y_true="y", y_pred="pred",
                                       id="id", features=FEATURES)
    with pytest.raises(ValueError, match="one probability column per class"):
        without.suspects("confident_learning")
    broken = data.assign(p1=data["p1"].where(data.index % 1000 != 0))
    lazy = LazyAnalysis.from_duckdb(duckdb.from_df(broken), y_true="y", y_pred="pred", id="id",
                                    proba=["p0", "p1"], features=FEATURES)
    with pytest.raises(ValueError, match="49 rows have a missing probability"):
        lazy.suspects("confident_learning")


@pytest.mark.spark
def test_spark_flags_equal_cleanlab_on_adult(spark, adult_oof):
    data, labels, proba = adult_oof
    frame = spark.createDataFrame(data)
    lazy = LazyAnalysis.from_spark(frame, y_true="y", y_pred="pred", id="id",
                                   proba=["p0", "p1"], features=FEATURES)
    expected = set(data["id"][find_label_issues(labels, proba, filter_by="confident_learning")])
    found = lazy.suspects("confident_learning", top=50)
    assert found.meta["flagged_in_cohort"] == len(expected)
    assert set(found.flagged_ids) <= expected and len(found) == 50


def test_a_new_selection_reuses_the_thresholds_of_every_row(adult_oof, adult_lazy, monkeypatch):
    """A click ranks only its cohort: the per-class thresholds (a scan of every row) are
    computed once per analysis, and a cohort's flags still equal the whole data's."""
    from errlens.engines import suspects as engine_suspects
    from errlens.slicing.cohort import Cohort

    data = adult_oof[0]
    whole = adult_lazy.suspects("confident_learning", top=len(data))
    scans = []
    real = engine_suspects._thresholds
    monkeypatch.setattr(engine_suspects, "_thresholds",
                        lambda *a: scans.append(1) or real(*a))
    women = adult_lazy.suspects("confident_learning", cohort=Cohort.where("sex", "==", "Female"),
                                top=len(data))
    men = adult_lazy.suspects("confident_learning", cohort=Cohort.where("sex", "==", "Male"),
                              top=len(data))
    assert scans == []
    assert set(women.flagged_ids) | set(men.flagged_ids) == set(whole.flagged_ids)
    assert women.params["thresholds"] == whole.params["thresholds"]
