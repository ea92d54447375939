"""Reviews on an engine: ``lazy.suspects(reviews=store)`` ranks as the in-memory
``Analysis.suspects(reviews=store)`` does, with only the reviewed rows brought to the driver.

Reviews are few (thousands at most) and what they change is a handful of numbers, all measured
on the reviewed rows alone (:class:`~errlens.suspects.live_rank.LiveRank`): the declared
sources' priors (each group's reviews against the posterior it predicted), the detector's
evidence slope (fitted on the reviews of this ``method``) and the segments of undeclared
features whose reviews depart from the prediction. So:

1. one filtered query (``id IN (...)``) brings the reviewed rows' given label, probabilities,
   score, flag, source values and segment codes of the undeclared features;
2. the verdicts (a relabel, a confirm, a skip; CROWDLAB's consensus where several annotators
   judged a sample) and a :class:`LiveRank` over those rows give the updated group priors,
   the slope and the moved slices, by the in-memory code;
3. the engine ranks every row by the updated posterior: each source's prior and each moved
   slice's shift a lookup (a CASE over its values or segment codes), the evidence rescaled by
   the slope; the page comes back with as many more rows as were decided, and the decided
   ones (relabeled or confirmed) move behind every undecided one on the driver, as in memory.

Reviews of samples the engine does not hold, or a store of another label set (or of other
original labels), raise ``KeyError`` / ``ValueError`` rather than being dropped.

>>> import duckdb
>>> from errlens.engines import LazyAnalysis
>>> rel = duckdb.sql("SELECT i AS id, CASE WHEN i % 3 = 0 THEN 'b' ELSE 'a' END AS y, "
...     "'a' AS p, 0.7 AS pa, 0.3 AS pb, CASE WHEN i < 50 THEN 'ann1' ELSE 'ann2' END AS who "
...     "FROM range(100) t(i)")
>>> lazy = LazyAnalysis.from_duckdb(rel, y_true="y", y_pred="p", id="id", proba=["pa", "pb"],
...                                 annotator="who")
>>> lazy.suspects(top=3).table.index.tolist()
[0, 3, 6]
>>> events = pd.DataFrame({"op": ["set", "confirm"], "sample_id": [0, 3], "author": "ana",
...                        "new_label": ["a", None], "cause": [None, None]})
>>> ranked = lazy.suspects(reviews=events, top=100)
>>> ranked.table.index[:3].tolist(), ranked.table["review"].tail(2).to_dict()
([6, 9, 12], {0: 'relabeled', 3: 'confirmed'})
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from errlens.annotators.agreement import events_of
from errlens.base.inputs import preview
from errlens.engines.counts import code_expr
from errlens.engines.priors import _lookup, _noise, _sigmoid, overall_rate, posterior_steps
from errlens.engines.sql import query
from errlens.engines.suspects import (
    ENGINE_FILTERS,
    ENGINE_RANKINGS,
    Ordering,
    RowTerms,
    engine_suspects,
    row_terms,
)
from errlens.suspects.judges import judge_record
from errlens.suspects.live_rank import VERDICTS, LiveRank, Ranked, SliceCandidates
from errlens.suspects.priors import EPS, GroupNoise, calibration, group_keys, logit
from errlens.suspects.review_slices import ReviewMoves
from errlens.suspects.reviews import reviewed_methods, reviewed_verdicts
from errlens.suspects.table import Suspects


@dataclass(frozen=True)
class Reviewed:
    """The reviewed rows brought to the driver, in id order: their ``verdicts``, the detector
    each was reviewed under (``methods``), their values (``rows``, indexed by id) and the
    authors' record as judges (``judges``: :func:`errlens.suspects.judges.judge_record`)."""

    rows: pd.DataFrame
    verdicts: np.ndarray
    methods: np.ndarray
    judges: pd.DataFrame

    def decided(self) -> pd.Index:
        """The ids of the rows relabeled or confirmed."""
        return self.rows.index[np.isin(self.verdicts, VERDICTS)]


