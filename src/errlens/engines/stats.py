"""Group statistics from per-group confusion counts pulled back from an engine.

The columns and numbers are those of :func:`errlens.slicing.metrics.group_stats`, which computes
the same figures from per-row codes; here the engine has already counted ``cm[g, true, pred]``.

>>> import numpy as np
>>> cm = np.array([[[3, 1], [0, 0]], [[0, 0], [2, 2]]])  # two groups, two classes
>>> stats_from_confusion(cm, metric="recall", label_index=1)[["n", "errors", "recall"]].values
array([[4. , 1. , nan],
       [4. , 2. , 0.5]])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from errlens.slicing.metrics import _PROPORTIONS, fraction_from_confusion
from errlens.stats import wilson_interval


def stats_from_confusion(
    cm: np.ndarray, *, metric: str = "error_rate", label_index: int | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Rows, errors, error rate, Wilson CI, lift, error share (and ``metric``) per group of
    ``cm`` (groups × true × predicted counts)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    n = cm.sum(axis=(1, 2)).astype(np.int64)
    errors = (n - np.trace(cm, axis1=1, axis2=2)).astype(np.int64)
    rows, total_errors = int(n.sum()), int(errors.sum())
    overall = total_errors / rows if rows else np.nan
    low, high = wilson_interval(errors, n, confidence=confidence)
    size = len(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, errors / np.maximum(n, 1), np.nan)
        out = pd.DataFrame({
            "n": n, "errors": errors, "error_rate": rate, "ci_low": low, "ci_high": high,
            "lift": rate / overall if overall else np.full(size, np.nan),
            "error_share": errors / total_errors if total_errors else np.full(size, np.nan),
        })
    if metric == "error_rate":
        return out
    numerator, denominator = fraction_from_confusion(cm, metric, label_index)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(denominator > 0, numerator / np.maximum(denominator, 1), np.nan)
        whole = numerator.sum() / denominator.sum() if denominator.sum() else np.nan
    out[metric] = value
    if metric in _PROPORTIONS:
        low, high = wilson_interval(numerator, denominator, confidence=confidence)
        out[f"{metric}_ci_low"], out[f"{metric}_ci_high"] = low, high
    out[f"{metric}_delta"] = value - whole
    return out
