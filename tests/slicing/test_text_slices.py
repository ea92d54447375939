"""Text slices on the real tweets (a planted topic failure) and on edge cases."""

from __future__ import annotations

import duckdb
import narwhals as nw
import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import CountVectorizer

import errlens as el
from errlens.data.cohort import Cohort
from errlens.datasets import load_tweets
from errlens.engines.cohorts import cohort_expr
from errlens.slicing.discovery.count import Counter
from errlens.slicing.text import stream
from errlens.slicing.text import vocabulary as vocabulary_module
from errlens.slicing.text.counts import TermCounts
from errlens.slicing.text.tokens import is_kept, term_mask
from errlens.slicing.text.vocabulary import build_vocabulary, vocabulary


@pytest.fixture(scope="module")
def tweets() -> pd.DataFrame:
    return load_tweets()


@pytest.fixture(scope="module")
def planted(tweets: pd.DataFrame) -> tuple[el.Analysis, np.ndarray]:
    """Predictions right except on every tweet naming Google, whose predictions are flipped,
    and 5 % random mistakes elsewhere."""
    rng = np.random.default_rng(0)
    topic = term_mask(tweets["text"].tolist(), "google")
    classes = sorted(tweets["sentiment"].unique())
    pred = tweets["sentiment"].to_numpy(dtype=object).copy()
    noise = rng.random(len(pred)) < 0.05
    wrong = topic | noise
    pred[wrong] = [classes[(classes.index(c) + 1) % 3] for c in pred[wrong]]
    frame = tweets.assign(length=tweets["text"].str.len())
    ev = el.Analysis.from_predictions(frame, y_true="sentiment", y_pred=pred, id="id",
                                      text="text")
    return ev, topic


def test_text_column_is_kept_apart_from_features(planted: tuple[el.Analysis, np.ndarray]) -> None:
    ev, _ = planted
    assert ev.text_columns == ["text"]
    assert "text" not in ev.features.columns and "length" in ev.features.columns
    assert "text" in ev.frame(Cohort.contains("text", "google")).columns


def test_discover_names_the_planted_topic(planted: tuple[el.Analysis, np.ndarray]) -> None:
    ev, topic = planted
    found = ev.discover(k=10, max_level=2)
    table = found.to_frame()
    assert table["slice"].iloc[0] == 'text contains "google"'
    masks = [ev.mask(found.cohort(i)) for i in range(len(found))]
    for mask, n in zip(masks, table["n"], strict=True):
        assert mask.sum() == n  # the search's counts are the cohorts' rows
    for mask in masks[:3]:
        assert topic[mask].mean() >= 0.8
    covered = np.logical_or.reduce(masks[:5])
    assert topic[covered].sum() >= 0.5 * topic.sum()
    assert found.to_json()["slices"][0]["predicates"] == [
        {"feature": "text", "label": "google", "contains": True}]
    assert Cohort.from_json(found.to_json()["slices"][0]["cohort"]) == found.cohort(0)


def test_a_semantic_topic_fills_the_top_slices_with_distinct_words(plant_self_driving) -> None:
    """Every tweet about self-driving cars (by a pattern discovery never sees) predicted
    wrong: the top slices are different words of the topic, not one phrase repeated."""
    ev, topic = plant_self_driving(wrong=0.2, seed=1)
    found = ev.discover(k=5, max_level=2)
    masks = [ev.mask(found.cohort(i)) for i in range(len(found))]
    assert all(topic[mask].mean() >= 0.8 for mask in masks[:3])
    assert topic[np.logical_or.reduce(masks)].sum() >= 0.5 * topic.sum()
    for i, a in enumerate(masks):  # no slice nearly repeats a better one
        for b in masks[:i]:
            assert (a & b).sum() < 0.9 * max(a.sum(), b.sum()) or not (
                (a <= b).all() or (b <= a).all())
    raw = ev.discover(k=5, max_level=2, distinct=False).to_frame()
    assert raw["group"].tolist() != list(range(5))  # SliceLine's own top 5 repeats itself
    assert found.params["folded"] >= 1


def test_text_alone_gets_tested_term_rows(tweets: pd.DataFrame) -> None:
    """No tabular feature at all: slices() is the terms' table, tested and sorted."""
    topic = term_mask(tweets["text"].tolist(), "weather")
    pred = np.where(topic, "positive", tweets["sentiment"].to_numpy(dtype=object))
    pred[topic & (tweets["sentiment"] == "positive").to_numpy()] = "negative"
    ev = el.Analysis.from_predictions(tweets[["id", "text"]], y_true=tweets["sentiment"],
                                      y_pred=pred, id="id", text="text")
    table = ev.slices(fdr=0.05)
    top = table.iloc[0]
    assert (top["feature"], top["segment"]) == ("text", "weather") and top["significant"]
    assert table["p_value"].dtype == np.float64 and len(table) > 100


