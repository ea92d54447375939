"""Per-feature slice tables: one row per segment with its error statistics.

>>> import errlens as el
>>> ev = el.Analysis.from_predictions({"g": ["a", "a", "b", "b"]}, y_true=[0, 1, 0, 1],
...                                   y_pred=[0, 1, 1, 0])
>>> slice_table(ev)[["segment", "n", "errors", "lift"]].values.tolist()
[['b', 2, 2, 2.0], ['a', 2, 0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control, hypergeom

from errlens.base import inputs
from errlens.base.stats import wilson_interval
from errlens.slicing.metrics import MetricContext, group_arrays
from errlens.slicing.packed import packed_keys

if TYPE_CHECKING:
    from errlens.analysis import Analysis
    from errlens.slicing.segments import Segments

COLUMNS = ("feature", "segment", "code", "n", "errors", "error_rate", "ci_low", "ci_high",
           "lift", "error_share")
# Columns where smaller is the interesting end; everything else sorts descending.
_ASCENDING = ("feature", "segment", "code", "p_value", "p_adjusted")


def slice_table(
    analysis: Analysis,
    features: Sequence[str] | None = None,
    *,
    cohort: Any = None,
    metric: str = "error_rate",
    label: Any = None,
    min_size: int = 1,
    sort: str | None = "lift",
    fdr: float | None = None,
    confidence: float = 0.95,
    segments: Segments | None = None,
) -> pd.DataFrame:
    """Rows, errors, error rate, Wilson CI, lift and share of errors of every segment.

    Statistics are within ``cohort`` (all rows by default): lift is the segment's error rate
    over the cohort's. With ``fdr`` (e.g. 0.05), each segment gets a one-sided Fisher exact test
    that it is worse than the rest of the cohort (``p_value``), Benjamini-Hochberg adjusted
    over the whole table (``p_adjusted``), and ``significant = p_adjusted ≤ fdr``. Segments with
    fewer than ``min_size`` rows are left out; an empty cohort gives an empty table.
    """
    seg = analysis.segments if segments is None else segments
    names = list(seg.features) if features is None else inputs.names(features, arg="features")
    columns = [seg.index(f) for f in names]
    if int(min_size) != min_size or min_size < 0:
        raise ValueError(f"min_size must be a non-negative integer, got {min_size!r}")
    if fdr is not None and not 0 < fdr < 1:
        raise ValueError(f"fdr is a false discovery rate between 0 and 1 (e.g. 0.05), got {fdr}")
    mask = analysis.mask(cohort)
    ctx = MetricContext.build(analysis, mask, metric=metric, label=label, confidence=confidence)
    rows = ctx.positions
    counts = packed_keys(analysis, seg).counts(rows)
    parts = []
    for j in columns:
        codes = seg.codes[:, j]
        groups = None if metric == "error_rate" else codes if rows is None else codes[rows]
        parts.append(group_arrays(groups, len(seg.labels[j]), ctx, ci=False, counts=counts[j]))
    if not parts:
        return pd.DataFrame(columns=list(COLUMNS))
    sizes = [len(seg.labels[j]) for j in columns]
    table = pd.DataFrame({
        "feature": np.repeat(np.asarray(names, dtype=object), sizes),
        "segment": np.asarray([label for j in columns for label in seg.labels[j]], dtype=object),
        "code": np.concatenate([np.arange(size) for size in sizes]),
        **{key: np.concatenate([part[key] for part in parts]) for key in parts[0]},
    })
    low, high = wilson_interval(table["errors"].to_numpy(), table["n"].to_numpy(),
                                confidence=confidence)
    at = list(table.columns).index("error_rate") + 1
    table.insert(at, "ci_low", low)
    table.insert(at + 1, "ci_high", high)
    table = table[table["n"] >= min_size].reset_index(drop=True)
    if fdr is not None:
        _add_tests(table, ctx.rows, int(ctx.is_error.sum()), fdr)
    if sort is not None:
        if sort not in table.columns:
            raise ValueError(f"cannot sort by {sort!r}; columns are {list(table.columns)}")
        table = table.sort_values(
            [sort, "n"], ascending=[sort in _ASCENDING, False], kind="stable", na_position="last"
        ).reset_index(drop=True)
    return table


def _add_tests(table: pd.DataFrame, rows: int, errors: int, fdr: float) -> None:
    """One-sided Fisher exact test per segment (hypergeometric tail), then Benjamini-Hochberg."""
    if table.empty:
        table["p_value"] = table["p_adjusted"] = pd.Series(dtype=float)
        table["significant"] = pd.Series(dtype=bool)
        return
    p = hypergeom.sf(table["errors"].to_numpy() - 1, rows, errors, table["n"].to_numpy())
    p = np.clip(p, 0.0, 1.0)
    table["p_value"] = p
    table["p_adjusted"] = false_discovery_control(p, method="bh")
    table["significant"] = table["p_adjusted"] <= fdr
