"""One timing / memory measurement of suspect detection, run in its own process.

Usage (called by benchmarks/suspects.py): ``python suspects_speed.py TOOL N K FILTER_BY``
prints one JSON line: best-of-3 seconds, peak traced memory (MB) of one more run, the number of
flags and a hash of the flagged row positions (to check both tools flag the same rows).
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable

import numpy as np

REPEATS = 3


def synthetic(n: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Given labels (10 % flipped from the truth) and softmax probabilities of a fair model."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), truth] += 2.5
    proba = np.exp(logits)
    proba /= proba.sum(axis=1, keepdims=True)
    labels = truth.copy()
    flip = rng.random(n) < 0.10
    labels[flip] = (truth[flip] + rng.integers(1, k, flip.sum())) % k
    return labels, proba


def runner(
    tool: str, labels: np.ndarray, proba: np.ndarray, filter_by: str
) -> Callable[[], np.ndarray]:
    """A no-argument call returning the flagged row positions."""
    if tool == "cleanlab":
        from cleanlab.filter import find_label_issues

        return lambda: np.flatnonzero(
            find_label_issues(labels, proba, filter_by=filter_by, n_jobs=1)
        )
    import errlens as el

    ev = el.Analysis.from_predictions(
        {"row": np.arange(len(labels))}, y_true=labels, proba=proba, proba_out_of_fold=True
    )

    def run() -> np.ndarray:
        ev.__dict__.pop("_errlens_suspects_cache", None)  # measure a cold call every time
        flagged = ev.suspects(filter_by).flagged_ids
        return np.sort(ev.ids.get_indexer(flagged))

    return run


def main() -> None:
    tool, n, k, filter_by = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    warnings.simplefilter("ignore")
    labels, proba = synthetic(n, k)
    call = runner(tool, labels, proba, filter_by)
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        flagged = call()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    call()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps({
        "seconds": min(times),
        "peak_mb": peak / 2**20,
        "flags": int(flagged.size),
        "flags_hash": hashlib.sha256(flagged.astype(np.int64).tobytes()).hexdigest()[:16],
    }))


if __name__ == "__main__":
    main()
