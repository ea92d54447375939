"""Embedding clusters as a derived feature: ``Analysis.with_clusters`` / ``ev.clusters()``.

The planted failure is one writing style of one digit (a k-means half of that digit's images)
whose predictions are flipped to the next digit, the rest predicted out of fold by a logistic
regression on the pixels: Domino-style clusters, which see the errors, must give that style a
cluster of its own, ranked first, and do better than k-means on the same embeddings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict

import errlens as el
from errlens.datasets import load_digits, load_tweets


@pytest.fixture(scope="module")
def digits() -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Digits frame (id, digit, ink), images, labels and out-of-fold probabilities."""
    frame, images = load_digits()
    pixels = images.reshape(len(images), -1)
    y = frame["digit"].to_numpy()
    proba = cross_val_predict(LogisticRegression(max_iter=2000), pixels, y, cv=5,
                              method="predict_proba")
    small = frame[["id", "digit"]].assign(ink=pixels.sum(axis=1),
                                          top_ink=pixels[:, :16].sum(axis=1))
    return small, images, y, proba


def planted(y: np.ndarray, images: np.ndarray, digit: int, seed: int) -> np.ndarray:
    """The smaller of two k-means halves of ``digit``'s images: one writing style."""
    rows = np.flatnonzero(y == digit)
    half = KMeans(2, n_init=5, random_state=seed).fit_predict(images[rows].reshape(len(rows), -1))
    out = np.zeros(len(y), dtype=bool)
    out[rows[half == np.argmin(np.bincount(half))]] = True
    return out


def analysis_with_plant(digits: tuple, digit: int, seed: int) -> tuple[el.Analysis, np.ndarray]:
    frame, images, y, proba = digits
    plant = planted(y, images, digit, seed)
    pred = np.where(plant, (y + 1) % 10, proba.argmax(axis=1))
    ev = el.Analysis.from_predictions(frame, y_true="digit", y_pred=pred, id="id",
                                      images=images)
    return ev, plant


def best_f1(clustered: el.Analysis, plant: np.ndarray) -> tuple[float, str, float, float]:
    """The cluster best matching the planted rows: F1, label, precision, recall."""
    column = clustered.features["cluster"].to_numpy()
    best = (0.0, "", 0.0, 0.0)
    for label in clustered.clusters().labels:
        inside = column == label
        hits = int((plant & inside).sum())
        if hits:
            p, r = hits / inside.sum(), hits / plant.sum()
            best = max(best, (2 * p * r / (p + r), label, p, r))
    return best


def test_the_planted_style_gets_the_worst_cluster_and_beats_kmeans(digits: tuple) -> None:
    domino, kmeans = [], []
    for seed, digit in enumerate([3, 8, 5, 2]):
        ev, plant = analysis_with_plant(digits, digit, seed)
        found = ev.with_clusters(seed=seed)
        f1, label, precision, _ = best_f1(found, plant)
        domino.append(f1)
        kmeans.append(best_f1(ev.with_clusters(method="kmeans", seed=seed), plant)[0])
        worst = found.features["cluster"].to_numpy() == "c1"
        assert plant[worst].mean() >= 0.8, (digit, label, precision)  # c1 is the style
    assert min(domino) >= 0.85, domino
    assert np.mean(domino) >= np.mean(kmeans) + 0.05, (domino, kmeans)


@pytest.fixture(scope="module")
def clustered(digits: tuple) -> tuple[el.Analysis, el.Analysis, np.ndarray]:
    ev, plant = analysis_with_plant(digits, 3, 0)
    return ev, ev.with_clusters(seed=0), plant


def test_every_view_works_on_the_cluster_feature(clustered: tuple) -> None:
    _, ev, plant = clustered
    worst = ev.clusters().cohort("c1")
    mask = ev.mask(worst)
    assert mask.sum() == ev.clusters().table.loc["c1", "n"] and plant[mask].mean() >= 0.8
    table = ev.slices(["cluster"]).set_index("segment")
    assert table.loc["c1", "n"] == mask.sum() and table.index[0] == "c1"
    heat = ev.heatmap("cluster", "ink").table
    assert heat.loc[heat["cluster"] == "c1", "n"].sum() == mask.sum()
    top = ev.discover(k=3, max_level=1).to_frame()
    assert top["slice"].iloc[0] == "cluster = c1"
    tree = ev.error_tree(max_depth=1)
    assert any("cluster" in node.path for node in tree.leaves())
    assert ev.confusion(worst).counts.to_numpy().sum() == mask.sum()
    suspects = ev.suspects("knn", cohort=worst).table
    assert len(suspects) == mask.sum() and set(suspects.index) <= set(ev.ids[mask])


