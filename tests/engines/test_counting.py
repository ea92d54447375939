"""One counting protocol, two backends: numpy in memory and DuckDB give the same counts, and the
shared constructors turn them into frame-equal results; both analyses share one interface."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import errlens as el
from errlens.base.facade import Facade
from errlens.engines import LazyAnalysis, ScaleOutError
from errlens.engines.counting import EngineCounting
from errlens.slicing.counting import Counting, NumpyCounting

from .conftest import FEATURES

COHORTS = [None, el.Cohort.where("age", ">=", 40) & el.Cohort.where("sex", "==", "Female"),
           el.Cohort.confusion_cell(">50K", "<=50K")]


@pytest.fixture(scope="module")
def lazy(adult_parquet: Path) -> LazyAnalysis:
    return LazyAnalysis.from_duckdb(adult_parquet, y_true="income", y_pred="pred", id="id",
                                    features=FEATURES)


@pytest.fixture(scope="module")
def backends(lazy, adult_ev) -> tuple[Counting, Counting]:
    return NumpyCounting(adult_ev, adult_ev.segments), lazy.counting


@pytest.mark.parametrize("cohort", COHORTS)
@pytest.mark.parametrize(("metric", "label"), [("error_rate", None), ("accuracy", None),
                                               ("f1", "<=50K"), ("fnr", None)])
def test_segment_and_cell_counts_are_equal(backends, cohort, metric, label):
    numpy_counts, engine_counts = backends
    names = ["age", "workclass", "capital_gain"]
    for mine, theirs in zip(numpy_counts.segment_counts(names, cohort, metric=metric, label=label),
                            engine_counts.segment_counts(names, cohort, metric=metric,
                                                         label=label), strict=True):
        np.testing.assert_array_equal(mine.n, theirs.n)
        np.testing.assert_array_equal(mine.errors, theirs.errors)
        for field in ("numerator", "denominator"):
            a, b = getattr(mine, field), getattr(theirs, field)
            assert (a is None) == (b is None) == (metric == "error_rate")
            if a is not None:
                np.testing.assert_array_equal(a, b)
    a = numpy_counts.cell_counts("education", "sex", cohort, metric=metric, label=label)
    b = engine_counts.cell_counts("education", "sex", cohort, metric=metric, label=label)
    np.testing.assert_array_equal(a.n, b.n)
    np.testing.assert_array_equal(a.errors, b.errors)


@pytest.mark.parametrize("cohort", COHORTS)
def test_confusion_counts_inside_and_outside_are_equal(backends, cohort, adult_ev):
    (inside, rest), (their_inside, their_rest) = (b.confusion_counts(cohort) for b in backends)
    np.testing.assert_array_equal(inside, their_inside)
    if cohort is None:
        assert rest is None and their_rest is None and inside.sum() == adult_ev.n
    else:
        np.testing.assert_array_equal(rest, their_rest)
        assert inside.sum() + rest.sum() == adult_ev.n


@pytest.mark.parametrize(("metric", "label"), [("accuracy", None), ("f1", ">50K"),
                                               ("fpr", None), ("fnr", None)])
def test_results_are_frame_equal_for_every_classifier_metric(lazy, adult_ev, metric, label):
    cohort = COHORTS[1]
    options = {"metric": metric, "label": label, "cohort": cohort, "confidence": 0.9}
    pd.testing.assert_frame_equal(
        lazy.slices(["age", "occupation"], min_size=30, sort="p_value", fdr=0.1, **options),
        adult_ev.slices(["age", "occupation"], min_size=30, sort="p_value", fdr=0.1, **options))
    got = lazy.heatmap("occupation", "race", **options)
    want = adult_ev.heatmap("occupation", "race", **options)
    pd.testing.assert_frame_equal(got.table, want.table)
    assert got.cohort("Sales", "White") == want.cohort("Sales", "White")


def test_confusion_results_are_equal_for_every_normalisation(lazy, adult_ev):
    for normalize in (None, "true", "pred", "all"):
        got = lazy.confusion(COHORTS[1], normalize=normalize, top=1)
        want = adult_ev.confusion(COHORTS[1], normalize=normalize, top=1)
        pd.testing.assert_frame_equal(got.table, want.table)
        pd.testing.assert_frame_equal(got.top_pairs, want.top_pairs)
        assert got.comparison is not None and want.comparison is not None
        pd.testing.assert_frame_equal(got.comparison, want.comparison)
        assert got.cell_cohort(">50K", "<=50K") == want.cell_cohort(">50K", "<=50K")


def test_both_analyses_share_one_interface_and_say_what_they_cannot_do(lazy, adult_ev):
    assert isinstance(adult_ev, Facade) and isinstance(lazy, Facade)
    assert isinstance(lazy.counting, EngineCounting)
    for operation in ("mask", "frame", "error_tree"):
        assert adult_ev.unavailable(operation) is None and lazy.unavailable(operation)
    for operation in ("mask", "error_tree"):  # lazy.frame is its coded rows, not a method
        with pytest.raises(ScaleOutError) as raised:
            getattr(lazy, operation)()
        assert str(raised.value) == lazy.unavailable(operation)
    assert "48,842 rows" in lazy.unavailable("mask")
    cohort = COHORTS[1]
    with pytest.raises(ScaleOutError, match=r"lazy\.rows"):
        cohort.frame(lazy)
    assert len(cohort.frame(adult_ev)) == int(cohort.mask(adult_ev).sum())


def test_edge_cases_once_drifted_now_agree(lazy, adult_ev):
    # the engine's copy added test columns to an empty table and worded errors differently
    pd.testing.assert_frame_equal(lazy.slices([], fdr=0.05), adult_ev.slices([], fdr=0.05))
    for options in ({"fdr": 2.0}, {"min_size": -1}, {"sort": "nope"}, {"confidence": 1.0}):
        with pytest.raises(ValueError) as engine_error:
            lazy.slices(["sex"], **options)
        with pytest.raises(ValueError) as memory_error:
            adult_ev.slices(["sex"], **options)
        assert str(engine_error.value) == str(memory_error.value)
