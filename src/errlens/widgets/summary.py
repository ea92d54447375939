"""A card with an analysis' headline figures."""

from __future__ import annotations

from typing import Any

import traitlets

from errlens.views.source import source_of
from errlens.widgets._base import ErrlensWidget, bundle

_JS, _CSS = bundle("summary")


class SummaryWidget(ErrlensWidget):
    """Rows, errors, error rate with its 95 % interval, and errors by given label.

    >>> import errlens as el
    >>> ev = el.Analysis.from_predictions({"x": [1, 2]}, y_true=[0, 1], y_pred=[0, 0])
    >>> el.SummaryWidget(ev).summary["errors"]
    1
    """

    _esm = _JS
    _css = _CSS
    _messages = "summary"
    summary = traitlets.Dict(help="Analysis.summary() of the analysis shown.").tag(sync=True)
    title = traitlets.Unicode("", help="Heading of the card.").tag(sync=True)

    def __init__(self, analysis: Any, **kwargs: Any) -> None:
        """``analysis``: an Analysis or an engines.LazyAnalysis (counted in its engine)."""
        try:
            source = source_of(analysis)
        except TypeError as exc:
            raise TypeError(f"SummaryWidget: {exc}") from None
        super().__init__(summary=source.summary(), **kwargs)
