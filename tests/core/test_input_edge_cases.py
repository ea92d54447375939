"""Inputs a demanding user will try: labels that print alike, categories named like the
segments errlens adds, a predicted class the labels lack, labels of a narrow dtype, mixed-type
values, and names given as one string. Each gives the right answer or a clear error."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import errlens as el


def test_values_that_print_alike_get_distinct_segments() -> None:
    ev = el.Analysis.from_predictions({"v": [0.3, 0.3, 0.3, 0.1 + 0.2]}, y_true=[0, 1, 1, 1],
                                      y_pred=[0] * 4)
    table = ev.slices(sort=None)
    assert table["n"].tolist() == [3, 1] and table["segment"].nunique() == 2
    assert ev.segments.cohort("v", 1).mask(ev).tolist() == [False, False, False, True]


def test_categories_named_like_added_segments_are_quoted() -> None:
    s = ["(missing)", "a", "b", None, "a", "(missing)", "other", "c"]
    ev = el.Analysis.from_predictions({"s": s, "g": ["x", "y"] * 4},
                                      y_true=[0, 1, 0, 1, 1, 1, 0, 0], y_pred=[0] * 8)
    labels = ev.segments.labels[ev.segments.index("s")]
    assert labels == ["'(missing)'", "a", "b", "c", "'other'", "(missing)"]
    literal = ev.segments.cohort("s", labels.index("'(missing)'")).mask(ev)
    assert literal.tolist() == [x == "(missing)" for x in s]
    assert ev.heatmap("s", "g").pivot().shape == (6, 2)  # one row per segment
    few = el.Analysis.from_predictions({"s": s}, y_true=[0, 1] * 4, y_pred=[0] * 8)
    assert few.slices(["s"], sort=None)["segment"].is_unique


def test_a_predicted_class_the_labels_lack_makes_it_multiclass() -> None:
    kwargs = {"y_true": ["no", "yes", "yes", "no", "yes", "no"],
              "y_pred": ["no", "yes", "maybe", "no", "no", "no"]}
    ev = el.Analysis.from_predictions({"g": ["u"] * 6}, **kwargs)
    assert (ev.task, ev.classes) == ("multiclass", ["maybe", "no", "yes"])
    with pytest.raises(ValueError, match="task='binary' but there are 3 classes"):
        el.Analysis.from_predictions({"g": ["u"] * 6}, task="binary", **kwargs)
    with pytest.warns(UserWarning, match="share no label"):
        el.Analysis.from_predictions({"g": [1] * 4}, y_true=["0", "1", "0", "1"],
                                     y_pred=[0, 1, 0, 1])


def test_labels_shared_with_uneven_counts_raise_no_warning() -> None:
    # y_true holds 0 once and 1 twice, y_pred 0 twice: the counts (1, 2) and (2, 0) share no
    # bit, but the labels share class 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ev = el.Analysis.from_predictions({"x": [1, 2, 3]}, y_true=[0, 1, 1], y_pred=[0, 0, 1])
    assert ev.error_rate == pytest.approx(1 / 3)


def test_predictions_from_probabilities_keep_every_class() -> None:
    proba = np.array([[.1, .2, .7], [.6, .3, .1], [.2, .2, .6], [.1, .8, .1]])
    categorical = pd.Series(pd.Categorical(list("abab")))
    ev = el.Analysis.from_predictions({"x": range(4)}, y_true=categorical, proba=proba,
                                      classes=["a", "b", "c"])
    assert ev.y_pred.tolist() == ["c", "a", "c", "b"]
    narrow = pd.Series([0, 1, 0, 1], dtype="int8")
    ev = el.Analysis.from_predictions({"x": range(4)}, y_true=narrow, proba=proba,
                                      classes=[0, 1, 300])
    assert ev.y_pred.tolist() == [300, 0, 300, 1]


def test_mixed_type_values_stay_what_they_are() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ev = el.Analysis.from_predictions({"x": range(4)}, y_true=[1, "a", 1, "a"],
                                          y_pred=[1, 1, "a", "a"], task="binary",
                                          id=[1, "1", 2, "2"])
    assert ev.classes == [1, "a"] and list(ev.ids) == [1, "1", 2, "2"]
    assert ev.confusion().table.loc[1, "a"] == 1
    pairs = el.Analysis.from_predictions({"x": range(2)}, y_true=[0, 1], y_pred=[0, 0],
                                         id=[("a", 1), ("a", 2)])
    assert list(pairs.ids) == [("a", 1), ("a", 2)]


def test_names_given_as_one_string_or_twice_are_refused() -> None:
    ev = el.Analysis.from_predictions({"age": [20, 30, 40, 50]}, y_true=[0, 1, 0, 1],
                                      y_pred=[0, 0, 0, 1])
    for call in (lambda: el.Analysis.from_predictions({"age": [1, 2]}, y_true=[0, 1],
                                                      y_pred=[0, 0], features="age"),
                 lambda: ev.error_tree(features="age"), lambda: ev.slices(["age", "age"]),
                 lambda: ev.mask("adult-00017")):
        with pytest.raises((TypeError, ValueError), match=r"string|more than once"):
            call()


def test_an_estimator_with_a_class_list_missing_labels_fails_before_fitting() -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(60, 3)), columns=list("abc"))
    y = np.array(["z", "a", "m"])[(X.a > 0).astype(int) + (X.b > .5).astype(int)]

    class Counting(LogisticRegression):
        fits = 0

        def fit(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            Counting.fits += 1
            return super().fit(*args, **kwargs)

    with pytest.raises(ValueError, match="labels outside classes 'z', 'm': 'a'"):
        el.Analysis.from_estimator(Counting(), X, y, cv=3, progress=False, classes=["z", "m"])
    assert Counting.fits == 0


def test_regression_refuses_infinities_and_bad_thresholds() -> None:
    base = {"data": {"x": [1, 2, 3, 4]}, "y_true": [0.5, 1, 2, 3], "task": "regression"}
    with pytest.raises(ValueError, match=r"y_pred has 1 infinite values \(rows \[1\]\)"):
        el.Analysis.from_predictions(**base, y_pred=[0, np.inf, 2, 3])
    for threshold in (float("nan"), -1.0, float("inf")):
        with pytest.raises(ValueError, match="error_threshold must be a finite number"):
            el.Analysis.from_predictions(**base, y_pred=[0, 1, 2, 3], error_threshold=threshold)


def test_frame_keeps_features_named_like_its_own_columns() -> None:
    ev = el.Analysis.from_predictions({"y_true": [1, 2], "error": [3, 4]}, y_true=[0, 1],
                                      y_pred=[0, 0])
    frame = ev.frame()
    assert frame["y_true"].tolist() == [1, 2] and frame["error"].tolist() == [3, 4]
    assert frame["errlens_y_true"].tolist() == [0, 1]
    assert frame["errlens_error"].tolist() == [False, True]


def test_dates_with_a_time_zone_are_segmented_on_its_own_clock() -> None:
    stamps = pd.Series(pd.date_range("2020-01-01", periods=12, freq="MS", tz="Europe/Paris"))
    ev = el.Analysis.from_predictions({"d": stamps}, y_true=[0, 1] * 6, y_pred=[0] * 12)
    assert ev.segments.labels[0] == ["2020Q1", "2020Q2", "2020Q3", "2020Q4"]
    table = ev.slices(["d"], sort=None)
    for code, n in enumerate(table["n"]):
        assert ev.segments.cohort("d", code).mask(ev).sum() == n == 3
