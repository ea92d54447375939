"""Noise priors of declared label sources, estimated and applied in the engine.

``LazyAnalysis.from_duckdb(..., annotator="who")`` declares who labelled each row, and
``lazy.suspects()`` then ranks by the posterior of :mod:`errlens.suspects.priors`, as the
in-memory ``Analysis.suspects()`` does, with only aggregates and the top rows leaving the engine:

1. the evidence of each row (``log((1 - p) / ((k - 1) p))``, ``p`` the probability of its given
   label) has its :data:`~errlens.suspects.contrast.BINS` quantile edges computed in the engine
   (one aggregate, shared by every source);
2. per source, one GROUP BY (evidence bin, source) gives the counts and each bin's evidence sum
   for the contrast fit (:func:`~errlens.suspects.contrast.fit_table`), used only if one GROUP BY
   (source, predicted class × confidence) finds the source's rows seen alike
   (:func:`~errlens.suspects.contrast.given_alike`), and one GROUP BY (source,
   given class, guessed true class) the confident joint's sums, the flagged rows and the top
   confusions (:func:`~errlens.suspects.priors.noise_table`): the same ``GroupNoise`` table as
   in memory, cached per analysis;
3. each row's prior (a CASE over the source's values) and posterior are engine expressions,
   and the engine sorts by the posterior and returns the ``top`` rows.

DuckDB's ``quantile_cont`` interpolates as ``np.quantile`` does, so its bins are the in-memory
ones and the rates agree to rounding; Spark's ``percentile_approx`` returns data values within
``rows / accuracy`` ranks of the exact quantiles, so its rates agree within a tolerance.

>>> import duckdb
>>> from errlens.engines import LazyAnalysis
>>> rel = duckdb.sql("SELECT i AS id, CASE WHEN i % 3 = 0 THEN 'b' ELSE 'a' END AS y, "
...     "'a' AS p, 0.7 AS pa, 0.3 AS pb, CASE WHEN i < 50 THEN 'ann1' ELSE 'ann2' END AS who "
...     "FROM range(100) t(i)")
>>> lazy = LazyAnalysis.from_duckdb(rel, y_true="y", y_pred="p", id="id", proba=["pa", "pb"],
...                                 annotator="who")
>>> lazy.source_noise()["annotator"]["n"].to_dict()
{'ann1': 50, 'ann2': 50}
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from errlens.base.facade import ScaleOutError
from errlens.base.inputs import preview
from errlens.engines.coded import materialise
from errlens.engines.edges import SPARK_ACCURACY
from errlens.engines.sql import query
from errlens.engines.suspects import (
    ENGINE_FILTERS,
    CodedAnalysis,
    Ordering,
    RowTerms,
    row_terms,
)
from errlens.suspects.contrast import BINS, CONFIDENCE_EDGES, fit_table, given_alike
from errlens.suspects.prior_rank import RESERVED
from errlens.suspects.priors import (
    EPS,
    GroupNoise,
    calibration,
    group_keys,
    logit,
    noise_table,
    top_confusions,
)
from errlens.suspects.rates import MISSING

MAX_SOURCES = 1_000
"""Most distinct values of one declared source on an engine (the fit pools bins × sources)."""


def declared_sources(columns: Sequence[str], taken: dict[str, str], **roles: Any
                     ) -> dict[str, str]:
    """role -> column of the declared label sources (``annotator=``, ``source=``: column names
    of the data, not the ``taken`` ones: column -> what it already is).

    >>> declared_sources(["x", "who"], {"y": "y_true"}, annotator="who", source=None)
    {'annotator': 'who'}
    """
    out = {}
    for role, value in roles.items():
        if value is None:
            continue
        if not isinstance(value, str):
            raise TypeError(f"{role}= names a column of the data on an engine, got "
                            f"{type(value).__name__}: values per row are for the in-memory "
                            f"errlens.Analysis; add them as a column in the engine")
        if value not in columns:
            raise KeyError(f"{role}={value!r} is not a column of data; columns are: "
                           f"{preview(columns)}")
        if value in taken:
            raise ValueError(f"{role}={value!r} is the {taken[value]} column: declare the "
                             f"column saying who or what labelled each row")
        if value in RESERVED:
            raise ValueError(f"a source named {value!r} cannot carry a prior (the suspects "
                             f"table has a column of that name): rename it in the engine")
        out[role] = value
    return out


def prior_names(lazy: Any, prior: Any) -> list[str]:
    """The declared sources whose priors rank the suspects: ``"auto"`` = every declared
    source, None = none, else a declared source's column name or a list of them."""
    if prior is None:
        return []
    declared = list(dict.fromkeys(lazy.label_sources.values()))
    if isinstance(prior, str) and prior == "auto":
        return declared
    names = [prior] if isinstance(prior, str) else list(prior)
    for name in names:
        if not isinstance(name, str) or name not in lazy.features:
            raise KeyError(f"prior={name!r} is not a feature column; pass 'auto' (the declared "
                           f"annotator= / source=: {sorted(declared)}), None, or declared "
                           f"source names")
        if name not in declared:
            raise ScaleOutError(
                f"prior={name!r} is a feature, not a declared source: on an engine priors come "
                f"from the declared annotator= / source= ({sorted(declared)}); a segment's "
                "prior runs on an in-memory errlens.Analysis of a cohort")
    return list(dict.fromkeys(names))


