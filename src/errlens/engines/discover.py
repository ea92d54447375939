"""SliceLine discovery with the level counts done in an engine.

The search is :func:`errlens.slicing.discovery.search_counts`, the one the in-memory path runs
(same candidates, bounds, pruning, ranking and tie order, so the same slices); only the counting
differs: :class:`LevelCounts` answers every feature set that can hold a candidate at the start of
a level with ONE engine query (:func:`errlens.engines.counts.count_keys`). Errors are 0/1
(classifiers).

>>> import duckdb, narwhals as nw
>>> from errlens.slicing.discovery.search import search_counts
>>> rel = duckdb.sql("SELECT i % 2 AS __c0, i // 2 % 2 AS __c1, "
...                  "CAST(i % 4 = 0 AS INT) AS __e FROM range(100) t(i)")
>>> counts = LevelCounts(nw.from_native(rel), ["__c0", "__c1"], [2, 2], errors=25)
>>> top = search_counts(counts, n=100, error_sum=25, k=1, min_support=10).slices[0]
>>> top.predicates, top.size
(((0, 0), (1, 0)), 25)
"""

from __future__ import annotations

import math
from typing import Any

import narwhals as nw
import numpy as np

from errlens.engines.counts import count_keys, flat_key


class LevelCounts:
    """Cell counts of feature sets over the code columns of ``frame``, a level per query."""

    batched = True

    def __init__(self, frame: nw.LazyFrame[Any], columns: list[str], cards: list[int], *,
                 errors: int, error_column: str = "__e") -> None:
        self.frame, self.columns, self.cards = frame, columns, cards
        self.error_column = error_column
        self.max_error = 1.0 if errors else 0.0
        self._counts: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = {}

    def prefetch(self, sets: list[tuple[int, ...]]) -> None:
        """Count every set of ``sets`` in one query (the previous level's counts are dropped)."""
        keys = {s: flat_key([self.columns[f] for f in s], [self.cards[f] for f in s])
                for s in sets}
        sizes = {s: math.prod(self.cards[f] for f in s) for s in sets}
        counted = count_keys(self.frame, keys, sizes, weight=self.error_column)
        self._counts = {s: (n, np.asarray(w, dtype=np.float64)) for s, (n, w) in counted.items()}

    def count(self, features: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Rows and errors per cell of ``features``, from the level's query."""
        return self._counts[features]

    def level_one_max(self, feature: int) -> np.ndarray:
        """0/1 errors: a code's largest error is 1 exactly when it has an error."""
        return (self._counts[(feature,)][1] > 0).astype(np.float64)
