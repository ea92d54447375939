"""Text slices: does discovery name a planted topic failure, and how fast is it at 1M texts?

Quality, on the real tweets (``errlens.datasets.load_tweets``): a TF-IDF + logistic-regression
model predicts the sentiment out of fold; then every tweet of one topic gets a wrong
prediction (the planted failure). A semantic topic is matched by a pattern of several words
that no method sees (self-driving cars, Apple, deflategate, airlines, weather); a lexical one
is a single word (google, apple, uber), where only that word's own slices can be pure.
Reported for errlens' text slices (``discover(k=10, max_level=2)``) and for k-means over
TF-IDF + SVD (LSA) embeddings, clusters ranked by error rate: precision (share of the slice's
rows that are planted) and recall (share of planted rows covered) of the top 1, 3 and 5, and
the issue's checks: the top slice names the topic, each of the top 3 is >= 80 % planted, the
top 5 cover >= 50 % of the planted rows. sliceguard / Domino are not measured (see README.md).

Speed, in a subprocess (its peak RSS is the figure): 1M short texts made of tweet words,
vocabulary (words + pairs, min_df 0.1 %) then discovery at levels 1 and 2, against
scikit-learn's ``CountVectorizer(ngram_range=(1, 2), binary=True, min_df=...)`` on the same
texts. Imports happen before every timer.

Run: ``python benchmarks/text_slices.py`` (no arguments; 5–15 minutes on 2 shared cores, mostly
CountVectorizer on the million texts; the speed part runs first; ``--quality``: the planted
topics only). Besides ``discover``, the tested per-term table ``ev.slices()`` (significant rows,
by lift) is scored the same way: it lists small topics whose words each fall under discovery's
``min_support``.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

import numpy as np

SEMANTIC = {
    "self-driving cars": r"self[- ]?driving|driverless|autonomous|\bcars?\b|vehicles?",
    "apple": r"\bapple\b|iphone|ipad|\bmac\b|aapl|\bios\b|itunes",
    "deflategate": r"deflategate|patriots|brady|\bnfl\b|footballs?",
    "airlines": r"@united|@usairways|@americanair|@southwestair|@jetblue|@virginamerica|flight",
    "weather": r"weather|\brain\b|\bsnow|storm|sunny|\bhot\b|\bcold\b",
}
"""Semantic topics: name -> the pattern (lower-cased text) that plants them."""
LEXICAL = ("google", "apple", "uber")
N_SPEED = 1_000_000


def plant(topic: str, semantic: bool) -> tuple[object, np.ndarray, np.ndarray]:
    """The tweets' analysis with ``topic``'s predictions wrong, the planted mask and the
    out-of-fold predictions' LSA embeddings."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline

    import errlens as el
    from errlens.datasets import load_tweets
    from errlens.slicing.text.tokens import term_mask

    tweets = load_tweets()
    texts = tweets["text"].fillna("").tolist()
    model = make_pipeline(TfidfVectorizer(min_df=2), LogisticRegression(max_iter=1000))
    folds = StratifiedKFold(5, shuffle=True, random_state=0)  # the file is sorted by topic
    pred = cross_val_predict(model, texts, tweets["sentiment"], cv=folds).astype(object)
    planted = (tweets["text"].fillna("").str.lower().str.contains(SEMANTIC[topic]).to_numpy()
               if semantic else term_mask(texts, topic))
    classes = sorted(tweets["sentiment"].unique())
    truth = tweets["sentiment"].to_numpy(dtype=object)
    pred[planted] = [classes[(classes.index(c) + 1) % 3] for c in truth[planted]]
    frame = tweets.assign(length=tweets["text"].str.len())
    ev = el.Analysis.from_predictions(frame, y_true="sentiment", y_pred=pred, id="id",
                                      text="text")
    tfidf = TfidfVectorizer(min_df=2, stop_words="english").fit_transform(texts)
    lsa = TruncatedSVD(100, random_state=0).fit_transform(tfidf)
    return ev, planted, lsa


def precision_recall(masks: list[np.ndarray], planted: np.ndarray) -> dict[str, list[float]]:
    """Precision and recall of the union of the top 1, 3 and 5 masks."""
    out: dict[str, list[float]] = {"precision": [], "recall": [], "top_precision_each": []}
    for top in (1, 3, 5):
        union = np.logical_or.reduce(masks[:top]) if masks else np.zeros_like(planted)
        out["precision"].append(float(planted[union].mean()) if union.any() else 0.0)
        out["recall"].append(float(planted[union].sum() / planted.sum()))
    out["top_precision_each"] = [float(planted[m].mean()) for m in masks[:3]]
    return out


def checks(found: dict[str, list[float]]) -> dict[str, bool]:
    """The issue's checks on one method's top 1 / 3 / 5 (see :func:`precision_recall`)."""
    each = found["top_precision_each"]
    return {"top names it": bool(each) and each[0] >= 0.8,
            "top 3 each >= 80 %": len(each) == 3 and min(each) >= 0.8,
            "top 5 cover >= 50 %": found["recall"][2] >= 0.5}


