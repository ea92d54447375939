"""The counting protocol (:class:`errlens.slicing.counting.Counting`) answered by an engine.

Every count is ``cm[group, true, predicted]`` over the coded rows of a
:class:`~errlens.engines.LazyAnalysis` (one flat key per grouping, counted by
:func:`~errlens.engines.counts.count_keys` in one query), turned into the same
:class:`~errlens.slicing.metrics.GroupCounts` the in-memory counter gives. The per-feature
counts of every row are read once, when the analysis is built (the summary and the
unfiltered tables reuse them).

>>> import duckdb
>>> from errlens.engines import LazyAnalysis
>>> rel = duckdb.sql("SELECT i AS id, i % 2 AS x, CAST(i % 2 AS VARCHAR) AS y, "
...                  "CAST(i % 3 = 0 AS INT)::VARCHAR AS p FROM range(12) t(i)")
>>> lazy = LazyAnalysis.from_duckdb(rel, y_true="y", y_pred="p", id="id")
>>> [c.n.tolist() for c in lazy.counting.segment_counts(["x"], None)]
[[6, 6]]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import narwhals as nw
import numpy as np

from errlens.engines.coded import code_column
from errlens.engines.counts import count_keys, flat_key
from errlens.slicing.metrics import GroupCounts, check_metric


class EngineCounting:
    """:class:`~errlens.slicing.counting.Counting` in DuckDB / Spark (one query per call).

    ``rows(cohort)`` gives the coded rows of a cohort; ``flagged(cohort)`` the coded rows with
    the source columns the cohort reads, and the cohort as a boolean expression over them
    (both from the :class:`~errlens.engines.LazyAnalysis` that owns this counter).
    """

    def __init__(
        self, classes: list[Any], task: str, definition: list[dict[str, Any]], *,
        rows: Callable[[Any], nw.LazyFrame[Any]],
        flagged: Callable[[Any], tuple[nw.LazyFrame[Any], nw.Expr]],
    ) -> None:
        self.classes, self.task, self.definition = classes, task, definition
        self.features = [d["feature"] for d in definition]
        self.rows, self.flagged = rows, flagged
        self._every_row: dict[str, np.ndarray] | None = None

    def feature_confusion(self, cohort: Any) -> dict[str, np.ndarray]:
        """``cm[segment, true, predicted]`` of every feature within ``cohort``, one query."""
        if cohort is None and self._every_row is not None:
            return self._every_row
        k = len(self.classes)
        keys = {f: self._confusion_key(nw.col(code_column(j)))
                for j, f in enumerate(self.features)}
        sizes = {d["feature"]: len(d["labels"]) * k * k for d in self.definition}
        counts = count_keys(self.rows(cohort), keys, sizes)
        out = {f: counts[f][0].reshape(-1, k, k) for f in self.features}
        if cohort is None:
            self._every_row = out
        return out

    def segment_counts(self, features: Sequence[str], cohort: Any, *,
                       metric: str = "error_rate", label: Any = None) -> list[GroupCounts]:
        index = check_metric(metric, self.task, self.classes, label)
        counts = self.feature_confusion(cohort)
        return [GroupCounts.from_confusion(counts[f], metric, index) for f in features]

    def cell_counts(self, feature_a: str, feature_b: str, cohort: Any, *,
                    metric: str = "error_rate", label: Any = None) -> GroupCounts:
        index = check_metric(metric, self.task, self.classes, label)
        k = len(self.classes)
        columns = [self.features.index(f) for f in (feature_a, feature_b)]
        sizes = [len(self.definition[j]["labels"]) for j in columns]
        cells = sizes[0] * sizes[1]
        key = self._confusion_key(flat_key([code_column(j) for j in columns], sizes))
        counts = count_keys(self.rows(cohort), {"cells": key}, {"cells": cells * k * k})
        return GroupCounts.from_confusion(counts["cells"][0].reshape(cells, k, k), metric, index)

    def confusion_counts(self, cohort: Any) -> tuple[np.ndarray, np.ndarray | None]:
        k = len(self.classes)
        if cohort is None:
            frame, inside = self.rows(None), nw.lit(1)
        else:
            frame, expr = self.flagged(cohort)
            inside = expr.cast(nw.Int64)
        # one query for both sides: the cohort's filter becomes one more key digit
        counts = count_keys(frame, {"cm": self._confusion_key(inside)}, {"cm": 2 * k * k})
        both = counts["cm"][0].reshape(2, k, k)
        return both[1], None if cohort is None else both[0]

    def _confusion_key(self, code: nw.Expr) -> nw.Expr:
        k = len(self.classes)
        return (code.cast(nw.Int64) * k + nw.col("__t")) * k + nw.col("__p")
