"""Lattice steps of the SliceLine search: slice score, score upper bound, candidate generation.

Statistics of one feature set live in dense arrays over its cells (one cell per combination of
codes, flattened in C order), so joining parents is broadcasting, not sparse algebra.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Cells:
    """Per-cell statistics of one feature set: sizes, error sums, an upper bound on the largest
    single error, and which cells are valid parents for the next level."""

    size: np.ndarray
    errors: np.ndarray
    max_error: np.ndarray
    valid: np.ndarray


def score(
    size: np.ndarray, errors: np.ndarray, *, n: int, average: float, alpha: float
) -> np.ndarray:
    """SliceLine score ``alpha * (errors / size / average - 1) - (1 - alpha) * (n / size - 1)``.

    >>> score(np.array([50]), np.array([25.0]), n=100, average=0.25, alpha=0.5).tolist()
    [0.0]
    """
    size = np.asarray(size, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        result = alpha * (errors / size / average - 1) - (1 - alpha) * (n / size - 1)
    return np.where(size > 0, result, -np.inf)


def score_upper_bound(
    parents: Cells, *, support: int, alpha: float, n: int, average: float
) -> np.ndarray:
    """Largest score any slice inside ``parents`` bounds could reach (SliceLine, section 3.2).

    A child with at most ``size`` rows (and at least ``support``), an error sum of at most
    ``errors`` and no single error above ``max_error`` scores at most
    ``max_s alpha * (min(s * max_error, errors) / (s * average) - 1) - (1 - alpha) * (n / s - 1)``
    over ``s`` in ``[support, size]``; the function is monotone on both sides of
    ``s = errors / max_error``, so the maximum is at ``support``, that point or ``size``.
    Invalid cells get ``-inf``.

    >>> cells = Cells(np.array([100]), np.array([10.0]), np.array([1.0]), np.array([True]))
    >>> bound = score_upper_bound(cells, support=10, alpha=1.0, n=1000, average=0.1)
    >>> float(bound[0])  # all 10 errors packed into a 10-row child: rate 1 = 10 x average
    9.0
    """
    size = parents.size.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        knee = np.clip(parents.errors / parents.max_error, support, np.maximum(size, support))
        best = np.full(len(size), -np.inf)
        for s in (np.full(len(size), float(support)), knee, size):
            packed = np.minimum(s * parents.max_error, parents.errors)
            value = alpha * (packed / (s * average) - 1) - (1 - alpha) * (n / s - 1)
            best = np.fmax(best, value)
    return np.where(parents.valid & (size >= support) & (parents.errors > 0), best, -np.inf)


def candidate_cells(
    features: tuple[int, ...], shape: tuple[int, ...], previous: dict[tuple[int, ...], Cells]
) -> Cells | None:
    """Join the parents of every cell of ``features``: a cell is valid when all its parents
    (drop one predicate) are valid, and its bounds are the smallest parent statistics.
    None when some parent feature set has no valid cell at all.

    >>> one = Cells(np.array([5, 9]), np.array([1.0, 2.0]), np.ones(2), np.array([True, False]))
    >>> two = Cells(np.array([7, 3]), np.array([3.0, 1.0]), np.ones(2), np.array([True, True]))
    >>> joined = candidate_cells((0, 1), (2, 2), {(0,): one, (1,): two})
    >>> joined.valid.tolist(), joined.size.tolist()
    ([True, True, False, False], [5, 3, 7, 3])
    """
    valid = np.ones(shape, dtype=bool)
    size = np.full(shape, np.iinfo(np.int64).max, dtype=np.int64)
    errors = np.full(shape, np.inf)
    max_error = np.full(shape, np.inf)
    for drop in range(len(features)):
        parent = previous.get(features[:drop] + features[drop + 1 :])
        if parent is None:
            return None
        parent_shape = (*shape[:drop], 1, *shape[drop + 1 :])
        valid &= parent.valid.reshape(parent_shape)
        if not valid.any():
            return None
        np.minimum(size, parent.size.reshape(parent_shape), out=size)
        np.minimum(errors, parent.errors.reshape(parent_shape), out=errors)
        np.minimum(max_error, parent.max_error.reshape(parent_shape), out=max_error)
    return Cells(
        size=size.ravel(), errors=errors.ravel(), max_error=max_error.ravel(), valid=valid.ravel()
    )
