"""Embedding clusters (``Analysis.with_clusters``): do they find a planted failure, how fast.

Run without arguments. Precision / recall / F1 against the planted rows of ``c1`` (the cluster
errlens ranks worst), of c1..c3 together and of the best-matching cluster, for the error-aware
``domino`` mixture and ``kmeans`` on the same embeddings, on:

1. digits, one writing style (the smaller k-means half of one digit's images) predicted as
   the next digit, the rest predicted out of fold by a logistic regression; each of the 10
   digits once;
2. digits, 10 % of the images inverted (16 − pixel), a logistic regression trained on the
   upright rest predicting them (its own failures, nothing flipped by hand);
3. tweets, a topic's predictions flipped (TF-IDF + SVD embeddings of the text), the rest
   predicted out of fold by a logistic regression on TF-IDF;
4. scale: 1M × 64 Gaussian embeddings with a planted error blob among 10 % random errors:
   time and peak memory (``--quick``: 100,000 rows and only this part, for ``make bench``);
   then 100,000 rows with the blob only 70 % wrong.

For the tweets it also prints what each method's ``c1`` is (size, error rate, ``core``, the
error rate of its region of the embedding, top terms), as it may be a failure not planted.

Peers: sliceguard and Domino are tried from PyPI in a throwaway venv (``/tmp``) beforehand;
the script says whether they import here.
"""

from __future__ import annotations

import importlib.util
import sys
import time
import tracemalloc
import warnings

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict

import errlens as el
from errlens.datasets import load_digits, load_tweets


def scores(ev: el.Analysis, planted: np.ndarray) -> dict[str, float]:
    """Precision / recall of c1, of c1..c3 together and of the best-F1 cluster against the
    planted rows."""
    column = ev.features["cluster"].to_numpy()
    top3 = np.isin(column, ["c1", "c2", "c3"])
    hits3 = (planted & top3).sum()
    out: dict[str, float] = {"top3_precision": hits3 / max(top3.sum(), 1),
                             "top3_recall": hits3 / planted.sum()}
    best = (0.0, 0.0, 0.0)
    for label in ev.clusters().labels:
        inside = column == label
        hits = (planted & inside).sum()
        p, r = hits / max(inside.sum(), 1), hits / planted.sum()
        f1 = 2 * p * r / (p + r) if hits else 0.0
        if label == "c1":
            out.update(c1_precision=p, c1_recall=r)
        best = max(best, (f1, p, r))
    out.update(best_f1=best[0], best_precision=best[1], best_recall=best[2])
    return out


