"""Analysis built from predictions and from estimators, on real and hand-built data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

import errlens as el


def test_binary_from_predictions_counts_errors_and_keeps_ids():
    data = pd.DataFrame({"id": ["a", "b", "c", "d"], "age": [20, 30, 40, 50]})
    ev = el.Analysis.from_predictions(
        data, y_true=["yes", "no", "yes", "no"], y_pred=["yes", "yes", "no", "no"], id="id"
    )
    assert ev.task == "binary"
    assert ev.classes == ["no", "yes"]
    assert list(ev.ids) == ["a", "b", "c", "d"]
    assert list(ev.features.columns) == ["age"]  # id is not a feature
    assert ev.is_error.tolist() == [False, True, True, False]
    assert ev.y_true.loc["c"] == "yes"
    s = ev.summary()
    assert (s["rows"], s["errors"], s["error_rate"]) == (4, 2, 0.5)
    assert [c["errors"] for c in s["classes"]] == [1, 1]
    assert [c["predicted"] for c in s["classes"]] == [2, 2]


def test_y_pred_is_derived_from_proba_in_class_order():
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3]])
    ev = el.Analysis.from_predictions(
        {"x": [1, 2, 3]}, y_true=["cat", "dog", "dog"], proba=proba, classes=["cat", "dog", "eel"]
    )
    assert ev.task == "multiclass"
    assert ev.y_pred.tolist() == ["cat", "eel", "dog"]
    assert ev.error_rate == pytest.approx(1 / 3)
    assert ev.proba_source == "given"


def test_columns_as_names_including_proba_columns():
    frame = pd.DataFrame(
        {"f": [1.0, 2.0], "label": [0, 1], "p0": [0.8, 0.4], "p1": [0.2, 0.6], "pred": [0, 1]}
    )
    ev = el.Analysis.from_predictions(frame, y_true="label", y_pred="pred", proba=["p0", "p1"])
    assert list(ev.features.columns) == ["f"]
    assert ev.error_rate == 0.0


@pytest.mark.parametrize("convert", [pl.from_pandas, pa.Table.from_pandas])
def test_polars_and_pyarrow_inputs_match_pandas(convert):
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "g": ["a", "b", None], "y": [0, 1, 1]})
    expected = el.Analysis.from_predictions(frame, y_true="y", y_pred=[0, 0, 1])
    ev = el.Analysis.from_predictions(convert(frame), y_true="y", y_pred=[0, 0, 1])
    assert ev.is_error.tolist() == expected.is_error.tolist()
    assert ev.features["g"].isna().tolist() == [False, False, True]


def test_numpy_features_with_names():
    X = np.arange(6, dtype=float).reshape(3, 2)
    ev = el.Analysis.from_predictions(X, y_true=[0, 1, 0], y_pred=[0, 1, 1], features=["a", "b"])
    assert list(ev.features.columns) == ["a", "b"]


def test_regression_error_is_absolute_residual_with_threshold():
    ev = el.Analysis.from_predictions(
        {"x": [1, 2, 3, 4]}, y_true=[1.0, 2.0, 3.0, 4.5], y_pred=[1.5, 2.0, 1.0, 4.0],
        error_threshold=0.6,
    )
    assert ev.task == "regression"
    np.testing.assert_allclose(ev.error, [0.5, 0.0, 2.0, 0.5])
    assert ev.is_error.tolist() == [False, False, True, False]
    default = el.Analysis.from_predictions(
        {"x": [1, 2, 3, 4]}, y_true=[1.0, 2.0, 3.0, 4.5], y_pred=[1.5, 2.0, 1.0, 4.0]
    )
    assert default.error_threshold == pytest.approx(0.75)  # the mean absolute error
    assert default.summary()["mae"] == pytest.approx(0.75)


def test_mask_accepts_bool_arrays_id_lists_and_cohort_objects():
    ev = el.Analysis.from_predictions({"x": [1, 2, 3]}, y_true=[0, 1, 1], y_pred=[0, 0, 1],
                                      id=["a", "b", "c"])

    class Errors:
        def mask(self, analysis):
            return analysis.is_error

    assert ev.mask().all()
    assert ev.mask(["c", "a"]).tolist() == [True, False, True]
    assert ev.mask(Errors()).tolist() == [False, True, False]
    assert ev.mask(pd.Series([True, False], index=["b", "z"])).tolist() == [False, True, False]
    assert ev.frame(Errors()).index.tolist() == ["b"]
    with pytest.raises(KeyError, match="unknown sample ids"):
        ev.mask(["nope"])
    with pytest.raises(ValueError, match="shape"):
        ev.mask(np.array([True, False]))


def test_adult_from_predictions_matches_sklearn_accuracy(adult):
    X = adult.drop(columns=["id", "income", "split"]).head(3000)
    y = adult["income"].head(3000)
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", max_iter=30)
    proba = cross_val_predict(model, X, y, cv=StratifiedKFold(3), method="predict_proba")
    ev = el.Analysis.from_predictions(
        adult.head(3000), y_true="income", proba=proba, id="id", proba_out_of_fold=True,
        features=list(X.columns),
    )
    expected_pred = np.array(sorted(y.unique()))[proba.argmax(axis=1)]
    assert ev.error_rate == pytest.approx(float((expected_pred != y.to_numpy()).mean()))
    assert 0.08 < ev.error_rate < 0.2  # a real model on real data, not a degenerate one
    assert ev.proba_source == "out_of_fold"
    assert ev.features["workclass"].isna().sum() == adult.head(3000)["workclass"].isna().sum()


def test_from_estimator_is_out_of_fold_and_reproducible(adult):
    sample = adult.sample(3000, random_state=1)
    X = sample[["age", "education_num", "hours_per_week", "capital_gain"]]
    ev = el.Analysis.from_estimator(
        LogisticRegression(max_iter=1000), X, sample["income"], cv=4, id=sample["id"],
        progress=False,
    )
    again = el.Analysis.from_estimator(
        LogisticRegression(max_iter=1000), X, sample["income"], cv=4, id=sample["id"],
        progress=False,
    )
    np.testing.assert_array_equal(ev.proba, again.proba)
    np.testing.assert_allclose(ev.proba.sum(axis=1), 1.0)
    in_sample = LogisticRegression(max_iter=1000).fit(X, sample["income"]).predict_proba(X)
    assert not np.allclose(ev.proba, in_sample)  # held-out predictions differ from in-sample
    assert ev.classes == ["<=50K", ">50K"]
    assert list(ev.ids[:3]) == sample["id"].tolist()[:3]


def test_from_estimator_with_label_column_name_and_regression(adult):
    sample = adult.sample(2000, random_state=2)[["age", "education_num", "hours_per_week"]]
    ev = el.Analysis.from_estimator(
        HistGradientBoostingRegressor(max_iter=30), sample, "hours_per_week", cv=3, progress=False
    )
    assert ev.task == "regression"
    assert list(ev.features.columns) == ["age", "education_num"]
    assert ev.error_threshold == pytest.approx(ev.error.mean())


def test_progress_bar_counts_folds(capsys):
    X = np.random.default_rng(0).normal(size=(60, 2))
    y = (X[:, 0] > 0).astype(int)
    el.Analysis.from_estimator(LogisticRegression(), X, y, cv=3, features=["a", "b"])
    assert "3/3" in capsys.readouterr().err


def test_repr_names_task_rows_and_error_rate():
    ev = el.Analysis.from_predictions({"x": [1, 2]}, y_true=[0, 1], y_pred=[0, 0])
    assert repr(ev).startswith("<Analysis binary: 2 rows × 1 features, error rate 50.00%")
