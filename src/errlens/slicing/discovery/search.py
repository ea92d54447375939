"""Exact SliceLine search (Sagadeeva & Boehm, SIGMOD 2021) over integer segment codes.

A slice is a conjunction of at most ``max_level`` predicates ``feature == code``, at most one per
feature. Its score is ``alpha * (se / |S| / ē - 1) - (1 - alpha) * (n / |S| - 1)`` where ``se`` is
the sum of the per-row errors in the slice, ``|S|`` its size and ``ē`` the mean error. The search
returns the top-k slices with ``|S| >= min_support``, ``se > 0`` and a positive score, exactly.

The lattice is walked level by level as in the paper: a level-l candidate needs all its l parents
to be valid (evaluated, large enough, with errors) and a score upper bound, computed from the
smallest parent statistics, at least the current k-th score. Instead of sparse matrix products,
each feature set is counted at once (in memory: ``np.bincount`` over a combined integer key, see
:mod:`errlens.slicing.discovery.count`), and feature sets without any candidate are never
counted. Memory is O(n) plus dense per-cell statistics of one level.

The counting is a seam: :func:`search_counts` runs the same search over any
:class:`CellCounts` source, e.g. an engine that counts every candidate feature set of a level in
one query (:mod:`errlens.engines.discover`), so every path finds the same slices.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations
from typing import NamedTuple, Protocol

import numpy as np

from errlens.slicing.discovery.count import Counter
from errlens.slicing.discovery.lattice import Cells, candidate_cells, score, score_upper_bound

__all__ = [
    "CellCounts", "FoundSlice", "Progress", "SliceSearch", "find_slices", "resolve_min_support",
    "score", "search_counts", "slice_mask",
]

MAX_CELLS = 1 << 25
"""Largest number of cells (product of cardinalities) counted for one feature set."""


class Progress(NamedTuple):
    """Where a running search is: ``done`` of ``total`` feature sets of ``level`` examined."""

    level: int
    max_level: int
    done: int
    total: int


class CellCounts(Protocol):
    """Where the search gets its counts: per cell of a feature set (codes combined in C order),
    the number of rows and the sum of their errors."""

    cards: list[int]
    """Number of codes of each feature."""
    max_error: float
    """Largest single error (1.0 for 0/1 errors)."""
    batched: bool
    """True when counting is best done a level at a time (one engine query): the search then
    calls :meth:`prefetch` at the start of each level with every set it may count."""

    def prefetch(self, sets: list[tuple[int, ...]]) -> None:
        """Count ``sets`` now; :meth:`count` is then asked only for some of them."""

    def count(self, features: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Rows (int64) and error sums (float64) per cell of ``features``."""
        ...

    def level_one_max(self, feature: int) -> np.ndarray:
        """Largest single error per code of ``feature`` (bounds its children's scores)."""
        ...


@dataclass(frozen=True)
class FoundSlice:
    """One slice: ``predicates`` are ``(feature index, code)`` pairs in feature order."""

    predicates: tuple[tuple[int, int], ...]
    size: int
    errors: float
    score: float

    @property
    def level(self) -> int:
        """Number of predicates."""
        return len(self.predicates)


@dataclass(frozen=True)
class SliceSearch:
    """Result of :func:`find_slices`: the ranked slices and what the search did."""

    slices: list[FoundSlice]
    n: int
    average_error: float
    min_support: int
    alpha: float
    evaluated: list[int] = field(default_factory=list)
    """Feature sets counted per level (level 1 first)."""
    candidates: list[int] = field(default_factory=list)
    """Candidate slices per level after size and score pruning."""


