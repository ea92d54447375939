"""Concept slices on a planted topic failure: precision and recall against the planted rows.

The tweets (``errlens.datasets.load_tweets``, 38,158 rows), a real model (TF-IDF + logistic
regression by SGD, shuffled 5-fold out-of-fold predictions)), and a
planted failure: every tweet about self-driving cars (matched by a pattern none of the methods
sees: ``self-driving|driverless|autonomous|car(s)|vehicle(s)``) is predicted wrong. Each method's
top-1 and top-5 slices are scored against the planted rows: precision (share of the slice's
rows that are planted) and recall (share of planted rows the slice, or the union of the top 5,
covers). Methods: text slices (``ev.discover`` over terms), concept slices (``ev.concepts``),
embedding clusters (``ev.with_clusters("text")``: TF-IDF + SVD, error-aware "domino" and plain
"kmeans"). sliceguard and Domino's own package are not measured (not installed here).

    .venv/bin/python benchmarks/concept_slices.py
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline

import errlens as el
from errlens.datasets import load_tweets

TOPIC = r"self[- ]?driving|driverless|autonomous|\bcars?\b|vehicles?"


def planted() -> tuple[el.Analysis, np.ndarray]:
    tweets = load_tweets()
    model = make_pipeline(TfidfVectorizer(min_df=3, sublinear_tf=True),
                          SGDClassifier(loss="log_loss", alpha=2e-5, random_state=0))
    folds = StratifiedKFold(5, shuffle=True, random_state=0)  # the rows are grouped by topic
    pred = cross_val_predict(model, tweets["text"], tweets["sentiment"], cv=folds)
    truth = tweets["sentiment"].to_numpy()
    classes = np.array(sorted(set(truth)))
    topic = tweets["text"].str.lower().str.contains(TOPIC).to_numpy()
    rng = np.random.default_rng(0)
    other = classes[(np.searchsorted(classes, truth) + rng.integers(1, 3, len(truth))) % 3]
    pred = np.where(topic & (pred == truth), other, pred)
    ev = el.Analysis.from_predictions(tweets[["text"]], y_true=truth, y_pred=pred,
                                      id=tweets["id"], text="text")
    return ev, topic


def scored(ev: el.Analysis, topic: np.ndarray, cohorts: list[el.Cohort]) -> dict[str, float]:
    masks = [ev.mask(c) for c in cohorts[:5]]
    if not masks:
        return {"p1": np.nan, "r1": np.nan, "p5": np.nan, "r5": np.nan, "min_p3": np.nan}
    union = np.logical_or.reduce(masks)
    return {
        "p1": topic[masks[0]].mean(), "r1": (topic & masks[0]).sum() / topic.sum(),
        "min_p3": min(topic[m].mean() for m in masks[:3]),
        "p5": topic[union].mean(), "r5": (topic & union).sum() / topic.sum(),
    }


def main() -> None:
    start = time.perf_counter()
    ev, topic = planted()
    print(f"data + out-of-fold model: {time.perf_counter() - start:.1f} s; {ev.n:,} tweets, "
          f"{topic.sum():,} planted ({topic.mean():.1%}), error rate {ev.error_rate:.1%}")
    rows = []
    start = time.perf_counter()
    found = ev.discover(k=5, max_level=2)
    rows.append(("text slices (discover)", time.perf_counter() - start,
                 found.table["slice"].iloc[0] if len(found) else "-",
                 scored(ev, topic, [found.cohort(i) for i in range(len(found))])))
    ev.concepts(k=5)  # first call builds the vocabulary (shared with discover above)
    start = time.perf_counter()
    concepts = ev.concepts(k=5)
    rows.append(("concept slices", time.perf_counter() - start,
                 concepts.table["concept"].iloc[0] if len(concepts) else "-",
                 scored(ev, topic, [concepts.cohort(i) for i in range(len(concepts))])))
    for method in ("domino", "kmeans"):
        start = time.perf_counter()
        clustered = ev.with_clusters("text", method=method, k=10)
        seconds = time.perf_counter() - start
        table = clustered.clusters().table
        labels = list(table.sort_values("error_rate", ascending=False).index)
        rows.append((f"clusters ({method}, TF-IDF+SVD)", seconds, str(labels[0]), scored(
            clustered, topic, [el.Cohort.segment("cluster", lab) for lab in labels])))
    print("\n| method | s | top-1 P | top-1 R | min P top-3 | top-5 P | top-5 R | top slice |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for name, seconds, top, s in rows:
        print(f"| {name} | {seconds:.2f} | {s['p1']:.2f} | {s['r1']:.2f} | {s['min_p3']:.2f} | "
              f"{s['p5']:.2f} | {s['r5']:.2f} | {top[:80]} |")


if __name__ == "__main__":
    main()
