"""Agreement with the ``sliceline`` package (the reference SliceLine port) on UCI Adult."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.tree import DecisionTreeClassifier

import errlens as el
from errlens.slicing.discovery.search import find_slices

sliceline = pytest.importorskip("sliceline.slicefinder")


@pytest.fixture(scope="module")
def adult_analysis(adult: pd.DataFrame) -> el.Analysis:
    features = [c for c in adult.columns if c not in ("id", "income", "split")]
    numeric = adult[["age", "education_num", "hours_per_week", "capital_gain"]]
    train = (adult["split"] == "train").to_numpy()
    model = DecisionTreeClassifier(max_depth=4, random_state=0)
    model.fit(numeric[train], adult["income"][train])
    return el.Analysis.from_predictions(
        adult, y_true="income", y_pred=model.predict(numeric), id="id", features=features
    )


def run_sliceline(codes, errors, *, k, max_level, support, alpha):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "numba not available"
        finder = sliceline.Slicefinder(alpha=alpha, k=k, max_l=max_level, min_sup=support,
                                       verbose=False)
        finder.fit(codes.astype(np.int64), errors)
    return [
        (tuple((j, int(v)) for j, v in enumerate(row) if v is not None),
         int(stats["slice_size"]), stats["sum_slice_error"], stats["slice_score"])
        for row, stats in zip(finder.top_slices_, finder.top_slices_statistics_, strict=True)
    ]


def assert_same_top_k(ours, theirs, k):
    """Same scores rank by rank and the same slices at every score; sliceline also returns every
    slice tied with the k-th, and orders ties differently, so compare ties as sets."""
    assert len(ours) == min(k, len(theirs))
    np.testing.assert_allclose([s.score for s in ours], [t[3] for t in theirs[: len(ours)]],
                               rtol=1e-12)
    mine = {(s.predicates, s.size, s.errors) for s in ours}
    last = ours[-1].score
    full = {t[:3] for t in theirs if t[3] > last + 1e-12}
    tied = {t[:3] for t in theirs if abs(t[3] - last) <= 1e-12}
    assert full <= mine and mine - full <= tied


@pytest.mark.parametrize(
    ("max_level", "support", "alpha", "k"),
    [
        (2, 10, 0.95, 10),
        pytest.param(2, 100, 0.8, 20, marks=pytest.mark.slow),
        pytest.param(3, 2_000, 0.9, 10, marks=pytest.mark.slow),
    ],
)
def test_same_top_k_as_sliceline_on_adult(adult_analysis, max_level, support, alpha, k):
    segments = adult_analysis.segments
    errors = adult_analysis.error
    ours = find_slices(segments.codes, errors, k=k, max_level=max_level, min_support=support,
                       alpha=alpha).slices
    theirs = run_sliceline(segments.codes, errors, k=k, max_level=max_level, support=support,
                           alpha=alpha)
    assert len(ours) == k
    assert_same_top_k(ours, theirs, k)


def test_discover_reports_the_sliceline_slices(adult_analysis):
    found = adult_analysis.discover(k=5, max_level=2, min_support=100, alpha=0.8)
    theirs = run_sliceline(adult_analysis.segments.codes, adult_analysis.error, k=5,
                           max_level=2, support=100, alpha=0.8)
    assert len(found) == 5
    np.testing.assert_allclose(found.to_frame()["score"], [t[3] for t in theirs[:5]])
    for i in range(5):
        assert adult_analysis.mask(found.cohort(i)).sum() == found.to_frame()["n"].iloc[i]
