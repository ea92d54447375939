"""Planted-noise detection on scikit-learn digits (10 % uniform flips, seed 0).

Floors are set from benchmarks/suspects.py (measured: prune_by_noise_rate recall 0.90,
precision 0.76; knn recall 0.89, precision 0.92; see benchmarks/README.md) minus a margin of
about 0.1 so that library upgrades that shift a few rows do not fail, while a broken detector
(random flags give precision ≈ 0.10) does.
"""

from __future__ import annotations

import numpy as np
import pytest

import errlens as el

FLOORS = {
    # method: (recall floor, precision floor)
    "prune_by_noise_rate": (0.80, 0.65),
    "confident_learning": (0.70, 0.70),
    "low_self_confidence": (0.75, 0.75),
    "knn": (0.78, 0.80),
}


@pytest.mark.parametrize("method", FLOORS)
def test_planted_flips_are_found(digits_ev: el.Analysis, digits_noisy, method: str) -> None:
    _, _, flipped = digits_noisy
    truth = set(digits_ev.ids[flipped])
    flagged = set(digits_ev.suspects(method).flagged_ids)
    recall = len(flagged & truth) / len(truth)
    precision = len(flagged & truth) / len(flagged)
    recall_floor, precision_floor = FLOORS[method]
    assert recall >= recall_floor, f"{method} recall {recall:.3f}"
    assert precision >= precision_floor, f"{method} precision {precision:.3f}"


def test_ranking_puts_flips_first(digits_ev: el.Analysis, digits_noisy) -> None:
    _, _, flipped = digits_noisy
    top = digits_ev.suspects(rank_by="normalized_margin", top=100).table.index
    precision_at_100 = np.isin(top, digits_ev.ids[flipped]).mean()
    assert precision_at_100 >= 0.9
