"""The dashboard: segments, confusion and suspect views linked by one selection.

A click in any view sets that view's cohort (after Python validated it); the Explorer takes it
as the current selection, keeps the previous ones for "back", and pushes it to every view.

>>> import errlens as el
>>> from errlens.slicing.cohort import Cohort
>>> ev = el.Analysis.from_predictions({"g": ["a", "b", "b"]}, y_true=[0, 1, 1], y_pred=[0, 0, 1])
>>> explorer = explore(ev)
>>> explorer.selection = Cohort.where("g", "==", "b")
>>> explorer.confusion.table["rows"], explorer.selection.mask(ev).tolist()
(2, [False, True, True])
"""

from __future__ import annotations

import importlib
from typing import Any

import ipywidgets

from errlens.slicing.cohort import Cohort
from errlens.widgets.confusion_view import ConfusionView
from errlens.widgets.segments_view import SegmentsView
from errlens.widgets.selection import SelectionBar, SelectionHistory
from errlens.widgets.source import source_of


class Explorer(ipywidgets.VBox):
    """Selection bar on top, segments and confusion side by side, the suspect browser below.

    ``selection`` is the current :class:`~errlens.slicing.cohort.Cohort` (None = all rows);
    assign a Cohort (or a mask / id list) to move every view to it. ``analysis`` is an
    :class:`~errlens.Analysis` or an :class:`~errlens.engines.LazyAnalysis` (every view then
    counts in the engine; see :mod:`errlens.widgets.source`).
    """

    def __init__(self, analysis: Any, store: Any = None) -> None:
        try:
            source = source_of(analysis)  # one source: the views share each selection's rows
        except TypeError as exc:
            raise TypeError(f"explore: {exc}") from None
        self.source, self.analysis, self.store = source, analysis, store
        self._history = SelectionHistory()
        self._syncing = False
        self.bar = SelectionBar(total=source.n, rows=source.n)
        self.segments = SegmentsView(source)
        self.confusion = ConfusionView(source) if source.task != "regression" else None
        self.suspects = _suspect_browser(source, store)
        self.views: list[Any] = [v for v in (self.segments, self.confusion, self.suspects) if v]
        for view in self.views:
            view.observe(self._on_view_cohort, "cohort")
        self.bar.on_msg(self._on_bar_message)
        top = ipywidgets.HBox([w for w in (self.segments, self.confusion) if w],
                              layout=ipywidgets.Layout(flex_flow="row wrap",
                                                       align_items="flex-start"))
        super().__init__([self.bar, top, *([self.suspects] if self.suspects else [])],
)

    @property
    def selection(self) -> Cohort | None:
        """The current cohort (None = every row): ``.mask(ev)``, ``.frame(ev)``, ``.to_json()``.
        Over a LazyAnalysis there is no mask: ``lazy.rows(selection, limit=...)`` pages its
        rows and ``lazy.slices(cohort=selection)`` counts them."""
        return self.source.selection(self._history.current)

    @selection.setter
    def selection(self, cohort: Any) -> None:
        cohort = self.source.to_cohort(cohort)
        if cohort is not None:
            self.source.select(cohort)  # raise now on unknown features or bad values
        self._move(None if cohort == Cohort.all() else cohort)

    def back(self) -> None:
        """Step back to the previous selection."""
        self._history.back()
        self._push()

    def clear(self) -> None:
        """Select every row (a step that :meth:`back` undoes)."""
        self._move(None)

    def _move(self, cohort: Cohort | None) -> None:
        self._history.push(cohort)
        self._push()

    def _push(self) -> None:
        """Every view and the bar to the current selection."""
        cohort = self._history.current
        data = None if cohort is None else cohort.to_json()
        self._syncing = True
        try:
            for view in self.views:
                if view.cohort != data:
                    view.cohort = data
        finally:
            self._syncing = False
        with self.bar.hold_sync():
            self.bar.text = "all rows" if cohort is None else cohort.describe()
            self.bar.rows = self.segments.rows  # already counted for this cohort
            self.bar.depth = self._history.depth
            self.bar.error = ""

    def _on_view_cohort(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        new = change["new"]
        self._move(None if new is None else Cohort.from_json(new))

    def _on_bar_message(self, _widget: Any, msg: Any, _buffers: Any) -> None:
        kind = msg.get("type") if isinstance(msg, dict) else None
        if kind == "back":
            self.back()
        elif kind == "clear":
            self.clear()
        else:
            self.bar.error = f"unknown message {kind!r}; expected back or clear"


def explore(analysis: Any, store: Any = None) -> Explorer:
    """The error-analysis dashboard of ``analysis`` (relabels go through ``store`` if given):
    an :class:`~errlens.Analysis` or an :class:`~errlens.engines.LazyAnalysis`.

    >>> import errlens as el
    >>> ev = el.Analysis.from_predictions({"x": [1, 2]}, y_true=[0, 1], y_pred=[0, 0])
    >>> type(explore(ev)).__name__
    'Explorer'
    """
    return Explorer(analysis, store)


def _suspect_browser(analysis: Any, store: Any) -> Any:
    """The suspect browser when its module is installed (it lands separately), else None."""
    try:
        module = importlib.import_module("errlens.widgets.suspect_browser")
    except ModuleNotFoundError as exc:
        if exc.name != "errlens.widgets.suspect_browser":
            raise
        return None
    return module.SuspectBrowser(analysis, store=store)