def test_a_cluster_cohort_round_trips_through_json(clustered: tuple) -> None:
    _, ev, _ = clustered
    cohort = ev.clusters().cohort("c2") & el.Cohort.where("ink", ">", 300)
    again = el.Cohort.from_json(cohort.to_json(), analysis=ev)
    assert again == cohort and (again.mask(ev) == cohort.mask(ev)).all()
    assert again.describe() == "cluster = c2 and ink > 300"


def test_the_original_analysis_is_unchanged(clustered: tuple) -> None:
    before, after, _ = clustered
    assert before.features.columns.tolist() == ["ink", "top_ink"]
    assert before.derived_clusters == {} and before.segments.features == ["ink", "top_ink"]
    assert after.features.columns.tolist() == ["ink", "top_ink", "cluster"]
    assert after.y_true is before.y_true and after.images is before.images
    with pytest.raises(KeyError, match="with_clusters"):
        before.clusters()


def test_descriptions_name_typical_rows_and_a_matching_segment(clustered: tuple) -> None:
    _, ev, plant = clustered
    table = ev.clusters().table
    assert table["n"].sum() == ev.n and table.index[-1] == "rest" and len(table) == 10
    worst = table.loc["c1"]
    assert worst["given"] == 3 and worst["predicted"] == 4  # the flip: 3 → 4
    typical = ev.mask(list(worst["typical"]))
    assert len(worst["typical"]) == 5 and plant[typical].all()
    assert worst["segment"].startswith(("ink", "top_ink")) and 0 < worst["jaccard"] <= 1
    assert worst["ci_low"] <= worst["error_rate"] <= worst["ci_high"]
    assert "pixels" in ev.clusters().note and "8×8" in ev.clusters().note


def test_a_second_cluster_feature_and_user_embeddings(clustered: tuple, digits: tuple) -> None:
    _, ev, _ = clustered
    pixels = digits[1].reshape(len(digits[1]), -1)
    twice = ev.with_clusters(pixels, name="kmeans", method="kmeans", k=4)
    assert twice.features.columns.tolist()[-2:] == ["cluster", "kmeans"]
    assert twice.clusters("kmeans").labels == ["c1", "c2", "c3", "c4"]
    assert "your dense embeddings of 64 dimensions" in twice.clusters("kmeans").note
    assert twice.clusters().table.equals(ev.clusters().table)  # the first one carried over
    assert not twice.clusters("kmeans").table["segment"].str.startswith("cluster").any()


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"embeddings": np.zeros((5, 3))}, ValueError, "5 rows but the analysis has 1797"),
    ({"embeddings": np.full((1797, 2), np.nan)}, ValueError, "NaN"),
    ({"embeddings": np.zeros(1797)}, ValueError, "2-D"),
    ({"name": "ink"}, ValueError, "already a feature"),
    ({"k": 5000}, ValueError, "k must be an integer from 2 to the 1797 rows"),
    ({"k": 1}, ValueError, "k must be"),
    ({"method": "hdbscan"}, ValueError, "method must be one of"),
    ({"embeddings": "caption"}, KeyError, "names no feature column"),
    ({"embeddings": "ink"}, TypeError, "not text"),
])
def test_clear_errors(clustered: tuple, kwargs: dict, error: type, match: str) -> None:
    before, _, _ = clustered
    with pytest.raises(error, match=match):
        before.with_clusters(**kwargs)


def test_images_from_files_are_kept_out_of_features_and_shown(tmp_path, digits: tuple) -> None:
    frame, images, _, proba = digits
    rows = np.arange(0, 1797, 9)
    paths = []
    for i in rows:
        path = tmp_path / f"{i}.png"
        Image.fromarray((images[i] * 15).astype(np.uint8)).save(path)
        paths.append(str(path))
    data = frame.iloc[rows].assign(path=paths)
    ev = el.Analysis.from_predictions(data, y_true="digit", y_pred=proba[rows].argmax(axis=1),
                                      id="id", images="path")
    assert "path" not in ev.features.columns and ev.images.tolist() == paths
    found = ev.with_clusters(k=4)
    assert "16×16 grey levels" in found.clusters().note and found.clusters().table["n"].sum() == 200
    with pytest.raises(ValueError, match="got 3 images for 200 rows"):
        el.Analysis.from_predictions(data, y_true="digit", y_pred=data["digit"], images=paths[:3])