def find_slices(
    codes: np.ndarray,
    errors: np.ndarray,
    *,
    k: int = 10,
    max_level: int = 3,
    min_support: int | float | None = None,
    alpha: float = 0.95,
    cardinalities: list[int] | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> SliceSearch:
    """Exact top-``k`` SliceLine slices of an ``(n, f)`` matrix of non-negative integer codes.

    ``errors`` holds one non-negative error per row (0/1 or any float, summed as in SliceLine).
    ``min_support`` is a row count, a fraction of rows in (0, 1) (floored, as in ``sliceline``)
    or None for 1% of the rows but at least 32. Ties are ranked by fewer predicates, then
    feature and code order.

    >>> codes = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 25)
    >>> errors = np.array([1.0, 0, 0, 0] * 25)
    >>> top = find_slices(codes, errors, k=1, min_support=10).slices[0]
    >>> top.predicates, top.size, top.errors
    (((0, 0), (1, 0)), 25, 25.0)
    """
    codes, errors, cards = _check_inputs(codes, errors, cardinalities)
    k, max_level, alpha = _check_params(k, max_level, alpha)
    n = codes.shape[0]
    widest = math.prod(sorted(cards)[-max_level:])
    if widest > MAX_CELLS:
        raise ValueError(
            f"{max_level} features can span {widest:,} combinations of codes, more than "
            f"{MAX_CELLS:,}: lower max_level or group rare categories into fewer segments"
        )
    return search_counts(
        Counter(codes, errors, cards), n=n, error_sum=float(errors.sum()), k=k,
        max_level=max_level, min_support=min_support, alpha=alpha, progress=progress,
    )


def search_counts(
    counts: CellCounts,
    *,
    n: int,
    error_sum: float,
    k: int = 10,
    max_level: int = 3,
    min_support: int | float | None = None,
    alpha: float = 0.95,
    progress: Callable[[Progress], None] | None = None,
) -> SliceSearch:
    """The search of :func:`find_slices` over ``n`` rows whose errors sum to ``error_sum``,
    with cells counted by ``counts`` (e.g. in an engine); parameters as in :func:`find_slices`.

    >>> codes = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 25)
    >>> errors = np.array([1.0, 0, 0, 0] * 25)
    >>> search_counts(Counter(codes, errors, [2, 2]), n=100, error_sum=25.0, k=1,
    ...               min_support=10).slices[0].predicates
    ((0, 0), (1, 0))
    """
    k, max_level, alpha = _check_params(k, max_level, alpha)
    support = resolve_min_support(min_support, n)
    average = error_sum / n if n else 0.0
    search = _Search(counts, n=n, k=k, alpha=alpha, support=support, average=average)
    evaluated: list[int] = []
    found: list[int] = []
    n_features = len(counts.cards)
    if average > 0:
        for level in range(1, min(max_level, n_features) + 1):
            sets = list(combinations(range(n_features), level))
            counted, n_candidates = search.run_level(level, sets, max_level, progress)
            evaluated.append(counted)
            found.append(n_candidates)
            if not search.previous:
                break
    return SliceSearch(
        slices=search.ranked(), n=n, average_error=average, min_support=support, alpha=alpha,
        evaluated=evaluated, candidates=found,
    )


def slice_mask(codes: np.ndarray, predicates: tuple[tuple[int, int], ...]) -> np.ndarray:
    """Rows of ``codes`` inside the slice ``predicates``.

    >>> slice_mask(np.array([[0, 1], [0, 0]]), ((0, 0), (1, 1))).tolist()
    [True, False]
    """
    mask = np.ones(len(codes), dtype=bool)
    for feature, code in predicates:
        mask &= codes[:, feature] == code
    return mask


class _Search:
    """Level-wise state: the counts, the previous level's cells and the running top-k."""

    def __init__(
        self, counts: CellCounts, *, n: int, k: int, alpha: float, support: int, average: float,
    ) -> None:
        self.counter = counts
        self.cards, self.k, self.alpha = counts.cards, k, alpha
        self.support, self.average, self.n = support, average, n
        self.previous: dict[tuple[int, ...], Cells] = {}
        self.sets: list[tuple[int, ...]] = []
        # running top-k: score, index into self.sets, flat cell, size, error sum
        self.top: tuple[np.ndarray, ...] = (
            np.empty(0), np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64),
            np.empty(0),
        )

    def threshold(self) -> float:
        """Score a candidate's upper bound must reach: the k-th score once k slices are known."""
        scores = self.top[0]
        return float(scores[-1]) if len(scores) == self.k else 0.0

    def run_level(
        self, level: int, sets: list[tuple[int, ...]], max_level: int,
        progress: Callable[[Progress], None] | None,
    ) -> tuple[int, int]:
        current: dict[tuple[int, ...], Cells] = {}
        counted = n_candidates = 0
        if self.counter.batched:
            # every set holding a candidate now; the k-th score only rises during the level, so
            # the sets examined below are among these
            self.counter.prefetch([s for s in sets if self._candidates(s) is not None])
        for done, features in enumerate(sets, 1):
            examined = self._examine(features)
            if examined is not None:
                cells, n_new = examined
                counted += 1
                n_candidates += n_new
                if cells.valid.any():
                    current[features] = cells
                    self._push(features, cells)
            if progress is not None:
                progress(Progress(level, max_level, done, len(sets)))
        self.previous = current
        return counted, n_candidates

    def _examine(self, features: tuple[int, ...]) -> tuple[Cells, int] | None:
        """Count ``features`` when it holds candidates: its cells (valid = candidate, large
        enough, with errors) and the number of candidates; None when pruned entirely."""
        picked = self._candidates(features)
        if picked is None:
            return None
        candidate, parents = picked
        cells = self._count(features)
        if parents is not None:
            cells.max_error = np.minimum(cells.max_error, parents.max_error)
        cells.valid = candidate & (cells.size >= self.support) & (cells.errors > 0)
        return cells, int(candidate.sum())

    def _candidates(self, features: tuple[int, ...]) -> tuple[np.ndarray, Cells | None] | None:
        """Candidate cells of ``features`` and their joined parents (None on level 1); None
        when no cell can reach the current k-th score."""
        shape = tuple(self.cards[f] for f in features)
        if len(features) == 1:
            return np.ones(shape[0], dtype=bool), None
        parents = candidate_cells(features, shape, self.previous)
        if parents is None:
            return None
        ub = score_upper_bound(
            parents, support=self.support, alpha=self.alpha, n=self.n, average=self.average
        )
        candidate = parents.valid & (ub > 0) & (ub >= _with_tolerance(self.threshold()))
        return (candidate, parents) if candidate.any() else None

    def _count(self, features: tuple[int, ...]) -> Cells:
        cells = math.prod(self.cards[f] for f in features)
        if cells > MAX_CELLS:
            raise ValueError(
                f"features {list(features)} span {cells:,} combinations of codes, more than "
                f"{MAX_CELLS:,}: lower max_level or group rare categories"
            )
        size, errors = self.counter.count(features)
        if len(features) == 1:
            max_error = self.counter.level_one_max(features[0])
        else:
            max_error = np.full(len(size), self.counter.max_error)
        return Cells(size=size, errors=errors, max_error=max_error,
                     valid=np.zeros(len(size), dtype=bool))

    def _push(self, features: tuple[int, ...], cells: Cells) -> None:
        flat = np.flatnonzero(cells.valid)
        scores = score(
            cells.size[flat], cells.errors[flat], n=self.n, average=self.average, alpha=self.alpha
        )
        keep = scores > 0
        if not keep.any():
            return
        self.sets.append(features)
        flat = flat[keep]
        new = (
            scores[keep], np.full(len(flat), len(self.sets) - 1, dtype=np.int64), flat,
            cells.size[flat], cells.errors[flat],
        )
        merged = [np.concatenate([old, add]) for old, add in zip(self.top, new, strict=True)]
        # sets are numbered in (level, lexicographic) order, so this is the documented tie order
        order = np.lexsort((merged[2], merged[1], -merged[0]))[: self.k]
        self.top = tuple(column[order] for column in merged)

    def ranked(self) -> list[FoundSlice]:
        result = []
        for value, set_index, cell, size, errors in zip(*self.top, strict=True):
            features = self.sets[set_index]
            codes = np.unravel_index(int(cell), tuple(self.cards[f] for f in features))
            result.append(
                FoundSlice(
                    predicates=tuple(
                        (int(f), int(c)) for f, c in zip(features, codes, strict=True)
                    ),
                    size=int(size), errors=float(errors),
                    score=float(value),
                )
            )
        return result


