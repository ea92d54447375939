"""DuckDB engine: the same definitions, tables and slices as the in-memory analysis on Adult."""

from __future__ import annotations

import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

import errlens as el
from errlens.engines import LazyAnalysis, ScaleOutError
from errlens.slicing.cohort import Cohort

from .conftest import FEATURES

COHORT = (
    (Cohort.where("age", ">=", 40) & ~Cohort.segment("workclass", "(missing)"))
    | Cohort.where("occupation", "in", ["Sales", "Tech-support"])
)


@pytest.fixture(scope="module")
def lazy(adult_parquet: Path) -> LazyAnalysis:
    return LazyAnalysis.from_duckdb(adult_parquet, y_true="income", y_pred="pred", id="id",
                                    features=FEATURES)


def test_quantile_disc_definition_is_the_in_memory_one(lazy, adult_ev):
    assert lazy.definition == adult_ev.segments.definition
    assert (lazy.n, lazy.errors, lazy.classes) == (48842, 9531, ["<=50K", ">50K"])


@pytest.mark.parametrize("cohort", [None, COHORT, Cohort.confusion_cell(">50K", "<=50K")])
@pytest.mark.parametrize("metric", ["error_rate", "recall", "precision"])
def test_slices_are_identical(lazy, adult_ev, cohort, metric):
    expected = adult_ev.slices(cohort=cohort, metric=metric, fdr=0.05)
    pd.testing.assert_frame_equal(lazy.slices(cohort=cohort, metric=metric, fdr=0.05), expected)


def test_heatmap_and_confusion_are_identical(lazy, adult_ev):
    got = lazy.heatmap("age", "education", cohort=COHORT, metric="precision")
    want = adult_ev.heatmap("age", "education", cohort=COHORT, metric="precision")
    pd.testing.assert_frame_equal(got.table, want.table)
    assert (got.labels_a, got.labels_b, got.base) == (want.labels_a, want.labels_b, want.base)
    pd.testing.assert_frame_equal(got.pivot("n"), want.pivot("n"))
    for cohort in (None, Cohort.where("sex", "==", "Female")):
        mine, theirs = lazy.confusion(cohort, normalize="true"), adult_ev.confusion(
            cohort, normalize="true")
        for name in ("counts", "report", "top_pairs", "table"):
            pd.testing.assert_frame_equal(getattr(mine, name), getattr(theirs, name))
        assert mine.accuracy == theirs.accuracy and mine.cohort == theirs.cohort
    with warnings.catch_warnings():  # the in-memory join still uses lsuffix= (pandas 4 warns)
        warnings.simplefilter("ignore")
        want_comparison = adult_ev.confusion(COHORT).comparison
    pd.testing.assert_frame_equal(lazy.confusion(COHORT).comparison, want_comparison)


def test_discover_finds_the_same_slices(lazy, adult_ev):
    for options in ({}, {"cohort": COHORT, "max_level": 2, "k": 5, "min_support": 200}):
        got, want = lazy.discover(**options), adult_ev.discover(**options)
        pd.testing.assert_frame_equal(got.to_frame(), want.to_frame())
        assert got.params == want.params  # same sets counted, same candidates per level
        assert got.to_json() == want.to_json()
    assert len(want) == 5 and want.table["lift"].iloc[0] > 1.5


def test_rows_page_by_id_and_samples_stay_in_the_cohort(lazy, adult_ev):
    want = adult_ev.frame(COHORT).sort_index()
    first = lazy.rows(COHORT, limit=70)
    second = lazy.rows(COHORT, limit=70, after=first.index[-1])
    both = pd.concat([first, second])
    assert both.index.tolist() == want.index[:140].tolist()
    assert (both["error"].to_numpy() == want["error"].to_numpy()[:140]).all()
    assert both["y_pred"].tolist() == want["y_pred"].tolist()[:140]
    sample = lazy.sample(COHORT, n=200, seed=3)
    assert 100 <= len(sample) <= 200 and sample.index.isin(want.index).all()
    assert sample.index.equals(lazy.sample(COHORT, n=200, seed=3).index)


def test_what_needs_every_row_raises(lazy):
    with pytest.raises(ScaleOutError, match="neighbours"):
        lazy.suspects(method="knn")
    with pytest.raises(ScaleOutError, match="rows to the driver"):
        lazy.mask(COHORT)
    with pytest.raises(ScaleOutError, match="after=<last id>"):
        lazy.rows(limit=1_000_000)
    with pytest.raises(ScaleOutError, match="discover"):
        lazy.error_tree()
    with pytest.raises(TypeError, match="positional mask"):
        lazy.slices(cohort=np.ones(lazy.n, dtype=bool))
    with pytest.raises(KeyError, match="unknown feature 'salary'"):
        lazy.slices(cohort=Cohort.where("salary", ">", 3))


def test_a_definition_without_a_missing_segment_fails_loudly(adult_parquet, adult_pred):
    complete = adult_pred.dropna()
    definition = el.Analysis.from_predictions(
        complete, y_true="income", y_pred="pred", id="id", features=["workclass"]
    ).segments.definition
    with pytest.raises(ValueError, match="rows have values outside the segment definition"):
        LazyAnalysis.from_duckdb(adult_parquet, y_true="income", y_pred="pred", id="id",
                                 features=["workclass"], definition=definition)
    with pytest.raises(KeyError, match=r"columns \['nope'\] are not in the data"):
        LazyAnalysis.from_duckdb(adult_parquet, y_true="nope", y_pred="pred", id="id")


