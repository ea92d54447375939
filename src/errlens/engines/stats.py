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

from errlens.slicing.metrics import _PROPORTIONS, BINARY_METRICS, CLASS_METRICS, METRICS
from errlens.stats import wilson_interval


def check_metric(metric: str, task: str, classes: list, label: object) -> int | None:
    """Validate ``metric`` for a classifier; the class index it is computed for, if any."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {METRICS}")
    if metric not in ("error_rate", "accuracy", *CLASS_METRICS, *BINARY_METRICS):
        raise ValueError(f"{metric!r} needs a regression; this analysis is {task}")
    if metric in BINARY_METRICS and task != "binary":
        raise ValueError(f"{metric!r} is defined for binary tasks; use recall / precision "
                         "with label= for a multiclass task")
    if metric not in (*CLASS_METRICS, *BINARY_METRICS):
        if label is not None:
            raise ValueError(f"label= is only used by per-class metrics, not {metric!r}")
        return None
    if label is None:
        if task != "binary":
            raise ValueError(f"{metric!r} is per class: pass label= one of {classes}")
        return 1
    if label not in classes:
        raise KeyError(f"label {label!r} is not a class; classes are {classes}")
    return list(classes).index(label)


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
    numerator, denominator = _fraction(cm, metric, label_index)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(denominator > 0, numerator / np.maximum(denominator, 1), np.nan)
        whole = numerator.sum() / denominator.sum() if denominator.sum() else np.nan
    out[metric] = value
    if metric in _PROPORTIONS:
        low, high = wilson_interval(numerator, denominator, confidence=confidence)
        out[f"{metric}_ci_low"], out[f"{metric}_ci_high"] = low, high
    out[f"{metric}_delta"] = value - whole
    return out


def _fraction(cm: np.ndarray, metric: str, c: int | None) -> tuple[np.ndarray, np.ndarray]:
    n = cm.sum(axis=(1, 2))
    if metric == "accuracy":
        return np.trace(cm, axis1=1, axis2=2).astype(np.float64), n
    assert c is not None
    tp = cm[:, c, c]
    predicted = cm[:, :, c].sum(axis=1)
    actual = cm[:, c, :].sum(axis=1)
    if metric == "precision":
        return tp, predicted
    if metric == "recall":
        return tp, actual
    if metric == "f1":
        return 2 * tp, predicted + actual
    if metric == "fnr":
        return actual - tp, actual
    return predicted - tp, n - actual