def _with_tolerance(threshold: float) -> float:
    # keep candidates whose bound ties the k-th score up to rounding, so ties stay exact
    return threshold - 1e-9 * max(1.0, abs(threshold))


def resolve_min_support(min_support: int | float | None, n: int) -> int:
    """``min_support`` (a count, a fraction or None, as :func:`find_slices` takes it) as a
    row count over ``n`` rows.

    >>> resolve_min_support(None, 10_000), resolve_min_support(0.05, 1000)
    (100, 50)
    """
    if min_support is None:
        return max(32, math.ceil(0.01 * n))
    if isinstance(min_support, bool) or not isinstance(min_support, (int, float, np.number)):
        raise TypeError(f"min_support must be a row count or a fraction, got {min_support!r}")
    if isinstance(min_support, (float, np.floating)) and 0 < min_support < 1:
        return max(1, int(min_support * n))
    if min_support < 0 or min_support != int(min_support):
        raise ValueError(
            f"min_support must be a row count >= 0 or a fraction in (0, 1), got {min_support}"
        )
    return max(1, int(min_support))


def _check_params(k: int, max_level: int, alpha: float) -> tuple[int, int, float]:
    for name, value in (("k", k), ("max_level", max_level)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if not isinstance(alpha, (int, float, np.number)) or not 0 < alpha <= 1:
        raise ValueError(
            f"alpha must be in (0, 1] (weight of the error term against the size term), "
            f"got {alpha!r}"
        )
    return int(k), int(max_level), float(alpha)


def _check_inputs(
    codes: np.ndarray, errors: np.ndarray, cardinalities: list[int] | None
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    codes = np.asarray(codes)
    errors = np.asarray(errors, dtype=np.float64)
    if codes.ndim != 2 or codes.shape[0] == 0 or codes.shape[1] == 0:
        raise ValueError(f"codes must be a non-empty (rows, features) matrix, got {codes.shape}")
    if not np.issubdtype(codes.dtype, np.integer):
        raise TypeError(f"codes must hold integer segment codes, got dtype {codes.dtype}")
    if errors.shape != (codes.shape[0],):
        raise ValueError(f"errors has shape {errors.shape} but codes has {codes.shape[0]} rows")
    if not np.isfinite(errors).all() or (errors < 0).any():
        raise ValueError("errors must be finite and >= 0 (one error per row, summed per slice)")
    low, high = codes.min(axis=0), codes.max(axis=0)
    if (low < 0).any():
        raise ValueError(f"codes must be >= 0, feature {int(np.argmax(low < 0))} has {low.min()}")
    if cardinalities is None:
        return codes, errors, [int(h) + 1 for h in high]
    cards = [int(c) for c in cardinalities]
    if len(cards) != codes.shape[1] or any(h >= c for h, c in zip(high, cards, strict=True)):
        raise ValueError(
            f"cardinalities {cards} must give, for each of the {codes.shape[1]} features, more "
            f"than its largest code {high.tolist()}"
        )
    return codes, errors, cards
