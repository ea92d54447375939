"""The suspect browser: the rows of a selection (or its suspects, ranked) with relabel in place.

Rows are paged in the kernel (request / response messages, pages as Arrow IPC bytes); every
relabel, confirm, skip or undo is validated here and written through the LabelStore, durable
on disk before the reply reaches the browser.

>>> import errlens as el
>>> from errlens.widgets.suspect_browser import SuspectBrowser
>>> ev = el.Analysis.from_predictions({"x": [1, 2, 3]}, y_true=[0, 1, 1], y_pred=[0, 0, 1],
...     proba=[[.9, .1], [.7, .3], [.2, .8]], proba_out_of_fold=True)
>>> browser = SuspectBrowser(ev, mode="all")
>>> reply, buffers = browser.handle({"type": "page", "rid": 1, "mode": "all", "page": 0})
>>> reply["type"], reply["rid"], reply["total"], reply["error"], len(buffers)
('reply', 1, 3, None, 1)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import traitlets

from errlens.changelog import LabelStore
from errlens.slicing.cohort import Cohort
from errlens.views import protocol as P
from errlens.views.dispatch import Answer, Handler
from errlens.views.paging import FEATURE_PREFIX, MODES, SORT_KEYS, Query, RowSource, to_ipc
from errlens.views.reranking import Reranker
from errlens.views.selection import SelectionError, parse_cohort
from errlens.views.source import ViewSource, source_of
from errlens.views.store import StoreView, plain
from errlens.widgets._base import ErrlensWidget, bundle
from errlens.widgets.suspect_browser_actions import Actions
from errlens.widgets.suspect_browser_context import BrowserContext
from errlens.widgets.suspect_browser_detail import NEEDS_MEMORY, Detail

_JS, _CSS = bundle("suspects")
_VIEW_FIELDS = ("mode", "sort", "descending", "given", "search")  # a page's view, as sent
MAX_PAGE = 10**9


class SuspectBrowser(ErrlensWidget):
    """Browse rows or ranked suspects side by side with their sample; relabel in place.

    ``store``: a :class:`~errlens.changelog.LabelStore` over the same analysis (without it the
    relabel controls are disabled). ``cohort``: a Cohort (or its JSON) to draw rows from; the
    Explorer sets the ``cohort`` trait. ``text_column``: a feature or declared text column
    holding the sample text (default: the first column declared with ``text=``); ``image``:
    an array (n, h, w[, c]) in row order, or file paths / bytes per row.
    ``browser.selected`` lists the ids checked in the grid.
    """

    _esm = _JS
    _css = _CSS
    _messages = "suspects"
    cohort = traitlets.Dict(None, allow_none=True,
                            help="Cohort JSON the rows come from (None = all rows).").tag(sync=True)
    cohort_text = traitlets.Unicode("all rows", help="The cohort as readable text.").tag(sync=True)
    mode = traitlets.Unicode("suspects", help="'suspects' (ranked) or 'all' rows.").tag(sync=True)
    unavailable = traitlets.Dict(help="Control ('suspects', 'search', 'sort', 'check', "
                                 "'similar', 'relabel', 'detail') → why this analysis cannot "
                                 "offer it; "
                                 "the front end disables it and says why.").tag(sync=True)
    version = traitlets.Int(0, help="Bumped on every cohort change; actions carry it.").tag(
        sync=True)
    classes: traitlets.List[Any] = traitlets.List(
        help="Class values (JSON) the relabel buttons set.").tag(sync=True)
    class_names = traitlets.List(traitlets.Unicode(), help="Classes as text.").tag(sync=True)
    guidelines: traitlets.List[dict[str, Any]] = traitlets.List(
        help="Schema guideline per class (definition, example, edge_cases).").tag(sync=True)
    features = traitlets.List(traitlets.Unicode(), help="Feature columns shown.").tag(sync=True)
    kind = traitlets.Unicode("tabular", help="'tabular', 'text' or 'image' samples.").tag(
        sync=True)
    text_column = traitlets.Unicode("", help="The feature column holding the sample text ('' = "
                                    "none); the grid shows it once, in full.").tag(sync=True)
    editable = traitlets.Bool(False, help="Whether relabel controls are enabled.").tag(sync=True)
    hint = traitlets.Unicode("", help="Why relabelling is disabled, when it is.").tag(sync=True)
    page_size = traitlets.Int(25, help="Rows per page.").tag(sync=True)
    method = traitlets.Unicode("", help="Suspect detection method.").tag(sync=True)
    has_proba = traitlets.Bool(False, help="Whether probabilities exist.").tag(sync=True)
    changelog = traitlets.Unicode("", help="Path of the changelog file written to.").tag(
        sync=True)

    def __init__(self, analysis: Any, store: LabelStore | None = None, *,
                 cohort: Cohort | dict[str, Any] | None = None,
                 method: str | None = None, page_size: int = 25,
                 text_column: str | None = None, image: Any = None, **kwargs: Any) -> None:
        try:
            source = source_of(analysis)
        except TypeError as exc:
            raise TypeError(f"SuspectBrowser: {exc}") from None
        if store is not None and not isinstance(store, LabelStore):
            raise TypeError(f"store must be an errlens LabelStore, got {type(store).__name__}")
        if store is not None and "relabel" in source.unavailable:
            raise TypeError(f"cannot relabel here: {source.unavailable['relabel']}")
        if not isinstance(page_size, int) or not 1 <= page_size <= 500:
            raise ValueError(f"page_size must be an integer in 1..500, got {page_size!r}")
        method = source.suspect_method(method)
        if text_column is None and image is None:  # a declared text column is the sample
            text_column = next(iter(getattr(source.analysis, "text_columns", ())), None)
        rows = source.row_source(method=method, text_column=text_column, image=image,
                                 page_size=page_size)
        view = StoreView(store, source.analysis.ids) if store is not None else None
        editable, hint = self._editability(source, store)
        # the state every handler shares; the handlers get it, never the widget
        self._ctx = BrowserContext(source.analysis, source, rows, view,
                                   read_only="" if editable else hint)
        self._store = store
        self._shown: tuple[dict[str, Any], Query] | None = None  # the last page asked for
        self._actions = Actions(self._ctx)
        # with a store, the ranking learns from the reviews (the declared annotator= / source=
        # priors, the slices and the detector's calibration), on the next page asked for
        self._reranker: Reranker | None = None
        if (view is not None and isinstance(rows, RowSource)
                and (rows.has_proba or getattr(source.analysis, "label_sources", None))):
            rows.reviews = store
            self._reranker = Reranker(view)
        self._detail = Detail(self._ctx)
        if "suspects" in source.unavailable or (
                not rows.has_proba and method not in ("knn", "residual")):
            kwargs.setdefault("mode", "all")  # no probabilities: no confident-learning suspects
        classes = view.classes if view is not None else [plain(c) for c in source.classes]
        guidelines = store.schema.to_json() if store is not None else []
        kind = ("image" if rows.images is not None
                else "text" if text_column is not None else "tabular")
        unavailable = dict(source.unavailable)
        if not isinstance(rows, RowSource):
            unavailable["detail"] = NEEDS_MEMORY
        super().__init__(
            classes=classes, class_names=[str(c) for c in classes], guidelines=guidelines,
            features=rows.features, editable=editable, hint=hint, page_size=page_size,
            method=method, has_proba=rows.has_proba, kind=kind,
            text_column=text_column or "",
            unavailable=unavailable,
            changelog=str(store.path) if store is not None else "", **kwargs)
        if cohort is not None:
            self.cohort = cohort.to_json() if isinstance(cohort, Cohort) else cohort

    # ------------------------------------------------------------------ setup helpers
    @staticmethod
    def _editability(source: ViewSource, store: LabelStore | None) -> tuple[bool, str]:
        if "relabel" in source.unavailable:
            return False, f"Read-only: {source.unavailable['relabel']}."
        if store is None:
            return False, ("Read-only: pass store=errlens.LabelStore(analysis, path, "
                           "author=...) to relabel here.")
        if source.task == "regression":
            return False, "Read-only: relabelling needs a classifier's classes."
        return True, ""

    @traitlets.validate("cohort")
    def _valid_cohort(self, proposal: dict[str, Any]) -> Any:
        try:
            cohort = parse_cohort(proposal["value"], self._ctx.source, max_chars=None)
        except SelectionError as exc:
            raise traitlets.TraitError(str(exc)) from None
        return None if cohort is None else cohort.to_json()

    @traitlets.observe("cohort")
    def _cohort_changed(self, change: dict[str, Any]) -> None:
        # the selection the views share: its rows and parsed cohort, found once per click
        self._ctx.new_cohort(self._ctx.source.select_json(change["new"]).cohort)
        with self.hold_sync():  # the pushed page leaves before the version it belongs to
            self.cohort_text, self.version = self._ctx.cohort_text, self._ctx.version
            self._push_page()

    def _push_page(self) -> None:
        """Send page 0 of the last view the browser showed, now over the new cohort, with the
        change instead of waiting for the browser to ask (one round trip less per click): a
        ``{"type": "page", "version", "query", ...}`` message the browser uses when the version
        and its view match, or else asks as usual. Nothing is pushed before the first page."""
        if self._shown is None:
            return
        fields, q = self._shown
        try:
            meta, buffers = self._page_of(replace(q, page=0))
        except (ValueError, KeyError, TypeError):
            return  # the browser asks, and its reply carries the error
        self.send({"type": "page", "version": self.version, "query": fields, **meta}, buffers)

    # ------------------------------------------------------------------ Python API
    @property
    def analysis(self) -> Any:
        """The analysis browsed (an Analysis or a LazyAnalysis)."""
        return self._ctx.analysis

    @property
    def store(self) -> LabelStore | None:
        """The label store written to (None = read-only)."""
        return self._store

    @property
    def selected(self) -> list[Any]:
        """Sample ids checked in the grid, in the analysis' row order."""
        if not self._ctx.checked:
            return []
        return [plain(i) for i in self._ctx.analysis.ids[sorted(self._ctx.checked)]]

    @property
    def selected_mask(self) -> np.ndarray:
        """Boolean mask over the analysis' rows: True where the row is checked."""
        self._refuse("mask")
        mask = np.zeros(self._ctx.analysis.n, dtype=bool)
        mask[list(self._ctx.checked)] = True
        return mask

    def selected_frame(self) -> pd.DataFrame:
        """The checked rows as a DataFrame (as ``Analysis.frame``)."""
        return self._ctx.analysis.frame(self.selected_mask)

    # ------------------------------------------------------------------ messages
    def _handlers(self) -> Mapping[str, Handler]:
        return {"page": self._page, "check": self._needs("check", self._check),
                "detail": self._detail.detail,
                "similar": self._needs("similar", self._actions.similar),
                "action": self._needs("relabel", self._actions.act)}

    def _needs(self, capability: str, handler: Handler) -> Handler:
        """``handler``, refused with the reason when this analysis lacks ``capability``."""
        def checked(msg: dict[str, Any]) -> Any:
            self._refuse(capability)
            return handler(msg)
        return checked

    def _os_error(self, kind: str, exc: OSError) -> str | None:
        if kind != "action":
            return None
        return (f"could not write to the changelog {self.changelog}: {exc}. Nothing is shown "
                f"as saved; free disk space or fix the file's permissions, then retry")

    def query(self, msg: dict[str, Any]) -> Query:
        """Parse the view fields of a page message."""
        P.fields(msg, required={"type", "rid", "mode", "page"},
                 optional={"sort", "descending", "given", "predicted", "search"})
        sort = msg.get("sort")
        if sort is not None and sort not in SORT_KEYS and not (
                isinstance(sort, str) and sort.startswith(FEATURE_PREFIX)
                and sort[len(FEATURE_PREFIX):] in self._ctx.rows.features):
            raise P.ProtocolError(f"cannot sort by {sort!r}: use one of {', '.join(SORT_KEYS)} "
                                  f"or 'feature:<name>' of a feature column")
        if msg["mode"] == "suspects":
            self._refuse("suspects")
        if sort is not None:
            self._refuse("sort")
        if msg.get("search"):
            self._refuse("search")
        classes = [plain(c) for c in self._ctx.source.classes]
        given, predicted = msg.get("given"), msg.get("predicted")
        return Query(
            mode=P.choice(msg["mode"], "mode", MODES),
            page=P.integer(msg["page"], "page", high=MAX_PAGE), sort=sort,
            descending=P.boolean(msg.get("descending", False), "descending"),
            given=None if given is None else P.label_value(given, classes),
            predicted=None if predicted is None else P.label_value(predicted, classes),
            search=P.text(msg.get("search", ""), "search", limit=200) or "")

    def _page(self, msg: dict[str, Any]) -> Answer:
        q = self.query(msg)
        self._shown = ({k: msg.get(k) for k in _VIEW_FIELDS}, q)
        return self._page_of(q)

    def _page_of(self, q: Query) -> Answer:
        if q.mode != self.mode:
            self._ctx.checked.clear()
            self.mode = q.mode
        if self._reranker is not None and self._reranker.due():
            self._ctx.rerank()  # the pages already sent keep their rows; the next ones follow
            self._reranker.done()
        meta, table = self._ctx.rows.page(q, self._store_columns)
        ranking = self._reranker.text() if self._reranker is not None else None
        return ({**meta, "token": self.version, "mode": q.mode, "ranking": ranking,
                 "n_checked": len(self._ctx.checked)}, [to_ipc(table)])

    def _refuse(self, capability: str) -> None:
        """A clear error when this analysis cannot offer ``capability`` (e.g. an engine's)."""
        reason = self._ctx.source.unavailable.get(capability)
        if reason:
            raise P.ProtocolError(f"not available on this analysis: {reason}")

    def _store_columns(self, positions: np.ndarray) -> dict[str, Any]:
        import pyarrow as pa

        checked = pa.array([int(p) in self._ctx.checked for p in positions], pa.bool_())
        if self._ctx.view is None:
            return {"checked": checked}
        ids = self._ctx.analysis.ids[positions]
        current = self._ctx.view.current(positions)
        classes = self._ctx.view.classes
        status = [self._ctx.view.status(i) for i in ids]
        return {
            "current": pa.array([None if c is None else str(c) for c in current], pa.string()),
            "current_code": pa.array([classes.index(c) if c in classes else None
                                      for c in current], pa.int32()),
            "n_events": pa.array([s[0] for s in status], pa.int32()),
            "last_op": pa.array([s[1] for s in status], pa.string()),
            "checked": checked,
        }

    def _check(self, msg: dict[str, Any]) -> Answer:
        if "clear" in msg:
            P.fields(msg, required={"type", "rid", "clear"})
            if P.boolean(msg["clear"], "clear"):
                self._ctx.checked.clear()
            return {"n_checked": len(self._ctx.checked), "ids": [], "on": False}, []
        P.fields(msg, required={"type", "rid", "ids", "on"})
        positions = P.sample_ids(msg["ids"], self._ctx.analysis.ids, limit=4 * self.page_size)
        on = P.boolean(msg["on"], "on")
        if on:
            outside = [p for p in positions if not self._ctx.in_cohort(p)]
            if outside:
                sample = plain(self._ctx.analysis.ids[outside[0]])
                raise P.ProtocolError(f"sample {sample!r} is not in the current selection "
                                      f"({self.cohort_text})")
            self._ctx.checked.update(positions)
        else:
            self._ctx.checked.difference_update(positions)
        return {"n_checked": len(self._ctx.checked), "ids": msg["ids"], "on": on}, []