def prior_ordering(lazy: Any, names: Sequence[str], method: str
                   ) -> Callable[[RowTerms], Ordering]:
    """The posterior ranking of :func:`errlens.engines.suspects.engine_suspects` with the priors
    of the sources ``names`` (fitted on every row, once per analysis and method)."""
    def order(terms: RowTerms) -> Ordering:
        noises = [_noise(lazy, name, method, terms) for name in names]
        base = float(logit(np.float64(noises[0].overall)))
        slope, shift = calibration(noises)
        prior_odds: nw.Expr = nw.lit(base)
        for noise in noises:
            prior_odds = prior_odds + _lookup(noise, logit(noise.table["prior"].to_numpy()) - base)
        columns = {name: nw.col(name) for name in names} | {"prior": _sigmoid(prior_odds)}
        derived = posterior_steps(prior_odds, slope, shift, len(lazy.classes))
        return Ordering(columns, derived, "posterior", tuple(noises), {"prior": list(names)})

    return order


def noise_by_role(lazy: Any, method: str = "confident_learning") -> dict[str, pd.DataFrame]:
    """role -> the noise table of each declared source, as in memory
    ``label_health().annotators`` / ``.sources`` (``suspects`` counts ``method``'s flags)."""
    if not lazy.label_sources:
        raise ValueError("no label source declared: pass annotator= or source= to "
                         "LazyAnalysis.from_duckdb / from_spark")
    if method not in ENGINE_FILTERS:
        raise ValueError(f"method must be one of {ENGINE_FILTERS}, got {method!r}")
    terms = row_terms(lazy, method, "self_confidence")
    return {role: _noise(lazy, column, method, terms).table
            for role, column in lazy.label_sources.items()}


_NOISES: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], GroupNoise]] = (
    weakref.WeakKeyDictionary())
_EDGES: weakref.WeakKeyDictionary[Any, np.ndarray] = weakref.WeakKeyDictionary()


def _noise(lazy: Any, name: str, method: str, terms: RowTerms) -> GroupNoise:
    """The noise of source ``name`` (its counts flagged by ``method``), fitted once."""
    cache = _NOISES.setdefault(lazy, {})
    if (name, method) not in cache:
        cache[name, method] = _fit(lazy, name, terms)
    return cache[name, method]


def overall_rate(lazy: Any, method: str, terms: RowTerms) -> float:
    """The overall noise rate with no source declared (in memory ``prior_rank.overall_of``:
    confident learning's joint over every row as one group), fitted once."""
    cache = _NOISES.setdefault(lazy, {})
    if ("", method) not in cache:
        cache["", method] = _fit(lazy, "all", terms, nw.lit("all"))
    return cache["", method].overall


