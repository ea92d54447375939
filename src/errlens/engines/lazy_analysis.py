"""An analysis whose rows stay in DuckDB or Spark: slice tables, heatmaps, confusion tables and
discovery are counted in the engine; only small tables and pages of rows reach the driver.

Results are the in-memory :class:`errlens.Analysis` ones (same frames, same result types) for
the same segment definition. The segment codes are computed once, when the analysis is built,
and kept by the engine (:mod:`errlens.engines.coded`); every later count reads them. What needs
every row on the driver raises :class:`ScaleOutError`.

>>> import duckdb
>>> rel = duckdb.sql("SELECT i AS id, i % 7 AS x, i % 2 AS y, i % 3 = 0 AS p FROM range(100) t(i)")
>>> rel = rel.select("id, x, CAST(y AS VARCHAR) AS y, CAST(CAST(p AS INT) AS VARCHAR) AS p")
>>> lazy = LazyAnalysis.from_duckdb(rel, y_true="y", y_pred="p", id="id")
>>> lazy.n, lazy.classes, int(lazy.slices()["n"].sum())
(100, ['0', '1'], 100)
>>> lazy.unavailable("mask")[:50], lazy.unavailable("slices")
('a row mask would bring all 100 rows to the driver;', None)
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from errlens.base.facade import Operation, ScaleOutError
from errlens.engines.coded import code_column, leaves, materialise, source_columns
from errlens.engines.cohorts import cohort_expr
from errlens.engines.counting import EngineCounting
from errlens.engines.counts import classes_of, code_expr, nan_as_null, vocabulary_code
from errlens.engines.discover import LevelCounts
from errlens.engines.edges import SPARK_ACCURACY, define_lazy, dtype_family
from errlens.engines.health import engine_health
from errlens.engines.priors import declared_sources, noise_by_role, prior_names, prior_ordering
from errlens.engines.reviews import reviewed_suspects
from errlens.engines.sql import query
from errlens.engines.suspects import engine_suspects
from errlens.engines.text import EngineText, Term
from errlens.slicing.cohort import Cohort
from errlens.slicing.confusion import NORMALIZE, ConfusionResult
from errlens.slicing.discovery.result import DiscoveredSlices, build, search_size
from errlens.slicing.discovery.search import Progress, search_counts
from errlens.slicing.heatmap import HeatmapTable
from errlens.slicing.segments import Segments
from errlens.slicing.tables import check_table_options, slice_table_from_counts
from errlens.slicing.text.table import MAX_TERMS, merge_terms
from errlens.suspects.health import LabelHealth
from errlens.suspects.table import Suspects

MAX_ROWS = 10_000
"""Most rows one :meth:`LazyAnalysis.rows` / :meth:`LazyAnalysis.sample` call brings back."""


def _one_query_at_a_time(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``method`` holding the analysis' lock: a DuckDB connection refuses a second call
    while one runs, and widget messages run in a kernel thread beside the user's cells."""
    @functools.wraps(method)
    def run(self: LazyAnalysis, *args: Any, **kwargs: Any) -> Any:
        with self.__dict__.setdefault("_lock", threading.RLock()):
            return method(self, *args, **kwargs)

    return run