def test_discover_mixes_terms_and_segments(planted: tuple[el.Analysis, np.ndarray]) -> None:
    ev, _ = planted
    found = ev.discover(k=30, max_level=2)
    mixed = [s for s in found.to_frame()["slice"] if "contains" in s and "length" in s]
    assert mixed, "no slice combines a term with a tabular segment"
    no_text = ev.discover(k=5, max_level=2, text=False)
    assert not any("contains" in s for s in no_text.to_frame()["slice"])


def test_slices_table_has_terms(planted: tuple[el.Analysis, np.ndarray]) -> None:
    ev, topic = planted
    table = ev.slices(fdr=0.05)
    assert set(table["feature"]) == {"confidence", "length", "text"}
    row = table[(table["feature"] == "text") & (table["segment"] == "google")].iloc[0]
    assert row["n"] == topic.sum() and row["significant"]
    assert table.iloc[0]["lift"] == table["lift"].max()
    assert set(ev.slices(terms=False)["feature"]) == {"confidence", "length"}


def test_error_tree_splits_on_a_term(planted: tuple[el.Analysis, np.ndarray]) -> None:
    ev, topic = planted
    tree = ev.error_tree(max_depth=1)
    assert tree.nodes[0].split == 'text contains "google"'
    leaves = {node.path: node for node in tree.nodes[1:]}
    assert leaves['text contains "google"'].rows == topic.sum()
    assert 'text does not contain "google"' in leaves
    assert ev.error_tree(max_depth=1, text=False).nodes[0].split != 'text contains "google"'


def test_vocabulary_matches_scikit_learn(tweets: pd.DataFrame) -> None:
    texts = tweets["text"].tolist()
    voc = build_vocabulary(texts, min_df=40)
    vectorizer = CountVectorizer(binary=True, ngram_range=(1, 2), min_df=40)
    matrix = vectorizer.fit_transform(texts).tocsc()
    names = {t: i for i, t in enumerate(vectorizer.get_feature_names_out())}
    assert set(voc.terms) == {t for t in names if is_kept(t.split())}
    for j, term in enumerate(voc.terms):
        column = names[term]
        expected = matrix.indices[matrix.indptr[column]:matrix.indptr[column + 1]]
        assert np.array_equal(voc.rows(j), np.sort(expected)), term


def test_vocabulary_does_not_depend_on_chunks_or_pair_counting(
    tweets: pd.DataFrame, monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = tweets["text"].tolist()
    expected = build_vocabulary(texts, min_df=40)
    monkeypatch.setattr(stream, "CHUNK_ROWS", 997)  # 39 chunks, boundaries inside the topics
    monkeypatch.setattr(vocabulary_module, "DIRECT_KEYS", 0)  # pairs by hashing
    voc = build_vocabulary(texts, min_df=40)
    assert voc.terms == expected.terms and np.array_equal(voc.df, expected.df)
    assert (voc.matrix != expected.matrix).nnz == 0


def test_vocabulary_edges_of_the_token_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "CHUNK_ROWS", 1)  # every row its own chunk
    # a pair never spans two rows, even when one row ends a chunk and the next starts one
    voc = build_vocabulary(["good", "film"] * 30, min_df=20)
    assert voc.terms == ["film", "good"]
    # any separator splits, ASCII whitespace or not; "a" does not break a pair
    texts = ["Good\tfilm", "good\u00a0film!", "GOOD-film", "good a film", "good, film"] * 6
    voc = build_vocabulary(texts, min_df=20)
    assert voc.terms == ["film", "good", "good film"] and voc.df.tolist() == [30, 30, 30]
    # no word frequent enough, or only stop words: no term, an empty matrix of the right shape
    for rare in (["one two", "three four", ""] * 5, ["of the", "the of"] * 20, []):
        voc = build_vocabulary(rare, min_df=10)
        assert voc.terms == [] and voc.matrix.shape == (len(rare), 0)


def test_masks_agree_with_the_vocabulary(planted: tuple[el.Analysis, np.ndarray]) -> None:
    ev, _ = planted
    voc = vocabulary(ev, "text")
    texts = ev.text["text"].tolist()
    for j in range(0, len(voc.terms), 7):  # a seventh of the terms: words and pairs
        expected = np.zeros(ev.n, dtype=bool)
        expected[voc.rows(j)] = True
        assert np.array_equal(term_mask(texts, voc.terms[j]), expected), voc.terms[j]
        assert np.array_equal(ev.mask(Cohort.contains("text", voc.terms[j])), expected)


def test_duckdb_contains_matches_memory(tweets: pd.DataFrame) -> None:
    frame = tweets[["id", "text"]].copy()
    relation = nw.from_native(duckdb.sql("SELECT * FROM frame"))
    texts = frame["text"].fillna("").tolist()
    for term in ("google", "self driving", "google", "can't wait", "driverless cars"):
        expr = cohort_expr(Cohort.contains("text", term), segment_code=None, label_code=None)
        got = relation.select(expr.alias("m")).collect()["m"].to_numpy()
        assert np.array_equal(got, term_mask(texts, term)), term


