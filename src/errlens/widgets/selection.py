"""The one selection model shared by the dashboard views: a cohort trait, validated messages
from the front end, and the step-back history the Explorer keeps.

Every view is a :class:`CohortView`: its synced ``cohort`` trait holds ``Cohort.to_json()`` (or
None for every row). The front end never writes that trait; it sends a request
(``select_cohort``, ... see :mod:`errlens.views.messages`) that Python validates, applies and
answers (``{"type": "reply", "rid": ..., "error": ...}``).

>>> import errlens as el
>>> from errlens.slicing.cohort import Cohort
>>> ev = el.Analysis.from_predictions({"x": [1, 2]}, y_true=[0, 1], y_pred=[0, 0])
>>> parse_cohort({"kind": "where", "feature": "x", "op": ">", "value": 1}, ev).describe()
'x > 1'
>>> history = SelectionHistory()
>>> history.push(Cohort.where("x", ">", 1)); history.back() is None
True
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import traitlets

from errlens.slicing.cohort import Cohort
from errlens.views.dispatch import Handler
from errlens.views.source import Selected, source_of
from errlens.widgets._base import ErrlensWidget, bundle

MAX_PAYLOAD = 64_000
"""Largest cohort JSON (in characters) accepted from the front end."""
MAX_HISTORY = 50

_JS, _CSS = bundle("selection")


class SelectionError(ValueError):
    """A message from the front end that cannot be applied (the reply's ``error``)."""


def parse_cohort(
    payload: Any, analysis: Any, *, max_chars: int | None = MAX_PAYLOAD
) -> Cohort | None:
    """A validated Cohort from front-end JSON (None = every row); SelectionError otherwise.
    ``analysis``: an Analysis, a LazyAnalysis or their :class:`ViewSource`. ``max_chars`` caps
    the JSON size (None: no cap, for cohorts set from Python). The cohort's rows are found
    (which checks its values too) and kept by the source for the views that draw it."""
    if payload is None:
        return None
    if not isinstance(payload, dict):
        raise SelectionError(
            f"a cohort must be a JSON object or null, got {type(payload).__name__}")
    if max_chars is not None and len(json.dumps(payload, default=str)) > max_chars:
        raise SelectionError(f"the cohort is larger than {max_chars:,} characters; select fewer "
                             "rows (a confusion cell or segment instead of an id list)")
    try:
        # parsed and its rows found once per cohort JSON, for every view (unknown features and
        # values of a wrong type fail here); the other views of a click find it by its JSON
        cohort = source_of(analysis).select_json(payload).cohort
    except (ValueError, KeyError, TypeError) as exc:
        raise SelectionError(f"invalid cohort: {_message(exc)}") from None
    return None if cohort == Cohort.all() else cohort


def combine(current: Cohort | None, extra: Cohort) -> Cohort:
    """``extra`` within the ``current`` selection."""
    return extra if current is None else current & extra


class SelectionHistory:
    """The current cohort and the ones before it (for "step back")."""

    def __init__(self) -> None:
        self._stack: list[Cohort | None] = [None]

    @property
    def current(self) -> Cohort | None:
        return self._stack[-1]

    @property
    def depth(self) -> int:
        """How many steps back are possible."""
        return len(self._stack) - 1

    def push(self, cohort: Cohort | None) -> None:
        if cohort != self.current:
            self._stack.append(cohort)
            del self._stack[1:-MAX_HISTORY]

    def back(self) -> Cohort | None:
        if len(self._stack) > 1:
            self._stack.pop()
        return self.current

    def clear(self) -> None:
        """Select every row (a step that "back" can undo)."""
        self.push(None)


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


def _message(exc: BaseException) -> str:
    text = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
    return str(text)
