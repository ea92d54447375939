"""A Cohort used with an engine's analysis: validated against its features, and asked for rows
it says how to get them instead of failing obscurely."""

from __future__ import annotations

import pytest

import errlens as el
from errlens.engines import LazyAnalysis, ScaleOutError


@pytest.fixture(scope="module")
def lazy(adult_parquet) -> LazyAnalysis:
    return LazyAnalysis.from_duckdb(adult_parquet, y_true="income", y_pred="pred", id="id",
                                    features=["age", "sex", "education"])


def test_cohort_on_an_engine_analysis(lazy, adult_ev):
    women = el.Cohort.where("sex", "==", "Female") & el.Cohort.where("age", ">=", 40)
    women.validate(lazy)
    with pytest.raises(KeyError, match=r"unknown feature 'income_band'.*'education'"):
        el.Cohort.where("income_band", "==", "x").validate(lazy)
    with pytest.raises(ScaleOutError, match=r"rows\(cohort, limit=\.\.\.\)"):
        women.mask(lazy)
    with pytest.raises(ScaleOutError, match="to_json"):
        women.frame(lazy)
    rows = lazy.rows(women, limit=10_000)
    assert rows.index.tolist() == women.frame(adult_ev).sort_index().index.tolist()[:10_000]
