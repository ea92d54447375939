"""Agreement statistics at scale: errlens vs the libraries it builds on, in one run.

Simulated panel: N samples × 5 annotators (3 classes, 20 % wrong answers, 30 % of judgements
missing). Times the events → label matrix step, majority vote (vs cleanlab's
``get_majority_vote_label``), pairwise Cohen's kappa (vs scikit-learn called directly), Fleiss'
kappa and Krippendorff's alpha (the ``krippendorff`` package, which errlens wraps).

    .venv/bin/python benchmarks/agreement.py [--quick]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import cleanlab.multiannotator as cl_multi
import krippendorff
import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

from errlens.annotators.agreement import (
    fleiss_kappa,
    krippendorff_alpha,
    label_matrix,
    majority_vote,
    pairwise_kappa,
)

CLASSES = np.array(["negative", "neutral", "positive"], dtype=object)


def best_of(fn: Any, repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def panel(n: int, annotators: int = 5, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, n)
    codes = np.where(rng.random((n, annotators)) < 0.2, rng.integers(0, 3, (n, annotators)),
                     truth[:, None]).astype(float)
    codes[rng.random((n, annotators)) < 0.3] = np.nan
    codes[:, 0] = np.where(np.isnan(codes[:, 0]), truth, codes[:, 0])
    rows, cols = np.nonzero(~np.isnan(codes))
    events = pd.DataFrame({"seq": np.arange(len(rows)), "op": "set", "sample_id": rows,
                           "new_label": CLASSES[codes[rows, cols].astype(int)],
                           "author": np.array([f"a{k}" for k in range(annotators)])[cols],
                           "role": "annotator"})
    return events, codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20k samples instead of 200k")
    args = parser.parse_args()
    n = 20_000 if args.quick else 200_000
    repeat = 3
    events, codes = panel(n)
    print(f"{n:,} samples × 5 annotators, {len(events):,} judgement events")

    t_matrix, matrix = best_of(lambda: label_matrix(events), repeat)
    t_ours, ours = best_of(lambda: majority_vote(matrix, tie_break=("class_order",)), repeat)
    t_cl, theirs = best_of(lambda: cl_multi.get_majority_vote_label(pd.DataFrame(codes)), repeat)
    clear = ~ours["tie"].to_numpy()
    same = (ours["label"].to_numpy()[clear] == CLASSES[theirs[clear]]).mean()
    t_pair, _ = best_of(lambda: pairwise_kappa(matrix), repeat)

    def sklearn_pairs() -> list[float]:
        out = []
        for i in range(codes.shape[1]):
            for j in range(i + 1, codes.shape[1]):
                both = ~np.isnan(codes[:, i]) & ~np.isnan(codes[:, j])
                out.append(cohen_kappa_score(codes[both, i], codes[both, j]))
        return out

    t_skl, _ = best_of(sklearn_pairs, repeat)
    t_fleiss, kappa = best_of(lambda: fleiss_kappa(matrix), repeat)
    t_alpha, alpha = best_of(lambda: krippendorff_alpha(matrix), repeat)
    t_kpkg, alpha_pkg = best_of(lambda: krippendorff.alpha(
        reliability_data=codes.T, level_of_measurement="nominal"), repeat)
    assert abs(alpha - alpha_pkg) < 1e-9

    rows = [
        ("events -> label matrix", t_matrix, None, None),
        ("majority vote (tie-breaks)", t_ours, "cleanlab get_majority_vote_label", t_cl),
        ("pairwise Cohen's kappa (10 pairs)", t_pair, "sklearn cohen_kappa_score loop", t_skl),
        ("Fleiss' kappa (missing allowed)", t_fleiss, None, None),
        ("Krippendorff's alpha (labels)", t_alpha, "krippendorff.alpha on codes", t_kpkg),
    ]
    print(f"\n{'step':36} {'errlens s':>10} {'peer':34} {'peer s':>8} {'ratio':>7}")
    for name, ours_t, peer, peer_t in rows:
        ratio = f"{ours_t / peer_t:7.2f}" if peer_t else "      -"
        peer_s = f"{peer_t:8.3f}" if peer_t else "       -"
        print(f"{name:36} {ours_t:10.3f} {peer or '-':34} {peer_s} {ratio}")
    print(f"\nmajority label equal to cleanlab's on {clear.mean():.1%} untied rows: {same:.2%}; "
          f"Fleiss kappa {kappa:.4f}, alpha {alpha:.4f} (package {alpha_pkg:.4f})")


if __name__ == "__main__":
    main()
