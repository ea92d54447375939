"""Confident-learning suspects computed in the engine; only the top of the ranking comes back.

Confident learning needs two passes over the probabilities, and both fit an engine: the per-class
thresholds (mean probability of each class among the rows labelled with it) are one aggregate,
and then each row's flag is an expression of its own probabilities and those few literals. So
``confident_learning`` (the off-diagonal of cleanlab's confident joint) and
``predicted_neq_given`` give the same flags as cleanlab's ``find_label_issues`` without a row
leaving the engine. cleanlab's other filters (``prune_by_noise_rate``, ``prune_by_class``,
``both``, ``low_*``) drop a number of rows per class chosen by rank across the whole class; they
raise :class:`~errlens.engines.ScaleOutError` here rather than collecting every row.

>>> import duckdb
>>> from errlens.engines import LazyAnalysis
>>> rel = duckdb.sql("SELECT * FROM (VALUES (1, 'a', 'a', .9, .1, 0), (2, 'a', 'a', .8, .2, 1), "
...     "(3, 'b', 'b', .2, .8, 0), (4, 'b', 'a', .9, .1, 1)) t(id, y, p, pa, pb, x)")
>>> lazy = LazyAnalysis.from_duckdb(rel, y_true="y", y_pred="p", id="id", proba=["pa", "pb"])
>>> engine_suspects(lazy, "confident_learning").flagged_ids.tolist()
[4]
"""

from __future__ import annotations

import hashlib
import json
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import narwhals as nw
import numpy as np
from cleanlab.internal.constants import (
    CONFIDENT_THRESHOLDS_LOWER_BOUND,
    FLOATING_POINT_COMPARISON,
)

from errlens.base.facade import ScaleOutError
from errlens.engines.counts import vocabulary_code
from errlens.suspects.confident import FILTERS
from errlens.suspects.table import Suspects

if TYPE_CHECKING:
    from errlens.engines.counting import EngineCounting


class CodedAnalysis(Protocol):
    """What the ranking reads of a :class:`~errlens.engines.LazyAnalysis` (typed here, not
    imported, so the analysis can call this module without an import cycle)."""

    frame: nw.LazyFrame[Any]
    source: nw.LazyFrame[Any]
    id: str
    y_true: str
    y_pred: str
    proba: list[str]
    classes: list[Any]
    n: int

    @property
    def counting(self) -> EngineCounting: ...


@dataclass(frozen=True)
class RowTerms:
    """Each row's confident-learning terms as engine expressions: the given class' code
    ``label`` (-1: not a class), the method's ``flag``, the ranking ``score``, the probability
    of the given label ``own``, the ``guess`` of the true class and whether the row is
    ``confident`` (some class at or above its threshold), for thresholds ``thresholds``."""

    label: nw.Expr
    thresholds: list[float]
    flag: nw.Expr
    score: nw.Expr
    own: nw.Expr
    guess: nw.Expr
    confident: nw.Expr


@dataclass(frozen=True)
class Ordering:
    """A ranking other than flagged-first-then-score: extra ``columns`` of the table (of the
    given columns), ``derived`` ones (of those, ``score`` and the derived ones before them, each
    computed once per row; a name starting ``__`` is a step, not a column of the table), the
    one to sort by (descending, ties by id) ``key``, the group priors used and parameters."""

    columns: dict[str, nw.Expr]
    derived: dict[str, nw.Expr]
    key: str
    priors: tuple[Any, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)


ENGINE_FILTERS = ("confident_learning", "predicted_neq_given")
ENGINE_RANKINGS = ("self_confidence", "normalized_margin")
DEFAULT_TOP = 1000


