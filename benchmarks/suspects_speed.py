"""Timing and memory measurements of suspect detection against cleanlab.

Usage (called by benchmarks/suspects.py): ``python suspects_speed.py race N K FILTER_BY`` prints
one JSON line with both tools' best-of-5 seconds (runs interleaved in this process), the number
of flags and whether both flagged the same rows; ``python suspects_speed.py TOOL N K FILTER_BY``
(TOOL = errlens or cleanlab) prints the peak traced memory of one call in a fresh process.
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

REPEATS = 5


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


def flags_hash(flagged: np.ndarray) -> str:
    return hashlib.sha256(flagged.astype(np.int64).tobytes()).hexdigest()[:16]


def race(n: int, k: int, filter_by: str) -> dict[str, float | int | str]:
    """Both tools timed in one process, their runs interleaved (so load drift hits both)."""
    labels, proba = synthetic(n, k)
    calls = {tool: runner(tool, labels, proba, filter_by) for tool in ("errlens", "cleanlab")}
    best = {tool: float("inf") for tool in calls}
    hashes = {}
    for _ in range(REPEATS):
        for tool, call in calls.items():
            start = time.perf_counter()
            flagged = call()
            best[tool] = min(best[tool], time.perf_counter() - start)
            hashes[tool] = flags_hash(flagged)
    return {"errlens_s": best["errlens"], "cleanlab_s": best["cleanlab"],
            "flags": int(flagged.size), "same_flags": hashes["errlens"] == hashes["cleanlab"]}


def peak(tool: str, n: int, k: int, filter_by: str) -> dict[str, float]:
    """Peak traced memory of one call of ``tool`` (run this in a fresh process)."""
    labels, proba = synthetic(n, k)
    call = runner(tool, labels, proba, filter_by)
    tracemalloc.start()
    call()
    high = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"peak_mb": high / 2**20}


def main() -> None:
    mode, n, k, filter_by = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    warnings.simplefilter("ignore")
    result = race(n, k, filter_by) if mode == "race" else peak(mode, n, k, filter_by)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
