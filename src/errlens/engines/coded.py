"""The coded rows of a lazy analysis, computed once: id, label codes, error flag and one small
integer code per feature, kept by the engine so later counts never re-read or re-code the source.

DuckDB writes them to a temporary table (2 bytes a code; the buffer manager spills it to
``temp_directory`` under ``memory_limit``); value cohorts and pages join the source by id.
Spark persists them, with the given columns, on the executors (``MEMORY_AND_DISK``: compressed
columnar batches; partitions that do not fit in memory go to local disk, lost partitions are
recomputed from the lineage), so nothing needs a shuffle join. Other lazy backends keep the
expression (recomputed per query).

>>> import duckdb, narwhals as nw
>>> rel = duckdb.sql("SELECT range AS id, range % 3 AS x FROM range(6)")
>>> class Owner: ...
>>> owner = Owner()
>>> coded = materialise(nw.from_native(rel).select("id", (nw.col("x") * 2).alias("__c0")), owner)
>>> sorted(coded.collect()["__c0"].to_list())
[0, 0, 2, 2, 4, 4]
"""

from __future__ import annotations

import contextlib
import uuid
import weakref
from typing import Any

import narwhals as nw

from errlens.engines.sql import query
from errlens.slicing.cohort import Cohort


def code_column(j: int) -> str:
    """Name of the code column of the ``j``-th feature in the coded rows."""
    return f"__c{j}"


def materialise(frame: nw.LazyFrame[Any], owner: object) -> nw.LazyFrame[Any]:
    """``frame`` computed once and kept in the engine until ``owner`` is garbage-collected."""
    native = frame.to_native()
    impl = frame.implementation
    if impl.is_duckdb():
        return nw.from_native(temp_table(native, owner)[1])
    if impl.is_pyspark() or impl.is_pyspark_connect():
        from pyspark import StorageLevel

        kept = native.persist(StorageLevel.MEMORY_AND_DISK)
        weakref.finalize(owner, _unpersist, kept)
        return nw.from_native(kept)
    return frame


def temp_table(relation: Any, owner: object, sql: str = "SELECT * FROM {t}") -> tuple[str, Any]:
    """DuckDB: the result of ``sql`` over ``relation`` (named ``{t}``) written to a temporary
    table, dropped when ``owner`` is garbage-collected: its name and a relation reading it."""
    name = f"errlens_codes_{uuid.uuid4().hex}"
    # runs eagerly; its (materialised) result gives a relation of the same connection that,
    # unlike ``relation``, does not bind the source again when queried
    done = query(relation, f"CREATE TEMP TABLE {name} AS {sql}")
    weakref.finalize(owner, _drop_table, done, name)
    return name, query(done, f"FROM {name}")


def _drop_table(relation: Any, name: str) -> None:
    # Runs from a finalizer, i.e. whenever the garbage collector runs, possibly in the middle
    # of another query: ``query`` gives it a view name of its own. A closed connection has
    # already taken its temporary tables with it.
    with contextlib.suppress(Exception):
        query(relation, f"DROP TABLE IF EXISTS {name}")


def _unpersist(frame: Any) -> None:
    with contextlib.suppress(Exception):  # the session is already stopped
        frame.unpersist()


def source_columns(cohort: Cohort) -> list[str]:
    """Columns of the source a cohort reads (its value comparisons and the text columns of its
    ``contains``; segments, confusion cells and ids are answered from the codes).

    >>> source_columns(Cohort.where("age", ">", 40) | Cohort.segment("sex", "Male")
    ...                | Cohort.contains("review", "sequel"))
    ['age', 'review']
    """
    seen: list[str] = []
    for node in leaves(cohort.to_json()):
        column = {"where": node.get("feature"), "contains": node.get("column")}.get(node["kind"])
        if column is not None and column not in seen:
            seen.append(str(column))
    return seen


def leaves(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The predicate leaves of a cohort's JSON tree."""
    if node["kind"] in ("and", "or"):
        return [leaf for arg in node["args"] for leaf in leaves(arg)]
    if node["kind"] == "not":
        return leaves(node["arg"])
    return [node]
