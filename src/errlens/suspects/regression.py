"""Regression suspects: rows whose residual is an outlier on a robust (median / MAD) scale."""

from __future__ import annotations

import numpy as np

# MAD of a normal sample is 0.6745 σ (Iglewicz & Hoaglin's modified z-score uses the same).
MAD_TO_SIGMA = 1.482602218505602
# Mean absolute deviation of a normal sample is sqrt(2/π) σ, the fallback when MAD is zero.
MEANAD_TO_SIGMA = 1.2533141373155001
DEFAULT_THRESHOLD = 3.5


def robust_z(residual: np.ndarray) -> np.ndarray:
    """Residuals centred on their median and scaled by 1.4826 × MAD (robust standard score).

    When more than half the residuals are equal (MAD = 0) the mean absolute deviation is used
    instead; if every residual is equal, every score is 0.

    >>> robust_z(np.array([0.0, 1.0, -1.0, 2.0, -2.0, 30.0])).round(2).tolist()
    [-0.22, 0.22, -0.67, 0.67, -1.12, 13.26]
    """
    centred = residual - np.median(residual)
    scale = MAD_TO_SIGMA * np.median(np.abs(centred))
    if scale == 0:
        scale = MEANAD_TO_SIGMA * np.mean(np.abs(centred))
    if scale == 0:
        return np.zeros_like(centred)
    return centred / scale