def reviewed_suspects(lazy: Any, names: list[str], method: str, reviews: Any, *,
                      learn: bool, cohort: Any, rank_by: str, top: int) -> Suspects:
    """``lazy.suspects(method, reviews=reviews)`` ranked by the sources ``names``' priors;
    ``learn`` (``prior`` not None): the reviews move the priors, the slope and the slices,
    else they only put the decided rows last (as in memory).

    The engine ranks without the reviews' verdicts (no per-row test of thousands of ids): the
    ``top`` plus the number of decided rows come back, and the decided ones move behind the
    others on the driver. That page holds the first ``top`` undecided rows of the cohort, or
    every row of it when it has fewer."""
    if (method not in ENGINE_FILTERS or rank_by not in ENGINE_RANKINGS or isinstance(top, bool)
            or not isinstance(top, (int, np.integer)) or top < 1
            or len(lazy.proba) != len(lazy.classes)):
        return engine_suspects(lazy, method, cohort=cohort, rank_by=rank_by, top=top)  # raises
    found: dict[str, Any] = {}
    candidates = _candidates(lazy, names) if learn else []
    reviewed = _fetch(lazy, reviews, row_terms(lazy, method, rank_by), names, candidates)

    def order(terms: RowTerms) -> Ordering:
        params: dict[str, Any] = {"prior": list(names), "reviewed": len(reviewed.decided())}
        if not learn:  # flagged first, then by score: the plain ranking
            flagged_first = nw.when(nw.col("flagged")).then(3 - nw.col("score"))
            return Ordering({}, {"__key": flagged_first.otherwise(1 - nw.col("score"))},
                            "__key", (), params)
        noises = [_noise(lazy, name, method, terms) for name in names]
        overall = noises[0].overall if noises else overall_rate(lazy, method, terms)
        ranked = _rerank(lazy, reviewed, noises, overall, method, candidates)
        found["moves"] = ranked.moves
        params |= ranked.moves.params()
        base = float(logit(np.float64(overall)))
        odds: nw.Expr = nw.lit(base)
        for noise in ranked.noises:
            odds = odds + _lookup(noise, logit(noise.table["prior"].to_numpy()) - base)
        columns: dict[str, nw.Expr] = {}
        shifts = []
        for i, move in enumerate(ranked.moves.slices):
            code = columns[f"__slice{i}"] = code_expr(
                lazy.definition[lazy.features.index(move.feature)])
            shift = move.table["shift"].to_numpy(dtype=np.float64)
            moved = np.flatnonzero(shift != 0)
            shifts.append(code.replace_strict(moved.tolist(), shift[moved].tolist(),
                                              default=0.0, return_dtype=nw.Float64))
        if shifts:  # as in memory: the groups' prior, then every moved slice's shift
            odds = _logit(_sigmoid(odds)) + nw.sum_horizontal(*shifts)
        columns = {name: nw.col(name) for name in names} | {"prior": _sigmoid(odds)} | columns
        slope, offset = calibration(noises)
        review_slope = 1.0 if ranked.moves.calibration is None else ranked.moves.calibration.slope
        derived = posterior_steps(_logit(nw.col("prior")), review_slope * slope,
                                  review_slope * offset, len(lazy.classes))
        priors = tuple(replace(noise, codes=np.empty(0, dtype=np.int64))
                       for noise in ranked.noises)
        return Ordering(columns, derived, "posterior", priors, params)

    result = engine_suspects(lazy, method, cohort=cohort, rank_by=rank_by,
                             top=int(top) + len(reviewed.decided()), ordering=order)
    table = result.table
    decided = table.index.isin(reviewed.decided())
    ahead = ~decided if learn else table["flagged"].to_numpy() & ~decided
    behind = table[~ahead]
    if not learn:  # the decided flagged rows join the others by score, as in memory
        behind = behind.iloc[np.lexsort((behind.index, behind["score"].to_numpy()))]
    table = pd.concat([table[ahead], behind]).head(top)
    moves: ReviewMoves | None = found.get("moves")
    if moves is not None:
        moves = replace(moves, ids=table.index, slices=tuple(
            replace(move, codes=table[f"__slice{i}"].to_numpy(dtype=np.int64))
            for i, move in enumerate(moves.slices)))
    verdicts = pd.Series(reviewed.verdicts, index=reviewed.rows.index, dtype=object)
    shown = [c for c in table.columns if not c.startswith("__")]
    at = shown.index("score")
    table = table[shown].assign(review=verdicts.reindex(table.index).to_numpy())
    table = table[[*shown[:at], "review", *shown[at:]]]
    table["rank"] = np.arange(1, len(table) + 1)
    return replace(result, table=table, moves=moves, params=result.params | {"top": int(top)})


def _with_ids(frame: nw.LazyFrame[Any], column: str, ids: list[Any]) -> nw.LazyFrame[Any]:
    """The rows of ``frame`` whose ``column`` is one of ``ids``: a hashed ``IN`` in DuckDB and
    Spark (narwhals' ``is_in`` scans its list for every row: 0.5 s per 1M rows at 2,000 ids)."""
    native = frame.to_native()
    if frame.implementation.is_duckdb() and all(isinstance(i, (int, str)) for i in ids):
        listed = ", ".join(str(i) if isinstance(i, int) else "'" + i.replace("'", "''") + "'"
                           for i in ids) or "NULL"
        name = column.replace('"', '""')
        return nw.from_native(query(native, f'SELECT * FROM {{t}} WHERE "{name}" IN ({listed})'))
    if frame.implementation.is_pyspark() or frame.implementation.is_pyspark_connect():
        from pyspark.sql import functions as F

        return nw.from_native(native.filter(F.col(column).isin(ids)))
    return frame.filter(nw.col(column).is_in(ids) if ids else nw.lit(False))


