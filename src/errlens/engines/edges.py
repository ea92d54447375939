"""Engine-native segment definitions: the same JSON definition as
:func:`errlens.slicing.segments.define`, computed inside DuckDB or Spark.

DuckDB computes exact quantiles with ``quantile_disc``, which equals numpy's
``quantile(method="inverted_cdf")`` bit for bit, so its definition is the in-memory one. Spark
uses ``percentile_approx(x, p, accuracy)``: exact while ``accuracy`` exceeds the row count,
otherwise each edge is within ``rows / accuracy`` ranks of the exact one (about 0.02–0.04 % of the
rows change bins at 10M rows with the default accuracy). Either way the result is kept as literals
and every engine counts with the same literals, so the counts agree everywhere.

Categories keep the ``top_k`` most frequent values; ties at the cut are broken by value, in
memory too (``segments._most_frequent``).

>>> import duckdb, narwhals as nw
>>> rel = duckdb.sql("SELECT * FROM range(10) t(x)")
>>> define_lazy(nw.from_native(rel), ["x"], bins=2)[0]["edges"]
[4]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import narwhals as nw
import numpy as np

from errlens.engines.sql import query
from errlens.slicing.segments import (
    MISSING,
    categorical_segments,
    definition_value,
    interval_segments,
    value_segments,
)

SPARK_ACCURACY = 100_000
"""Default ``accuracy`` of Spark's ``percentile_approx`` here: exact below 100,000 rows, within
``rows / 100,000`` ranks of the exact edge beyond (100 ranks at 10M rows). The sketch grows with
the accuracy: 1,000,000 made the edges pass 4x slower at 1M rows and took 7 minutes at 10M."""


def define_lazy(
    frame: nw.LazyFrame[Any], features: Sequence[str], *, bins: int = 5, top_k: int = 10,
    accuracy: int = SPARK_ACCURACY,
) -> list[dict[str, Any]]:
    """Segment definition of ``features`` of a DuckDB or PySpark ``frame`` (narwhals lazy)."""
    if int(bins) != bins or bins < 2:
        raise ValueError(f"bins must be an integer ≥ 2, got {bins!r}")
    if int(top_k) != top_k or top_k < 1:
        raise ValueError(f"top_k must be an integer ≥ 1, got {top_k!r}")
    backend = _backend(frame, accuracy)
    schema = frame.collect_schema()
    kinds = {f: _kind(f, schema[f]) for f in features}
    numeric = [f for f in features if kinds[f] == "numeric"]
    summary = backend.summary(list(features), numeric, bins)
    categorical = [f for f in features if kinds[f] == "categorical"
                   and summary[f]["missing"] < summary[f]["rows"]]
    tops = backend.top_values(categorical, top_k + 1) if categorical else {}
    out = []
    for f in features:
        rows, missing = summary[f]["rows"], summary[f]["missing"]
        head: dict[str, Any] = {"feature": f, "missing": missing > 0}
        if missing == rows:
            d = {**head, "kind": "empty", "labels": [MISSING]}
        elif kinds[f] == "boolean":
            d = {**head, "kind": "boolean", "vocabulary": [False, True], "other": False,
                 "labels": ["False", "True"]}
        elif kinds[f] == "numeric":
            d = {**head, **_numeric(backend, f, summary[f], bins, schema[f].is_integer())}
        else:
            d = {**head, **_categorical(tops[f], top_k, f)}
        if d["missing"] and d["kind"] != "empty":
            d["labels"] = [*d["labels"], MISSING]
        out.append(d)
    return out


def dtype_family(dtype: Any) -> str | None:
    """``"boolean"``, ``"numeric"`` or ``"categorical"`` for the engine dtypes errlens can
    segment and compare as labels; None for the others (dates, nested types...).

    >>> dtype_family(nw.Int64), dtype_family(nw.String), dtype_family(nw.Datetime())
    ('numeric', 'categorical', None)
    """
    if dtype == nw.Boolean:
        return "boolean"
    if dtype.is_numeric():
        return "numeric"
    if dtype in (nw.String, nw.Categorical) or isinstance(dtype, nw.Enum):
        return "categorical"
    return None


def _kind(name: str, dtype: Any) -> str:
    family = dtype_family(dtype)
    if family is not None:
        return family
    raise TypeError(
        f"{name!r} has dtype {dtype}, which the engines cannot segment yet (numbers, booleans and "
        "strings only): cast it to a string or a number in the engine, or leave it out with "
        "features=[...]"
    )


def _numeric(backend: Any, f: str, s: dict[str, Any], bins: int, integer: bool) -> dict[str, Any]:
    if s["few"]:
        distinct = backend.distinct(f, bins + 1)
        if len(distinct) <= bins:
            return value_segments(distinct, integer=integer)
    low = s["min"]
    edges = np.unique(np.asarray(s["quantiles"], dtype=np.float64))
    spike = edges[0] == low
    if spike:
        start, more = backend.above(f, low, bins - 1)
        more = np.asarray(more, dtype=np.float64)
        edges = np.concatenate([[start], np.unique(more[more > start])])
    return interval_segments(edges, low if spike else None, integer=integer)


def _categorical(top: list[tuple[Any, int]], top_k: int, name: str) -> dict[str, Any]:
    vocabulary = [definition_value(v, False) for v, _ in top[:top_k]]
    return categorical_segments(vocabulary, len(top) > top_k, name)


def _may_be_few(estimate: int | None, bins: int) -> bool:
    """Whether a HyperLogLog estimate of distinct values may hide ``bins`` or fewer (then they
    are fetched exactly): the sketch is exact at small cardinalities, the margin keeps it safe."""
    return estimate is not None and estimate <= 2 * bins + 8


def _probs(parts: int) -> list[float]:
    return (np.arange(1, parts) / parts).tolist()


def _backend(frame: nw.LazyFrame[Any], accuracy: int) -> Any:
    impl = frame.implementation
    if impl.is_duckdb():
        return _DuckDB(frame.to_native())
    if impl.is_pyspark() or impl.is_pyspark_connect():
        return _Spark(frame.to_native(), accuracy)
    raise TypeError(
        f"segment edges are computed natively on DuckDB and PySpark only, not {impl}: pass "
        "definition= (e.g. analysis.segments.definition from an in-memory sample)"
    )


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _DuckDB:
    """Exact definitions with DuckDB SQL over a relation (``quantile_disc``)."""

    def __init__(self, rel: Any) -> None:
        self.rel = rel

    def _one(self, sql: str) -> tuple[Any, ...]:
        return query(self.rel, sql).fetchall()[0]

    def summary(self, features: list[str], numeric: list[str], bins: int) -> dict[str, Any]:
        parts = ["count(*)"] + [f"count({_q(f)})" for f in features]
        for f in numeric:
            # an exact count(DISTINCT) costs more than the quantiles; the estimate only decides
            # which columns get their few distinct values fetched exactly
            parts += [f"min({_q(f)})", f"approx_count_distinct({_q(f)})",
                      f"quantile_disc({_q(f)}, {_probs(bins)})"]
        row = self._one(f"SELECT {', '.join(parts)} FROM {{t}}")
        return _summary(row, features, numeric, bins)

    def distinct(self, f: str, limit: int) -> list[Any]:
        sql = (f"SELECT DISTINCT {_q(f)} FROM {{t}} WHERE {_q(f)} IS NOT NULL "
               f"ORDER BY 1 LIMIT {limit}")
        return [r[0] for r in query(self.rel, sql).fetchall()]

    def above(self, f: str, low: Any, parts: int) -> tuple[Any, list[Any]]:
        where = f"FILTER (WHERE {_q(f)} > {low!r})"
        more = f", quantile_disc({_q(f)}, {_probs(parts)}) {where}" if parts > 1 else ""
        row = self._one(f"SELECT min({_q(f)}) {where}{more} FROM {{t}}")
        return row[0], (list(row[1]) if parts > 1 else [])

    def top_values(self, features: list[str], limit: int) -> dict[str, list[tuple[Any, int]]]:
        out = {}
        for f in features:
            sql = (f"SELECT {_q(f)}, count(*) AS n FROM {{t}} WHERE {_q(f)} IS NOT NULL GROUP BY 1 "
                   f"ORDER BY n DESC, 1 ASC LIMIT {limit}")
            out[f] = [(r[0], int(r[1])) for r in query(self.rel, sql).fetchall()]
        return out


class _Spark:
    """Definitions with Spark aggregates (``percentile_approx`` with ``accuracy``)."""

    def __init__(self, df: Any, accuracy: int) -> None:
        self.df, self.accuracy = df, int(accuracy)

    def summary(self, features: list[str], numeric: list[str], bins: int) -> dict[str, Any]:
        from pyspark.sql import functions as F

        parts = [F.count(F.lit(1))] + [F.count(F.col(f)) for f in features]
        for f in numeric:
            parts += [F.min(f), F.approx_count_distinct(f),
                      F.percentile_approx(f, _probs(bins), self.accuracy)]
        row = self.df.agg(*parts).collect()[0]
        return _summary(row, features, numeric, bins)

    def distinct(self, f: str, limit: int) -> list[Any]:
        rows = (self.df.select(f).where(self.df[f].isNotNull()).distinct().orderBy(f)
                .limit(limit).collect())
        return [r[0] for r in rows]

    def above(self, f: str, low: Any, parts: int) -> tuple[Any, list[Any]]:
        from pyspark.sql import functions as F

        rest = F.when(F.col(f) > F.lit(low), F.col(f))
        aggs = [F.min(rest)]
        if parts > 1:
            aggs.append(F.percentile_approx(rest, _probs(parts), self.accuracy))
        row = self.df.agg(*aggs).collect()[0]
        return row[0], (list(row[1]) if parts > 1 else [])

    def top_values(self, features: list[str], limit: int) -> dict[str, list[tuple[Any, int]]]:
        """One job for every column: (feature, value) counts ranked within each feature."""
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        pairs = F.explode(F.array(*[
            F.struct(F.lit(f).alias("f"), F.col(f).cast("string").alias("v")) for f in features
        ]))
        counts = (self.df.select(pairs.alias("p")).select("p.f", "p.v")
                  .where(F.col("v").isNotNull()).groupBy("f", "v").count())
        rank = F.row_number().over(Window.partitionBy("f").orderBy(F.desc("count"), F.asc("v")))
        rows = counts.withColumn("r", rank).where(F.col("r") <= limit).collect()
        out: dict[str, list[tuple[Any, int]]] = {f: [] for f in features}
        for r in sorted(rows, key=lambda r: (r["f"], r["r"])):
            out[r["f"]].append((r["v"], int(r["count"])))
        return out


def _summary(row: Any, features: list[str], numeric: list[str], bins: int) -> dict[str, Any]:
    """Per feature: rows and missing; per numeric feature also min, whether its distinct
    values may be few, and quantiles; from one aggregate row (count(*), count per feature,
    then min / approximate distinct count / quantiles per numeric feature)."""
    rows, out = row[0], {}
    for i, f in enumerate(features):
        out[f] = {"rows": rows, "missing": rows - row[1 + i]}
    for i, f in enumerate(numeric):
        low, distinct, quantiles = row[1 + len(features) + 3 * i: 4 + len(features) + 3 * i]
        out[f].update(min=low, few=_may_be_few(distinct, bins), quantiles=quantiles)
    return out
