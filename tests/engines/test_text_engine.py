"""Text slices of a LazyAnalysis in DuckDB against the in-memory Analysis, on the real tweets
with a planted topic failure (the predictions of every tweet naming Google are flipped)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pytest

import errlens as el
from errlens.base.facade import ScaleOutError
from errlens.data.cohort import Cohort
from errlens.datasets import load_tweets
from errlens.engines import LazyAnalysis
from errlens.slicing.text.tokens import term_mask
from errlens.slicing.text.vocabulary import build_vocabulary, vocabulary


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, np.ndarray]:
    tweets = load_tweets()
    rng = np.random.default_rng(0)
    topic = term_mask(tweets["text"].tolist(), "google")
    classes = sorted(tweets["sentiment"].unique())
    pred = tweets["sentiment"].to_numpy(dtype=object).copy()
    wrong = topic | (rng.random(len(pred)) < 0.05)
    pred[wrong] = [classes[(classes.index(c) + 1) % 3] for c in pred[wrong]]
    return tweets.assign(length=tweets["text"].str.len(), pred=pred), topic


@pytest.fixture(scope="module")
def both(planted: tuple[pd.DataFrame, np.ndarray]) -> tuple[el.Analysis, LazyAnalysis]:
    frame, _ = planted
    ev = el.Analysis.from_predictions(frame.drop(columns="pred"), y_true="sentiment",
                                      y_pred=frame["pred"].to_numpy(), id="id", text="text")
    lazy = LazyAnalysis.from_duckdb(duckdb.from_df(frame), y_true="sentiment", y_pred="pred",
                                    id="id", text="text", definition=ev.segments.definition)
    return ev, lazy


def test_text_column_is_no_feature(both: tuple[el.Analysis, LazyAnalysis]) -> None:
    _, lazy = both
    assert lazy.text == ["text"] and lazy.features == ["confidence", "length"]


@pytest.mark.parametrize("min_df", [None, 5, 400])
def test_engine_vocabulary_is_the_in_memory_one(both: tuple[el.Analysis, LazyAnalysis],
                                                min_df: int | None) -> None:
    ev, lazy = both
    memory, engine = vocabulary(ev, "text", min_df), lazy.texts.vocabulary("text", min_df)
    assert len(memory.terms) > 50
    assert engine.terms == memory.terms  # same terms, same order, so the same codes
    assert engine.df.tolist() == memory.df.tolist()
    assert engine.min_df == memory.min_df


def test_vocabulary_of_tricky_texts_matches_memory() -> None:
    texts = ["Don't watch the SEQUEL!", "a sequel... a real let-down", "", "x y z", "ÉTÉ été",
             "sequel sequel sequel", "the of and", "a-b-c sequel_2 déjà-vu"] * 5
    ids = list(range(len(texts)))
    rel = duckdb.from_df(pd.DataFrame({"id": ids, "t": texts, "g": 1, "y": "a", "p": "b"}))
    rel = rel.select("id, t, g, y, p").union(duckdb.sql(
        "SELECT 99 AS id, NULL::VARCHAR AS t, 1 AS g, 'a' AS y, 'a' AS p"))
    lazy = LazyAnalysis.from_duckdb(rel, y_true="y", y_pred="p", id="id", text="t",
                                    classes=["a", "b"])
    engine = lazy.texts.vocabulary("t", 5)
    memory = build_vocabulary(texts, min_df=5)
    assert engine.terms == memory.terms and engine.df.tolist() == memory.df.tolist()
    assert "sequel" in engine.terms and "the" not in engine.terms and "été" in engine.terms


def test_slices_equal_memory_with_terms(both: tuple[el.Analysis, LazyAnalysis]) -> None:
    ev, lazy = both
    memory, engine = ev.slices(fdr=0.05), lazy.slices(fdr=0.05)
    assert memory["segment"].iloc[0] == "google" and "text" in set(engine["feature"])
    pd.testing.assert_frame_equal(engine, memory, check_dtype=False)
    cohort = Cohort.where("length", ">", 100)
    pd.testing.assert_frame_equal(lazy.slices(cohort=cohort, min_size=50, sort="errors"),
                                  ev.slices(cohort=cohort, min_size=50, sort="errors"),
                                  check_dtype=False)
    assert "text" not in set(lazy.slices(["length"])["feature"])


def test_discover_equals_memory_and_names_the_topic(
    both: tuple[el.Analysis, LazyAnalysis], planted: tuple[pd.DataFrame, np.ndarray],
) -> None:
    ev, lazy = both
    _, topic = planted
    memory, engine = ev.discover(k=10, max_level=2), lazy.discover(k=10, max_level=2)
    pd.testing.assert_frame_equal(engine.to_frame(), memory.to_frame(), check_dtype=False)
    assert engine.params == memory.params
    assert engine.to_frame()["slice"].iloc[0] == 'text contains "google"'
    assert engine.cohorts == memory.cohorts
    masks = [ev.mask(engine.cohort(i)) for i in range(3)]
    assert all(topic[m].mean() >= 0.8 for m in masks)
    # the engine's own contains predicate (a regular expression) selects the slice's rows
    for i in range(3):
        assert lazy.confusion(engine.cohort(i)).counts.to_numpy().sum() == \
            engine.to_frame()["n"].iloc[i]


def test_discover_mixes_terms_and_segments(both: tuple[el.Analysis, LazyAnalysis]) -> None:
    ev, lazy = both
    engine = lazy.discover(k=30, max_level=2)
    memory = ev.discover(k=30, max_level=2)
    assert engine.to_frame()["slice"].tolist() == memory.to_frame()["slice"].tolist()
    assert any("contains" in s and "length" in s for s in engine.to_frame()["slice"])
    no_text = lazy.discover(k=5, max_level=2, text=False)
    assert not any("contains" in s for s in no_text.to_frame()["slice"])
    assert no_text.to_frame().equals(ev.discover(k=5, max_level=2, text=False).to_frame())


def test_discover_within_a_cohort_and_three_levels(both: tuple[el.Analysis, LazyAnalysis]
                                                   ) -> None:
    ev, lazy = both
    cohort = Cohort.where("confidence", ">", 0.6)
    memory = ev.discover(k=8, max_level=3, cohort=cohort, min_df=100, max_terms=20)
    engine = lazy.discover(k=8, max_level=3, cohort=cohort, min_df=100, max_terms=20)
    pd.testing.assert_frame_equal(engine.to_frame(), memory.to_frame(), check_dtype=False)
    assert engine.params["terms"] == memory.params["terms"]


def test_contains_cohort_reads_the_text_column(both: tuple[el.Analysis, LazyAnalysis]) -> None:
    ev, lazy = both
    cohort = Cohort.contains("text", "driverless car")
    rows = lazy.rows(cohort, limit=50)
    assert len(rows) == 50 and rows.index.tolist() == sorted(rows.index)
    expected = ev.frame(cohort).index[:50].tolist()
    assert rows.index.tolist() == sorted(expected)[:50]
    assert rows["text"].str.lower().str.contains("driverless").all()
    assert list(rows.columns[:5]) == ["confidence", "length", "text", "y_true", "y_pred"]


def test_no_significant_term_leaves_a_note() -> None:
    texts = ["good film", "bad film", "some words here"] * 40
    rel = duckdb.from_df(pd.DataFrame({"id": range(120), "t": texts, "x": [0, 1] * 60,
                                       "y": ["a"] * 120, "p": ["a", "b"] * 60}))
    lazy = LazyAnalysis.from_duckdb(rel, y_true="y", y_pred="p", id="id", text="t")
    found = lazy.discover(k=3, max_level=2)
    assert found.params["terms"] == [] and "no term" in found.params["note"]
    assert found.to_frame()["slice"].iloc[0] == "x = 1"


def test_bad_text_options_are_clear_errors(planted: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, _ = planted
    rel = duckdb.from_df(frame)
    with pytest.raises(KeyError, match="review"):
        LazyAnalysis.from_duckdb(rel, y_true="sentiment", y_pred="pred", id="id", text="review")
    lazy = LazyAnalysis.from_duckdb(rel, y_true="sentiment", y_pred="pred", id="id")
    with pytest.raises(KeyError, match="not a text column"):
        lazy.discover(k=3, text="text")
    polars = pl.from_pandas(frame.head(200)).lazy()
    with pytest.raises(ScaleOutError, match="from_duckdb"):
        LazyAnalysis.from_lazy(polars, y_true="sentiment", y_pred="pred", id="id", text="text")


def test_dashboard_opens_on_a_text_lazy_analysis(both: tuple[el.Analysis, LazyAnalysis]) -> None:
    _, lazy = both
    assert "text" not in set(lazy.slices(terms=False)["feature"])
    assert "text" in set(lazy.slices(["length"], terms=True)["feature"])
    explorer = el.explore(lazy)  # the bars count segments only, as in memory
    assert type(explorer).__name__ == "Explorer"
