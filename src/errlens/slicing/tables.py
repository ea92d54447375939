"""Per-feature slice tables: one row per segment with its error statistics.

>>> import errlens as el
>>> ev = el.Analysis.from_predictions({"g": ["a", "a", "b", "b"]}, y_true=[0, 1, 0, 1],
...                                   y_pred=[0, 1, 1, 0])
>>> slice_table(ev)[["segment", "n", "errors", "lift"]].values.tolist()
[['b', 2, 2, 2.0], ['a', 2, 0, 0.0]]

:func:`slice_table_from_counts` builds the same table from counts alone (the engines' path):

>>> from errlens.slicing.metrics import GroupCounts
>>> counts = GroupCounts(n=np.array([2, 2]), errors=np.array([0, 2]))
>>> slice_table_from_counts(["g"], [["a", "b"]], [counts])[["segment", "lift"]].values.tolist()
[['b', 2.0], ['a', 0.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control, hypergeom

from errlens.base import inputs
from errlens.base.stats import wilson_interval
from errlens.slicing.counting import NumpyCounting
from errlens.slicing.metrics import GroupCounts
from errlens.slicing.segment_cache import segments_at

if TYPE_CHECKING:
    from errlens.data.evaldata import EvalData
    from errlens.slicing.segments import Segments

COLUMNS = ("feature", "segment", "code", "n", "errors", "error_rate", "ci_low", "ci_high",
           "lift", "error_share")
# Columns where smaller is the interesting end; everything else sorts descending.
_ASCENDING = ("feature", "segment", "code", "p_value", "p_adjusted")


def slice_table(
    analysis: EvalData,
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
    seg = segments_at(analysis) if segments is None else segments
    names = list(seg.features) if features is None else inputs.names(features, arg="features")
    columns = [seg.index(f) for f in names]
    check_table_options(min_size=min_size, fdr=fdr)
    counts = NumpyCounting(analysis, seg).segment_counts(names, cohort, metric=metric,
                                                        label=label)
    return slice_table_from_counts(names, [seg.labels[j] for j in columns], counts,
                                   metric=metric, min_size=min_size, sort=sort, fdr=fdr,
                                   confidence=confidence)


def check_table_options(*, min_size: int, fdr: float | None) -> None:
    """Refuse a bad ``min_size`` or ``fdr`` before anything is counted."""
    if int(min_size) != min_size or min_size < 0:
        raise ValueError(f"min_size must be a non-negative integer, got {min_size!r}")
    if fdr is not None and not 0 < fdr < 1:
        raise ValueError(f"fdr is a false discovery rate between 0 and 1 (e.g. 0.05), got {fdr}")


def slice_table_from_counts(
    features: Sequence[str],
    labels: Sequence[Sequence[str]],
    counts: Sequence[GroupCounts],
    *,
    metric: str = "error_rate",
    min_size: int = 1,
    sort: str | None = "lift",
    fdr: float | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The :func:`slice_table` of per-segment counts: ``counts[i]`` holds the segments
    ``labels[i]`` of ``features[i]``, each feature's segments covering the same rows (the
    cohort). Adds the Wilson interval, lift, error share, the metric's columns, the tests
    (with ``fdr``), drops segments under ``min_size`` rows and sorts.

    >>> counts = GroupCounts(n=np.array([6, 4]), errors=np.array([1, 3]))
    >>> table = slice_table_from_counts(["x"], [["lo", "hi"]], [counts], fdr=0.5)
    >>> table[["segment", "n", "errors", "significant"]].values.tolist()
    [['hi', 4, 3, True], ['lo', 6, 1, False]]
    >>> table["lift"].round(3).tolist()
    [1.875, 0.417]
    """
    check_table_options(min_size=min_size, fdr=fdr)
    if not len(features) == len(labels) == len(counts):
        raise ValueError(f"features, labels and counts must have the same length, got "
                         f"{len(features)}, {len(labels)} and {len(counts)}")
    for name, names, part in zip(features, labels, counts, strict=True):
        if not len(names) == len(part.n) == len(part.errors):
            raise ValueError(f"{name!r} has {len(names)} segments but {len(part.n)} counts")
    if not counts:
        return pd.DataFrame(columns=list(COLUMNS))
    parts = [part.columns(metric, confidence=confidence, ci=False) for part in counts]
    sizes = [len(names) for names in labels]
    table = pd.DataFrame({
        "feature": np.repeat(np.asarray(features, dtype=object), sizes),
        "segment": np.asarray([label for names in labels for label in names], dtype=object),
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
        # every feature's segments cover the cohort, so the first one gives its totals
        add_tests(table, int(counts[0].n.sum()), int(counts[0].errors.sum()), fdr)
    if sort is not None:
        if sort not in table.columns:
            raise ValueError(f"cannot sort by {sort!r}; columns are {list(table.columns)}")
        table = table.sort_values(
            [sort, "n"], ascending=[sort in _ASCENDING, False], kind="stable", na_position="last"
        ).reset_index(drop=True)
    return table


def add_tests(table: pd.DataFrame, rows: int, errors: int, fdr: float) -> None:
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
