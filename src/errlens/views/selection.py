"""The selection model of the dashboard, without widgets: a cohort from front-end JSON checked
and resolved once per click, and the step-back history the Explorer keeps.

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
from typing import Any

from errlens.slicing.cohort import Cohort
from errlens.views.source import source_of

MAX_PAYLOAD = 64_000
"""Largest cohort JSON (in characters) accepted from the front end."""
MAX_HISTORY = 50


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


def _message(exc: BaseException) -> str:
    text = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
    return str(text)
