"""Cell counts of segment features and "contains" term features together, for the search.

A term is a feature with one code (``contains``): its cell holds the rows containing it, and a
slice never says "does not contain". A feature set without a term is counted by the tabular
:class:`~errlens.slicing.discovery.count.Counter`; one with terms intersects the terms' sorted
row lists (a few thousand rows each, not the whole data) and counts the segment codes of those
rows only, so no rows × terms matrix is ever dense.

>>> import numpy as np
>>> codes = np.array([[0], [1], [0], [1]])
>>> counts = TermCounts(codes, np.array([1.0, 0, 1, 1]), [2], [np.array([0, 2, 3])])
>>> counts.cards, [c.tolist() for c in counts.count((0, 1))]
([2, 1], [[2, 1], [2.0, 1.0]])
"""

from __future__ import annotations

import math

import numpy as np

from errlens.slicing.discovery.count import Counter


class TermCounts:
    """The :class:`~errlens.slicing.discovery.search.CellCounts` of ``codes`` (rows ×
    segment features, codes below ``cards``) followed by one feature per term, whose rows
    are ``term_rows[i]`` (sorted positions)."""

    batched = False
    """Counts one feature set at a time."""

    def __init__(self, codes: np.ndarray, errors: np.ndarray, cards: list[int],
                 term_rows: list[np.ndarray]) -> None:
        self.n_tabular = len(cards)
        self.cards = [*cards, *([1] * len(term_rows))]
        self.errors = errors
        self.codes = codes
        self.tabular = Counter(codes, errors, cards) if cards else None
        self.term_rows = term_rows
        self.max_error = float(errors.max(initial=0.0))
        self._intersections: dict[tuple[int, ...], np.ndarray] = {}

    def prefetch(self, sets: list[tuple[int, ...]]) -> None:
        """Nothing to do ahead: :meth:`count` is fast enough per set."""

    def level_one_max(self, feature: int) -> np.ndarray:
        """Largest single error of each code of ``feature``."""
        if feature < self.n_tabular:
            assert self.tabular is not None
            return self.tabular.level_one_max(feature)
        rows = self.term_rows[feature - self.n_tabular]
        return np.array([float(self.errors[rows].max(initial=0.0))])

    def count(self, features: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Rows (int64) and error sums (float64) per cell of ``features`` (C order)."""
        tabular = tuple(f for f in features if f < self.n_tabular)
        terms = tuple(f - self.n_tabular for f in features if f >= self.n_tabular)
        if not terms:
            assert self.tabular is not None
            return self.tabular.count(tabular)
        rows = self._rows(terms)
        if not tabular:
            return (np.array([len(rows)], dtype=np.int64),
                    np.array([float(self.errors[rows].sum())]))
        key = np.zeros(len(rows), dtype=np.intp)
        for f in tabular:  # terms come last (largest indices) with one code: C order holds
            key = key * self.cards[f] + self.codes[rows, f]
        n_cells = math.prod(self.cards[f] for f in tabular)
        size = np.bincount(key, minlength=n_cells).astype(np.int64)
        errors = np.bincount(key, weights=self.errors[rows], minlength=n_cells)
        return size, errors

    def _rows(self, terms: tuple[int, ...]) -> np.ndarray:
        """Rows containing every term of ``terms`` (the last intersection is kept: the search
        asks for the sets of one term prefix in a row)."""
        if len(terms) == 1:
            return self.term_rows[terms[0]]
        found = self._intersections.get(terms)
        if found is None:
            found = np.intersect1d(self._rows(terms[:-1]), self.term_rows[terms[-1]],
                                   assume_unique=True)
            self._intersections = {terms: found}
        return found
