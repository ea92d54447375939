"""Timing and memory measurements of suspect detection against cleanlab.

``benchmarks/suspects.py`` calls it for its speed table; on its own::

    .venv/bin/python benchmarks/suspects_speed.py                  # race, 100,000 rows, 10 classes
    .venv/bin/python benchmarks/suspects_speed.py race 1000000 10 both
    .venv/bin/python benchmarks/suspects_speed.py errlens 100000 10 confident_learning

``race`` prints one JSON line with both tools' best-of-5 seconds (runs interleaved in this
process), the number of flags and whether both flagged the same rows; ``errlens`` or
``cleanlab`` prints the peak traced memory of one call (run it in a fresh process).
"""

from __future__ import annotations

import argparse
import hashlib
import json
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
) -> tuple[Callable[[], None], Callable[[], np.ndarray]]:
    """A set-up to run untimed before each call, and a no-argument call returning the flagged
    row positions. errlens' set-up builds a fresh Analysis, so every call is cold whatever the
    analysis caches (and however it caches it)."""
    if tool == "cleanlab":
        from cleanlab.filter import find_label_issues

        return lambda: None, lambda: np.flatnonzero(
            find_label_issues(labels, proba, filter_by=filter_by, n_jobs=1)
        )
    import errlens as el

    fresh: list[el.Analysis] = []

    def setup() -> None:
        fresh[:] = [el.Analysis.from_predictions(
            {"row": np.arange(len(labels))}, y_true=labels, proba=proba, proba_out_of_fold=True
        )]

    def run() -> np.ndarray:
        ev = fresh[0]
        flagged = ev.suspects(filter_by).flagged_ids
        return np.sort(ev.ids.get_indexer(flagged))

    return setup, run


def flags_hash(flagged: np.ndarray) -> str:
    return hashlib.sha256(flagged.astype(np.int64).tobytes()).hexdigest()[:16]


def race(n: int, k: int, filter_by: str) -> dict[str, float | int | str]:
    """Both tools timed in one process, their runs interleaved (so load drift hits both)."""
    labels, proba = synthetic(n, k)
    calls = {tool: runner(tool, labels, proba, filter_by) for tool in ("errlens", "cleanlab")}
    best = {tool: float("inf") for tool in calls}
    hashes = {}
    for _ in range(REPEATS):
        for tool, (setup, call) in calls.items():
            setup()
            start = time.perf_counter()
            flagged = call()
            best[tool] = min(best[tool], time.perf_counter() - start)
            hashes[tool] = flags_hash(flagged)
    return {"errlens_s": best["errlens"], "cleanlab_s": best["cleanlab"],
            "flags": int(flagged.size), "same_flags": hashes["errlens"] == hashes["cleanlab"]}


def peak(tool: str, n: int, k: int, filter_by: str) -> dict[str, float]:
    """Peak traced memory of one call of ``tool`` (run this in a fresh process)."""
    labels, proba = synthetic(n, k)
    setup, call = runner(tool, labels, proba, filter_by)
    setup()
    call()  # what the first call imports is not the call's memory: load it before tracing
    setup()
    tracemalloc.start()
    call()
    high = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"peak_mb": high / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", nargs="?", default="race", choices=["race", "errlens", "cleanlab"],
                        help="race both tools' seconds, or one tool's peak memory (race)")
    parser.add_argument("rows", nargs="?", type=int, default=100_000, help="rows (100000)")
    parser.add_argument("classes", nargs="?", type=int, default=10, help="classes (10)")
    parser.add_argument("filter_by", nargs="?", default="confident_learning",
                        help="errlens' filter_by, cleanlab's name (confident_learning)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    result = (race(args.rows, args.classes, args.filter_by) if args.mode == "race"
              else peak(args.mode, args.rows, args.classes, args.filter_by))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