def engine_suspects(
    lazy: CodedAnalysis, method: str = "confident_learning", *, cohort: Any = None,
    rank_by: str = "self_confidence", top: int = DEFAULT_TOP,
    ordering: Callable[[RowTerms], Ordering] | None = None,
) -> Suspects:
    """The ``top`` most suspicious rows of ``cohort`` (flagged first, then by ``rank_by``, ties
    by id), with flags computed on every row, as :meth:`errlens.Analysis.suspects` does;
    ``ordering`` (given the rows' terms) ranks by another column instead."""
    if method not in ENGINE_FILTERS:
        if method in (*FILTERS, "knn"):
            raise ScaleOutError(
                f"method {method!r} ranks rows across a whole class (or, for knn, needs every "
                f"row's neighbours), so it does not run in {lazy.frame.implementation}; on an "
                f"engine use one of {ENGINE_FILTERS}, or run errlens.Analysis.suspects on a "
                "cohort small enough for memory")
        raise ValueError(f"method must be one of {ENGINE_FILTERS}, got {method!r}")
    if rank_by not in ENGINE_RANKINGS:
        raise ValueError(f"rank_by must be one of {ENGINE_RANKINGS} on an engine, got {rank_by!r}")
    if not isinstance(top, (int, np.integer)) or isinstance(top, bool) or top < 1:
        raise ValueError(f"top must be a positive integer, got {top!r}")
    require_proba_per_class(lazy, "suspects need")
    terms = row_terms(lazy, method, rank_by)
    order = None if ordering is None else ordering(terms)
    extra, derived = ({}, {}) if order is None else (order.columns, order.derived)
    scored = lazy.source.select(
        nw.col(lazy.id), nw.col(lazy.y_true).alias("given"),
        nw.col(lazy.y_pred).alias("predicted"), terms.own.alias("p_given"),
        *[expr.alias(name) for name, expr in extra.items()],
        terms.score.alias("score"), terms.flag.alias("flagged"))
    for name, expr in derived.items():  # in order: each may read the ones before it
        scored = scored.with_columns(expr.alias(name))
    if cohort is not None:
        scored = scored.join(lazy.counting.rows(cohort).select(lazy.id), on=lazy.id, how="inner")
    totals = scored.select(nw.len().cast(nw.Int64).alias("rows"),
                           nw.col("flagged").cast(nw.Int64).sum().alias("flagged"))
    counts = totals.collect("pandas").to_native().iloc[0]
    if order is None:
        ranked = scored.sort(["flagged", "score", lazy.id], descending=[True, False, False])
    else:
        ranked = scored.sort([order.key, lazy.id], descending=[True, False])
    table = ranked.head(int(top)).collect("pandas").to_native().set_index(lazy.id)
    shown = [c for c in derived if not c.startswith("__")]  # "__" names: steps, not columns
    first = ["given", "predicted", "p_given", *[c for c in extra if c not in derived], *shown]
    table = table[[*first, "score", "flagged"]]
    table["flagged"] = table["flagged"].astype(bool)
    table["rank"] = np.arange(1, len(table) + 1)
    params: dict[str, Any] = {"filter_by": method, "rank_by": rank_by, "top": int(top),
                              "cohort_rows": int(counts["rows"]),
                              "thresholds": [float(t) for t in terms.thresholds]}
    if order is not None:
        params |= order.params
    if cohort is not None and hasattr(cohort, "to_json"):
        params["cohort"] = cohort.to_json()
    digest = hashlib.sha256(json.dumps([lazy.n, params["thresholds"]]).encode()).hexdigest()
    meta = {"engine": str(lazy.frame.implementation), "flagged_in_cohort": int(counts["flagged"])}
    return Suspects(table, method, params, rank_by, "thresholds:" + digest[:16], meta=meta,
                    priors=() if order is None else order.priors)


def require_proba_per_class(lazy: CodedAnalysis, what: str) -> None:
    """ValueError saying what ``what`` needs (e.g. "suspects need", "label health needs")
    unless ``lazy`` has one probability column per class."""
    if len(lazy.proba) != len(lazy.classes):
        raise ValueError(
            f"{what} one probability column per class ({len(lazy.classes)}: "
            f"{lazy.classes}); this analysis has proba={lazy.proba}. Pass proba=[...] in class "
            "order to LazyAnalysis.from_duckdb / from_spark")


def row_terms(lazy: CodedAnalysis, method: str, rank_by: str) -> RowTerms:
    """The rows' confident-learning terms (:class:`RowTerms`); the per-class thresholds depend
    on every row, not on a cohort: one scan per analysis, so a click that changes the selection
    costs only the cohort's ranking (two queries, not three)."""
    label = vocabulary_code(nw.col(lazy.y_true), lazy.classes, other=-1)
    thresholds = _THRESHOLDS.get(lazy)
    if thresholds is None:
        thresholds = _THRESHOLDS[lazy] = _thresholds(lazy, label)
    return _row_expressions(lazy, label, thresholds, method, rank_by)


