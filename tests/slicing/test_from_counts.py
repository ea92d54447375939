"""The result types built from counts alone, with answers worked out by hand.

Both facades build their results through these constructors (numpy counts in memory, engine
counts in DuckDB / Spark), so their validation, statistics, tests and sorting are checked here
once, on counts small enough to verify with a pencil.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import hypergeom
from sklearn.metrics import classification_report

import errlens as el
from errlens.slicing.confusion import ConfusionResult
from errlens.slicing.counting import NumpyCounting
from errlens.slicing.heatmap import HeatmapTable
from errlens.slicing.metrics import GroupCounts
from errlens.slicing.tables import slice_table_from_counts


# ---------------------------------------------------------------- GroupCounts
def test_group_counts_from_confusion_count_rows_errors_and_the_metric():
    # group 0: 3 TN, 1 FP; group 1: 2 FN, 2 TP (class 1 is the positive class)
    cm = np.array([[[3, 1], [0, 0]], [[0, 0], [2, 2]]])
    recall = GroupCounts.from_confusion(cm, "recall", 1)
    assert recall.n.tolist() == [4, 4] and recall.errors.tolist() == [1, 2]
    assert recall.numerator.tolist() == [0, 2] and recall.denominator.tolist() == [0, 4]
    columns = recall.columns("recall")
    assert np.isnan(columns["recall"][0]) and columns["recall"][1] == 0.5
    assert columns["recall_delta"][1] == 0.0  # the whole's recall is 2 / 4 too
    # 3 errors in 8 rows: rates 1/4 and 2/4 are lifts 2/3 and 4/3
    assert columns["lift"].tolist() == pytest.approx([2 / 3, 4 / 3])
    assert columns["error_share"].tolist() == [1 / 3, 2 / 3]
    assert GroupCounts.from_confusion(cm).numerator is None


def test_regression_counts_give_mean_and_root_mean_errors():
    # sums of |error| 6 over 3 rows and 2 over 1 row: mae 2 and 2, whole 8 / 4 = 2
    mae = GroupCounts(np.array([3, 1]), np.array([1, 0]), np.array([6.0, 2.0]), np.array([3, 1]))
    assert mae.columns("mae")["mae"].tolist() == [2.0, 2.0]
    assert mae.columns("mae")["mae_delta"].tolist() == [0.0, 0.0]
    # sums of error² 12 over 3 rows and 4 over 1 row: rmse 2 and 2
    rmse = GroupCounts(np.array([3, 1]), np.array([1, 0]), np.array([12.0, 4.0]), np.array([3, 1]))
    assert rmse.columns("rmse")["rmse"].tolist() == [2.0, 2.0]


def test_counts_without_the_metric_say_how_to_count_it():
    counts = GroupCounts(np.array([2]), np.array([1]))
    with pytest.raises(ValueError, match="count them with metric='recall'"):
        counts.columns("recall")
    with pytest.raises(ValueError, match="confidence must be between 0 and 1"):
        counts.columns(confidence=1.5)


# ---------------------------------------------------------------- slice tables
def test_slice_table_from_counts_has_known_lift_interval_tests_and_order():
    # 10 rows, 4 errors; feature "x" splits them 6 (1 error) / 4 (3 errors)
    x = GroupCounts(np.array([6, 4]), np.array([1, 3]))
    y = GroupCounts(np.array([5, 5, 0]), np.array([2, 2, 0]))
    table = slice_table_from_counts(["x", "y"], [["lo", "hi"], ["a", "b", "(missing)"]], [x, y],
                                    fdr=0.05, min_size=1)
    assert table[["feature", "segment", "code", "n", "errors"]].values.tolist() == [
        ["x", "hi", 1, 4, 3], ["y", "a", 0, 5, 2], ["y", "b", 1, 5, 2], ["x", "lo", 0, 6, 1]]
    assert table["lift"].tolist() == [1.875, 1.0, 1.0, 1 / 6 / 0.4]
    assert table["error_share"].tolist() == [0.75, 0.5, 0.5, 0.25]
    # one-sided Fisher: P(X >= 3) for 4 rows drawn from 10 holding 4 errors = 25 / 210
    assert table["p_value"].iloc[0] == pytest.approx(25 / 210)
    assert table["p_value"].tolist() == pytest.approx(
        hypergeom.sf(table["errors"] - 1, 10, 4, table["n"]).tolist())
    # Benjamini-Hochberg over 4 tests: the smallest p times 4
    assert table["p_adjusted"].iloc[0] == pytest.approx(25 / 210 * 4)
    assert not table["significant"].any()
    # Wilson interval of 3 / 4 at 95 %
    z = 1.959963984540054
    centre, half = (0.75 + z * z / 8) / (1 + z * z / 4), z / (1 + z * z / 4) * np.sqrt(
        0.75 * 0.25 / 4 + z * z / 64)
    assert table.loc[0, ["ci_low", "ci_high"]].tolist() == pytest.approx(
        [centre - half, centre + half])
    assert list(table.columns[:10]) == ["feature", "segment", "code", "n", "errors",
                                        "error_rate", "ci_low", "ci_high", "lift", "error_share"]


def test_slice_table_from_counts_drops_small_segments_and_sorts_as_asked():
    x = GroupCounts(np.array([6, 4, 0]), np.array([1, 3, 0]))
    table = slice_table_from_counts(["x"], [["lo", "hi", "(missing)"]], [x], min_size=5,
                                    sort="segment")
    assert table["segment"].tolist() == ["lo"]
    assert slice_table_from_counts(["x"], [["lo", "hi", "(missing)"]], [x],
                                   sort="n")["segment"].tolist() == ["lo", "hi"]
    every = slice_table_from_counts(["x"], [["lo", "hi", "(missing)"]], [x], min_size=0)
    assert every["segment"].tolist() == ["hi", "lo", "(missing)"]  # NaN lift last
    assert slice_table_from_counts([], [], []).columns.tolist()[:4] == [
        "feature", "segment", "code", "n"]


@pytest.mark.parametrize(("options", "message"), [
    ({"min_size": -1}, "min_size must be a non-negative integer"),
    ({"fdr": 2.0}, "fdr is a false discovery rate"),
    ({"sort": "nope"}, "cannot sort by 'nope'"),
])
def test_slice_table_from_counts_refuses_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        slice_table_from_counts(["x"], [["a", "b"]], [GroupCounts(np.array([1, 1]),
                                                                  np.array([0, 1]))], **options)


def test_slice_table_from_counts_refuses_counts_that_do_not_match_the_labels():
    with pytest.raises(ValueError, match="'x' has 3 segments but 2 counts"):
        slice_table_from_counts(["x"], [["a", "b", "c"]],
                                [GroupCounts(np.array([1, 1]), np.array([0, 1]))])
    with pytest.raises(ValueError, match="same length, got 2, 1 and 1"):
        slice_table_from_counts(["x", "y"], [["a"]], [GroupCounts(np.array([1]), np.array([0]))])


# ---------------------------------------------------------------- heatmaps
def test_heatmap_from_counts_lays_cells_out_row_major():
    # cells (x, u) (x, v) (y, u) (y, v): rows 4 2 0 4, errors 1 2 0 1
    counts = GroupCounts(np.array([4, 2, 0, 4]), np.array([1, 2, 0, 1]))
    heat = HeatmapTable.from_counts("a", "b", ["x", "y"], ["u", "v"], counts, bins=5, top_k=10)
    assert heat.pivot("n").values.tolist() == [[4, 2], [0, 4]]
    rates = heat.pivot("error_rate").to_numpy()
    assert rates[0].tolist() == [0.25, 1.0] and np.isnan(rates[1, 0]) and rates[1, 1] == 0.25
    assert heat.pivot("lift").loc["x", "v"] == 1.0 / 0.4
    assert heat.cohort("x", "v").describe() == "a = x and b = v"
    with pytest.raises(ValueError, match="2 x 2 segments make 4 cells, but the counts have 3"):
        HeatmapTable.from_counts("a", "b", ["x", "y"], ["u", "v"],
                                 GroupCounts(np.array([1, 1, 1]), np.array([0, 0, 0])),
                                 bins=5, top_k=10)
    with pytest.raises(ValueError, match="two different features"):
        HeatmapTable.from_counts("a", "a", ["x"], ["x"], GroupCounts(np.array([1]),
                                                                     np.array([0])),
                                 bins=5, top_k=10)


# ---------------------------------------------------------------- confusion results
def test_confusion_from_counts_matches_scikit_learn_and_compares_with_the_rest():
    cm = np.array([[5, 1], [3, 1]])  # rows: true no / yes; columns: predicted no / yes
    rest = np.array([[2, 0], [0, 2]])
    result = ConfusionResult.from_counts(cm, ["no", "yes"], rest=rest, normalize="true", top=5)
    y_true = ["no"] * 6 + ["yes"] * 4
    y_pred = ["no"] * 5 + ["yes"] + ["no"] * 3 + ["yes"]
    report = classification_report(y_true, y_pred, output_dict=True, zero_division=np.nan)
    for label in ("no", "yes"):
        assert result.report.loc[label, "precision"] == report[label]["precision"]
        assert result.report.loc[label, "recall"] == report[label]["recall"]
        assert result.report.loc[label, "f1"] == pytest.approx(report[label]["f1-score"])
    assert result.accuracy == 0.6
    assert result.table.values.tolist() == [[5 / 6, 1 / 6], [0.75, 0.25]]
    assert result.top_pairs.values.tolist() == [["yes", "no", 3, 0.75, 0.75],
                                                ["no", "yes", 1, 0.25, 1 / 6]]
    assert result.comparison is not None
    assert result.comparison["recall_rest"].tolist() == [1.0, 1.0]
    assert list(result.comparison.columns[:2]) == ["precision_slice", "recall_slice"]
    nothing_else = ConfusionResult.from_counts(cm, ["no", "yes"], rest=np.zeros((2, 2), int))
    assert nothing_else.comparison is None and nothing_else.normalize is None


def test_confusion_from_counts_refuses_bad_shapes_and_normalisations():
    with pytest.raises(ValueError, match="cm must be 3 x 3 for 3 classes, got shape \\(2, 2\\)"):
        ConfusionResult.from_counts(np.eye(2, dtype=int), ["a", "b", "c"])
    with pytest.raises(ValueError, match="normalize must be one of"):
        ConfusionResult.from_counts(np.eye(2, dtype=int), ["a", "b"], normalize="rows")


# ---------------------------------------------------------------- the in-memory path
def test_the_in_memory_functions_are_the_constructors_over_numpy_counts(adult_ev):
    cohort = el.Cohort.where("age", ">=", 40)
    counting = NumpyCounting(adult_ev, adult_ev.segments)
    names = ["sex", "education"]
    counts = counting.segment_counts(names, cohort, metric="recall", label=">50K")
    labels = [adult_ev.segments.labels[adult_ev.segments.index(f)] for f in names]
    pd.testing.assert_frame_equal(
        slice_table_from_counts(names, labels, counts, metric="recall", fdr=0.05),
        adult_ev.slices(names, cohort=cohort, metric="recall", label=">50K", fdr=0.05))
    cm, rest = counting.confusion_counts(cohort)
    assert cm.sum() + rest.sum() == adult_ev.n
    want = adult_ev.confusion(cohort)
    pd.testing.assert_frame_equal(ConfusionResult.from_counts(cm, adult_ev.classes,
                                                              rest=rest).counts, want.counts)
