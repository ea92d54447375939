"""Exact SliceLine search on integer codes: brute force, known answers, bounds and bad input."""

from __future__ import annotations

from itertools import combinations, product

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from errlens.slicing.discovery.count import Counter
from errlens.slicing.discovery.lattice import Cells, score, score_upper_bound
from errlens.slicing.discovery.search import (
    MAX_CELLS,
    Progress,
    find_slices,
    search_counts,
    slice_mask,
)


def brute_force(codes, errors, *, k, max_level, support, alpha):
    """Every conjunction of up to max_level predicates, scored and ranked with the documented
    tie order (score, then fewer predicates, then features, then codes)."""
    n, n_features = codes.shape
    average = errors.mean()
    cards = codes.max(axis=0) + 1
    rows = []
    for level in range(1, max_level + 1):
        for features in combinations(range(n_features), level):
            for values in product(*(range(cards[f]) for f in features)):
                predicates = tuple(zip(features, values, strict=True))
                mask = slice_mask(codes, predicates)
                size, total = int(mask.sum()), float(errors[mask].sum())
                if size < support or total <= 0:
                    continue
                value = float(score(np.array([size]), np.array([total]), n=n, average=average,
                                    alpha=alpha)[0])
                if value > 0:
                    rows.append((-value, level, features, values, predicates, size, total))
    rows.sort()
    return [(r[4], r[5], r[6], -r[0]) for r in rows[:k]]


@st.composite
def problems(draw):
    n = draw(st.integers(1, 80))
    n_features = draw(st.integers(1, 4))
    cards = draw(st.lists(st.integers(1, 3), min_size=n_features, max_size=n_features))
    codes = np.array(
        [[draw(st.integers(0, c - 1)) for c in cards] for _ in range(n)], dtype=np.int64
    ).reshape(n, n_features)
    # multiples of 1/4 sum exactly in any order, so scores compare exactly
    errors = np.array(draw(st.lists(st.sampled_from([0, 0, 0, 0.25, 0.5, 1, 1, 2]),
                                    min_size=n, max_size=n)), dtype=np.float64)
    return codes, errors


@settings(max_examples=300, deadline=None)
@given(
    problem=problems(), k=st.integers(1, 8), max_level=st.integers(1, 4),
    support=st.integers(1, 12), alpha=st.sampled_from([1.0, 0.95, 0.7, 0.5, 0.2, 0.01]),
    binary=st.booleans(),
)
def test_agrees_with_brute_force(problem, k, max_level, support, alpha, binary):
    codes, errors = problem
    if binary:
        errors = (errors > 0).astype(np.float64)
    found = find_slices(codes, errors, k=k, max_level=max_level, min_support=support,
                        alpha=alpha)
    got = [(s.predicates, s.size, s.errors, s.score) for s in found.slices]
    assert got == brute_force(codes, errors, k=k, max_level=max_level, support=support,
                              alpha=alpha)


class LevelBatches:
    """Counts as an engine gives them: the search names a level's sets first (one query)."""

    batched = True

    def __init__(self, codes: np.ndarray, errors: np.ndarray) -> None:
        self.cards = [int(c) + 1 for c in codes.max(axis=0)]
        self.inner = Counter(codes, errors, self.cards)
        self.max_error = self.inner.max_error
        self.prefetched: set[tuple[int, ...]] = set()
        self.queries = 0

    def prefetch(self, sets):
        self.prefetched, self.queries = set(sets), self.queries + 1

    def count(self, features):
        assert features in self.prefetched, f"{features} was not named at the level's start"
        return self.inner.count(features)

    def level_one_max(self, feature):
        return self.inner.level_one_max(feature)


@settings(max_examples=150, deadline=None)
@given(problem=problems(), k=st.integers(1, 8), max_level=st.integers(1, 4),
       support=st.integers(1, 12), alpha=st.sampled_from([1.0, 0.95, 0.5, 0.01]))