def _fit(lazy: CodedAnalysis, name: str, terms: RowTerms, source: nw.Expr | None = None
         ) -> GroupNoise:
    k = len(lazy.classes)
    cell = nw.when(~terms.confident).then(nw.lit(-2)).otherwise(
        nw.when(terms.guess == terms.label).then(nw.lit(-1)).otherwise(terms.guess))
    # each row's terms computed once and kept for the three aggregates (dropped after them)
    scratch = _Scratch()
    rows = materialise(lazy.source.select(
        (nw.col(name) if source is None else source).alias("s"),
        _evidence(terms.own, k).alias("e"), terms.label.alias("given"),
        cell.alias("cell"), terms.flag.cast(nw.Int64).alias("f"),
        _prediction_cell(lazy.proba).alias("pc")), scratch)
    edges = _edges(lazy, rows)
    spread = (rows.select(_bucket(nw.col("e"), edges).alias("b"), "s", "e")
              .group_by("b", "s").agg(nw.len().cast(nw.Int64).alias("n"),
                                      nw.col("e").sum().alias("e"))
              .collect("pandas").to_native())
    joint = (rows.group_by("s", "given", "cell")
             .agg(nw.len().cast(nw.Int64).alias("n"), nw.col("f").sum().alias("f"))
             .collect("pandas").to_native())
    seen = (rows.group_by("s", "pc").agg(nw.len().cast(nw.Int64).alias("n"))
            .collect("pandas").to_native())
    del scratch, rows
    values = spread["s"].drop_duplicates()
    if len(values) > MAX_SOURCES:
        raise ScaleOutError(f"source {name!r} has {len(values):,} values; an engine's prior "
                            f"takes at most {MAX_SOURCES:,} (declare a coarser column)")
    keys = group_keys(values.reset_index(drop=True), len(values), name=name)
    _, uniques = pd.factorize(keys, sort=True)
    index = pd.Index(uniques)
    n_groups, n_bins = len(index), len(edges) + 1
    at = index.get_indexer(group_keys(spread["s"], len(spread), name=name))
    bins = spread["b"].to_numpy(dtype=np.int64)
    table = np.zeros((n_bins, n_groups))
    np.add.at(table, (bins, at), spread["n"].to_numpy(dtype=np.float64))
    center = np.bincount(bins, weights=spread["e"].to_numpy(dtype=np.float64),
                         minlength=n_bins) / np.maximum(table.sum(axis=1), 1)
    size = table.sum(axis=0).astype(np.int64)
    cells_per = k * (len(CONFIDENCE_EDGES) + 1)
    counts = np.zeros((n_groups, cells_per))
    np.add.at(counts, (index.get_indexer(group_keys(seen["s"], len(seen), name=name)),
                       seen["pc"].to_numpy(dtype=np.int64)), seen["n"].to_numpy(np.float64))
    fit = (fit_table(table, center)
           if n_groups >= 2 and (size > 0).all() and given_alike(counts) else None)
    who = index.get_indexer(group_keys(joint["s"], len(joint), name=name))
    given, kind = joint["given"].to_numpy(np.int64), joint["cell"].to_numpy(np.int64)
    rows, flagged = joint["n"].to_numpy(np.int64), joint["f"].to_numpy(np.int64)
    label_counts = np.bincount(given, weights=rows, minlength=k)
    confident = np.bincount(given[kind != -2], weights=rows[kind != -2], minlength=k)
    weight = label_counts / np.clip(confident, 1, None)
    off = kind >= 0
    errors = np.bincount(who[off], weights=weight[given[off]] * rows[off], minlength=n_groups)
    total = max(int(rows.sum()), 1)
    mean = float((weight[given[off]] * rows[off]).sum()) / total
    row_var = float((weight[given[off]] ** 2 * rows[off]).sum()) / total - mean ** 2
    cells = (who[off] * k + given[off]) * k + kind[off]
    order = np.argsort(cells)
    return noise_table(
        name, uniques, np.empty(0, dtype=np.int64), size=size, errors=errors,
        row_var=max(row_var, 0.0),
        suspects=np.bincount(who, weights=flagged, minlength=n_groups).astype(np.int64),
        confusions=top_confusions(cells[order], rows[off][order], k, n_groups,
                                  list(lazy.classes)),
        fit=fit)


class _Scratch:
    """Owner of the rows kept during one fit (their temporary table goes with it)."""