def test_cohort_contains_json_describe_and_combination(
    planted: tuple[el.Analysis, np.ndarray],
) -> None:
    ev, topic = planted
    cohort = Cohort.contains("text", " Google ") & Cohort.where("length", ">=", 100)
    assert cohort.describe() == 'text contains "google" and length ≥ 100'
    assert Cohort.from_json(cohort.to_json(), analysis=ev) == cohort
    expected = topic & (ev.features["length"].to_numpy() >= 100)
    assert np.array_equal(ev.mask(cohort), expected)
    assert np.array_equal(ev.mask(~Cohort.contains("text", "google")), ~topic)
    with pytest.raises(KeyError, match="unknown text column 'body'"):
        ev.mask(Cohort.contains("body", "google"))
    with pytest.raises(ValueError, match="non-empty"):
        Cohort.contains("text", "  ")
    with pytest.raises(ValueError, match="contains node"):
        Cohort.from_json({"kind": "contains", "column": "text"})


def test_term_counts_equal_dense_counting() -> None:
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 3, size=(500, 2))
    errors = (rng.random(500) < 0.3).astype(float)
    present = rng.random((500, 2)) < 0.4
    counts = TermCounts(codes, errors, [3, 3], [np.flatnonzero(present[:, j]) for j in range(2)])
    dense = Counter(np.hstack([codes, present.astype(int)]), errors, [3, 3, 2, 2])
    for features in [(0, 2), (1, 3), (2, 3), (0, 1, 3), (0, 2, 3), (2,)]:
        size, err = counts.count(features)
        full_size, full_err = dense.count(features)
        terms = sum(f >= 2 for f in features)
        # the dense cells whose term codes are all 1 ("contains")
        take = full_size.reshape(-1, *([2] * terms))[(..., *([1] * terms))].ravel()
        take_err = full_err.reshape(-1, *([2] * terms))[(..., *([1] * terms))].ravel()
        assert size.tolist() == take.tolist() and err.tolist() == take_err.tolist()


def test_edge_cases_of_text_cells() -> None:
    texts = ["", None, float("nan"), 12345, "Ünïcode café crème", "café au lait", "x"] * 20
    frame = pd.DataFrame({"review": texts, "café": [1, 2] * 70})
    ev = el.Analysis.from_predictions(frame, y_true=[0, 1] * 70, y_pred=[1, 1] * 70,
                                      text="review")
    assert ev.text["review"].tolist()[:4] == ["", "", "", "12345"]
    voc = vocabulary(ev, "review", min_df=20)
    assert voc.terms == ["café", "12345", "au", "au lait", "café au", "café crème", "crème",
                         "lait", "ünïcode", "ünïcode café"]
    # a term that is also a feature's name selects on the text, not the feature
    assert ev.mask(Cohort.contains("review", "Café")).sum() == 40
    assert ev.mask(Cohort.where("café", "==", 1)).sum() == 70
    assert ev.discover(k=3, max_level=2, min_df=20, min_support=10).to_frame()["n"].min() > 0


def test_unknown_or_bad_text_columns_are_clear_errors() -> None:
    frame = {"review": ["good", "bad"], "x": [1, 2]}
    with pytest.raises(KeyError, match=r"text columns \['body'\] are not columns of data"):
        el.Analysis.from_predictions(frame, y_true=[0, 1], y_pred=[0, 0], text="body")
    with pytest.raises(TypeError, match="text= takes a column name"):
        el.Analysis.from_predictions(frame, y_true=[0, 1], y_pred=[0, 0], text=3)
    ev = el.Analysis.from_predictions(frame, y_true=[0, 1], y_pred=[0, 0], text="review")
    with pytest.raises(KeyError, match="'x' is not a text column"):
        vocabulary(ev, "x")


def test_small_data_without_vocabulary_still_discovers() -> None:
    ev = el.Analysis.from_predictions(
        {"review": ["fine", "awful", "ok"] * 5, "g": ["a", "b", "c"] * 5},
        y_true=[0] * 15, y_pred=[0, 1, 0] * 5, text="review")
    assert vocabulary(ev, "review").terms == []  # 5 rows a word: under the floor of 20
    found = ev.discover(k=2, max_level=2, min_support=3)
    assert found.to_frame()["slice"].iloc[0] == "g = b"
    assert "no term" in found.params["note"] and found.params["terms"] == []
    assert ev.slices()["feature"].tolist() == ["g"] * 3
    text_only = el.Analysis.from_predictions(
        {"review": ["fine", "awful"] * 3}, y_true=[0] * 6, y_pred=[0, 1] * 3, text="review")
    assert len(text_only.discover(min_support=1)) == 0


def test_suspect_browser_shows_the_declared_text() -> None:
    from errlens.widgets.suspect_browser import SuspectBrowser

    ev = el.Analysis.from_predictions(
        {"review": ["fine film", "awful sequel"] * 10, "x": range(20)},
        y_true=[0, 1] * 10, y_pred=[0, 0] * 10, text="review")
    browser = SuspectBrowser(ev, mode="all")
    assert (browser.kind, browser.text_column) == ("text", "review")
    reply, _ = browser.handle({"type": "detail", "rid": 1, "id": 1})
    assert reply["text"] == "awful sequel"
