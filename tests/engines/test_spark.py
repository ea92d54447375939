"""PySpark local mode: the same definitions, integer counts and tables as in memory on Adult."""

from __future__ import annotations

import pandas as pd
import pytest

from errlens.engines import LazyAnalysis, ScaleOutError
from errlens.slicing.cohort import Cohort
from errlens.slicing.segments import Segments, encode_frame

pytestmark = pytest.mark.spark

# a mix of numbers (zero-heavy capital gain) and categories with missing values; fewer features
# than the DuckDB tests keep Spark's jobs (and the test run) short
FEATURES = ["age", "workclass", "education", "occupation", "sex", "capital_gain",
            "hours_per_week", "native_country"]

COHORT = Cohort.where("age", ">=", 40) & ~Cohort.segment("workclass", "(missing)")


@pytest.fixture(scope="module")
def frame(spark, adult_parquet):
    return spark.read.parquet(str(adult_parquet))


@pytest.fixture(scope="module")
def lazy(frame) -> LazyAnalysis:
    return LazyAnalysis.from_spark(frame, y_true="income", y_pred="pred", id="id",
                                   features=FEATURES)


def test_exact_percentiles_give_the_in_memory_definition_and_tables(lazy, adult_ev):
    # percentile_approx is exact while accuracy (default 100,000) exceeds the rows
    assert lazy.definition == [adult_ev.segments.definition[adult_ev.segments.index(f)]
                               for f in FEATURES]
    pd.testing.assert_frame_equal(lazy.slices(), adult_ev.slices(FEATURES))
    pd.testing.assert_frame_equal(lazy.slices(cohort=COHORT, metric="recall"),
                                  adult_ev.slices(FEATURES, cohort=COHORT, metric="recall"))
    got, want = lazy.heatmap("age", "sex", cohort=COHORT), adult_ev.heatmap("age", "sex",
                                                                            cohort=COHORT)
    pd.testing.assert_frame_equal(got.table, want.table)
    cell = Cohort.confusion_cell(">50K", "<=50K")
    pd.testing.assert_frame_equal(lazy.confusion(cell).counts, adult_ev.confusion(cell).counts)


def test_approximate_edges_still_count_identically(frame, adult_ev):
    rough = LazyAnalysis.from_spark(frame, y_true="income", y_pred="pred", id="id",
                                    features=["age", "fnlwgt", "hours_per_week"], accuracy=20)
    exact = {d["feature"]: d.get("edges") for d in adult_ev.segments.definition}
    assert any(d["edges"] != exact[d["feature"]] for d in rough.definition)
    # the approximate definition, kept as literals, counts the same on Spark and in memory
    names = [d["feature"] for d in rough.definition]
    codes = encode_frame(adult_ev.features[names], rough.definition)
    segments = Segments(names, codes, [d["labels"] for d in rough.definition], rough.definition,
                        5, 10)
    pd.testing.assert_frame_equal(rough.slices(), adult_ev.slices(names, segments=segments))


def test_discover_and_rows(lazy, adult_ev):
    # the coded rows are persisted once: every count reads them, not the Parquet source
    assert lazy.frame.to_native().is_cached
    assert lazy.source is lazy.frame  # value cohorts and pages read the cached rows too
    assert lazy.frame.collect_schema().names() == ["id", *FEATURES, "income", "pred",
                                                   *[f"__c{j}" for j in range(8)], "__t",
                                                   "__p", "__e"]
    got = lazy.discover(max_level=2, k=5)
    want = adult_ev.discover(max_level=2, k=5, features=FEATURES)
    pd.testing.assert_frame_equal(got.to_frame(), want.to_frame())
    assert got.params == want.params
    page = lazy.rows(COHORT, limit=20)
    assert page.index.tolist() == adult_ev.frame(COHORT).sort_index().index[:20].tolist()
    with pytest.raises(ScaleOutError, match="neighbours"):
        lazy.suspects(method="knn")
