"""Suspect rate per value of a column such as ``annotator`` or ``source``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from errlens.base.stats import wilson_interval

MISSING = "(missing)"


def rates_by_value(
    values: pd.Series, flagged: np.ndarray, *, confidence: float = 0.95
) -> pd.DataFrame:
    """Rows, suspects, suspect rate with its Wilson interval and lift over the overall rate,
    per value of ``values`` (missing values form their own group), highest rate first.

    >>> table = rates_by_value(pd.Series(["a", "a", "b", "b"]), np.array([True, True, False, True]))
    >>> table[["suspects", "rate", "lift"]].round(2).to_dict("list")
    {'suspects': [2, 1], 'rate': [1.0, 0.5], 'lift': [1.33, 0.67]}
    """
    keys = values.astype(object).where(values.notna(), MISSING)
    grouped = pd.DataFrame({"value": keys.to_numpy(), "flag": flagged}).groupby(
        "value", sort=False
    )["flag"]
    n = grouped.size()
    suspects = grouped.sum().astype(np.int64)
    low, high = wilson_interval(suspects.to_numpy(), n.to_numpy(), confidence=confidence)
    overall = flagged.mean() if flagged.size else np.nan
    out = pd.DataFrame(
        {
            "n": n.to_numpy(),
            "suspects": suspects.to_numpy(),
            "rate": suspects.to_numpy() / n.to_numpy(),
            "ci_low": low,
            "ci_high": high,
        },
        index=pd.Index(n.index, name="value"),
    )
    out["lift"] = out["rate"] / overall if overall > 0 else np.nan
    return out.sort_values(["rate", "n"], ascending=[False, False], kind="stable")
