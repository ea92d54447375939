"""Kernel-side paging of an analysis' rows: cohort, suspects order, filters, sort, one page.

Every query turns into an array of row positions (cached per query, so turning pages costs a
slice), and only the rows of the requested page are materialised, as a pyarrow table.

>>> import errlens as el
>>> ev = el.Analysis.from_predictions({"x": [3, 1, 2]}, y_true=[0, 1, 1], y_pred=[0, 0, 1])
>>> rows = RowSource(ev, page_size=2)
>>> q = Query(mode="all", page=0, sort="feature:x")
>>> rows.page_table(rows.page_positions(q))["f0"].to_pylist()
['1', '2']
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from errlens.views.reranking import pin
from errlens.views.samples import Images, display_values

if TYPE_CHECKING:
    from errlens.analysis import Analysis
    from errlens.suspects.live_rank import LiveRank, Ranked
    from errlens.suspects.table import Suspects

MODES = ("suspects", "all")
SORT_KEYS = ("rank", "row", "score", "p_given", "p_pred", "given", "predicted", "id")
FEATURE_PREFIX = "feature:"
_CACHE_SIZE = 8


@dataclass(frozen=True)
class Query:
    """What the front end asks for: mode, page, sort key and direction, filters."""

    mode: str = "suspects"
    page: int = 0
    sort: str | None = None
    descending: bool = False
    given: Any = None
    predicted: Any = None
    search: str = ""

    def view_key(self) -> Query:
        """The query without its page (pages of one view share their row order)."""
        return replace(self, page=0)


class RowSource:
    """Row order and page contents of one analysis under a cohort (see module docstring)."""

    def __init__(self, analysis: Analysis, *, method: str = "prune_by_noise_rate",
                 text: np.ndarray | None = None, images: Images | None = None,
                 page_size: int = 25, mask: Callable[[Any], np.ndarray] | None = None) -> None:
        """``mask(cohort)``: the cohort's rows; a dashboard passes its source's selection, so
        the rows a click selected are found once for every view (default ``analysis.mask``)."""
        self.ev, self.method, self.page_size = analysis, method, page_size
        self._find = analysis.mask if mask is None else mask
        self.text, self.images = text, images
        self.features = [str(c) for c in analysis.features.columns]
        self.has_proba = analysis.proba is not None
        self._mask: np.ndarray | None = None
        self._cohort: Any = None
        self._views: OrderedDict[Query, np.ndarray] = OrderedDict()
        self._served: dict[Query, int] = {}  # per view: rows of the pages sent so far
        self._pinned: dict[Query, np.ndarray] = {}  # per view: rows kept in place on a re-rank
        self.reviews: Any = None
        """A LabelStore whose decisions the ranking learns from (the suspect browser's)."""
        self._global: Suspects | None = None
        self._live: LiveRank | None = None  # the arrays a re-rank after reviews starts from
        self._ranked: Ranked | None = None  # the ranking after reviews, when _global is older
        self._why_cache: tuple[Any, dict[tuple[int, ...], str]] = (None, {})
        self._order: np.ndarray | None = None
        self._score: np.ndarray | None = None
        self._flagged: np.ndarray | None = None
        self._sort_keys: dict[str, np.ndarray] = {}
        self._search_columns: list[tuple[str, Any]] | None = None
        given = analysis.y_true_codes if analysis.classes else None
        predicted = analysis.y_pred_codes if analysis.classes else None
        self._given_codes, self._pred_codes = given, predicted
        if analysis.proba is not None and given is not None and predicted is not None:
            rows = np.arange(analysis.n)
            self._p_given = analysis.proba[rows, given]
            self._p_pred = analysis.proba[rows, predicted]
        else:
            self._p_given = self._p_pred = None

    # ------------------------------------------------------------------ state
    @property
    def cohort(self) -> Any:
        """The cohort rows are drawn from (None = all rows)."""
        return self._cohort

    def set_cohort(self, cohort: Any) -> None:
        """Draw rows from ``cohort`` (a Cohort or None); drops cached views."""
        self._cohort = cohort
        self._mask = None if cohort is None else self._find(cohort)
        self._views.clear()
        self._served.clear()
        self._pinned.clear()

    def rerank(self) -> None:
        """Rank again (the reviews changed): every view keeps the rows of the pages it sent
        in their places, the rows after them follow the new ranking. With a group prior the
        ranking is recomputed from cached arrays (:class:`~errlens.suspects.live_rank.LiveRank`:
        the same order as ``analysis.suspects(reviews=...)``, without building its table)."""
        for key, served in self._served.items():
            if key in self._views:
                self._pinned[key] = self._views[key][:served]
        self._views.clear()
        self._sort_keys.pop("score", None)
        if self._live is not None and self._global is not None:
            self._rank_live(self._live)
            return
        self._global = self._order = self._score = self._flagged = None
        self._ranked = None

    def global_suspects(self) -> Suspects:
        """The suspects of all rows (scores and flags do not depend on the cohort). With a
        store and a group prior the ranking lives in cached arrays (see :meth:`rerank`) and
        this is the method's head (``top=1``: its parameters, fingerprint and engine, for
        :meth:`cause`); the whole table is :meth:`cohort_suspects`'."""
        if self._global is None:
            if self.reviews is not None:
                from errlens.suspects.detect import live_rank

                self._live = live_rank(self.ev, self.method)
            if self._live is not None:
                self._global = self.ev.suspects(self.method, reviews=self.reviews, top=1)
                self._score, self._flagged = self._live.score, self._live.flagged
                self._rank_live(self._live)
            else:
                self._reference()
        assert self._global is not None
        return self._global

    def _reference(self) -> Suspects:
        """The core's whole ranking (``analysis.suspects``), its rows' positions, scores and
        flags."""
        extra = {} if self.reviews is None else {"reviews": self.reviews}
        found = self.ev.suspects(self.method, **extra)
        positions = self.ev.ids.get_indexer(found.table.index)
        score = np.full(self.ev.n, np.nan)
        score[positions] = found.table["score"].to_numpy(dtype=np.float64)
        flagged = np.zeros(self.ev.n, dtype=bool)
        flagged[positions] = found.table["flagged"].to_numpy(dtype=bool)
        self._order, self._score, self._flagged = positions, score, flagged
        self._global, self._ranked = found, None
        return found

    def _rank_live(self, live: LiveRank) -> None:
        from errlens.annotators.agreement import events_of
        from errlens.suspects.judges import judge_record
        from errlens.suspects.live_rank import reviewed_rows
        from errlens.suspects.reviews import reviewed_methods, reviewed_verdicts

        events = events_of(self.reviews)  # built once for the verdicts and their detectors
        verdicts = reviewed_verdicts(self.reviews, analysis=self.ev, events=events)
        self._ranked = live.rerank(*reviewed_rows(verdicts, self.ev.ids,
                                                  reviewed_methods(events)),
                                   judges=judge_record(events, self.ev) if live.noises else None)
        self._order = self._ranked.flagged_order()

    @property
    def reranked(self) -> bool:
        """Whether the ranking was made again from cached arrays (see :meth:`rerank`)."""
        return self._ranked is not None

    def cause(self, position: int) -> dict[str, Any]:
        """``Suspects.cause`` of the row at ``position`` in the cohort's ranking (what a relabel
        records), from the cached arrays after a fast re-rank."""
        self.global_suspects()
        if self._ranked is None:
            return self.cohort_suspects().cause(self.ev.ids[position])
        assert self._global is not None
        base = self._global.cause(self._global.table.index[0])
        base["params"] = {**base["params"], "top": None}
        if self._mask is not None:
            base["params"] = {**base["params"], "cohort_rows": int(self._mask.sum())}
            if hasattr(self._cohort, "to_json"):
                base["params"]["cohort"] = self._cohort.to_json()
        rows = None if self._mask is None else int(self._mask.sum())
        return self._ranked.cause(position, base, keep=self._mask, ranked_rows=rows)

    def cohort_suspects(self) -> Suspects:
        """The suspects of the cohort: the rows of :meth:`global_suspects` in the cohort, in
        their order, ranked again from 1 (what ``analysis.suspects(method, cohort=cohort)``
        returns, since scores and flags never depend on the cohort, without ranking again).

        >>> import errlens as el
        >>> from errlens.slicing.cohort import Cohort
        >>> ev = el.Analysis.from_predictions({"x": range(6)}, y_true=[0, 0, 0, 1, 1, 1],
        ...     proba=[[.9, .1], [.2, .8], [.7, .3], [.2, .8], [.6, .4], [.85, .15]],
        ...     proba_out_of_fold=True)
        >>> rows = RowSource(ev, method="confident_learning")
        >>> rows.set_cohort(Cohort.where("x", ">", 2))
        >>> rows.cohort_suspects().table.equals(
        ...     ev.suspects("confident_learning", cohort=rows.cohort).table)
        True
        """
        # the cached arrays have no table: build the core's
        found = self._reference() if self._ranked is not None else self.global_suspects()
        if self._mask is None:
            return found
        assert self._order is not None
        kept = self._mask[self._order]  # the whole ranking, in rank order, restricted
        table = found.table[kept].copy()
        table["rank"] = np.arange(1, len(table) + 1)
        params = {**found.params, "cohort_rows": int(self._mask.sum())}
        if hasattr(self._cohort, "to_json"):
            params["cohort"] = self._cohort.to_json()
        return replace(found, table=table, params=params)

    def _scores(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        try:
            self.global_suspects()
        except (ValueError, TypeError):
            return None, None  # e.g. no probabilities: the "all rows" view still works
        return self._score, self._flagged

    # ------------------------------------------------------------------ views
    def positions(self, query: Query) -> np.ndarray:
        """Row positions of the whole view (all pages) of ``query``, in display order."""
        key = query.view_key()
        if key in self._views:
            self._views.move_to_end(key)
            return self._views[key]
        if query.mode == "suspects":
            self.global_suspects()
            assert self._order is not None and self._flagged is not None
            order = self._order[self._flagged[self._order]]
            if self._mask is not None:
                order = order[self._mask[order]]
        else:
            order = np.flatnonzero(self._mask) if self._mask is not None else np.arange(self.ev.n)
        order = order[self._filter(order, query)]
        if query.sort is not None and query.sort not in ("rank", "row"):
            values = self._sort_key(query.sort)[order]
            order = order[np.argsort(-values if query.descending else values, kind="stable")]
        elif query.descending:
            order = order[::-1]
        if key in self._pinned:
            order = pin(self._pinned[key], order)
        self._views[key] = order
        if len(self._views) > _CACHE_SIZE:
            self._views.popitem(last=False)
        return order

    def ranks(self, query: Query, positions: np.ndarray) -> np.ndarray | None:
        """Suspect rank within the cohort (1 = most suspicious) of rows at ``positions``."""
        if query.mode != "suspects":
            return None
        unfiltered = self.positions(Query(mode="suspects"))
        rank = np.zeros(self.ev.n, dtype=np.int64)
        rank[unfiltered] = np.arange(1, len(unfiltered) + 1)
        return rank[positions]

    def page(self, query: Query, extra: Callable[[np.ndarray], dict[str, pa.Array]] | None = None
             ) -> tuple[dict[str, Any], pa.Table]:
        """(page, pages, total, offset, score_kind) and the Arrow table of ``query.page``
        (clamped to the last page), with ``extra(positions)`` columns (the store's state)."""
        total = len(self.positions(query))
        pages = max(1, -(-total // self.page_size))
        query = replace(query, page=min(query.page, pages - 1))
        positions = self.page_positions(query)
        key = query.view_key()
        self._served[key] = max(self._served.get(key, 0), query.page * self.page_size
                                + len(positions))
        table = self.page_table(positions, ranks=self.ranks(query, positions),
                                extra=extra(positions) if extra is not None else None)
        found = self._global
        return ({"page": query.page, "pages": pages, "total": total,
                 "offset": query.page * self.page_size,
                 "score_kind": found.score_kind if found is not None else None}, table)

    def page_positions(self, query: Query) -> np.ndarray:
        """Row positions of page ``query.page``."""
        start = query.page * self.page_size
        return self.positions(query)[start:start + self.page_size]

    def _filter(self, order: np.ndarray, query: Query) -> np.ndarray:
        keep = np.ones(len(order), dtype=bool)
        for wanted, codes in ((query.given, self._given_codes),
                              (query.predicted, self._pred_codes)):
            if wanted is not None and codes is not None:
                keep &= codes[order] == self.ev.classes.index(wanted)
        if query.search:
            keep &= self.search_mask(query.search)[order]
        return keep

    def search_mask(self, term: str) -> np.ndarray:
        """Rows whose text (text data) or id / text-like features contain ``term`` (any case)."""
        out = np.zeros(self.ev.n, dtype=bool)
        for kind, column in self._searchable():
            if kind == "categories":
                categories, codes = column
                hits = [i for i, c in enumerate(categories) if term.lower() in str(c).lower()]
                out |= np.isin(codes, hits)
            else:
                found = pc.match_substring(column, term, ignore_case=True)
                out |= found.fill_null(False).to_numpy(zero_copy_only=False)
        return out

    def _searchable(self) -> list[tuple[str, Any]]:
        if self._search_columns is None:
            columns: list[tuple[str, Any]] = []
            if self.text is not None:
                columns.append(("strings", pa.array(self.text, type=pa.string(), from_pandas=True)))
            else:
                if not pd.api.types.is_numeric_dtype(self.ev.ids.dtype):
                    columns.append(("strings", pa.array(self.ev.ids.astype(str))))
                for name in self.ev.features.columns:
                    col = self.ev.features[name]
                    if isinstance(col.dtype, pd.CategoricalDtype):
                        columns.append(("categories", (list(col.cat.categories),
                                                       col.cat.codes.to_numpy())))
                    elif col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
                        columns.append(("strings", pa.array(col.astype("string"),
                                                            type=pa.string(), from_pandas=True)))
            self._search_columns = columns
        return self._search_columns

    def _sort_key(self, key: str) -> np.ndarray:
        """A float array per row that orders rows by ``key`` (NaN = missing, sorted last)."""
        if key not in self._sort_keys:
            if key == "score":
                score, _ = self._scores()
                values = score if score is not None else np.full(self.ev.n, np.nan)
            elif key in ("p_given", "p_pred"):
                found = self._p_given if key == "p_given" else self._p_pred
                values = found if found is not None else np.full(self.ev.n, np.nan)
            elif key in ("given", "predicted"):
                codes = self._given_codes if key == "given" else self._pred_codes
                values = (codes.astype(np.float64) if codes is not None
                          else _ordinal(self.ev.y_true if key == "given" else self.ev.y_pred))
            elif key == "id":
                values = _ordinal(pd.Series(self.ev.ids))
            else:
                values = _ordinal(self.ev.features[key[len(FEATURE_PREFIX):]])
            self._sort_keys[key] = values
        return self._sort_keys[key]

    # ------------------------------------------------------------------ page rows
    def _why_of(self, found: Suspects, positions: np.ndarray) -> list[str | None]:
        """The core's reason each row ranks where it does (``found.cause(id)["why"]``), each
        group's text made once per ranking (not a table look-up per row)."""
        from errlens.suspects.live_rank import why_texts

        if self._p_given is None or "posterior" not in found.table.columns:
            return [None] * len(positions)
        if self._why_cache[0] is not found:
            self._why_cache = (found, {})
        return list(why_texts(found.priors, self._p_given, positions, self._why_cache[1],
                              found.moves))

    def page_table(self, positions: np.ndarray, *, ranks: np.ndarray | None = None,
                   extra: dict[str, pa.Array] | None = None) -> pa.Table:
        """The rows at ``positions`` as an Arrow table (labels and features as display text)."""
        ev = self.ev
        given, predicted = ev.y_true.iloc[positions].tolist(), ev.y_pred.iloc[positions].tolist()
        score, flagged = self._scores()
        columns: dict[str, pa.Array] = {
            "id": pa.array(ev.ids[positions].tolist()),
            "given": pa.array([str(v) for v in given], pa.string()),
            "predicted": pa.array([str(v) for v in predicted], pa.string()),
            "given_code": _codes_or_null(self._given_codes, positions),
            "predicted_code": _codes_or_null(self._pred_codes, positions),
            "p_given": _floats_or_null(self._p_given, positions),
            "p_pred": _floats_or_null(self._p_pred, positions),
            "score": _floats_or_null(score, positions),
            "flagged": pa.array(flagged[positions] if flagged is not None
                                else [None] * len(positions), pa.bool_()),
            "rank": pa.array(ranks if ranks is not None else [None] * len(positions), pa.int64()),
        }
        frame = ev.features.iloc[positions]
        for i, name in enumerate(ev.features.columns):
            columns[f"f{i}"] = pa.array(display_values(frame[name]), pa.string())
        if self.text is not None:
            columns["text"] = pa.array([None if v is None else str(v)
                                        for v in self.text[positions].tolist()], pa.string())
        if self.images is not None:
            columns["thumb"] = pa.array(self.images.thumbnails(positions), pa.string())
        if self._ranked is not None:
            columns["why"] = pa.array(self._ranked.why(positions), pa.string())
        elif self._global is not None and "posterior" in self._global.table.columns:
            # why each row ranks where it does (its groups' noise priors): the core's cause text
            columns["why"] = pa.array(self._why_of(self._global, positions), pa.string())
        columns.update(extra or {})
        return pa.table(columns)


def to_ipc(table: pa.Table) -> bytes:
    """Arrow IPC stream bytes of ``table`` (what the front end decodes with flechette)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _ordinal(values: pd.Series) -> np.ndarray:
    if isinstance(values.dtype, pd.CategoricalDtype):
        ordinal = values.cat.codes.to_numpy().astype(np.float64)
        ordinal[ordinal < 0] = np.nan
        return ordinal
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    codes, _ = pd.factorize(values.astype(str).where(values.notna(), None), sort=True)
    out = codes.astype(np.float64)
    out[codes < 0] = np.nan
    return out


def _floats_or_null(values: np.ndarray | None, positions: np.ndarray) -> pa.Array:
    if values is None:
        return pa.array([None] * len(positions), pa.float64())
    return pa.array(values[positions], pa.float64(), from_pandas=True)


def _codes_or_null(codes: np.ndarray | None, positions: np.ndarray) -> pa.Array:
    if codes is None:
        return pa.array([None] * len(positions), pa.int32())
    return pa.array(codes[positions].astype(np.int32), pa.int32())
