"""Heatmaps (cells, pivot, cohorts, figure) and confusion tables (vs scikit-learn)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

import errlens as el
from errlens.slicing.cohort import Cohort
from errlens.slicing.heatmap import heatmap_figure


@pytest.fixture(scope="module")
def hand() -> el.Analysis:
    return el.Analysis.from_predictions(
        {"a": ["x", "x", "x", "y", "y", "y"], "b": ["u", "v", "v", "u", "u", "u"]},
        y_true=[0, 1, 1, 0, 1, 0], y_pred=[1, 1, 0, 0, 0, 0],
    )


def test_heatmap_known_cells(hand):
    heat = hand.heatmap("a", "b")
    assert heat.pivot("n").values.tolist() == [[1, 2], [3, 0]]
    assert heat.pivot("errors").values.tolist() == [[1, 1], [1, 0]]
    rates = heat.pivot()  # the metric: error rate
    assert rates.loc["x", "u"] == 1.0 and rates.loc["x", "v"] == 0.5
    assert rates.loc["y", "u"] == pytest.approx(1 / 3) and np.isnan(rates.loc["y", "v"])
    assert list(rates.index) == ["x", "y"] and list(rates.columns) == ["u", "v"]
    table = heat.table.set_index(["a", "b"])
    assert table.loc[("x", "v"), "lift"] == pytest.approx(0.5 / 0.5)
    assert table.loc[("y", "u"), "error_share"] == pytest.approx(1 / 3)
    assert np.isnan(table.loc[("y", "v"), "ci_low"])


def test_heatmap_cells_are_cohorts_and_margins_are_slices(adult_ev):
    heat = adult_ev.heatmap("age", "workclass")
    sizes = heat.pivot("n")
    assert sizes.to_numpy().sum() == adult_ev.n
    by_age = adult_ev.slices(["age"], sort=None).set_index("segment")
    assert (sizes.sum(axis=1) == by_age["n"]).all()
    assert (heat.pivot("errors").sum(axis=1) == by_age["errors"]).all()
    label_a = heat.labels_a[2]
    cell = heat.cohort(label_a, "(missing)")
    assert cell.mask(adult_ev).sum() == sizes.loc[label_a, "(missing)"]
    assert cell.describe() == f"age in {label_a} and workclass is missing"
    with pytest.raises(KeyError, match="has no segment 'nope'"):
        heat.cohort("nope", "Private")


def test_heatmap_in_a_cohort_with_another_metric(adult_ev):
    women = Cohort.where("sex", "==", "Female")
    heat = adult_ev.heatmap("race", "relationship", cohort=women, metric="recall")
    assert heat.pivot("n").to_numpy().sum() == int((adult_ev.features.sex == "Female").sum())
    assert "recall" in heat.table.columns and heat.pivot().equals(heat.pivot("recall"))
    label_a, label_b = heat.labels_a[0], heat.labels_b[1]
    rows = heat.cohort(label_a, label_b).mask(adult_ev)
    assert rows.sum() == heat.pivot("n").loc[label_a, label_b]
    assert not (rows & ~women.mask(adult_ev)).any()
    expected = skm.recall_score(adult_ev.y_true_codes[rows], adult_ev.y_pred_codes[rows])
    assert heat.pivot("recall").loc[label_a, label_b] == pytest.approx(expected)


def test_heatmap_figure_and_bad_input(hand):
    heat = hand.heatmap("a", "b")
    figure = heatmap_figure(heat)
    trace = figure.data[0]
    assert trace.type == "heatmap" and list(trace.x) == ["u", "v"] and list(trace.y) == ["x", "y"]
    assert np.allclose(np.asarray(trace.z, dtype=float), heat.pivot().to_numpy(), equal_nan=True)
    assert "rows 3" in trace.text[1][0] and trace.text[1][1] == "no rows"
    json.loads(figure.to_json())
    with pytest.raises(ValueError, match="two different features"):
        hand.heatmap("a", "a")
    with pytest.raises(KeyError, match="'c' is not a segmented feature"):
        hand.heatmap("a", "c")
    with pytest.raises(KeyError, match="no column 'colour'"):
        heat.pivot("colour")


def test_confusion_agrees_with_sklearn(adult_ev):
    result = adult_ev.confusion()
    y, p = adult_ev.y_true.to_numpy(), adult_ev.y_pred.to_numpy()
    classes = adult_ev.classes
    assert np.array_equal(result.counts.to_numpy(), skm.confusion_matrix(y, p, labels=classes))
    assert list(result.counts.index) == classes and result.counts.index.name == "true"
    for how in ("true", "pred", "all"):
        assert np.allclose(result.normalized(how).to_numpy(),
                           skm.confusion_matrix(y, p, labels=classes, normalize=how))
    report = skm.classification_report(y, p, labels=classes, output_dict=True, zero_division=0)
    for label in classes:
        for column, key in (("precision", "precision"), ("recall", "recall"),
                            ("f1", "f1-score"), ("support", "support")):
            assert result.report.loc[label, column] == pytest.approx(report[label][key])
    assert result.accuracy == pytest.approx(skm.accuracy_score(y, p))
    assert result.comparison is None and result.table.equals(result.counts)


def test_confusion_of_a_cohort_and_its_rest(adult_ev):
    cohort = Cohort.segment("relationship", "Husband")
    result = adult_ev.confusion(cohort, normalize="true")
    rows = cohort.mask(adult_ev)
    y, p = adult_ev.y_true.to_numpy(), adult_ev.y_pred.to_numpy()
    assert np.array_equal(result.counts.to_numpy(),
                          skm.confusion_matrix(y[rows], p[rows], labels=adult_ev.classes))
    assert result.table.equals(result.normalized("true"))
    rest = result.comparison
    expected = skm.recall_score(y[~rows], p[~rows], pos_label=">50K")
    assert rest.loc[">50K", "recall_rest"] == pytest.approx(expected)
    assert rest.loc[">50K", "recall_slice"] == pytest.approx(
        skm.recall_score(y[rows], p[rows], pos_label=">50K"))
    assert (rest["support_slice"] + rest["support_rest"]).sum() == adult_ev.n
    cell = result.cell_cohort(">50K", "<=50K")
    assert cell.mask(adult_ev).sum() == result.counts.loc[">50K", "<=50K"]
    assert cell.describe() == "relationship = Husband and true = >50K and predicted = <=50K"
    pairs = result.top_pairs
    assert pairs["n"].sum() == int((y[rows] != p[rows]).sum())
    assert pairs.iloc[0]["n"] == pairs["n"].max()


def test_multiclass_confusion_top_pairs_and_zero_divisions():
    y = ["a", "a", "b", "b", "c", "c", "c"]
    p = ["a", "b", "b", "a", "b", "b", "a"]
    ev = el.Analysis.from_predictions({"x": range(7)}, y_true=y, y_pred=p, classes=["a", "b",
                                                                                    "c", "d"])
    result = ev.confusion()
    assert result.top_pairs[["true", "predicted", "n"]].values.tolist()[0] == ["c", "b", 2]
    assert result.top_pairs["n"].sum() == 5
    report = result.report
    assert np.isnan(report.loc["c", "precision"]) and report.loc["c", "recall"] == 0
    assert np.isnan(report.loc["d", "recall"]) and report.loc["d", "support"] == 0
    sk = skm.precision_recall_fscore_support(y, p, labels=["a", "b", "c", "d"],
                                             zero_division=np.nan)
    assert np.allclose(report[["precision", "recall", "f1"]].to_numpy().T, np.array(sk[:3]),
                       equal_nan=True)
    assert np.isnan(result.normalized("true").loc["d"]).all()
    with pytest.raises(KeyError, match="'z' is not a class"):
        result.cell_cohort("z", "a")
    with pytest.raises(ValueError, match="normalize must be one of"):
        ev.confusion(normalize="rows")


def test_confusion_needs_a_classifier_and_handles_empty_cohorts():
    reg = el.Analysis.from_predictions({"x": [1.0, 2.0, 3.0]}, y_true=[1.5, 2.0, 0.1],
                                       y_pred=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="need a classifier"):
        reg.confusion()
    ev = el.Analysis.from_predictions({"x": [1, 2]}, y_true=[0, 1], y_pred=[0, 0])
    empty = ev.confusion(Cohort.where("x", ">", 5))
    assert empty.counts.to_numpy().sum() == 0 and np.isnan(empty.accuracy)
    assert empty.top_pairs.empty
    mask_based = ev.confusion(np.array([False, True]))
    assert mask_based.cell_cohort(1, 0).mask(ev).tolist() == [False, True]
    assert isinstance(pd.DataFrame(mask_based.report), pd.DataFrame)


def test_heatmap_of_an_empty_cohort_has_only_empty_cells(hand):
    heat = hand.heatmap("a", "b", cohort=Cohort.where("a", "==", "zzz"))
    assert heat.pivot("n").to_numpy().sum() == 0 and heat.pivot().isna().all().all()
    assert heatmap_figure(heat).data[0].text[0][0] == "no rows"