_THRESHOLDS: weakref.WeakKeyDictionary[Any, list[float]] = weakref.WeakKeyDictionary()
"""Confident thresholds per analysis, computed on first use."""


def _thresholds(lazy: CodedAnalysis, label: nw.Expr) -> list[float]:
    """Per-class mean probability among the rows labelled with the class (cleanlab's confident
    thresholds: 2.0 for a class nobody has, clipped below); checks the probabilities on the way."""
    columns = [nw.col(c) for c in lazy.proba]
    bad = nw.lit(False)
    for p in columns:
        bad = bad | p.is_null() | p.is_nan() | (p < 0) | (p > 1)
    row = lazy.source.select(
        *[nw.when(label == k).then(p).mean().alias(f"t{k}") for k, p in enumerate(columns)],
        bad.cast(nw.Int64).sum().alias("bad"),
    ).collect("pandas").to_native().iloc[0]
    if row["bad"]:
        raise ValueError(f"{int(row['bad'])} rows have a missing probability or one outside "
                         f"[0, 1] in columns {lazy.proba}")
    means = [2.0 if row[f"t{k}"] is None or np.isnan(row[f"t{k}"]) else float(row[f"t{k}"])
             for k in range(len(columns))]
    return [max(t, CONFIDENT_THRESHOLDS_LOWER_BOUND) for t in means]


def _row_expressions(
    lazy: CodedAnalysis, label: nw.Expr, thresholds: list[float], method: str, rank_by: str,
) -> RowTerms:
    """Each row's terms (:class:`RowTerms`), as engine expressions."""
    p = [nw.col(c) for c in lazy.proba]
    k = len(p)
    top_p = nw.max_horizontal(*p)
    argmax = _first(k, lambda j: p[j] == top_p)
    own = _pick(k, lambda j: label == j, p)
    # cleanlab's compute_confident_joint: the guessed true class of the confident rows
    above = [p[j] >= thresholds[j] - FLOATING_POINT_COMPARISON for j in range(k)]
    n_above = nw.sum_horizontal(*[a.cast(nw.Int32) for a in above])
    guess = nw.when(n_above > 1).then(argmax).otherwise(_first(k, lambda j: above[j]))
    # confident_learning: off the diagonal of the confident joint
    flag = argmax != label if method == "predicted_neq_given" else (n_above > 0) & (guess != label)
    # cleanlab never flags a row whose given class wins the argmax once nudged up by 1e-6; on an
    # exact tie argmax keeps the first column, so a rival before the given class still wins.
    boosted = own + FLOATING_POINT_COMPARISON
    rival_first = nw.lit(False)
    for j in range(k):
        rival_first = rival_first | ((label > j) & (p[j] == boosted))
    close = (top_p < boosted) | ((top_p == boosted) & ~rival_first)
    flag = flag & ~close
    score = own
    if rank_by == "normalized_margin":
        rival = nw.max_horizontal(*[nw.when(label == j).then(nw.lit(-1.0)).otherwise(p[j])
                                    for j in range(k)])
        score = (own - rival + 1) / 2
    return RowTerms(label, thresholds, flag, score, own, guess, n_above > 0)


def _first(k: int, test: Any) -> nw.Expr:
    """Index of the first ``j`` in ``0..k-1`` where ``test(j)`` holds (0 when none does, as
    ``argmax`` of an all-false row)."""
    out: nw.Expr = nw.lit(0)
    for j in reversed(range(k)):
        out = nw.when(test(j)).then(nw.lit(j)).otherwise(out)
    return out


def _pick(k: int, test: Any, values: list[nw.Expr]) -> nw.Expr:
    """``values[j]`` for the first ``j`` where ``test(j)`` holds."""
    out: nw.Expr = nw.lit(None, dtype=nw.Float64)
    for j in reversed(range(k)):
        out = nw.when(test(j)).then(values[j]).otherwise(out)
    return out
