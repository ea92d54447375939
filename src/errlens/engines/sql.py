"""DuckDB SQL over a relation under a view name of its own.

``relation.query("t", sql)`` registers the relation as view ``t`` on its connection and then
binds ``sql``: two steps. Every relation built from pandas shares DuckDB's default connection,
and widget messages and background discovery run in threads beside the user's cells, so another
query could register its own ``t`` between the two steps and this one would read the wrong
table ("column not found" binder errors, seen in about one test run in seven). A fresh name per
query closes that window; DuckDB drops the view once the query is bound, so nothing piles up.

>>> import duckdb
>>> rel = duckdb.sql("SELECT range AS x FROM range(4)")
>>> query(rel, "SELECT sum(x) FROM {t}").fetchall()
[(6,)]
"""

from __future__ import annotations

import uuid
from typing import Any


def query(relation: Any, sql: str) -> Any:
    """``sql`` run on ``relation``, which it names ``{t}`` (a DuckDB relation, still lazy)."""
    name = f"errlens_{uuid.uuid4().hex}"
    return relation.query(name, sql.replace("{t}", name))