def test_level_batched_counts_give_the_same_search(problem, k, max_level, support, alpha):
    codes, errors = problem
    counts = LevelBatches(codes, errors)
    batched = search_counts(counts, n=len(errors), error_sum=float(errors.sum()), k=k,
                            max_level=max_level, min_support=support, alpha=alpha)
    assert batched == find_slices(codes, errors, k=k, max_level=max_level, min_support=support,
                                  alpha=alpha)
    assert counts.queries <= len(batched.evaluated)  # at most one query per level


def grid(repeat: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Features A (4 values), B (3), C (2) on a full grid; every row with A=1 and B=2 is wrong."""
    codes = np.array(list(product(range(4), range(3), range(2))) * repeat)
    errors = ((codes[:, 0] == 1) & (codes[:, 1] == 2)).astype(np.float64)
    return codes, errors


def test_known_answer_on_planted_slice():
    codes, errors = grid()  # 1,200 rows, 100 errors, mean error 1/12
    found = find_slices(codes, errors, k=4, max_level=3, min_support=10, alpha=0.95)
    # A1&B2: rate 1 = 12 x mean: 0.95 * 11 - 0.05 * (12 - 1) = 9.9; with C: 10.45 - 1.15 = 9.3;
    # A1 alone: rate 1/3: 0.95 * 3 - 0.05 * 3 = 2.7
    assert [s.predicates for s in found.slices] == [
        ((0, 1), (1, 2)), ((0, 1), (1, 2), (2, 0)), ((0, 1), (1, 2), (2, 1)), ((0, 1),),
    ]
    assert [s.size for s in found.slices] == [100, 50, 50, 300]
    assert [s.errors for s in found.slices] == [100, 50, 50, 100]
    np.testing.assert_allclose([s.score for s in found.slices], [9.9, 9.3, 9.3, 2.7])
    assert found.n == 1200 and found.average_error == pytest.approx(1 / 12)


def test_alpha_one_ignores_size_and_ranks_ties_by_fewer_predicates():
    codes, errors = grid()
    found = find_slices(codes, errors, k=3, max_level=3, min_support=10, alpha=1.0)
    assert [s.score for s in found.slices] == [11.0, 11.0, 11.0]
    assert [s.level for s in found.slices] == [2, 3, 3]


def test_min_support_excludes_small_slices_and_fraction_is_floored():
    codes, errors = grid()
    found = find_slices(codes, errors, k=10, max_level=3, min_support=51, alpha=0.95)
    assert all(s.size >= 51 for s in found.slices)
    assert found.slices[0].predicates == ((0, 1), (1, 2))
    assert find_slices(codes, errors, min_support=0.0999).min_support == 119  # int(119.88)
    assert find_slices(codes, errors).min_support == 32  # 1% of 1,200 is below 32


def test_float_errors_are_summed():
    codes = np.array([[0], [0], [1], [1]] * 20)
    errors = np.array([2.0, 0.5, 0.25, 0.25] * 20)
    top = find_slices(codes, errors, k=1, min_support=1, alpha=0.9).slices[0]
    assert top.predicates == ((0, 0),)
    assert top.errors == 50.0 and top.size == 40
    # mean error 0.75; rate 1.25: 0.9 * (1.25 / 0.75 - 1) - 0.1 * (2 - 1)
    assert top.score == pytest.approx(0.9 * (1.25 / 0.75 - 1) - 0.1)


def test_no_errors_gives_no_slices():
    codes, _ = grid()
    found = find_slices(codes, np.zeros(len(codes)), k=5)
    assert found.slices == [] and found.average_error == 0.0


def test_upper_bound_pruning_skips_feature_sets():
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 6, size=(20_000, 8))
    errors = (rng.random(20_000) < 0.05 + 0.5 * (codes[:, 2] == 4)).astype(np.float64)
    found = find_slices(codes, errors, k=5, max_level=3, min_support=20, alpha=0.95)
    assert found.slices[0].predicates == ((2, 4),)
    assert found.evaluated[0] == 8
    assert found.evaluated[2] < 56  # most of the C(8, 3) triples never get counted


@settings(max_examples=100, deadline=None)
@given(problem=problems(), support=st.integers(1, 10),
       alpha=st.sampled_from([1.0, 0.9, 0.5, 0.1]))
def test_upper_bound_covers_every_child(problem, support, alpha):
    codes, errors = problem
    n, average = len(errors), errors.mean()
    if average == 0:
        return
    for code in np.unique(codes[:, 0]):
        parent = codes[:, 0] == code
        size, total = int(parent.sum()), float(errors[parent].sum())
        if size < support or total == 0:
            continue
        cells = Cells(np.array([size]), np.array([total]), np.array([errors[parent].max()]),
                      np.array([True]))
        bound = score_upper_bound(cells, support=support, alpha=alpha, n=n, average=average)[0]
        for other in range(1, codes.shape[1]):
            for value in np.unique(codes[:, other]):
                child = parent & (codes[:, other] == value)
                if child.sum() >= support:
                    child_score = score(np.array([child.sum()]), np.array([errors[child].sum()]),
                                        n=n, average=average, alpha=alpha)[0]
                    assert child_score <= bound + 1e-12


def test_progress_reports_every_level():
    codes, errors = grid()
    seen: list[Progress] = []
    find_slices(codes, errors, k=2, max_level=3, min_support=10, progress=seen.append)
    assert {p.level for p in seen} <= {1, 2, 3} and seen[0] == Progress(1, 3, 1, 3)
    assert all(1 <= p.done <= p.total for p in seen)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 0}, "k must be an integer >= 1"),
        ({"k": 2.5}, "k must be an integer >= 1"),
        ({"max_level": 0}, "max_level must be an integer >= 1"),
        ({"alpha": 0.0}, r"alpha must be in \(0, 1\]"),
        ({"alpha": 1.5}, r"alpha must be in \(0, 1\]"),
        ({"min_support": -3}, "min_support must be a row count"),
        ({"min_support": 2.5}, "min_support must be a row count"),
        ({"cardinalities": [2, 3, 2]}, "cardinalities"),
    ],
)
def test_bad_parameters_are_named(kwargs, message):
    codes, errors = grid(2)
    with pytest.raises(ValueError, match=message):
        find_slices(codes, errors, **kwargs)


def test_bad_inputs_are_named():
    codes, errors = grid(2)
    with pytest.raises(ValueError, match="errors has shape"):
        find_slices(codes, errors[:-1])
    with pytest.raises(ValueError, match="finite and >= 0"):
        find_slices(codes, -errors)
    with pytest.raises(ValueError, match="finite and >= 0"):
        find_slices(codes, np.where(errors > 0, np.nan, 0))
    with pytest.raises(ValueError, match="codes must be >= 0"):
        find_slices(codes - 1, errors)
    with pytest.raises(TypeError, match="integer segment codes"):
        find_slices(codes.astype(float), errors)
    with pytest.raises(ValueError, match="non-empty"):
        find_slices(np.zeros((0, 2), dtype=int), np.zeros(0))
    with pytest.raises(TypeError, match="min_support"):
        find_slices(codes, errors, min_support="10")


def test_too_many_cells_is_a_clear_error():
    codes = np.array([[0, 0], [1, 1]])
    errors = np.array([1.0, 0.0])
    with pytest.raises(ValueError, match="lower max_level or group rare categories"):
        find_slices(codes, errors, max_level=2, cardinalities=[MAX_CELLS // 2, 4])
    # one level of the same features stays within bounds
    assert find_slices(codes, errors, max_level=1, min_support=1, alpha=1.0,
                       cardinalities=[MAX_CELLS // 2, 4]).slices[0].predicates == ((0, 0),)
