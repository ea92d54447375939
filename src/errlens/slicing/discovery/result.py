"""Readable results of slice discovery: ranked slices with support, CI, lift, score and groups."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from errlens.base.jsonvalue import plain
from errlens.base.stats import wilson_interval
from errlens.data.cohort import Cohort
from errlens.slicing.discovery.search import FoundSlice, SliceSearch, slice_mask
from errlens.slicing.segments import Segments

NESTED_OVERLAP = 0.9
"""A slice nested in (or containing) a better-ranked slice joins that slice's group when the
smaller of the two holds at least this share of the larger one's rows."""


def search_size(k: int, distinct: bool) -> int:
    """How many slices to ask the search for so that ``k`` distinct ones remain once near
    duplicates are folded (a level-2 slice often repeats its parent's rows: ``"self driving"``
    and ``"driving" and "self driving"``).

    >>> search_size(10, True), search_size(10, False)
    (40, 10)
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    return 3 * int(k) + 10 if distinct else int(k)

COLUMNS = [
    "slice", "level", "n", "support", "errors", "error_rate", "ci_low", "ci_high", "lift",
    "score", "group",
]


@dataclass(frozen=True)
class DiscoveredSlices:
    """Problem slices found by :meth:`errlens.Analysis.discover`, best first.

    ``table`` has one row per slice (rank = position): readable ``slice`` text, ``level``
    (number of predicates), ``n`` rows and ``support`` (share of the searched rows), ``errors``
    (sum of per-row errors), ``error_rate`` with a 95% confidence interval (Wilson for 0/1
    errors, normal approximation of the mean otherwise), ``lift`` over the overall error rate,
    the SliceLine ``score`` and ``group``: the rank of the better slice it nearly duplicates
    (its own rank when it leads a group; with ``distinct=True``, the default, near duplicates
    are left out and ``params["folded"]`` counts them). Slices may overlap. A predicate is
    ``(feature, segment label)``, or ``(text column, term)`` for ``column contains "term"``.
    """

    table: pd.DataFrame
    predicates: list[tuple[tuple[str, str], ...]]
    segments: Segments
    base: Cohort | None
    params: dict[str, Any]
    cohorts: tuple[Cohort, ...] = ()
    """Each slice's own cohort (its predicates, without ``base``)."""
    contains: tuple[tuple[bool, ...], ...] = ()
    """Per slice, which predicates are ``contains`` a term."""

    def __len__(self) -> int:
        return len(self.table)

    def to_frame(self) -> pd.DataFrame:
        """The ranked slices as a DataFrame (a copy), indexed by rank."""
        return self.table.copy()

    def cohort(self, i: int) -> Cohort:
        """The rows of slice ``i`` (rank) as a Cohort, within the searched cohort if any."""
        if not -len(self) <= i < len(self):
            raise IndexError(f"slice {i} does not exist: {len(self)} slices were found")
        cohort = self.cohorts[i]
        return cohort if self.base is None else self.base & cohort

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data for the dashboard: parameters, overall figures and the slices."""
        rows = []
        for i, record in enumerate(self.table.to_dict(orient="records")):
            row = {key: plain(value) for key, value in record.items()}
            row["rank"] = i
            row["predicates"] = [
                {"feature": f, "label": lab, "contains": term}
                for (f, lab), term in zip(self.predicates[i], self.contains[i], strict=True)
            ]
            row["cohort"] = self.cohort(i).to_json()
            rows.append(row)
        return {"params": {k: plain(v) for k, v in self.params.items()}, "slices": rows}

    def __repr__(self) -> str:
        head = (
            f"DiscoveredSlices({len(self)} slices over {self.params['n']:,} rows, "
            f"error rate {self.params['error_rate']:.4g})"
        )
        return head if not len(self) else f"{head}\n{self.table.to_string()}"


def build(
    search: SliceSearch, segments: Segments, columns: list[int], codes: np.ndarray,
    errors: np.ndarray, *, base: Cohort | None, binary: bool, params: dict[str, Any],
    terms: Sequence[tuple[str, str, np.ndarray]] = (), k: int | None = None,
) -> DiscoveredSlices:
    """Readable :class:`DiscoveredSlices` from a :func:`find_slices` result on ``codes``
    (the ``columns`` of ``segments``, restricted to the searched rows); features after those
    columns are the ``terms``: ``(text column, term, sorted positions of its searched rows)``.
    With ``k``, near duplicates of a better slice (see :func:`nested_groups`) are left out and
    the ``k`` best of the rest kept (the search was asked for :func:`search_size` slices)."""
    groups = nested_groups(search, implied_terms(len(columns), terms))
    if k is not None:
        leaders = [i for i, group in enumerate(groups) if group == i]
        params = {**params, "folded": len(search.slices) - len(leaders)}
        search = replace(search, slices=[search.slices[i] for i in leaders[:k]])
        groups = list(range(len(search.slices)))
    names = [segments.features[j] for j in columns] + [column for column, _, _ in terms]
    labels = [segments.labels[j] for j in columns] + [[term] for _, term, _ in terms]
    predicates = [
        tuple((names[f], labels[f][c]) for f, c in found.predicates) for found in search.slices
    ]
    contains = [tuple(f >= len(columns) for f, _ in found.predicates)
                for found in search.slices]
    cohorts = [_predicate_cohort(segments, p, c) for p, c in zip(predicates, contains,
                                                                 strict=True)]
    size = np.array([s.size for s in search.slices], dtype=np.int64)
    total = np.array([s.errors for s in search.slices], dtype=np.float64)
    rate = total / np.maximum(size, 1)
    if binary:
        low, high = wilson_interval(total, size)
    else:
        low, high = _mean_interval(codes, errors, search, rate, [rows for *_, rows in terms])
    table = pd.DataFrame(
        {
            "slice": [cohort.describe() for cohort in cohorts],
            "level": [s.level for s in search.slices],
            "n": size,
            "support": size / search.n,
            "errors": total if not binary else total.astype(np.int64),
            "error_rate": rate,
            "ci_low": low[: len(size)],
            "ci_high": high[: len(size)],
            "lift": rate / search.average_error if search.average_error > 0 else rate * np.nan,
            "score": [s.score for s in search.slices],
            "group": groups,
        },
        columns=COLUMNS,
    )
    table.index.name = "rank"
    params = {
        **params, "n": search.n, "error_rate": search.average_error,
        "min_support": search.min_support, "evaluated": search.evaluated,
        "candidates": search.candidates,
    }
    return DiscoveredSlices(table, predicates, segments, base, params, tuple(cohorts),
                            tuple(contains))


def nested_groups(search: SliceSearch, implied: dict[int, set[int]] | None = None) -> list[int]:
    """For each slice, the rank of the best slice it is nested with (either way) that shares
    at least :data:`NESTED_OVERLAP` of the larger one's rows, following chains; else itself.

    Nesting is read from the predicates, a slice's set taken with what its terms imply
    (``implied``: a phrase's term feature -> its words' term features, see
    :func:`implied_terms`): ``text contains "self driving"`` lies inside ``text contains
    "driving"``."""
    implied = implied or {}

    def closure(found: FoundSlice) -> set[tuple[int, int]]:
        return set(found.predicates) | {(word, 0) for feature, _ in found.predicates
                                        for word in implied.get(feature, ())}

    groups: list[int] = []
    for i, child in enumerate(search.slices):
        group = i
        mine = closure(child)
        for j in range(i):
            other = search.slices[j]
            theirs = closure(other)
            if not (mine <= theirs or theirs <= mine):
                continue
            if min(child.size, other.size) >= NESTED_OVERLAP * max(child.size, other.size):
                group = groups[j]
                break
        groups.append(group)
    return groups


def implied_terms(width: int, terms: Sequence[tuple[str, str, Any]]) -> dict[int, set[int]]:
    """Term features (numbered from ``width``) that each phrase term implies: a row containing
    ``"self driving"`` contains ``"self"`` and ``"driving"`` (when they are terms too).

    >>> implied_terms(2, [("t", "driving", None), ("t", "self driving", None)])
    {3: {2}}
    """
    index = {(column, term): width + i for i, (column, term, _) in enumerate(terms)}
    out: dict[int, set[int]] = {}
    for i, (column, term, _) in enumerate(terms):
        words = {index[column, word] for word in term.split()
                 if word != term and (column, word) in index}
        if words:
            out[width + i] = words
    return out


def _predicate_cohort(segments: Segments, predicates: tuple[tuple[str, str], ...],
                      contains: tuple[bool, ...]) -> Cohort:
    parts = [Cohort.contains(f, label) if term else segments.cohort(f, segments.code(f, label))
             for (f, label), term in zip(predicates, contains, strict=True)]
    cohort = parts[0]
    for part in parts[1:]:
        cohort = cohort & part
    return cohort


def _mean_interval(
    codes: np.ndarray, errors: np.ndarray, search: SliceSearch, rate: np.ndarray,
    term_rows: list[np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """95% normal-approximation interval of each slice's mean error (float errors)."""
    low, high = np.full(len(rate), np.nan), np.full(len(rate), np.nan)
    width = codes.shape[1]
    for i, found in enumerate(search.slices):
        inside = slice_mask(codes, tuple(p for p in found.predicates if p[0] < width))
        for feature, _ in found.predicates:
            if feature >= width:
                inside &= np.isin(np.arange(len(codes)), term_rows[feature - width])
        values = errors[inside]
        if len(values) > 1:
            half = 1.959963984540054 * values.std(ddof=1) / math.sqrt(len(values))
            low[i], high[i] = max(rate[i] - half, 0.0), rate[i] + half
    return low, high
