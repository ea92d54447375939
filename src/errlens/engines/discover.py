"""SliceLine discovery with the level counts done in an engine.

The lattice logic is :mod:`errlens.slicing.discovery`'s (same candidates, bounds, pruning, ranking
and tie order, so the same slices). What changes is where cells are counted: all feature sets
that can hold a candidate at the start of a level are counted in ONE engine query
(:func:`errlens.engines.counts.count_keys`), then the level is replayed set by set exactly as
in memory; since the k-th score only rises during a level, the prefetched sets cover every set the
in-memory search would count. Errors are 0/1 (classifiers).

>>> import numpy as np
>>> codes = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 25)
>>> errors = np.array([1, 0, 0, 0] * 25)
>>> def count(sets):
...     out = {}
...     for s in sets:
...         key = np.ravel_multi_index(tuple(codes[:, f] for f in s), (2,) * len(s))
...         out[s] = (np.bincount(key, minlength=2 ** len(s)),
...                   np.bincount(key, weights=errors, minlength=2 ** len(s)))
...     return out
>>> top = search_levels(count, [2, 2], n=100, errors=25, k=1, min_support=10).slices[0]
>>> top.predicates, top.size
(((0, 0), (1, 0)), 25)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import combinations

import numpy as np

from errlens.slicing.discovery import (
    MAX_CELLS,
    FoundSlice,
    SliceSearch,
    _check_params,
    _min_support,
    _with_tolerance,
)
from errlens.slicing.discovery_lattice import Cells, candidate_cells, score, score_upper_bound

Counter = Callable[[list[tuple[int, ...]]], dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]]]
"""Feature sets → (rows, errors) per cell of each set, C-order over the set's codes."""


def search_levels(
    count: Counter, cards: list[int], *, n: int, errors: int, k: int = 10, max_level: int = 3,
    min_support: int | float | None = None, alpha: float = 0.95,
) -> SliceSearch:
    """Exact top-``k`` SliceLine slices, counting with ``count`` (one call per level)."""
    k, max_level, alpha = _check_params(k, max_level, alpha)
    support = _min_support(min_support, n)
    average = errors / n if n else 0.0
    state = _State(k=k, alpha=alpha, support=support, average=average, n=n)
    evaluated: list[int] = []
    found: list[int] = []
    if average > 0:
        for level in range(1, min(max_level, len(cards)) + 1):
            sets = list(combinations(range(len(cards)), level))
            counted, n_candidates = state.run_level(level, sets, cards, count)
            evaluated.append(counted)
            found.append(n_candidates)
            if not state.previous:
                break
    return SliceSearch(slices=state.ranked(cards), n=n, average_error=average,
                       min_support=support, alpha=alpha, evaluated=evaluated, candidates=found)


class _State:
    def __init__(self, *, k: int, alpha: float, support: int, average: float, n: int) -> None:
        self.k, self.alpha, self.support, self.average, self.n = k, alpha, support, average, n
        self.previous: dict[tuple[int, ...], Cells] = {}
        self.sets: list[tuple[int, ...]] = []
        self.top: tuple[np.ndarray, ...] = (
            np.empty(0), np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64),
            np.empty(0),
        )

    def threshold(self) -> float:
        scores = self.top[0]
        return float(scores[-1]) if len(scores) == self.k else 0.0

    def _candidate(self, shape: tuple[int, ...], features: tuple[int, ...]
                   ) -> tuple[np.ndarray, np.ndarray | None] | None:
        if len(features) == 1:
            return np.ones(shape[0], dtype=bool), None
        parents = candidate_cells(features, shape, self.previous)
        if parents is None:
            return None
        ub = score_upper_bound(parents, support=self.support, alpha=self.alpha, n=self.n,
                               average=self.average)
        candidate = parents.valid & (ub > 0) & (ub >= _with_tolerance(self.threshold()))
        return (candidate, parents.max_error) if candidate.any() else None

    def run_level(self, level: int, sets: list[tuple[int, ...]], cards: list[int],
                  count: Counter) -> tuple[int, int]:
        shapes = {s: tuple(cards[f] for f in s) for s in sets}
        wanted = [s for s in sets if self._candidate(shapes[s], s) is not None]
        for s in wanted:
            if math.prod(shapes[s]) > MAX_CELLS:
                raise ValueError(
                    f"features {list(s)} span {math.prod(shapes[s]):,} combinations of codes, "
                    f"more than {MAX_CELLS:,}: lower max_level or group rare categories"
                )
        counts = count(wanted) if wanted else {}
        current: dict[tuple[int, ...], Cells] = {}
        counted = n_candidates = 0
        for features in sets:
            picked = self._candidate(shapes[features], features)
            if picked is None:
                continue
            candidate, bound = picked
            size, errs = counts[features]
            errs = np.asarray(errs, dtype=np.float64)
            max_error = (errs > 0).astype(np.float64) if bound is None else np.minimum(1.0, bound)
            cells = Cells(size=np.asarray(size, dtype=np.int64), errors=errs,
                          max_error=max_error, valid=np.zeros(len(errs), dtype=bool))
            counted += 1
            cells.valid = candidate & (cells.size >= self.support) & (cells.errors > 0)
            n_candidates += int(candidate.sum())
            if cells.valid.any():
                current[features] = cells
                self._push(features, cells)
        self.previous = current
        return counted, n_candidates

    def _push(self, features: tuple[int, ...], cells: Cells) -> None:
        flat = np.flatnonzero(cells.valid)
        scores = score(cells.size[flat], cells.errors[flat], n=self.n, average=self.average,
                       alpha=self.alpha)
        keep = scores > 0
        if not keep.any():
            return
        self.sets.append(features)
        flat = flat[keep]
        new = (scores[keep], np.full(len(flat), len(self.sets) - 1, dtype=np.int64), flat,
               cells.size[flat], cells.errors[flat])
        merged = [np.concatenate([old, add]) for old, add in zip(self.top, new, strict=True)]
        order = np.lexsort((merged[2], merged[1], -merged[0]))[: self.k]
        self.top = tuple(column[order] for column in merged)

    def ranked(self, cards: list[int]) -> list[FoundSlice]:
        result = []
        for value, set_index, cell, size, errs in zip(*self.top, strict=True):
            features = self.sets[set_index]
            codes = np.unravel_index(int(cell), tuple(cards[f] for f in features))
            result.append(FoundSlice(
                predicates=tuple((int(f), int(c)) for f, c in zip(features, codes, strict=True)),
                size=int(size), errors=float(errs), score=float(value),
            ))
        return result