def test_text_clusters_find_a_planted_topic_and_name_its_terms() -> None:
    tweets = load_tweets().sample(6000, random_state=0).reset_index(drop=True)
    topic = tweets["text"].str.contains(r"\bclaritin", case=False).to_numpy()
    rng = np.random.default_rng(0)
    labels = tweets["sentiment"].to_numpy()
    noise = rng.random(len(tweets)) < 0.1  # a model right on 90 % of the other tweets
    other = np.where(labels == "negative", "positive", "negative")
    pred = np.where(topic | noise, other, labels)
    ev = el.Analysis.from_predictions(tweets, y_true="sentiment", y_pred=pred, id="id",
                                      features=["text", "confidence"])
    found = ev.with_clusters("text", seed=0)
    worst = found.clusters().table.loc["c1"]
    assert "claritin" in worst["terms"] and "TF-IDF" in found.clusters().note
    assert topic[found.mask(found.clusters().cohort("c1"))].mean() >= 0.8


def test_without_embeddings_a_declared_text_column_is_embedded() -> None:
    tweets = load_tweets().sample(3000, random_state=1).reset_index(drop=True)
    ev = el.Analysis.from_predictions(tweets, y_true="sentiment", y_pred=tweets["sentiment"],
                                      id="id", features=["confidence"], text="text")
    note = ev.with_clusters(method="kmeans", seed=0).clusters().note
    assert "text of 'text'" in note and "TF-IDF" in note


def test_regression_clusters_around_large_residuals() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 2))
    y = x[:, 0] + rng.normal(scale=0.1, size=600)
    off = x[:, 1] > 1.2
    pred = np.where(off, y + 3, y + rng.normal(scale=0.1, size=600))
    ev = el.Analysis.from_predictions({"a": x[:, 0]}, y_true=y, y_pred=pred)
    found = ev.with_clusters(x, k=6)
    assert off[found.mask(found.clusters().cohort("c1"))].mean() >= 0.9


@pytest.mark.parametrize("wrong", [1.0, 0.8])
def test_a_failing_region_ranks_above_errors_scattered_over_the_embedding(wrong: float) -> None:
    """Many random errors (10 %) and a tight blob (2 %) the model gets ``wrong`` of: the
    mixture also gathers the random errors into clusters of pure errors spread over the whole
    embedding (the old ranking, by the clusters' own error rate, put one first); ranked by
    their region of the embedding, the blob is c1."""
    rng = np.random.default_rng(0)
    n, d = 20_000, 16
    z = rng.normal(size=(n, d)).astype(np.float32)
    blob = np.zeros(n, dtype=bool)
    blob[: n // 50] = True
    z[blob, :4] += 3.0
    y = rng.integers(0, 2, n)
    flipped = (blob & (rng.random(n) < wrong)) | (rng.random(n) < 0.1)
    ev = el.Analysis.from_predictions({"x": rng.random(n)}, y_true=y,
                                      y_pred=np.where(flipped, 1 - y, y))
    found = ev.with_clusters(z, seed=0)
    worst = found.mask(found.clusters().cohort("c1"))
    assert blob[worst].mean() >= 0.9 and blob[worst].sum() >= 0.5 * blob.sum()
    table = found.clusters().table
    named = table.drop(index="rest")  # the pooled clusters' regions, pooled too
    assert table["region_n"].sum() == n and named["region_ci_low"].is_monotonic_decreasing
    assert table.loc["c1", "core"] >= 0.9 and table.loc["c1", "region_error_rate"] >= wrong - 0.1
    # the random errors are still gathered into clusters of pure errors, now ranked low
    assert table["error_rate"].drop(index="c1").max() == 1.0 or table.loc["rest", "lift"] > 1


def test_kmeans_clusters_are_their_own_regions(clustered: tuple) -> None:
    before, _, _ = clustered
    table = before.with_clusters(method="kmeans", seed=0).clusters().table
    assert (table["core"] == 1).all() and table["region_n"].equals(table["n"])
    assert np.allclose(table["region_ci_low"], table["ci_low"])