def _logit(p: nw.Expr) -> nw.Expr:
    """:func:`errlens.suspects.priors.logit` as an engine expression."""
    p = p.clip(EPS, 1 - EPS)
    return p.log() - (1 - p).log()


def _candidates(lazy: Any, names: list[str]) -> list[int]:
    """Positions of the features whose segments reviews may move (in memory
    ``prior_rank.slice_candidates``: not a declared group, more than one segment)."""
    return [j for j, (feature, d) in enumerate(zip(lazy.features, lazy.definition, strict=True))
            if feature not in names and len(d["labels"]) > 1]


def _fetch(lazy: Any, reviews: Any, terms: RowTerms, names: list[str],
           candidates: list[int]) -> Reviewed:
    """The reviewed rows (one filtered query), checked against the store, and their verdicts."""
    events = events_of(reviews)
    judged = pd.Index(events["sample_id"].dropna().unique())
    dataset = getattr(reviews, "dataset", None)
    if dataset is not None and set(dataset.classes) != set(lazy.classes):
        raise ValueError(f"the store labels classes {preview(list(dataset.classes))}, this "
                         f"analysis {preview(list(lazy.classes))}: pass the store made for "
                         f"these rows")
    rows = (_with_ids(lazy.source, lazy.id, judged.tolist())
            .select(nw.col(lazy.id), nw.col(lazy.y_true).alias("__given"),
                    *[nw.col(c) for c in lazy.proba], terms.score.alias("__score"),
                    terms.flag.alias("__flag"), terms.own.alias("__own"),
                    *[nw.col(name) for name in names],
                    *[code_expr(lazy.definition[j]).alias(f"__c{j}") for j in candidates])
            .collect("pandas").to_native().set_index(lazy.id).sort_index())
    missing = judged.difference(rows.index)
    if len(missing):
        raise KeyError(f"{len(missing):,} reviewed samples are not rows of this analysis "
                       f"(ids {preview(missing.tolist())}): pass the reviews of these rows")
    original = rows["__given"]
    if dataset is not None:
        theirs = dataset.original.reindex(rows.index)
        differ = theirs.to_numpy(dtype=object) != original.to_numpy(dtype=object)
        if differ.any():
            raise ValueError(f"the store's original labels of {int(differ.sum()):,} reviewed "
                             f"samples differ from the engine's (ids "
                             f"{preview(rows.index[differ].tolist())}): the store was made "
                             f"for other data")
    proba = rows[lazy.proba].to_numpy(dtype=np.float64)
    consensus = SimpleNamespace(proba=proba, ids=rows.index, classes=list(lazy.classes),
                                cache=SimpleNamespace(suspects={}))  # CROWDLAB run once
    verdicts = reviewed_verdicts(reviews, original, analysis=consensus, events=events)
    verdicts = verdicts.reindex(rows.index)
    methods = reviewed_methods(events).reindex(rows.index).to_numpy(dtype=object)
    return Reviewed(rows, verdicts.to_numpy(dtype=object), methods,
                    judge_record(events, consensus))


def _rerank(lazy: Any, reviewed: Reviewed, noises: list[GroupNoise], overall: float,
            method: str, candidates: list[int]) -> Ranked:
    """:meth:`LiveRank.rerank` over the reviewed rows alone (what the update reads of them)."""
    rows = reviewed.rows
    groups = tuple(replace(noise, codes=noise.table.index.get_indexer(pd.Index(
        group_keys(rows[noise.name], len(rows), name=noise.name)))) for noise in noises)
    slices = None
    if candidates:
        codes = np.zeros((len(rows), len(lazy.features)), dtype=np.int64)
        for j in candidates:
            codes[:, j] = rows[f"__c{j}"].to_numpy(dtype=np.int64)
        slices = SliceCandidates(codes, lazy.features,
                                 [d["labels"] for d in lazy.definition], tuple(candidates))
    live = LiveRank(groups, rows["__score"].to_numpy(dtype=np.float64),
                    rows["__flag"].to_numpy(dtype=bool), rows["__own"].to_numpy(np.float64),
                    len(lazy.classes), overall, rows.index, method, slices)
    return live.rerank(np.arange(len(rows)), reviewed.verdicts, reviewed.methods,
                       reviewed.judges)
