"""The dashboard: segments, confusion and suspect views linked by one selection.

A click in any view sets that view's cohort (after Python validated it); the Explorer takes it
as the current selection, keeps the previous ones for "back", and pushes it to every view.

Front ends: the Explorer is an ``ipywidgets.VBox`` of anywidget views, which JupyterLab,
Notebook 7, VS Code and Colab draw as they draw any ipywidgets container. marimo draws
anywidgets but no ipywidgets container ("Jupyter widgets are not supported"), so the Explorer
also implements marimo's display protocol, ``_display_``, which only marimo calls: it lays the
same view objects out with ``mo.vstack`` / ``mo.hstack``. This is simpler and sturdier than one
composite anywidget: each view keeps its own model, traits and request/response messages, which
marimo's anywidget support carries both ways like Jupyter's comms (``tests/browser/test_marimo.py``
checks clicks, linking and a keyboard relabel there), and the linking observers stay in Python.
No marimo detection is needed and marimo is imported only when marimo itself displays.

>>> import errlens as el
>>> from errlens.slicing.cohort import Cohort
>>> ev = el.Analysis.from_predictions({"g": ["a", "b", "b"]}, y_true=[0, 1, 1], y_pred=[0, 0, 1])
>>> explorer = explore(ev)
>>> explorer.selection = Cohort.where("g", "==", "b")
>>> explorer.confusion.table["rows"], explorer.selection.mask(ev).tolist()
(2, [False, True, True])
"""

from __future__ import annotations

from typing import Any

import ipywidgets

from errlens.slicing.cohort import Cohort
from errlens.views.health import declared
from errlens.views.selection import SelectionHistory
from errlens.views.source import source_of
from errlens.widgets.confusion_view import ConfusionView
from errlens.widgets.health_view import HealthView
from errlens.widgets.segments_view import SegmentsView
from errlens.widgets.selection import SelectionBar
from errlens.widgets.suspect_browser import SuspectBrowser

# Segments and confusion share a row that wraps only when both cannot fit: segments take the
# spare room; the confusion table keeps its narrowest tidy width (its per-class report goes
# under the matrix), so at a 1400 px window both sit side by side in JupyterLab.
ROW_BOX = {"flex_flow": "row wrap", "align_items": "flex-start"}
SEGMENTS_BOX = {"flex": "1 1 560px", "min_width": "0"}
CONFUSION_BOX = {"flex": "0 0 auto", "width": "min-content", "max_width": "100%"}
BOX_CLASS = "errlens-box"  # base.css: a view fills its box (no max-width of its own)


class Explorer(ipywidgets.VBox):
    """Selection bar on top, segments and confusion side by side, the annotator-health panel
    (when the analysis declares ``annotator=`` / ``source=``), the suspect browser below.

    ``selection`` is the current :class:`~errlens.slicing.cohort.Cohort` (None = all rows);
    assign a Cohort (or a mask / id list) to move every view to it. ``analysis`` is an
    :class:`~errlens.Analysis` or an :class:`~errlens.engines.LazyAnalysis` (every view then
    counts in the engine; see :mod:`errlens.views.source`).
    """

    def __init__(self, analysis: Any, store: Any = None) -> None:
        try:
            source = source_of(analysis)  # one source: the views share each selection's rows
        except TypeError as exc:
            raise TypeError(f"explore: {exc}") from None
        self.source, self.analysis, self.store = source, analysis, store
        self._history = SelectionHistory()
        self._syncing = False
        self.bar = SelectionBar(back=self.back, clear=self.clear, total=source.n, rows=source.n)
        self.segments = SegmentsView(source)
        self.confusion = ConfusionView(source) if source.task != "regression" else None
        # the annotator-health panel, when the analysis declares annotator= / source=
        self.health = HealthView(source) if declared(source.analysis) else None
        self.suspects = SuspectBrowser(source, store=store)
        self.views: list[Any] = [v for v in (self.segments, self.confusion, self.health,
                                             self.suspects) if v]
        for view in self.views:
            view.observe(self._on_view_cohort, "cohort")
            view.on_select = self._on_select  # a click moves every view, in _push's order
        for view in self._side_by_side():
            view.layout = ipywidgets.Layout(**self._box(view))
            view.add_class(BOX_CLASS)
        top = ipywidgets.HBox(self._side_by_side(), layout=ipywidgets.Layout(**ROW_BOX))
        super().__init__([w for w in (self.bar, top, self.health, self.suspects) if w])

    def _side_by_side(self) -> list[Any]:
        return [w for w in (self.segments, self.confusion) if w is not None]

    def _display_(self) -> Any:
        """What marimo shows (marimo's display protocol; Jupyter never calls it): the same
        views in marimo's stacks, each box with the flex rules the Jupyter layout uses."""
        import marimo as mo

        # Each view's own element (which marimo caches per widget, so it lives as long as the
        # view) goes in a div that is the flex item, styled as ipywidgets' Layout styles it.
        boxes = [mo.Html(f'<div class="{BOX_CLASS}" style="{_css(self._box(view))}">'
                         f"{mo.as_html(view).text}</div>") for view in self._side_by_side()]
        row = mo.hstack(boxes, justify="start", align="start", wrap=True, gap=0)
        return mo.vstack([w for w in (self.bar, row, self.health, self.suspects) if w], gap=0)

    def _box(self, view: Any) -> dict[str, str]:
        return SEGMENTS_BOX if view is self.segments else CONFUSION_BOX

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
        """Every view and the bar to the current selection. The suspect browser goes first:
        its new page is a second round trip (the browser asks for it when the view changes), so
        its request leaves while the browser draws the bar, confusion table and segments, which
        the kernel sends in the meantime, the largest (segments) last."""
        cohort = self._history.current
        data = None if cohort is None else cohort.to_json()
        first, rest = self.views[-1], self.views[:-1]  # the suspect browser; the others
        self._syncing = True
        try:
            if first.cohort != data:
                first.cohort = data
            with self.bar.hold_sync():
                self.bar.text = "all rows" if cohort is None else cohort.describe()
                self.bar.rows = self.source.select_json(data).rows  # the selection's, cached
                self.bar.depth = self._history.depth
                self.bar.error = ""
            for view in reversed(rest):
                if view.cohort != data:
                    view.cohort = data
        finally:
            self._syncing = False

    def _on_select(self, cohort: Cohort | None) -> None:
        """A click's selection, from any view (its rows found now: a wrong value fails here,
        before the history moves)."""
        if cohort is not None:
            self.source.select(cohort)
        self._move(None if cohort == Cohort.all() else cohort)

    def _on_view_cohort(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        new = change["new"]
        self._move(None if new is None else Cohort.from_json(new))


def explore(analysis: Any, store: Any = None) -> Explorer:
    """The error-analysis dashboard of ``analysis`` (relabels go through ``store`` if given):
    an :class:`~errlens.Analysis` or an :class:`~errlens.engines.LazyAnalysis`.

    >>> import errlens as el
    >>> ev = el.Analysis.from_predictions({"x": [1, 2]}, y_true=[0, 1], y_pred=[0, 0])
    >>> type(explore(ev)).__name__
    'Explorer'
    """
    return Explorer(analysis, store)


def _css(layout: dict[str, str]) -> str:
    """``{"min_width": "0"}`` → ``"min-width: 0"``: ipywidgets Layout names as CSS."""
    return "; ".join(f"{k.replace('_', '-')}: {v}" for k, v in layout.items())

