"""Slice tables: known answers, Wilson bounds, lift, Fisher + Benjamini-Hochberg, and metrics
that agree with scikit-learn segment by segment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import fisher_exact, norm
from sklearn import metrics as skm

import errlens as el
from errlens.slicing.cohort import Cohort


def wilson(k: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Textbook Wilson score interval (independent of errlens.base.stats)."""
    z = norm.ppf(1 - (1 - confidence) / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


@pytest.fixture(scope="module")
def hand() -> el.Analysis:
    # group a: 4 rows, 1 error; group b: 2 rows, 2 errors; group c: 4 rows, 0 errors
    return el.Analysis.from_predictions(
        {"g": list("aaaabbcccc"), "x": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]},
        y_true=[0, 0, 1, 1, 0, 1, 0, 1, 0, 1], y_pred=[0, 1, 1, 1, 1, 0, 0, 1, 0, 1],
    )


def test_known_answers(hand):
    table = hand.slices(["g"])
    assert table[["segment", "n", "errors"]].values.tolist() == [["b", 2, 2], ["a", 4, 1],
                                                                 ["c", 4, 0]]
    assert table["error_rate"].tolist() == [1.0, 0.25, 0.0]
    assert table["lift"].tolist() == pytest.approx([1 / 0.3, 0.25 / 0.3, 0.0])
    assert table["error_share"].tolist() == pytest.approx([2 / 3, 1 / 3, 0.0])
    for _, row in table.iterrows():
        assert (row.ci_low, row.ci_high) == pytest.approx(wilson(row.errors, row.n), abs=1e-12)
    low, high = hand.slices(["g"], confidence=0.8).loc[0, ["ci_low", "ci_high"]]
    assert (low, high) == pytest.approx(wilson(2, 2, 0.8), abs=1e-12)
    assert list(table.columns) == ["feature", "segment", "code", "n", "errors", "error_rate",
                                   "ci_low", "ci_high", "lift", "error_share"]


def test_sorting_min_size_and_cohort(hand):
    # categories come most frequent first (ties in order of appearance)
    assert hand.slices(["g"], sort=None)["segment"].tolist() == ["a", "c", "b"]
    assert hand.slices(["g"], sort="n")["segment"].tolist() == ["a", "c", "b"]
    assert hand.slices(["g"], min_size=3)["segment"].tolist() == ["a", "c"]
    within = hand.slices(["g"], cohort=Cohort.where("x", ">", 2), sort=None)
    assert within[["segment", "n", "errors"]].values.tolist() == [["a", 2, 0], ["c", 4, 0],
                                                                  ["b", 2, 2]]
    assert within["lift"].tolist() == pytest.approx([0.0, 0.0, 4.0])  # cohort error rate 1/4
    empty = hand.slices(cohort=Cohort.where("x", ">", 99))
    assert empty.empty and "error_rate" in empty.columns


def test_fdr_is_one_sided_fisher_then_benjamini_hochberg(adult_ev):
    table = adult_ev.slices(fdr=0.05)
    errors, n = int(adult_ev.is_error.sum()), adult_ev.n
    for _, row in table.sample(8, random_state=0).iterrows():
        grid = [[row.errors, row.n - row.errors],
                [errors - row.errors, n - row.n - (errors - row.errors)]]
        assert row.p_value == pytest.approx(fisher_exact(grid, alternative="greater")[1],
                                            rel=1e-6, abs=1e-300)
    p = table["p_value"].to_numpy()
    order = np.argsort(p)
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    expected = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1)
    assert table["p_adjusted"].to_numpy()[order] == pytest.approx(expected)
    assert (table["significant"] == (table["p_adjusted"] <= 0.05)).all()
    assert table["significant"].any() and not table["significant"].all()
    # a significant segment is worse than the rest
    worst = table[table["significant"]]
    assert (worst["error_rate"] > adult_ev.error_rate).all()


def per_segment(ev, feature):
    seg = ev.segments
    return seg.codes[:, seg.index(feature)], seg.labels[seg.index(feature)]


@pytest.mark.parametrize("feature", ["age", "workclass"])
def test_binary_metrics_agree_with_sklearn(adult_ev, feature):
    codes, labels = per_segment(adult_ev, feature)
    # sklearn on 0/1 codes (its string handling is slow); ">50K" is the positive class
    y, p = adult_ev.y_true_codes, adult_ev.y_pred_codes
    positive = 1
    tables = {m: adult_ev.slices([feature], metric=m, sort=None).set_index("segment")
              for m in ("accuracy", "precision", "recall", "f1", "fpr", "fnr")}
    for code, label in enumerate(labels):
        rows = codes == code
        yt, yp = y[rows], p[rows]
        tn, fp, fn, tp = skm.confusion_matrix(yt, yp, labels=[0, 1]).ravel()
        expected = {
            "accuracy": skm.accuracy_score(yt, yp),
            "precision": skm.precision_score(yt, yp, pos_label=positive, zero_division=np.nan),
            "recall": skm.recall_score(yt, yp, pos_label=positive, zero_division=np.nan),
            "f1": skm.f1_score(yt, yp, pos_label=positive, zero_division=np.nan),
            "fpr": fp / (fp + tn) if fp + tn else np.nan,
            "fnr": fn / (fn + tp) if fn + tp else np.nan,  # fn/(fn+tp), not the peers' fn/(fn+tn)
        }
        for metric, value in expected.items():
            got = tables[metric].loc[label, metric]
            assert got == pytest.approx(value, nan_ok=True), (metric, label)