@dataclass(eq=False)
class LazyAnalysis:
    """Classifier evaluation data kept in an engine, with its segment definition as literals."""

    frame: nw.LazyFrame[Any]
    """The coded rows, kept by the engine: id, ``__t`` / ``__p`` label codes, ``__e`` error
    flag and one code column ``__c<j>`` per feature (see :mod:`errlens.engines.coded`); on
    Spark also the given columns."""
    source: nw.LazyFrame[Any]
    """The rows as given (NaN read as missing), for value cohorts and pages of rows (on Spark,
    ``frame`` itself)."""
    features: list[str]
    id: str
    y_true: str
    y_pred: str
    proba: list[str]
    classes: list[Any]
    definition: list[dict[str, Any]]
    bins: int
    top_k: int
    n: int = 0
    errors: int = 0
    text: list[str] = field(default_factory=list)
    """Declared text columns (their terms are "contains" slices, counted in DuckDB)."""
    label_sources: dict[str, str] = field(default_factory=dict)
    """Declared label sources: role (``"annotator"``, ``"source"``) -> feature column."""

    # ---------------------------------------------------------------- constructors
    @classmethod
    def from_duckdb(cls, data: Any, *, y_true: str, y_pred: str, id: str, **options: Any
                    ) -> LazyAnalysis:
        """Over a DuckDB relation, or a Parquet path / glob read lazily by DuckDB (out of core).
        ``options``: see :meth:`from_lazy`."""
        if isinstance(data, (str, Path)):
            import duckdb

            data = duckdb.read_parquet(str(data))
        return cls.from_lazy(data, y_true=y_true, y_pred=y_pred, id=id, **options)

    @classmethod
    def from_spark(cls, df: Any, *, y_true: str, y_pred: str, id: str, **options: Any
                   ) -> LazyAnalysis:
        """Over a PySpark DataFrame; edges come from ``percentile_approx`` with ``accuracy``
        (exact below that many rows). ``options``: see :meth:`from_lazy`."""
        return cls.from_lazy(df, y_true=y_true, y_pred=y_pred, id=id, **options)

    @classmethod
    def from_lazy(
        cls, data: Any, *, y_true: str, y_pred: str, id: str, proba: Sequence[str] = (),
        features: Sequence[str] | None = None, classes: Sequence[Any] | None = None,
        bins: int = 5, top_k: int = 10, definition: list[dict[str, Any]] | None = None,
        accuracy: int = SPARK_ACCURACY, text: str | Sequence[str] | None = None,
        annotator: str | None = None, source: str | None = None,
    ) -> LazyAnalysis:
        """Over any lazy frame narwhals reads (DuckDB, PySpark, SQLFrame, polars…).

        ``definition`` (e.g. ``analysis.segments.definition`` of an in-memory run) fixes the
        segments; otherwise they are computed in the engine (DuckDB and PySpark only).
        ``classes`` default to the sorted labels of both columns; ``proba`` names probability
        columns returned with :meth:`rows`. ``text`` names text columns (DuckDB only): kept
        out of the features, their terms become ``contains`` slices in :meth:`slices` and
        :meth:`discover` (:mod:`errlens.engines.text`). ``annotator`` / ``source`` name the
        columns saying who or what labelled each row (kept as features, as in memory):
        :meth:`suspects` ranks with their noise priors (:mod:`errlens.engines.priors`),
        :meth:`label_health` and the dashboard's annotator-health panel report them.
        """
        frame = nw.from_native(data)
        if not isinstance(frame, nw.LazyFrame):
            raise TypeError(f"expected a lazy frame (DuckDB relation, Spark DataFrame…), got "
                            f"{type(data).__name__}; use errlens.Analysis for in-memory data")
        columns = frame.collect_schema().names()
        texts = [] if text is None else [text] if isinstance(text, str) else list(text)
        given = [y_true, y_pred, id, *proba, *texts]
        missing = [c for c in [*given, *(features or [])] if c not in columns]
        if missing:
            raise KeyError(f"columns {missing} are not in the data; columns are {columns}")
        EngineText(frame, id, texts, 0)  # text slices: DuckDB only, raises before any work
        schema = frame.collect_schema()
        words = {"boolean": "booleans", "numeric": "numbers", "categorical": "text", None: "values"}
        kinds = {c: words[dtype_family(schema[c])] for c in (y_true, y_pred)}
        if classes is None and kinds[y_true] != kinds[y_pred]:
            raise TypeError(f"y_true {y_true!r} holds {kinds[y_true]} ({schema[y_true]}) but "
                            f"y_pred {y_pred!r} holds {kinds[y_pred]} ({schema[y_pred]}): cast "
                            f"one so that labels compare")
        taken = {c: what for what, cs in (("y_true", [y_true]), ("y_pred", [y_pred]),
                 ("id", [id]), ("proba", proba), ("text", texts)) for c in cs}
        sources = declared_sources(columns, taken, annotator=annotator, source=source)
        names = [c for c in columns if c not in given] if features is None else list(features)
        names += [c for c in sources.values() if c not in names]
        frame = nan_as_null(frame, names)
        class_list = list(classes) if classes is not None else classes_of(frame, y_true, y_pred)
        if definition is None:
            definition = define_lazy(frame, names, bins=bins, top_k=top_k, accuracy=accuracy)
        by_name = {d["feature"]: d for d in definition}
        undefined = [f for f in names if f not in by_name]
        if undefined:
            raise KeyError(f"the definition has no entry for features {undefined}")
        definition = [by_name[f] for f in names]
        self = cls(frame, frame, names, id, y_true, y_pred, list(proba), class_list, definition,
                   bins, top_k, text=texts, label_sources=sources)
        code_type = _small_int(max(len(d["labels"]) for d in definition))
        label_type = _small_int(len(class_list))
        # Spark keeps the columns it was given next to the codes (a join with the source would
        # be a shuffle); DuckDB keeps the codes alone and joins the source in process
        kept = [] if frame.implementation.is_duckdb() else list(dict.fromkeys(
            c for c in [*names, y_true, y_pred, *proba] if c != id))
        coded = frame.select(
            nw.col(id), *kept,
            *[code_expr(d).cast(code_type).alias(self._code(j)) for j, d in enumerate(definition)],
            vocabulary_code(nw.col(y_true), class_list, other=-1).cast(label_type).alias("__t"),
            vocabulary_code(nw.col(y_pred), class_list, other=-1).cast(label_type).alias("__p"),
        ).with_columns((nw.col("__t") != nw.col("__p")).cast(nw.Int8).alias("__e"))
        self.frame = materialise(coded, self)
        if kept:
            self.source = self.frame
        self._check()
        return self

    def _check(self) -> None:
        k = len(self.classes)
        row = self.frame.select(
            nw.len().cast(nw.Int64).alias("n"),
            nw.col("__e").sum().cast(nw.Int64).alias("errors"),
            ((nw.col("__t") < 0) | (nw.col("__p") < 0) | nw.col("__t").is_null()
             | nw.col("__p").is_null()).cast(nw.Int64).sum().cast(nw.Int64).alias("bad"),
            nw.col(self.id).n_unique().cast(nw.Int64).alias("ids"),
            nw.col(self.id).is_null().cast(nw.Int64).sum().cast(nw.Int64).alias("null_ids"),
        ).collect("pandas").to_native().iloc[0]
        if row["null_ids"]:
            raise ValueError(f"{self.id!r} has {int(row['null_ids'])} missing ids; every row "
                             f"needs a sample id")
        if row["bad"]:
            raise ValueError(f"{int(row['bad'])} rows have a missing label or one outside "
                             f"classes {self.classes[:10]}; pass classes= or drop those rows")
        if row["ids"] != row["n"]:
            raise ValueError(f"{self.id!r} has {int(row['n'] - row['ids'])} duplicate or missing "
                             "ids; sample ids must be unique")
        if k < 2:
            raise ValueError(f"only one class ({self.classes}) is present: pass classes=")
        self.n, self.errors = int(row["n"]), int(row["errors"])
        self.counting.feature_confusion(None)  # every later unfiltered table reads these

    # ---------------------------------------------------------------- basics
    @property
    def task(self) -> str:
        """``"binary"`` or ``"multiclass"`` (regressions stay in memory for now)."""
        return "binary" if len(self.classes) == 2 else "multiclass"

    @property
    def error_rate(self) -> float:
        return self.errors / self.n if self.n else float("nan")

    @property
    def segments(self) -> Segments:
        """The segment definition as :class:`Segments` (labels only: codes stay in the engine)."""
        return Segments(self.features, np.empty((0, len(self.features)), np.uint8),
                        [d["labels"] for d in self.definition], self.definition, self.bins,
                        self.top_k)

    @functools.cached_property
    def counting(self) -> EngineCounting:
        """The engine's answers to the counting protocol (:mod:`errlens.engines.counting`)."""
        return EngineCounting(self.classes, self.task, self.definition, rows=self._filtered,
                              flagged=lambda cohort: (self._scope(cohort), self._expr(cohort)))

    @functools.cached_property
    def texts(self) -> EngineText:
        """The text columns' vocabularies and term counts, in the engine."""
        return EngineText(self.source, self.id, self.text, self.n)

    _code = staticmethod(code_column)

    def _index(self, feature: str) -> int:
        return self.segments.index(feature)

    def _filtered(self, cohort: Any) -> nw.LazyFrame[Any]:
        if cohort is None:
            return self.frame
        expr = self._expr(cohort)  # validates the cohort first
        return self._scope(cohort).filter(expr)

    def _scope(self, cohort: Any) -> nw.LazyFrame[Any]:
        """The coded rows, joined by id with the source columns ``cohort`` compares values of
        (segments, confusion cells and ids need no source column)."""
        if cohort is None or not isinstance(cohort, Cohort):
            return self.frame
        columns = source_columns(cohort)
        if not columns or self.source is self.frame:
            return self.frame
        return self.frame.join(self.source.select(self.id, *columns), on=self.id, how="inner")

    def _expr(self, cohort: Any) -> nw.Expr:
        if isinstance(cohort, (list, tuple, pd.Index)):
            cohort = Cohort.ids(list(cohort))
        if not isinstance(cohort, Cohort):
            raise TypeError(f"a lazy analysis selects rows with a Cohort or a list of ids, not "
                            f"{type(cohort).__name__} (a positional mask needs every row)")
        for feature in {n["feature"] for n in leaves(cohort.to_json()) if "feature" in n}:
            if feature not in self.features:
                raise KeyError(f"cohort uses unknown feature {feature!r}; features are: "
                               f"{self.features}")
        return cohort_expr(cohort, segment_code=self._segment_expr, label_code=self._label_expr,
                           id_column=self.id)

    def _segment_expr(self, feature: str, labels: list[str], bins: int, top_k: int) -> nw.Expr:
        if (bins, top_k) != (self.bins, self.top_k):
            raise ScaleOutError(f"this lazy analysis has segments for bins={self.bins}, "
                                f"top_k={self.top_k}, not bins={bins}, top_k={top_k}")
        j = self._index(feature)
        codes = [self.segments.code(feature, label) for label in labels]
        return nw.col(self._code(j)).is_in(codes)

    def _label_expr(self, which: str, value: Any) -> nw.Expr:
        if value not in self.classes:
            raise KeyError(f"{value!r} is not a class; classes are {self.classes}")
        return nw.col("__t" if which == "true" else "__p") == self.classes.index(value)

    # ---------------------------------------------------------------- results
    @_one_query_at_a_time
    def slices(
        self, features: Sequence[str] | None = None, *, cohort: Any = None,
        metric: str = "error_rate", label: Any = None, min_size: int = 1,
        sort: str | None = "lift", fdr: float | None = None, confidence: float = 0.95,
        terms: bool | None = None,
    ) -> pd.DataFrame:
        """Per-segment table, as :meth:`errlens.Analysis.slices` (one engine query); with text
        columns and ``features`` None (or ``terms=True``), one row per term too (one more
        query per text column)."""
        if isinstance(features, str):
            raise TypeError(f"features must be a list of names, got the string {features!r}")
        names = list(self.features) if features is None else list(features)
        labels = [self.definition[self._index(name)]["labels"] for name in names]
        check_table_options(min_size=min_size, fdr=fdr)
        counts = self.counting.segment_counts(names, cohort, metric=metric, label=label)
        terms = bool(self.text) and (features is None if terms is None else terms)
        table = slice_table_from_counts(names, labels, counts, metric=metric, min_size=min_size,
                                        sort=None if terms else sort, fdr=None if terms else fdr,
                                        confidence=confidence)
        if not terms:
            return table
        rows, n, errors = self.texts.table(self._filtered(cohort), self.text, min_df=None,
                                           confidence=confidence)
        rows = rows[rows["n"] >= min_size].drop(columns="error_sum")
        return merge_terms(table, rows, rows=n, total=errors, sort=sort, fdr=fdr)

    @_one_query_at_a_time
    def heatmap(self, feature_a: str, feature_b: str, *, metric: str = "error_rate",
                label: Any = None, cohort: Any = None, confidence: float = 0.95) -> HeatmapTable:
        """Statistics of every segment pair, as :meth:`errlens.Analysis.heatmap`."""
        if feature_a == feature_b:
            raise ValueError(f"a heatmap needs two different features, got {feature_a!r} twice")
        labels_a = self.definition[self._index(feature_a)]["labels"]
        labels_b = self.definition[self._index(feature_b)]["labels"]
        counts = self.counting.cell_counts(feature_a, feature_b, cohort, metric=metric,
                                           label=label)
        return HeatmapTable.from_counts(
            feature_a, feature_b, labels_a, labels_b, counts, metric=metric,
            confidence=confidence, bins=self.bins, top_k=self.top_k,
            base=None if cohort is None else self._as_cohort(cohort))

    @_one_query_at_a_time
    def confusion(self, cohort: Any = None, *, normalize: str | None = None, top: int = 10
                  ) -> ConfusionResult:
        """Confusion table of ``cohort``, as :meth:`errlens.Analysis.confusion`."""
        if normalize not in NORMALIZE:
            raise ValueError(f"normalize must be one of {NORMALIZE}, got {normalize!r}")
        cm, rest = self.counting.confusion_counts(cohort)
        return ConfusionResult.from_counts(
            cm, self.classes, rest=rest, normalize=normalize, top=top,
            cohort=None if cohort is None else self._as_cohort(cohort))

    @_one_query_at_a_time
    def discover(self, *, k: int = 10, max_level: int = 3, min_support: int | float | None = None,
                 alpha: float = 0.95, features: Sequence[str] | None = None, cohort: Any = None,
                 progress: Callable[[Progress], None] | None = None,
                 text: bool | str | Sequence[str] = True, min_df: int | None = None,
                 max_terms: int = MAX_TERMS, distinct: bool = True) -> DiscoveredSlices:
        """Top-``k`` SliceLine slices, as :meth:`errlens.Analysis.discover` (the same search,
        with the terms of the ``text`` columns as in memory, near duplicates left out unless
        ``distinct=False``); one engine query per level counts every candidate feature set."""
        names = list(self.features) if features is None else (
            [features] if isinstance(features, str) else list(features))
        if not names or len(set(names)) != len(names):
            raise ValueError(f"features must list distinct names (None for all), got {names}")
        columns = [self._index(f) for f in names]
        cards = [len(self.definition[j]["labels"]) for j in columns]
        first = self.counting.feature_confusion(cohort)[names[0]]
        n, errors = int(first.sum()), int(first.sum() - np.trace(first, axis1=1, axis2=2).sum())
        if n == 0:
            raise ValueError("the cohort selects no rows: discover needs at least one row")
        params: dict[str, Any] = {"k": k, "max_level": max_level, "alpha": alpha,
                                  "distinct": distinct}
        wanted = search_size(k, distinct)
        codes, texts = [self._code(j) for j in columns], self.texts.names(text)
        terms: list[Term] = []
        if texts:
            search, terms, found = self.texts.search(
                self._filtered(cohort), codes, cards, n=n, errors=errors, names=texts,
                min_df=min_df, max_terms=max_terms, k=wanted, max_level=max_level,
                min_support=min_support, alpha=alpha, progress=progress)
            params.update(found)
        else:
            counts = LevelCounts(self._filtered(cohort), codes, cards, errors=errors)
            search = search_counts(counts, n=n, error_sum=errors, k=wanted, max_level=max_level,
                                   min_support=min_support, alpha=alpha, progress=progress)
        base = None if cohort is None else self._as_cohort(cohort)
        return build(search, self.segments, columns, np.empty((0, len(columns)), np.uint8),
                     np.empty(0), base=base, binary=True, params=params, terms=terms,
                     k=k if distinct else None)

    # ---------------------------------------------------------------- rows
    @_one_query_at_a_time
    def rows(self, cohort: Any = None, *, limit: int = 100, after: Any = None) -> pd.DataFrame:
        """The first ``limit`` rows of ``cohort`` by id (after id ``after``: keyset paging, which
        engines answer with a top-k instead of sorting everything), indexed by id: features,
        text columns, ``y_true``, ``y_pred``, ``error`` and the probability columns."""
        _check_limit(limit)
        frame = self._filtered(cohort)
        if after is not None:
            frame = frame.filter(nw.col(self.id) > nw.lit(after))
        return self._page(frame.sort(self.id).head(limit))

    @_one_query_at_a_time
    def sample(self, cohort: Any = None, *, n: int = 100, seed: int = 0) -> pd.DataFrame:
        """About ``n`` random rows of ``cohort`` (Bernoulli sampling in the engine, seeded)."""
        _check_limit(n)
        frame = self._filtered(cohort)
        total = int(frame.select(nw.len()).collect("pandas").to_native().iloc[0, 0])
        fraction = min(1.0, 1.5 * n / max(total, 1) + 1e-9)
        native = frame.to_native()
        if self.frame.implementation.is_duckdb():
            native = query(native, f"SELECT * FROM {{t}} USING SAMPLE {fraction * 100:.12f}% "
                                       f"(bernoulli, {int(seed)})")
        elif hasattr(native, "sample"):
            native = native.sample(False, fraction, int(seed))
        else:
            raise ScaleOutError(f"sampling is not available on {self.frame.implementation}")
        return self._page(nw.from_native(native).sort(self.id).head(n))

    def _page(self, frame: nw.LazyFrame[Any]) -> pd.DataFrame:
        """The source rows of a page of coded rows (at most ``MAX_ROWS`` ids, fetched by id)."""
        page = frame.select(self.id, "__e").collect("pandas").to_native().set_index(self.id)
        columns = [self.id, *self.features, *self.text, self.y_true, self.y_pred, *self.proba]
        rows = (self.source.filter(nw.col(self.id).is_in(page.index.tolist())).select(*columns)
                .collect("pandas").to_native().set_index(self.id).reindex(page.index))
        rows = rows.rename(columns={self.y_true: "y_true", self.y_pred: "y_pred"})
        rows.insert(len(self.features) + len(self.text) + 2, "error", page["__e"].astype(bool))
        return rows

    def _as_cohort(self, cohort: Any) -> Cohort:
        return cohort if isinstance(cohort, Cohort) else Cohort.ids(list(cohort))

    # ---------------------------------------------------------------- what does not scale out
    @_one_query_at_a_time
    def suspects(self, method: str = "confident_learning", *, cohort: Any = None,
                 rank_by: str = "self_confidence", top: int = 1000, prior: Any = "auto",
                 reviews: Any = None) -> Suspects:
        """The ``top`` most suspicious rows of ``cohort``, flagged in the engine by confident
        learning over the ``proba`` columns (see :mod:`errlens.engines.suspects`: the same flags
        as cleanlab for ``confident_learning`` and ``predicted_neq_given``; other filters and
        kNN raise :class:`ScaleOutError`). With a declared ``annotator`` / ``source``
        (``prior="auto"``, or a list of them; None: without) rows are ranked by the posterior
        of :meth:`errlens.Analysis.suspects`, computed in the engine
        (:mod:`errlens.engines.priors`). ``reviews`` (a LabelStore or its events) rank as in
        memory: decided rows last, and (unless ``prior=None``) the reviewed rows, brought to
        the driver by id, update the sources' priors, the detector's slope and the moved
        slices, applied in the engine (:mod:`errlens.engines.reviews`)."""
        names = prior_names(self, prior)
        if reviews is not None:
            return reviewed_suspects(self, names, method, reviews, learn=prior is not None,
                                     cohort=cohort, rank_by=rank_by, top=top)
        ordering = prior_ordering(self, names, method) if names else None
        return engine_suspects(self, method, cohort=cohort, rank_by=rank_by, top=top,
                               ordering=ordering)

    @_one_query_at_a_time
    def source_noise(self, method: str = "confident_learning") -> dict[str, pd.DataFrame]:
        """Per declared role (``"annotator"``, ``"source"``) its noise table, the in-memory
        ``label_health().annotators`` / ``.sources`` (``suspects`` counts ``method``'s flags:
        ``confident_learning`` or ``predicted_neq_given``)."""
        return noise_by_role(self, method)

    @_one_query_at_a_time
    def label_health(self, method: str = "confident_learning") -> LabelHealth:
        """Per-class noise and the declared sources' tables, as
        :meth:`errlens.Analysis.label_health`, counted in the engine
        (:mod:`errlens.engines.health`; the sources' ``suspects`` count ``method``'s flags)."""
        return engine_health(self, method)

    def unavailable(self, operation: Operation) -> str | None:
        """What needs every row on the driver, and what to use instead (None: available)."""
        reasons = {
            "mask": f"a row mask would bring all {self.n:,} rows to the driver; select rows "
                    "with a Cohort and read them with rows(cohort, limit=...) or count them "
                    "with slices()",
            "frame": f"this cohort's rows stay in the engine (up to {self.n:,} rows); page them "
                     "with lazy.rows(cohort, limit=...), count them with "
                     "lazy.slices(cohort=cohort) or lazy.confusion(cohort); cohort.to_json() is "
                     "its filter expression",
            "error_tree": "the error tree is not computed in an engine yet; use discover() "
                          "(SliceLine, counted in the engine) or build the tree on an "
                          "in-memory analysis",
        }
        return reasons.get(operation)

    def error_tree(self, *args: Any, **kwargs: Any) -> Any:
        """Not on an engine yet (each node would be one more engine query)."""
        raise ScaleOutError(self.unavailable("error_tree"))

    def mask(self, cohort: Any = None) -> np.ndarray:
        """Not on an engine: a positional mask is one value per row."""
        raise ScaleOutError(self.unavailable("mask"))

def _check_limit(limit: int) -> None:
    if int(limit) != limit or not 0 < limit <= MAX_ROWS:
        raise ScaleOutError(f"pages hold 1 to {MAX_ROWS:,} rows, got {limit!r}: page with "
                            "after=<last id> or aggregate with slices() / heatmap()")


def _small_int(size: int) -> Any:
    """Narrowest signed integer type holding codes ``-1 .. size - 1``."""
    return nw.Int16 if size < np.iinfo(np.int16).max else nw.Int32
