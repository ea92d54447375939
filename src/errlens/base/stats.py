"""Small statistical helpers shared by every table errlens computes."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm


def wilson_interval(
    errors: ArrayLike, n: ArrayLike, *, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for the proportion ``errors / n``, vectorised.

    Rows with ``n == 0`` get ``(nan, nan)``.

    >>> low, high = wilson_interval([5], [100])
    >>> round(float(low[0]), 4), round(float(high[0]), 4)
    (0.0215, 0.1118)
    """
    k = np.asarray(errors, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    z = norm.ppf(0.5 + confidence / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / m
        denom = 1 + z**2 / m
        centre = (p + z**2 / (2 * m)) / denom
        half = z * np.sqrt(p * (1 - p) / m + z**2 / (4 * m**2)) / denom
    # The exact ends: no errors means a lower bound of exactly 0 (not 1e-17), all errors 1.
    low = np.where(m > 0, np.where(k == 0, 0.0, np.clip(centre - half, 0, 1)), np.nan)
    high = np.where(m > 0, np.where(k == m, 1.0, np.clip(centre + half, 0, 1)), np.nan)
    return np.atleast_1d(low), np.atleast_1d(high)
