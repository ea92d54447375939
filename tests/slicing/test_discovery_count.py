"""Cell counts of the discovery counter on each of its paths, against a pandas group-by."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from errlens.slicing.discovery.count import Counter


def reference(codes, errors, cards, features):
    """Size and error sum per cell (C order) by a pandas group-by."""
    shape = [cards[f] for f in features]
    cell = np.ravel_multi_index(tuple(codes[:, list(features)].T), shape)
    grouped = pd.DataFrame({"cell": cell, "e": errors}).groupby("cell")["e"].agg(["size", "sum"])
    size, total = np.zeros(np.prod(shape), np.int64), np.zeros(np.prod(shape))
    size[grouped.index] = grouped["size"]
    total[grouped.index] = grouped["sum"]
    return size, total


@pytest.mark.parametrize(
    ("cards", "binary", "path"),
    [
        ([3, 4, 2, 2], True, "merged"),  # repeated rows ranked through a dense table
        ([3, 4000, 500, 2], True, "merged"),  # ... through a sort: keys up to 12M, 5k rows
        ([3, 40, 50, 2], True, "folded"),
        ([3, 40, 50, 2], False, "weighted"),
    ],
)
def test_counts_match_group_by_on_every_path(cards, binary, path):
    rng = np.random.default_rng(7)
    n = 5_000
    used = [min(c, 4) for c in cards] if path == "merged" else cards  # few codes repeat rows
    codes = rng.integers(0, used, size=(n, 4)) * (np.array(cards) // np.array(used))
    errors = rng.random(n) < 0.3
    errors = errors.astype(float) if binary else errors * rng.gamma(2.0, size=n)
    counter = Counter(codes, errors, cards)
    assert path == ("merged" if counter.weights is not None
                    else "folded" if counter.folded is not None else "weighted")
    for level in (1, 2, 3):
        for features in combinations(range(4), level):
            size, total = counter.count(features)
            want_size, want_total = reference(codes, errors, cards, features)
            np.testing.assert_array_equal(size, want_size)
            np.testing.assert_allclose(total, want_total, rtol=1e-12, atol=1e-12)
