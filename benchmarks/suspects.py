"""How well and how fast errlens finds mislabeled rows.

1. Quality: real data with 10 % and 20 % of labels flipped to another class (fixed seed):
   UCI Adult (gradient boosting, out-of-fold via Analysis.from_estimator), CrowdFlower tweets
   (TF-IDF + logistic regression, out-of-fold), scikit-learn digits (logistic regression, and
   kNN label disagreement without a model). Precision, recall, F1 of the flagged set and
   precision@k of the ranking (k = number of planted flips), for every method.
2. Speed and memory against cleanlab's find_label_issues (n_jobs=1) at 100k and 1M rows × 10
   classes of synthetic probabilities, each measurement in its own process; flags must match.

Run: ``.venv/bin/python benchmarks/suspects.py [--quick] [--no-write]``. Writes the tables to
the ``## Suspects`` section of benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import errlens as el
from errlens.datasets import load_adult, load_digits, load_tweets
from errlens.suspects.confident import FILTERS

from timing import preload

HERE = Path(__file__).parent
SEED = 0
NOISE_RATES = (0.10, 0.20)


def plant_flips(codes: np.ndarray, rate: float, n_classes: int, seed: int) -> np.ndarray:
    """Flip ``rate`` of the labels to a uniformly chosen other class."""
    rng = np.random.default_rng(seed)
    flipped = codes.copy()
    chosen = rng.random(len(codes)) < rate
    flipped[chosen] = (codes[chosen] + rng.integers(1, n_classes, chosen.sum())) % n_classes
    return flipped


def datasets(quick: bool) -> list[tuple[str, pd.DataFrame, pd.Series, Any, list[str]]]:
    """(name, X, y, model, methods) for each real dataset."""
    adult = load_adult()
    tweets = load_tweets()
    digits, _ = load_digits()
    adult = adult.sample(6000, random_state=SEED) if quick else adult
    tweets = tweets.sample(3000 if quick else 12000, random_state=SEED)
    text_model = make_pipeline(
        ColumnTransformer([("tfidf", TfidfVectorizer(min_df=2, sublinear_tf=True), "text")]),
        LogisticRegression(max_iter=1000),
    )
    return [
        ("adult", adult.drop(columns=["income", "split"]).set_index("id"), adult["income"],
         HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=SEED),
         list(FILTERS)),
        ("tweets", tweets[["id", "text"]].set_index("id"), tweets["sentiment"], text_model,
         list(FILTERS)),
        ("digits", digits.drop(columns=["digit"]).set_index("id"), digits["digit"],
         make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)), [*FILTERS, "knn"]),
    ]


def scores(ev: el.Analysis, method: str, planted: set[Any]) -> dict[str, Any]:
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = ev.suspects(method).table
    seconds = time.perf_counter() - start
    flagged = set(table.index[table["flagged"].to_numpy()])
    hits = len(flagged & planted)
    precision = hits / len(flagged) if flagged else 0.0
    recall = hits / len(planted)
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    at_k = len(set(table.index[: len(planted)]) & planted) / len(planted)
    return {"flagged": len(flagged), "precision": precision, "recall": recall, "f1": f1,
            "p_at_k": at_k, "seconds": seconds}


def quality(quick: bool) -> pd.DataFrame:
    rows = []
    for name, X, y, model, methods in datasets(quick):
        classes = sorted(y.unique())
        codes = pd.Categorical(y, categories=classes).codes.astype(np.int64)
        for rate in NOISE_RATES:
            noisy_codes = plant_flips(codes, rate, len(classes), SEED)
            noisy = pd.Series(np.asarray(classes)[noisy_codes], index=X.index)
            start = time.perf_counter()
            with threadpool_limits(1):  # OpenMP on a shared 2-core box thrashes otherwise
                ev = el.Analysis.from_estimator(
                    model, X.reset_index(drop=True), noisy.to_numpy(), id=X.index.to_numpy(),
                    cv=5, progress=False,
                )
            fit = time.perf_counter() - start
            planted = set(X.index[noisy_codes != codes])
            for method in methods:
                row = {"dataset": name, "rows": len(X), "noise": rate, "method": method,
                       "planted": len(planted), "fit_s": fit}
                rows.append(row | scores(ev, method, planted))
            print(f"  {name} {rate:.0%}: fitted in {fit:.1f}s", flush=True)
    return pd.DataFrame(rows)


def speed(quick: bool) -> pd.DataFrame:
    sizes = (100_000,) if quick else (100_000, 1_000_000)
    filters = ("prune_by_noise_rate", "confident_learning", "low_self_confidence") if quick \
        else FILTERS
    rows = []
    for n in sizes:
        for filter_by in filters:
            def child(mode: str, n: int = n, filter_by: str = filter_by) -> dict[str, Any]:
                out = subprocess.run(
                    [sys.executable, str(HERE / "suspects_speed.py"), mode, str(n), "10",
                     filter_by],
                    capture_output=True, text=True, check=True,
                )
                return json.loads(out.stdout.strip().splitlines()[-1])

            timed = child("race")
            e_mb, c_mb = child("errlens")["peak_mb"], child("cleanlab")["peak_mb"]
            rows.append({
                "rows": n, "filter_by": filter_by,
                "errlens_s": timed["errlens_s"], "cleanlab_s": timed["cleanlab_s"],
                "speedup": timed["cleanlab_s"] / timed["errlens_s"],
                "errlens_mb": e_mb, "cleanlab_mb": c_mb, "memory_ratio": e_mb / c_mb,
                "flags": timed["flags"], "same_flags": timed["same_flags"],
            })
            print(f"  {n:,} {filter_by}: {rows[-1]['speedup']:.2f}× faster, "
                  f"same flags {rows[-1]['same_flags']}", flush=True)
    return pd.DataFrame(rows)


def markdown(frame: pd.DataFrame, floats: str = "{:.3f}") -> str:
    def cell(value: Any) -> str:
        if isinstance(value, (float, np.floating)):
            return floats.format(value)
        return str(value)

    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join(lines)


def write_readme(text: str, heading: str = "## Suspects\n") -> None:
    """Replace the part of README.md from ``heading`` to the next heading of the same level
    (or append it), leaving every other section alone."""
    path = HERE / "README.md"
    current = path.read_text() if path.exists() else "# Benchmarks\n"
    section = current.find("\n## Suspects\n")
    start = current.find("\n" + heading, section) if section >= 0 else -1
    if start < 0:
        current = current.rstrip("\n") + "\n\n" + text
    else:
        level = "\n" + heading.split(" ")[0] + " "
        end = min((i for i in (current.find(level, start + 1), current.find("\n## ", start + 1))
                   if i >= 0), default=-1)
        current = current[: start + 1] + text + (current[end + 1 :] if end >= 0 else "")
    path.write_text(current)


SPEED_NOTE = (
    "Synthetic probabilities (10 classes, 10 % flipped labels). errlens: a cold "
    "`Analysis.suspects(filter_by)` call (confident learning, ranking, table, fingerprint); "
    "cleanlab: `find_label_issues(labels, pred_probs, filter_by=..., n_jobs=1)` (flags "
    "only). Seconds: best of 5 runs each, both tools in one process with their runs "
    "interleaved (the shared machine's load drifts; this hits both alike). Peak memory: "
    "traced (tracemalloc) over one call, each tool in its own fresh process. `same_flags`: "
    "identical flagged rows.\n\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small samples, 100k rows only")
    parser.add_argument("--no-write", action="store_true", help="do not touch README.md")
    parser.add_argument("--speed-only", action="store_true", help="rerun only the cleanlab race")
    args = parser.parse_args()
    if args.speed_only:
        fast = speed(args.quick)
        print(fast.to_string(index=False, float_format="{:.3f}".format))
        if not args.no_write:
            write_readme("### Speed and memory against cleanlab\n\n" + SPEED_NOTE
                         + markdown(fast) + "\n", heading="### Speed and memory")
        return
    # the first fit's timer must not hold the imports its first calls make (~2.8 s cold)
    print(f"imports of every errlens module and their dependencies: {preload():.1f} s")
    print("quality on planted label noise ...", flush=True)
    qual = quality(args.quick)
    print("speed and memory against cleanlab ...", flush=True)
    fast = speed(args.quick)
    qual_table = qual[["dataset", "rows", "noise", "method", "planted", "flagged", "precision",
                       "recall", "f1", "p_at_k"]]
    fits = qual.groupby(["dataset", "noise"])["fit_s"].first().round(1)
    print(qual_table.to_string(index=False, float_format="{:.3f}".format))
    print(fast.to_string(index=False, float_format="{:.3f}".format))
    import cleanlab
    import sklearn

    text = (
        "## Suspects\n\n"
        f"`benchmarks/suspects.py{' --quick' if args.quick else ''}` "
        f"({time.strftime('%Y-%m-%d')}, Python {platform.python_version()}, cleanlab "
        f"{cleanlab.__version__}, scikit-learn {sklearn.__version__}, a shared 2-core machine).\n\n"
        "### Finding planted label flips\n\n"
        f"Labels flipped to a uniformly chosen other class with seed {SEED}; out-of-fold "
        "probabilities (5 folds). Adult: HistGradientBoosting on all 14 features; tweets: "
        f"{qual.loc[qual.dataset == 'tweets', 'rows'].iloc[0]:,}-tweet sample, TF-IDF + "
        "logistic regression; digits: standardised pixels + logistic regression, and `knn` = "
        "10 nearest neighbours' vote on the pixels (no model). precision@k: share of planted "
        "flips among the first k ranked rows, k = number of flips. Out-of-fold fit seconds: "
        + ", ".join(f"{d} {n:.0%} {s}" for (d, n), s in fits.items()) + ".\n\n"
        + markdown(qual_table) + "\n\n"
        "### Speed and memory against cleanlab\n\n" + SPEED_NOTE
        + markdown(fast) + "\n"
    )
    if not args.no_write:
        write_readme(text)
        print(f"wrote {HERE / 'README.md'}")


if __name__ == "__main__":
    main()
