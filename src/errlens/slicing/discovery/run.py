"""Slice discovery over the evaluation data: what ``Analysis.discover`` computes.

The rows (all, or a cohort's) and their segment codes are handed to the in-memory search
(:func:`~errlens.slicing.discovery.search.find_slices`) and its result made readable
(:func:`~errlens.slicing.discovery.result.build`). With text columns, the screened terms
(:func:`~errlens.slicing.text.table.screen`) join the segment features as one-code
"contains" features (:class:`~errlens.slicing.text.counts.TermCounts`).

>>> import errlens as el
>>> ev = el.Analysis.from_predictions(
...     {"color": ["red", "blue"] * 50, "size": ["S", "S", "L", "L"] * 25},
...     y_true=[0] * 100, y_pred=[1, 0, 0, 0] * 25)
>>> discover(ev, k=1, min_support=10).to_frame()["slice"].tolist()
['color = red and size = S']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from errlens.data.evaldata import EvalData
from errlens.slicing import masks
from errlens.slicing.discovery.result import DiscoveredSlices, build, search_size
from errlens.slicing.discovery.search import (
    Progress,
    find_slices,
    resolve_min_support,
    search_counts,
)
from errlens.slicing.segment_cache import segments_at
from errlens.slicing.text.counts import TermCounts
from errlens.slicing.text.table import MAX_TERMS, screen
from errlens.slicing.text.vocabulary import default_min_df


def discover(
    data: EvalData,
    *,
    k: int = 10,
    max_level: int = 3,
    min_support: int | float | None = None,
    alpha: float = 0.95,
    features: Sequence[str] | None = None,
    cohort: Any = None,
    progress: Callable[[Progress], None] | None = None,
    text: bool | str | Sequence[str] = True,
    min_df: int | None = None,
    max_terms: int = MAX_TERMS,
    distinct: bool = True,
) -> DiscoveredSlices:
    """The exact top-``k`` problem slices of ``data`` (``Analysis.discover`` documents the
    options)."""
    segments = segments_at(data)
    columns = (
        list(range(len(segments.features)))
        if features is None
        else [segments.index(f) for f in _feature_list(features)]
    )
    mask = masks.mask(data, cohort)
    if not mask.any():
        raise ValueError(
            "the cohort selects no rows: discover needs at least one row to search; "
            "check the cohort with analysis.mask(cohort).sum()"
        )
    codes = segments.codes
    if not mask.all():
        codes = codes[mask]
    if len(columns) != codes.shape[1]:
        codes = codes[:, columns]
    errors = data.error[mask]
    cards = [len(segments.labels[j]) for j in columns]
    params: dict[str, Any] = {"k": k, "max_level": max_level, "alpha": alpha,
                              "distinct": distinct}
    names = _text_list(data, text)
    wanted = search_size(k, distinct)
    if not names:
        search = find_slices(codes, errors, k=wanted, max_level=max_level, min_support=min_support,
                             alpha=alpha, cardinalities=cards, progress=progress)
        terms: list[tuple[str, str, np.ndarray]] = []
    else:
        # the search's support floor: a term in fewer rows can never be a slice
        support = resolve_min_support(min_support, len(errors))
        terms = screen(data, mask, text=names, min_df=min_df, min_support=support, alpha=alpha,
                       max_terms=max_terms)
        counts = TermCounts(codes, errors, cards, [rows for *_, rows in terms])
        search = search_counts(counts, n=len(errors), error_sum=float(errors.sum()), k=wanted,
                               max_level=max_level, min_support=min_support, alpha=alpha,
                               progress=progress)
        params["terms"] = [f'{column} contains "{term}"' for column, term, _ in terms]
        params["min_df"] = default_min_df(data.n) if min_df is None else min_df
        if not terms:
            params["note"] = (
                f"no term of {names} was searched: none is in at least min_df="
                f"{params['min_df']} rows and min_support={support} rows with an error rate "
                "significantly above the rest (pass a lower min_df / min_support on small data)")
    return build(
        search, segments, columns, codes, errors, base=masks.to_cohort(data, cohort),
        binary=data.task != "regression" or bool(np.isin(errors, (0.0, 1.0)).all()),
        params=params, terms=terms, k=k if distinct else None,
    )


def _text_list(data: EvalData, text: bool | str | Sequence[str]) -> list[str]:
    """The text columns whose terms are searched: all declared ones for True, none for False."""
    if text is True:
        return data.text_columns
    if text is False:
        return []
    return [text] if isinstance(text, str) else list(text)


def _feature_list(features: Sequence[str]) -> list[str]:
    names = [features] if isinstance(features, str) else list(features)
    if not names:
        raise ValueError("features is empty: pass None to search all features, or some names")
    if len(set(names)) != len(names):
        raise ValueError(f"features lists a feature twice: {names}")
    return names