def compare(ev: el.Analysis, planted: np.ndarray, embeddings: object, seed: int,
            c1: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Scores of both methods; appends to ``c1`` what each method's c1 is (size, error rate,
    the share of its rows in its own region of the embedding, top terms)."""
    out = {}
    for method in ("domino", "kmeans"):
        start = time.perf_counter()
        found = ev.with_clusters(embeddings, method=method, seed=seed)
        out[method] = {**scores(found, planted), "seconds": time.perf_counter() - start}
        if c1 is not None:
            row = found.clusters().table.loc["c1"]
            c1.append(f"  {method} c1: {row.n} rows, error rate {row.error_rate:.2f}, core "
                      f"{row.core:.2f}, region error rate {row.region_error_rate:.2f}, terms: "
                      f"{', '.join(row.terms[:5])}")
    return out


def report(title: str, runs: list[dict[str, dict[str, float]]]) -> None:
    print(f"\n{title} ({len(runs)} runs, means)")
    print(f"{'method':8} {'c1 prec':>8} {'c1 rec':>7} {'top3 prec':>9} {'top3 rec':>8} "
          f"{'best F1':>8} {'best prec':>9} {'best rec':>8} {'s/run':>6}")
    for method in ("domino", "kmeans"):
        m = pd.DataFrame([run[method] for run in runs]).mean()
        print(f"{method:8} {m.c1_precision:8.2f} {m.c1_recall:7.2f} {m.top3_precision:9.2f} "
              f"{m.top3_recall:8.2f} {m.best_f1:8.2f} {m.best_precision:9.2f} "
              f"{m.best_recall:8.2f} {m.seconds:6.2f}")


def digits_style() -> None:
    frame, images = load_digits()
    pixels = images.reshape(len(images), -1)
    y = frame["digit"].to_numpy()
    proba = cross_val_predict(LogisticRegression(max_iter=2000), pixels, y, cv=5,
                              method="predict_proba")
    runs = []
    for digit in range(10):
        rows = np.flatnonzero(y == digit)
        half = KMeans(2, n_init=5, random_state=digit).fit_predict(pixels[rows])
        planted = np.zeros(len(y), dtype=bool)
        planted[rows[half == np.argmin(np.bincount(half))]] = True
        pred = np.where(planted, (y + 1) % 10, proba.argmax(axis=1))
        ev = el.Analysis.from_predictions(frame[["id", "digit"]], y_true="digit", y_pred=pred,
                                          id="id", images=images)
        runs.append(compare(ev, planted, None, seed=digit))
    report("digits: one writing style of one digit mispredicted (pixels + PCA)", runs)


def digits_inverted() -> None:
    frame, images = load_digits()
    y = frame["digit"].to_numpy()
    pixels = images.reshape(len(y), -1)
    upright = cross_val_predict(LogisticRegression(max_iter=2000), pixels, y, cv=5,
                                method="predict_proba")
    runs = []
    for seed in range(5):
        planted = np.random.default_rng(seed).random(len(y)) < 0.1
        shown = np.where(planted[:, None, None], 16 - images, images)
        model = LogisticRegression(max_iter=2000).fit(pixels[~planted], y[~planted])
        proba = upright.copy()
        proba[planted] = model.predict_proba(shown[planted].reshape(-1, 64))
        ev = el.Analysis.from_predictions(frame[["id", "digit"]], y_true="digit", proba=proba,
                                          id="id", images=shown)
        runs.append(compare(ev, planted, None, seed=seed))
    report("digits: 10 % inverted, predicted by a model trained upright", runs)


def tweets_topic() -> None:
    tweets = load_tweets().reset_index(drop=True)
    texts, labels = tweets["text"].to_numpy(), tweets["sentiment"].to_numpy()
    tfidf = TfidfVectorizer(min_df=2, sublinear_tf=True).fit_transform(texts)
    pred = cross_val_predict(LogisticRegression(max_iter=1000), tfidf, labels, cv=5)
    print(f"\ntweets: {len(tweets):,} rows, the model's own error rate "
          f"{(pred != labels).mean():.2f}")
    for topic in ("weather", "claritin", "coachella"):
        planted = tweets["text"].str.contains(rf"\b{topic}", case=False).to_numpy()
        other = np.where(labels == "negative", "positive", "negative")
        ev = el.Analysis.from_predictions(tweets, y_true="sentiment",
                                          y_pred=np.where(planted, other, pred), id="id",
                                          features=["text", "confidence"])
        c1: list[str] = []
        runs = [compare(ev, planted, "text", seed=0, c1=c1)]
        report(f"tweets: '{topic}' ({planted.sum()} rows) predictions flipped "
               "(TF-IDF + TruncatedSVD of the text)", runs)
        print("\n".join(c1))


def scale(n: int, wrong: float = 1.0) -> None:
    """``n`` × 64 Gaussian embeddings, 10 % random errors and a planted blob (2 %, shifted
    by 3 on 4 dimensions) of which the model gets ``wrong`` wrong."""
    d = 64
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(n, d)).astype(np.float32)
    planted = np.zeros(n, dtype=bool)
    planted[:n // 50] = True
    embeddings[planted, :4] += 3.0
    y = rng.integers(0, 2, n)
    noise = rng.random(n) < 0.1
    x = rng.random(n)
    pred = np.where((planted & (rng.random(n) < wrong)) | noise, 1 - y, y)
    ev = el.Analysis.from_predictions({"x": x}, y_true=y, y_pred=pred)
    print(f"\nscale: {n:,} × {d} float32 embeddings ({embeddings.nbytes / 2**20:.0f} MiB), "
          f"2 % planted ({wrong:.0%} of it wrong), 10 % random errors")
    for method in ("domino", "kmeans"):
        tracemalloc.start()
        start = time.perf_counter()
        found = ev.with_clusters(embeddings, method=method)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        s = scores(found, planted)
        print(f"{method:8} {seconds:6.1f} s, peak {peak:,.0f} MiB above the inputs, c1 precision "
              f"{s['c1_precision']:.2f} recall {s['c1_recall']:.2f}")


def peers() -> None:
    print("\npeers in this environment:")
    for name in ("sliceguard", "domino"):
        print(f"  {name}: {'importable' if importlib.util.find_spec(name) else 'not installed'}")


if __name__ == "__main__":
    warnings.filterwarnings("ignore", category=ConvergenceWarning)  # logistic on inverted digits
    el.Analysis.from_predictions({"x": [0.0, 1.0] * 20}, y_true=[0, 1] * 20,
                                 y_pred=[0] * 40).with_clusters(k=2)  # imports, first calls
    if "--quick" in sys.argv:
        scale(100_000)
        raise SystemExit
    peers()
    digits_style()
    digits_inverted()
    tweets_topic()
    scale(1_000_000)
    scale(100_000, wrong=0.7)