def test_multiclass_and_regression_metrics_agree_with_sklearn():
    rng = np.random.default_rng(3)
    n = 3000
    frame = pd.DataFrame({"g": rng.choice(list("pqrs"), n), "v": rng.normal(size=n)})
    y = rng.choice(["cat", "dog", "eel"], n)
    pred = np.where(rng.random(n) < 0.3, rng.choice(["cat", "dog", "eel"], n), y)
    ev = el.Analysis.from_predictions(frame, y_true=y, y_pred=pred)
    table = ev.slices(["g"], metric="recall", label="dog", sort=None).set_index("segment")
    f1 = ev.slices(["g"], metric="f1", label="eel", sort=None).set_index("segment")
    for label in "pqrs":
        rows = frame["g"].to_numpy() == label
        assert table.loc[label, "recall"] == pytest.approx(
            skm.recall_score(y[rows], pred[rows], labels=["dog"], average="macro"))
        assert f1.loc[label, "f1"] == pytest.approx(
            skm.f1_score(y[rows], pred[rows], labels=["eel"], average="macro"))
    truth = frame["v"].to_numpy() * 3
    guess = truth + rng.normal(size=n)
    reg = el.Analysis.from_predictions(frame, y_true=truth, y_pred=guess)
    mae = reg.slices(["g"], metric="mae", sort=None).set_index("segment")
    rmse = reg.slices(["g"], metric="rmse", sort=None).set_index("segment")
    for label in "pqrs":
        rows = frame["g"].to_numpy() == label
        assert mae.loc[label, "mae"] == pytest.approx(
            skm.mean_absolute_error(truth[rows], guess[rows]))
        assert rmse.loc[label, "rmse"] == pytest.approx(
            np.sqrt(skm.mean_squared_error(truth[rows], guess[rows])))
        assert mae.loc[label, "mae_delta"] == pytest.approx(
            mae.loc[label, "mae"] - skm.mean_absolute_error(truth, guess))


@pytest.mark.parametrize("kwargs, error, message", [
    ({"features": ["nope"]}, KeyError, "'nope' is not a segmented feature"),
    ({"features": "g"}, TypeError, "must be a list of names"),
    ({"metric": "auc"}, ValueError, "unknown metric 'auc'"),
    ({"metric": "mae"}, ValueError, "'mae' needs a regression"),
    ({"metric": "accuracy", "label": 1}, ValueError, "label= is only used by per-class"),
    ({"metric": "recall", "label": 7}, KeyError, "label 7 is not a class"),
    ({"min_size": -1}, ValueError, "min_size must be a non-negative integer"),
    ({"fdr": 5}, ValueError, "fdr is a false discovery rate"),
    ({"sort": "colour"}, ValueError, "cannot sort by 'colour'"),
    ({"confidence": 1.5}, ValueError, "confidence must be between 0 and 1"),
])
def test_bad_arguments(hand, kwargs, error, message):
    with pytest.raises(error, match=message):
        hand.slices(**kwargs)


def test_per_class_metric_needs_a_label_on_multiclass_and_fpr_needs_binary():
    ev = el.Analysis.from_predictions({"g": list("abc")}, y_true=[0, 1, 2], y_pred=[0, 1, 1])
    with pytest.raises(ValueError, match="pass label= one of"):
        ev.slices(metric="precision")
    with pytest.raises(ValueError, match="'fpr' is defined for binary tasks"):
        ev.slices(metric="fpr")


@settings(max_examples=40, deadline=None)
@given(data=st.lists(st.tuples(st.sampled_from(["a", "b", "c", None]), st.floats(-50, 50),
                               st.booleans()), min_size=2, max_size=80))
def test_counts_sum_to_the_cohort_for_every_feature(data):
    g, x, wrong = zip(*data, strict=True)
    y = np.arange(len(data)) % 2
    pred = np.where(wrong, 1 - y, y)
    if len(set(y) | set(pred)) < 2:
        return
    ev = el.Analysis.from_predictions({"g": list(g), "x": list(x)}, y_true=y, y_pred=pred)
    table = ev.slices(min_size=0)
    for _, part in table.groupby("feature"):
        assert part["n"].sum() == ev.n and part["errors"].sum() == int(ev.is_error.sum())
        if ev.is_error.any():
            assert part["error_share"].sum() == pytest.approx(1.0)
    assert (table.loc[table["errors"] == 0, "ci_low"] == 0).all()
    assert (table.loc[table["errors"] == table["n"], "ci_high"].dropna() == 1).all()
    assert ((table["ci_low"] <= table["error_rate"]) | (table["n"] == 0)).all()
    assert ((table["error_rate"] <= table["ci_high"]) | (table["n"] == 0)).all()
