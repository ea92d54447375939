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

from errlens.slicing.metrics import error_columns, fraction_columns, fraction_from_confusion


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
    out = pd.DataFrame(error_columns(n, errors, int(n.sum()), confidence=confidence))
    if metric == "error_rate":
        return out
    numerator, denominator = fraction_from_confusion(cm, metric, label_index)
    for name, column in fraction_columns(metric, numerator, denominator,
                                         confidence=confidence).items():
        out[name] = column
    return out
