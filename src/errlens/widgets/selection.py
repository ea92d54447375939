"""The dashboard views' shared selection as widgets: a cohort trait every view syncs and the
selection bar. The selection model itself (validation, history) is :mod:`errlens.views.selection`.

Every view is a :class:`CohortView`: its synced ``cohort`` trait holds ``Cohort.to_json()`` (or
None for every row). The front end never writes that trait; it sends a request
(``select_cohort``, ... see :mod:`errlens.views.messages`) that Python validates, applies and
answers (``{"type": "reply", "rid": ..., "error": ...}``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import traitlets

from errlens.slicing.cohort import Cohort
from errlens.views.dispatch import Handler
from errlens.views.selection import SelectionError, parse_cohort
from errlens.views.source import Selected, source_of
from errlens.widgets._base import ErrlensWidget, bundle

_JS, _CSS = bundle("selection")


class CohortView(ErrlensWidget):
    """Base of every dashboard view: the ``cohort`` trait and its ``select_cohort`` request.

    Subclasses extend :meth:`_handlers` (request type -> method taking the message; the base
    handles ``select_cohort`` with a whole cohort JSON as ``cohort``) and override
    :meth:`_refresh` to recompute their aggregates when the cohort changes.
    """

    cohort: traitlets.Dict[str, Any] | Any = traitlets.Dict(None, allow_none=True,
                            help="Cohort.to_json() of the selection shown; None = all rows."
                            ).tag(sync=True)
    version = traitlets.Int(0, help="Bumped whenever the aggregates change; messages that "
                            "refer to rows or cells carry it, stale ones are refused."
                            ).tag(sync=True)
    rows = traitlets.Int(0, help="Rows in the current cohort.").tag(sync=True)

    def _handlers(self) -> Mapping[str, Handler]:
        return {"select_cohort": self._on_select_cohort}

    def _on_select_cohort(self, msg: dict[str, Any]) -> None:
        self._set_selection(parse_cohort(msg["cohort"], self.source))

    def __init__(self, analysis: Any, **kwargs: Any) -> None:
        try:
            self.source = source_of(analysis)
        except TypeError as exc:
            raise TypeError(f"{type(self).__name__}: {exc}") from None
        self.analysis = self.source.analysis
        self.on_select: Callable[[Cohort | None], None] | None = None
        """Set by the Explorer: a click's selection goes to it, which moves every view (in the
        order that repaints the dashboard soonest) instead of this view alone first."""
        cohort = kwargs.pop("cohort", None)
        if isinstance(cohort, Cohort):
            cohort = cohort.to_json()
        super().__init__(**kwargs)
        self.cohort = cohort
        self._refresh()
        self.observe(lambda _: self._refresh(), "cohort")

    @traitlets.validate("cohort")
    def _valid_cohort(self, proposal: Any) -> Any:
        value = proposal["value"]
        if value is None:
            return None
        try:
            cohort = parse_cohort(value, self.source, max_chars=None)  # refresh reuses its rows
        except SelectionError as exc:
            raise traitlets.TraitError(str(exc)) from None
        return None if cohort is None else cohort.to_json()

    @property
    def selection(self) -> Cohort | None:
        """The current cohort (None = every row)."""
        return None if self.cohort is None else Cohort.from_json(self.cohort)

    def _selected(self) -> Selected:
        """The current cohort's rows, as the source found them (once per cohort change)."""
        return self.source.select_json(self.cohort)

    def _refresh(self) -> None:
        self.rows = self._selected().rows

    def _set_selection(self, cohort: Cohort | None) -> None:
        if self.on_select is not None:
            self.on_select(cohort)
        else:
            self.cohort = None if cohort is None else cohort.to_json()

    def _check_version(self, msg: dict[str, Any]) -> None:
        if msg.get("version") != self.version:
            raise SelectionError(
                f"stale click: the view was redrawn (version {self.version}, the click was on "
                f"version {msg.get('version')!r}); click again"
            )


class SelectionBar(ErrlensWidget):
    """The current selection as text, with "back" and "clear" buttons (owned by the Explorer,
    whose ``back`` and ``clear`` the buttons' requests call).

    >>> steps = []
    >>> bar = SelectionBar(back=lambda: steps.append("back"), clear=lambda: None)
    >>> bar.handle({"type": "back", "rid": 1}), steps
    (({'type': 'reply', 'rid': 1, 'error': None}, []), ['back'])
    """

    _esm = _JS
    _css = _CSS
    _messages = "selection"
    text = traitlets.Unicode("all rows", help="Cohort.describe() of the selection.").tag(sync=True)
    rows = traitlets.Int(0, help="Rows selected.").tag(sync=True)
    total = traitlets.Int(0, help="Rows in the analysis.").tag(sync=True)
    depth = traitlets.Int(0, help="Steps back available.").tag(sync=True)
    error = traitlets.Unicode("", help="Last error of any view, shown to the user.").tag(sync=True)

    def __init__(self, *, back: Callable[[], None], clear: Callable[[], None],
                 **kwargs: Any) -> None:
        self._back, self._clear = back, clear
        super().__init__(**kwargs)

    def _handlers(self) -> Mapping[str, Handler]:
        return {"back": lambda _msg: self._back(), "clear": lambda _msg: self._clear()}
