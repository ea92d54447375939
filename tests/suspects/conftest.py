"""Shared, module-cached analyses for the suspects tests (fitting is the slow part)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import errlens as el
from errlens.datasets import load_digits

NOISE_SEED = 0


def plant_flips(labels: np.ndarray, rate: float, n_classes: int, seed: int) -> np.ndarray:
    """Flip ``rate`` of the labels to a different class chosen uniformly (fixed seed)."""
    rng = np.random.default_rng(seed)
    flipped = labels.copy()
    chosen = rng.random(len(labels)) < rate
    flipped[chosen] = (labels[chosen] + rng.integers(1, n_classes, chosen.sum())) % n_classes
    return flipped


def random_proba(
    n: int, k: int, seed: int, *, sharpness: float = 1.5
) -> tuple[np.ndarray, np.ndarray]:
    """Labels and softmax probabilities that mostly, not always, agree with them."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) * sharpness
    logits[np.arange(n), labels] += rng.uniform(0, 3)
    proba = np.exp(logits)
    return labels, proba / proba.sum(axis=1, keepdims=True)


@pytest.fixture(scope="session")
def digits_noisy() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Digits frame, labels with 10 % planted flips, and the mask of flipped rows."""
    frame, _ = load_digits()
    truth = frame["digit"].to_numpy()
    noisy = plant_flips(truth, 0.10, 10, NOISE_SEED)
    return frame, noisy, noisy != truth


@pytest.fixture(scope="session")
def digits_ev(digits_noisy: tuple[pd.DataFrame, np.ndarray, np.ndarray]) -> el.Analysis:
    """Out-of-fold logistic regression on the noisy digits (≈1.5 s)."""
    frame, noisy, _ = digits_noisy
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    return el.Analysis.from_estimator(
        model, frame.drop(columns=["id", "digit"]), noisy, id=frame["id"], cv=5, progress=False
    )
