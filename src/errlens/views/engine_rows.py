"""Pages of a LazyAnalysis' rows for the suspect browser: keyset pages by id, read from the
engine one page at a time (``LazyAnalysis.rows(cohort, limit=page_size, after=last_id)``), or
the cohort's suspects ranked in the engine (``LazyAnalysis.suspects``, its top ``TOP`` rows).

The last id of every page seen is kept, so turning pages forward or back is one engine query
for ``page_size`` rows; a far jump walks forward in chunks of ids. The label filters become
confusion-cell cohorts, so the engine filters them too.

>>> import duckdb
>>> from errlens.engines import LazyAnalysis
>>> from errlens.views.paging import Query
>>> from errlens.views.source import source_of
>>> rel = duckdb.sql("SELECT i AS id, i % 7 AS x, CAST(i % 2 AS VARCHAR) AS y, "
...                  "CAST(CAST(i % 3 = 0 AS INT) AS VARCHAR) AS p FROM range(100) t(i)")
>>> rows = EngineRows(source_of(LazyAnalysis.from_duckdb(rel, y_true="y", y_pred="p", id="id")),
...                   page_size=10)
>>> meta, table = rows.page(Query(mode="all", page=3, given="1"))
>>> meta["total"], table["id"].to_pylist()[:3]
(50, [61, 63, 65])
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa

from errlens.slicing.cohort import Cohort
from errlens.views.paging import Query
from errlens.views.samples import display_values

if TYPE_CHECKING:
    from errlens.engines import LazyAnalysis
    from errlens.suspects.table import Suspects

_WALK = 10_000  # most ids read per query when jumping forward over unseen pages
TOP = 10_000
"""Most suspects of one selection the browser ranks (the engine returns only these)."""


class _Counted(Protocol):
    @property
    def rows(self) -> int: ...


class Engine(Protocol):
    """What the rows need of their :class:`~errlens.views.source.EngineSource` (a protocol,
    so this module does not import the source that builds it)."""

    analysis: LazyAnalysis
    classes: list[Any]

    def select(self, cohort: Cohort | None) -> _Counted: ...
    def run(self, call: Callable[[], Any], what: str) -> Any: ...


class EngineRows:
    """The rows of a cohort of a LazyAnalysis, paged in id order (see the module docstring)."""

    images = None  # thumbnails need the images in memory

    def __init__(self, source: Engine, *, method: str = "confident_learning",
                 text_column: str | None = None, page_size: int = 25) -> None:
        lazy = source.analysis
        if text_column is not None and text_column not in lazy.features:
            raise KeyError(f"text_column {text_column!r} is not a feature column; columns are "
                           f"{list(lazy.features)[:20]}")
        self.source, self.lazy, self.page_size = source, lazy, page_size
        self.method, self.text_column = method, text_column
        self.features = [str(f) for f in lazy.features]
        self.has_proba = len(lazy.proba) == len(lazy.classes)  # proba columns in class order
        self._cohort: Cohort | None = None
        self._ends: dict[str, list[Any]] = {}  # view -> last id of each page seen, in order
        self._ranked: Suspects | None = None  # the cohort's suspects, once asked for

    @property
    def cohort(self) -> Cohort | None:
        """The cohort rows are drawn from (None = all rows)."""
        return self._cohort

    def set_cohort(self, cohort: Cohort | None) -> None:
        """Draw rows from ``cohort``; drops the page boundaries seen."""
        self._cohort = cohort
        self._ends.clear()
        self._ranked = None

    def view(self, query: Query) -> Cohort | None:
        """The cohort narrowed by the query's label filters (a filter the engine applies)."""
        classes = self.source.classes
        given = [query.given] if query.given is not None else classes
        predicted = [query.predicted] if query.predicted is not None else classes
        if query.given is None and query.predicted is None:
            return self._cohort
        cells = [Cohort.confusion_cell(t, p) for t in given for p in predicted]
        labels = cells[0] if len(cells) == 1 else _any(cells)
        return labels if self._cohort is None else self._cohort & labels

    def page(self, query: Query, extra: Callable[[np.ndarray], dict[str, pa.Array]] | None = None
             ) -> tuple[dict[str, Any], pa.Table]:
        """(page, pages, total, offset, score_kind) and the Arrow table of ``query.page``.
        ``extra`` (per-row store columns of an in-memory browser) has no rows to use here."""
        if query.mode == "suspects":
            return self._suspects_page(query)
        view = self.view(query)
        total = self.source.select(view).rows
        pages = max(1, -(-total // self.page_size))
        page = min(query.page, pages - 1)
        after = self._after(view, page)
        frame = self.source.run(lambda: self.lazy.rows(view, limit=self.page_size, after=after),
                                "read a page of rows")
        ends = self._ends.setdefault(_key(view), [])
        if len(frame) == self.page_size and len(ends) == page:
            ends.append(frame.index[-1])
        meta = {"page": page, "pages": pages, "total": total,
                "offset": page * self.page_size, "score_kind": None}
        return meta, self.table(frame)

    def _suspects_page(self, query: Query) -> tuple[dict[str, Any], pa.Table]:
        """A page of the cohort's flagged rows, most suspicious first (ranks over the cohort,
        label filters applied to the ranking, as the in-memory browser does)."""
        if self._ranked is None:
            cohort = self._cohort
            self._ranked = self.source.run(
                lambda: self.lazy.suspects(self.method, cohort=cohort, top=TOP),
                f"rank suspects by {self.method}")
        ranked = self._ranked.table[self._ranked.table["flagged"].to_numpy(dtype=bool)]
        if query.given is not None:
            ranked = ranked[ranked["given"] == query.given]
        if query.predicted is not None:
            ranked = ranked[ranked["predicted"] == query.predicted]
        pages = max(1, -(-len(ranked) // self.page_size))
        page = min(query.page, pages - 1)
        shown = ranked.iloc[page * self.page_size:(page + 1) * self.page_size]
        ids = shown.index.tolist()
        frame = self.source.run(
            lambda: self.lazy.rows(Cohort.ids(ids), limit=max(1, len(ids))),
            "read a page of suspects").reindex(shown.index)
        meta = {"page": page, "pages": pages, "total": len(ranked),
                "offset": page * self.page_size, "score_kind": self._ranked.score_kind}
        return meta, self.table(frame, shown)

    def _after(self, view: Cohort | None, page: int) -> Any:
        """The last id of the page before ``page`` (walking forward over unseen pages)."""
        if page == 0:
            return None
        ends = self._ends.setdefault(_key(view), [])
        while len(ends) < page:
            wanted = min(_WALK // self.page_size, page - len(ends)) * self.page_size
            start = ends[-1] if ends else None
            ids = self.source.run(partial(self.lazy.rows, view, limit=wanted, after=start),
                                  "read row ids").index
            if len(ids) < self.page_size:
                break
            ends.extend(ids[self.page_size - 1::self.page_size])
        if len(ends) >= page:
            return ends[page - 1]
        return ends[-1] if ends else None  # fewer rows than counted: the data changed

    def table(self, frame: pd.DataFrame, ranked: pd.DataFrame | None = None) -> pa.Table:
        """The rows of ``frame`` (``LazyAnalysis.rows`` output) in the browser's page schema,
        with their score, flag and rank from ``ranked`` (a suspects table) when given."""
        classes = self.source.classes
        m = len(frame)
        given_code = _codes(frame["y_true"], classes)
        pred_code = _codes(frame["y_pred"], classes)
        nulls = [None] * m
        if self.has_proba and m:
            proba = frame[list(self.lazy.proba)].to_numpy(dtype=np.float64)
            p_given, p_pred = proba[np.arange(m), given_code], proba[np.arange(m), pred_code]
        else:
            p_given = p_pred = np.full(m, np.nan)
        columns: dict[str, pa.Array] = {
            "id": pa.array(frame.index.tolist()),
            "given": pa.array([str(v) for v in frame["y_true"]], pa.string()),
            "predicted": pa.array([str(v) for v in frame["y_pred"]], pa.string()),
            "given_code": pa.array(given_code, pa.int32()),
            "predicted_code": pa.array(pred_code, pa.int32()),
            "p_given": pa.array(p_given, pa.float64(), from_pandas=True),
            "p_pred": pa.array(p_pred, pa.float64(), from_pandas=True),
            "score": pa.array(nulls if ranked is None else ranked["score"], pa.float64()),
            "flagged": pa.array(nulls if ranked is None else ranked["flagged"], pa.bool_()),
            "rank": pa.array(nulls if ranked is None else ranked["rank"], pa.int64()),
        }
        for i, name in enumerate(self.features):
            columns[f"f{i}"] = pa.array(display_values(frame[name]), pa.string())
        if self.text_column is not None:
            columns["text"] = pa.array([None if v is None else str(v)
                                        for v in frame[self.text_column].tolist()], pa.string())
        columns["checked"] = pa.array([False] * m, pa.bool_())
        return pa.table(columns)


def _codes(values: pd.Series, classes: list[Any]) -> np.ndarray:
    lookup = {c: i for i, c in enumerate(classes)}
    return np.array([lookup[v] for v in values.tolist()], dtype=np.int32)


def _any(cohorts: list[Cohort]) -> Cohort:
    out = cohorts[0]
    for cohort in cohorts[1:]:
        out = out | cohort
    return out


def _key(view: Cohort | None) -> str:
    return json.dumps(None if view is None else view.to_json(), sort_keys=True, default=str)