def _edges(lazy: CodedAnalysis, rows: nw.LazyFrame[Any]) -> np.ndarray:
    """The :data:`BINS` quantile edges of the evidence ``e`` of every row (as ``np.quantile``'s
    in DuckDB; ``percentile_approx`` on Spark), computed once per analysis."""
    if lazy in _EDGES:
        return _EDGES[lazy]
    probs = np.linspace(0, 1, BINS + 1)[1:-1].tolist()
    frame = rows.select("e")
    native = frame.to_native()
    if frame.implementation.is_duckdb():
        found = query(native, f"SELECT quantile_cont(e, {probs}) FROM {{t}}").fetchall()[0][0]
    elif frame.implementation.is_pyspark() or frame.implementation.is_pyspark_connect():
        from pyspark.sql import functions as F

        found = native.agg(F.percentile_approx("e", probs, SPARK_ACCURACY)).collect()[0][0]
    else:
        raise ScaleOutError(f"source priors need quantiles of the evidence, computed natively on "
                            f"DuckDB and PySpark only, not {frame.implementation}")
    edges = _EDGES[lazy] = np.unique(np.asarray(found, dtype=np.float64))
    return edges


def _prediction_cell(proba: Sequence[str]) -> nw.Expr:
    """:func:`~errlens.suspects.contrast.prediction_cells` as an expression: the first column
    holding the row's top probability, times the bins, plus the top probability's bin."""
    top = nw.max_horizontal(*[nw.col(c) for c in proba])
    predicted: nw.Expr = nw.lit(len(proba) - 1)
    for i in reversed(range(len(proba) - 1)):
        predicted = nw.when(nw.col(proba[i]) == top).then(nw.lit(i)).otherwise(predicted)
    confidence = (top >= CONFIDENCE_EDGES[0]).cast(nw.Int64)
    for edge in CONFIDENCE_EDGES[1:]:
        confidence = confidence + (top >= edge).cast(nw.Int64)
    return predicted.cast(nw.Int64) * (len(CONFIDENCE_EDGES) + 1) + confidence


def posterior_steps(prior_odds: nw.Expr, slope: float, shift: float, k: int
                    ) -> dict[str, nw.Expr]:
    """The ``derived`` columns of the posterior, one step each (the evidence, the log-odds, the
    posterior), so an engine computes each once per row: as one expression, Spark evaluated the
    score's CASE a dozen times per row (clipping and the division's zero guard repeat their
    operands), 5x slower than the ranking without a prior at 1M rows."""
    return {"__evidence": _evidence(nw.col("score"), k),
            "__odds": prior_odds + slope * nw.col("__evidence") + shift,
            "posterior": _sigmoid(nw.col("__odds"))}


def _evidence(score: nw.Expr, k: int) -> nw.Expr:
    """:func:`errlens.suspects.priors.evidence_log_odds` as an engine expression."""
    p = score.clip(EPS, 1 - EPS)
    return (1 - p).log() - p.log() - float(np.log(max(k - 1, 1)))


def _sigmoid(x: nw.Expr) -> nw.Expr:
    return 1 / (1 + (-x).exp())


def _bucket(x: nw.Expr, cuts: np.ndarray) -> nw.Expr:
    """The number of ``cuts`` (ascending) below ``x``, as ``np.searchsorted(cuts, x)``: a
    balanced tree of comparisons (depth log2 of the cuts)."""
    def split(lo: int, hi: int) -> nw.Expr:  # x lies above cuts[:lo] and at most cuts[hi]
        if lo == hi:
            return nw.lit(lo)
        mid = (lo + hi) // 2
        return nw.when(x <= float(cuts[mid])).then(split(lo, mid)).otherwise(split(mid + 1, hi))

    return split(0, len(cuts))


def _lookup(noise: GroupNoise, values: np.ndarray) -> nw.Expr:
    """``values[i]`` for the rows of the group in row ``i`` of ``noise.table``: one map look-up
    of the column (null for a value the table lacks), the ``(missing)`` group's for nulls. A
    tree of comparisons instead made Spark's generated code too large for the JVM to compile
    (at 20 annotators the page with the prior took 5x the one without)."""
    column = nw.col(noise.name)
    keys = [v.item() if isinstance(v, np.generic) else v for v in noise.table.index]
    pairs = [(key, float(value)) for key, value in zip(keys, values, strict=True)
             if not (key == MISSING and isinstance(key, str))]
    missing = [float(value) for key, value in zip(keys, values, strict=True)
               if key == MISSING and isinstance(key, str)]
    found = column.replace_strict([key for key, _ in pairs], [value for _, value in pairs],
                                  default=None, return_dtype=nw.Float64) if pairs \
        else nw.lit(None, dtype=nw.Float64)
    if missing:
        found = nw.when(column.is_null()).then(nw.lit(missing[0])).otherwise(found)
    return found