def test_relation_over_a_frame_with_nan_and_duplicate_ids():
    frame = pd.DataFrame({"id": [1, 2, 3, 4, 5, 6], "x": [0.5, np.nan, 2.0, 3.0, np.nan, 9.0],
                          "y": list("ababab"), "p": list("aabbab")})
    rel = duckdb.from_df(frame)
    lazy = LazyAnalysis.from_duckdb(rel, y_true="y", y_pred="p", id="id", bins=2)
    ev = el.Analysis.from_predictions(frame, y_true="y", y_pred="p", id="id", features=["x"])
    assert lazy.definition == ev.segment(bins=2).definition
    assert lazy.definition[0]["edges"] == [2.0]  # NaN is missing, not a value above every edge
    assert lazy.slices(sort=None)["n"].tolist() == [1, 3, 2]
    few = frame.assign(k=[3, 1, 1, 2, 3, 3], g=[0.5, 1.5, 2.5, 3.5, 4.5, 5.5])
    lazy = LazyAnalysis.from_duckdb(duckdb.from_df(few), y_true="y", y_pred="p", id="id",
                                    features=["k", "g"], bins=3)
    ev = el.Analysis.from_predictions(few, y_true="y", y_pred="p", id="id", features=["k", "g"])
    assert lazy.definition == ev.segment(bins=3).definition  # "= 1", "= 2", "= 3" for k
    assert lazy.definition[0]["labels"] == ["= 1", "= 2", "= 3"]
    twice = duckdb.from_df(frame.assign(id=[1, 1, 2, 3, 4, 5]))
    with pytest.raises(ValueError, match="1 duplicate or missing ids"):
        LazyAnalysis.from_duckdb(twice, y_true="y", y_pred="p", id="id")


def test_questions_after_the_build_read_the_codes_not_the_source(adult_parquet, adult_ev,
                                                                 tmp_path):
    copy = tmp_path / "adult.parquet"
    copy.write_bytes(adult_parquet.read_bytes())
    lazy = LazyAnalysis.from_duckdb(copy, y_true="income", y_pred="pred", id="id",
                                    features=FEATURES)
    copy.unlink()  # every count from here on must come from the materialised codes
    cohort = Cohort.segment("education", "Bachelors") | Cohort.confusion_cell(">50K", "<=50K")
    pd.testing.assert_frame_equal(lazy.slices(cohort=cohort), adult_ev.slices(cohort=cohort))
    pd.testing.assert_frame_equal(lazy.heatmap("age", "sex", cohort=cohort).table,
                                  adult_ev.heatmap("age", "sex", cohort=cohort).table)
    pd.testing.assert_frame_equal(lazy.confusion(cohort).counts, adult_ev.confusion(cohort).counts)
    got = lazy.discover(max_level=2, k=5, cohort=cohort)
    pd.testing.assert_frame_equal(got.to_frame(),
                                  adult_ev.discover(max_level=2, k=5, cohort=cohort).to_frame())
    with pytest.raises(duckdb.IOException):  # value cohorts and pages do read the source
        lazy.slices(cohort=Cohort.where("age", ">", 40))


def test_ties_at_the_top_k_cut_are_broken_alike() -> None:
    """Twelve categories of one row each compete for nine places: both paths keep the same
    nine (by value), so every table agrees."""
    values = ["z"] * 3 + [f"v{i:02d}" for i in range(12, 0, -1)]
    frame = pd.DataFrame({"id": range(15), "cat": values, "label": ["a", "b"] * 7 + ["a"],
                          "pred": ["a"] * 15})
    memory = el.Analysis.from_predictions(frame, y_true="label", y_pred="pred", id="id")
    engine = LazyAnalysis.from_duckdb(duckdb.from_df(frame), y_true="label", y_pred="pred",
                                      id="id")
    assert engine.definition == memory.segments.definition
    assert engine.definition[0]["labels"][:3] == ["z", "v01", "v02"]
    pd.testing.assert_frame_equal(engine.slices().reset_index(drop=True),
                                  memory.slices().reset_index(drop=True), check_dtype=False)


def test_missing_ids_and_labels_of_different_types_are_refused_clearly() -> None:
    ids = pd.DataFrame({"id": pd.array([1, None, 2, 3], dtype="Int64"), "x": [1.0, 2, 3, 4],
                        "label": list("abab"), "pred": list("aabb")})
    with pytest.raises(ValueError, match="'id' has 1 missing ids"):
        LazyAnalysis.from_duckdb(duckdb.from_df(ids), y_true="label", y_pred="pred", id="id")
    types = pd.DataFrame({"id": range(4), "x": [1, 2, 3, 4], "label": ["0", "1", "0", "1"],
                          "pred": [0, 1, 0, 1]})
    with pytest.raises(TypeError, match=r"holds text .* but y_pred 'pred' holds numbers"):
        LazyAnalysis.from_duckdb(duckdb.from_df(types), y_true="label", y_pred="pred", id="id")


def test_booleans_with_gaps_and_bin_like_categories_are_defined_alike() -> None:
    frame = pd.DataFrame({"id": range(8), "flag": [True, False, None, True, False, True, None,
                                                   False],
                          "code": ["= 3", "< 5", "x", "x", "y", "[1, 2)", "z", "x"],
                          "label": ["a", "b"] * 4, "pred": ["a"] * 8})
    memory = el.Analysis.from_predictions(frame, y_true="label", y_pred="pred", id="id")
    engine = LazyAnalysis.from_duckdb(duckdb.from_df(frame), y_true="label", y_pred="pred",
                                      id="id")
    assert engine.definition == memory.segments.definition
    flag, code = memory.segments.definition
    assert flag["kind"] == "boolean" and flag["labels"] == ["False", "True", "(missing)"]
    assert code["labels"] == ["x", "'< 5'", "'= 3'", "'[1, 2)'", "y", "z"]