def quality(topic: str, semantic: bool) -> dict[str, object]:
    from sklearn.cluster import KMeans

    import errlens as el

    ev, planted, lsa = plant(topic, semantic)
    start = time.perf_counter()
    found = ev.discover(k=10, max_level=2)
    seconds = time.perf_counter() - start
    masks = [ev.mask(found.cohort(i)) for i in range(len(found))]
    table = ev.slices(fdr=0.05)  # one tested row per segment and per term, by lift
    table = table[table["significant"]].head(5)
    rows = [ev.mask(el.Cohort.contains(f, seg) if f in ev.text_columns
                    else ev.segments.cohort(f, int(code)))
            for f, seg, code in zip(table["feature"], table["segment"], table["code"],
                                    strict=True)]
    labels = KMeans(20, n_init=3, random_state=0).fit_predict(lsa)
    rates = [(ev.is_error[labels == c].mean(), c) for c in range(20)]
    clusters = [labels == c for _, c in sorted(rates, reverse=True)]
    best_share = max(float(planted[labels == c].mean()) for c in range(20))
    top = precision_recall(masks, planted)
    return {
        "topic": topic, "kind": "semantic" if semantic else "lexical",
        "planted": int(planted.sum()), "rows": ev.n,
        "error_rate": ev.error_rate, "seconds": seconds,
        "top_slices": found.to_frame()["slice"].head(5).tolist(),
        "text_slices": top,
        "slices_table": precision_recall(rows, planted),
        "top_rows": [f"{f} {seg}" for f, seg in zip(table["feature"], table["segment"],
                                                     strict=True)],
        "kmeans_lsa": {**precision_recall(clusters, planted), "best_cluster_share": best_share},
    }


def short_texts(n: int) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """``n`` short texts of 5-19 random tweet words, their word counts, 0/1 labels and
    predictions wrong on every text naming "sequel" or "google" and on 10 % of the rest
    (seeded; ``benchmarks/text_engines.py`` reads the same texts)."""
    from errlens.datasets import load_tweets

    rng = np.random.default_rng(0)
    words = np.array(" ".join(load_tweets()["text"].fillna("")).split(), dtype=object)
    lengths = rng.integers(5, 20, n)
    picks = words[rng.integers(0, len(words), int(lengths.sum()))]
    ends = np.cumsum(lengths)
    texts = [" ".join(picks[e - k:e]) for e, k in zip(ends, lengths, strict=True)]
    topic = np.array(["sequel" in t or "google" in t for t in texts])
    y = rng.integers(0, 2, n)
    pred = np.where(topic | (rng.random(n) < 0.1), 1 - y, y)
    return texts, lengths, y, pred


def speed() -> dict[str, float]:
    """Runs in its own process: vocabulary, discovery per level, CountVectorizer, peak RSS."""
    from sklearn.feature_extraction.text import CountVectorizer

    import errlens as el
    from errlens.slicing.text.vocabulary import vocabulary

    texts, lengths, y, pred = short_texts(N_SPEED)
    ev = el.Analysis.from_predictions({"text": texts, "length": lengths}, y_true=y,
                                      y_pred=pred, text="text")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out: dict[str, float] = {}
    start = time.perf_counter()
    voc = vocabulary(ev, "text")
    out["vocabulary_s"] = time.perf_counter() - start
    out["terms"], out["nonzeros"] = len(voc.terms), int(voc.matrix.nnz)
    for level in (1, 2):
        start = time.perf_counter()
        ev.discover(k=10, max_level=level)
        out[f"discover_level_{level}_s"] = time.perf_counter() - start
    out["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    out["rss_before_gb"] = rss_before / 1e6
    start = time.perf_counter()
    CountVectorizer(binary=True, ngram_range=(1, 2), min_df=voc.min_df).fit_transform(texts)
    out["countvectorizer_s"] = time.perf_counter() - start
    return out


def main() -> None:
    if "--quality" not in sys.argv:
        speed_report()
    for topic, semantic in [*((t, True) for t in SEMANTIC), *((t, False) for t in LEXICAL)]:
        result = quality(topic, semantic)
        print(f"\n== planted {result['kind']} topic {result['topic']!r}: {result['planted']} of "
              f"{result['rows']} tweets, error rate {result['error_rate']:.3f}; discover "
              f"{result['seconds']:.2f} s")
        print("   top slices:", result["top_slices"])
        print("   slices() top rows:", result["top_rows"])
        for name in ("text_slices", "slices_table", "kmeans_lsa"):
            r = result[name]
            print(f"   {name:12s} precision top1/3/5 "
                  + " / ".join(f"{p:.2f}" for p in r["precision"])
                  + "   recall top1/3/5 " + " / ".join(f"{p:.2f}" for p in r["recall"])
                  + "   each of top 3 " + " / ".join(f"{p:.2f}" for p in r["top_precision_each"]))
        print(f"   k-means best cluster: {result['kmeans_lsa']['best_cluster_share']:.2f} "
              "of its rows planted")
        for name in ("text_slices", "slices_table"):
            print(f"   checks, {name}: " + ", ".join(
                f"{check} {'yes' if ok else 'NO'}" for check, ok in checks(result[name]).items()))


def speed_report() -> None:
    print(f"\n== speed, {N_SPEED:,} short texts (subprocess)")
    done = subprocess.run([sys.executable, __file__, "--speed"], capture_output=True,
                          text=True, check=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    for key, value in figures.items():
        print(f"   {key:24s} {value:,.2f}")
    print(f"   CountVectorizer / errlens vocabulary: "
          f"{figures['countvectorizer_s'] / figures['vocabulary_s']:.1f}x")


if __name__ == "__main__":
    if sys.argv[1:] == ["--speed"]:
        print(json.dumps(speed()))
    else:
        main()
