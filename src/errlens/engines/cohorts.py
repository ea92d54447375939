"""Cohorts as engine filters: a :class:`~errlens.slicing.cohort.Cohort` predicate tree turned
into one narwhals boolean expression, with the in-memory missing-value semantics (``==``, ``in``
and ordering comparisons are false on missing values, ``!=`` / ``not in`` their negations).
``column contains "term"`` is a regular expression over the lowercased column
(:func:`errlens.slicing.text.tokens.engine_pattern`: whole words, the vocabulary's rule); a
missing text contains nothing.

>>> import duckdb, narwhals as nw
>>> from errlens.slicing.cohort import Cohort
>>> lf = nw.from_native(duckdb.sql("SELECT * FROM (VALUES (1), (5), (NULL)) t(x)"))
>>> expr = cohort_expr(Cohort.where("x", "!=", 1), segment_code=None, label_code=None)
>>> lf.select(expr.alias("m")).collect()["m"].to_list()
[False, True, True]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import narwhals as nw

from errlens.slicing.cohort import Cohort
from errlens.slicing.text.tokens import engine_pattern

SegmentCode = Callable[[str, list[str], int, int], nw.Expr]
LabelCode = Callable[[str, Any], nw.Expr]


def cohort_expr(
    cohort: Cohort, *, segment_code: SegmentCode | None, label_code: LabelCode | None,
    id_column: str = "id",
) -> nw.Expr:
    """Boolean expression selecting the rows of ``cohort``, never null.

    ``segment_code(feature, labels, bins, top_k)`` gives "the row is in one of these segments";
    ``label_code(which, value)`` gives "``y_true`` / ``y_pred`` equals this class".
    """
    return _expr(cohort.to_json(), segment_code, label_code, id_column).fill_null(False)


def _expr(node: dict[str, Any], segment_code: SegmentCode | None, label_code: LabelCode | None,
          id_column: str) -> nw.Expr:
    kind = node["kind"]

    def rec(child: dict[str, Any]) -> nw.Expr:
        return _expr(child, segment_code, label_code, id_column).fill_null(False)

    if kind == "all":
        return nw.lit(True)
    if kind in ("and", "or"):
        out = rec(node["args"][0])
        for arg in node["args"][1:]:
            out = (out & rec(arg)) if kind == "and" else (out | rec(arg))
        return out
    if kind == "not":
        return ~rec(node["arg"])
    if kind == "ids":
        return nw.col(id_column).is_in(node["ids"])
    if kind == "confusion_cell":
        if label_code is None:
            raise ValueError("confusion cells need a classifier; this analysis is a regression")
        return label_code("true", node["true"]) & label_code("predicted", node["predicted"])
    if kind == "contains":
        lowered = nw.col(node["column"]).cast(nw.String).str.to_lowercase()
        return lowered.str.contains(engine_pattern(node["term"]), literal=False)
    if kind == "segment":
        if segment_code is None:
            raise ValueError("segment cohorts need a segment definition")
        return segment_code(node["feature"], node["labels"], node["bins"], node["top_k"])
    return _where(node)


def _where(node: dict[str, Any]) -> nw.Expr:
    col, op, value = nw.col(node["feature"]), node["op"], node["value"]
    present = ~col.is_null()
    if op == "is missing":
        return col.is_null()
    if op == "not missing":
        return present
    if op in ("in", "not in"):
        inside = col.is_in(value).fill_null(False) & present
        return inside if op == "in" else ~inside
    if op in ("==", "!="):
        equal = (col == nw.lit(value)).fill_null(False) & present
        return equal if op == "==" else ~equal
    if op == "between":
        result = (col >= nw.lit(value[0])) & (col <= nw.lit(value[1]))
    else:
        lit = nw.lit(value)
        result = {"<": col < lit, "<=": col <= lit, ">": col > lit, ">=": col >= lit}[op]
    return result.fill_null(False) & present
