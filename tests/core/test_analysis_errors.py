"""The bad-input catalogue: each mistake gets an error that names the problem."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.svm import LinearSVC

import errlens as el

FRAME = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "g": list("abab")})
Y = [0, 1, 0, 1]


def build(**kwargs):
    args = {"y_true": Y, "y_pred": [0, 1, 1, 1]}
    args.update(kwargs)
    data = args.pop("data", FRAME)
    return el.Analysis.from_predictions(data, **args)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"y_true": [0, 1, 0]}, "y_true has 3 rows but data has 4 rows"),
        ({"y_pred": [0, 1]}, "y_pred has 2 rows but data has 4 rows"),
        ({"proba": np.full((3, 2), 0.5), "y_pred": None}, "proba has 3 rows but data has 4"),
        ({"id": ["a", "b"]}, "id has 2 rows but data has 4 rows"),
    ],
)
def test_length_mismatches(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build(**kwargs)


def test_missing_values_in_labels_and_predictions():
    with pytest.raises(ValueError, match=r"y_true has 1 missing values \(first at rows \[2\]\)"):
        build(y_true=[0, 1, None, 1])
    with pytest.raises(ValueError, match="y_pred has 2 missing values"):
        build(y_pred=[np.nan, 1, np.nan, 1])


@pytest.mark.parametrize(
    ("proba", "error", "message"),
    [
        (np.full(4, 0.5), ValueError, "proba must be 2-D"),
        (np.ones((4, 1)), ValueError, "one column per class"),
        ([["a", "b"]] * 4, TypeError, "proba must be numeric"),
        ([[1.2, -0.2]] * 4, ValueError, "outside \\[0, 1\\]"),
        ([[0.5, 0.4]] * 4, ValueError, "must sum to 1 \\(tolerance 0.001\\); 4 rows do not"),
        ([[np.nan, 1.0]] * 4, ValueError, "NaN or infinite"),
        (np.full((4, 3), 1 / 3), ValueError, "proba has 3 columns but y_true holds only 2 labels"),
    ],
)
def test_bad_probabilities(proba, error, message):
    with pytest.raises(error, match=message):
        build(proba=proba, y_pred=None)


def test_proba_columns_must_match_given_classes():
    with pytest.raises(ValueError, match="proba has 2 columns but there are 3 classes"):
        build(proba=[[0.5, 0.5]] * 4, y_pred=None, classes=[0, 1, 2])


def test_proba_rows_within_tolerance_are_accepted():
    ev = build(proba=[[0.5, 0.5004]] * 4, y_pred=None)
    assert ev.proba.shape == (4, 2)


def test_labels_outside_classes():
    with pytest.raises(ValueError, match=r"y_true has 1 labels outside classes 0, 1: 7"):
        build(y_true=[0, 1, 7, 1], classes=[0, 1])
    with pytest.raises(ValueError, match="y_pred has 4 labels outside classes"):
        build(y_pred=["p"] * 4, classes=[0, 1])


def test_duplicate_and_unhashable_ids():
    with pytest.raises(ValueError, match=r"id has 1 duplicated values .*'a'"):
        build(id=["a", "b", "a", "c"])
    with pytest.raises(TypeError, match="id values must be hashable; found list"):
        build(id=[[1], [2], [3], [4]])
    with pytest.raises(ValueError, match="id has 1 missing values"):
        build(id=["a", None, "c", "d"])


def test_empty_data_and_single_class():
    with pytest.raises(ValueError, match="data is empty"):
        build(data=FRAME.iloc[:0], y_true=[], y_pred=[])
    with pytest.raises(ValueError, match="only one class"):
        build(y_true=[1, 1, 1, 1], y_pred=[1, 1, 1, 1])
    with pytest.raises(TypeError, match="data is None"):
        build(data=None)
    with pytest.raises(TypeError, match="data of type int is not supported"):
        build(data=3)


def test_a_lazy_frame_is_pointed_to_the_engines():
    duckdb = pytest.importorskip("duckdb")
    relation = duckdb.sql("SELECT * FROM (VALUES (1, 'a', 'a'), (2, 'b', 'a')) t(id, y, p)")
    with pytest.raises(TypeError, match=r"lazy DuckDBPyRelation .*LazyAnalysis\.from_duckdb"):
        el.Analysis.from_predictions(relation, y_true="y", y_pred="p", id="id")


def test_unknown_column_names():
    with pytest.raises(KeyError, match="y_true='label' is not a column of data; columns are: 'x'"):
        build(y_true="label")
    with pytest.raises(KeyError, match=r"features \['age'\] are not columns of data"):
        build(features=["age"])
    with pytest.raises(KeyError, match=r"proba columns \['p1'\] are not columns"):
        build(proba=["x", "p1"], y_pred=None)


def test_regression_targets_must_be_numeric():
    with pytest.raises(TypeError, match="regression y_true must be numeric"):
        build(y_true=list("abcd"), y_pred=[1.0, 2.0, 3.0, 4.0], task="regression")
    with pytest.raises(ValueError, match="task must be one of"):
        build(task="ranking")
    with pytest.raises(ValueError, match="pass y_pred, proba or both"):
        build(y_pred=None)


def test_estimator_without_predict_proba():
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(TypeError, match="LinearSVC has no predict_proba"):
        el.Analysis.from_estimator(LinearSVC(), X, y, cv=2, features=["a", "b"], progress=False)
    ev = el.Analysis.from_estimator(
        LinearRegression(), X, X[:, 1], cv=2, features=["a", "b"], progress=False
    )
    assert ev.task == "regression"  # regressors need no probabilities


def test_cv_larger_than_smallest_class():
    X = np.arange(20, dtype=float).reshape(10, 2)
    y = [0] * 7 + [1] * 3
    with pytest.raises(ValueError, match="cv=5 is larger than the smallest class: 1 has only 3"):
        el.Analysis.from_estimator(LogisticRegression(), X, y, cv=5, features=["a", "b"])
    with pytest.raises(ValueError, match="cv must be an integer ≥ 2"):
        el.Analysis.from_estimator(LogisticRegression(), X, y, cv=1, features=["a", "b"])
