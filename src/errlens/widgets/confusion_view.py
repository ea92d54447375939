"""Confusion view: the confusion table of the current cohort (counts or normalised) with
per-class precision, recall, F1 and support; a click on a cell selects its rows.

>>> import errlens as el
>>> ev = el.Analysis.from_predictions({"x": [1, 2, 3]}, y_true=["a", "b", "b"],
...                                   y_pred=["a", "a", "b"])
>>> view = ConfusionView(ev)
>>> view.table["counts"]
[[1, 0], [1, 1]]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import traitlets

from errlens.slicing.cohort import Cohort
from errlens.slicing.confusion import NORMALIZE
from errlens.views.confusion import confusion_payload
from errlens.views.dispatch import Handler
from errlens.views.selection import SelectionError, combine
from errlens.views.source import source_of
from errlens.widgets._base import bundle
from errlens.widgets.selection import CohortView

_JS, _CSS = bundle("confusion")


class ConfusionView(CohortView):
    """Confusion table of the cohort; ``normalize`` is None, "true" (rows) or "pred" (columns).

    >>> import errlens as el
    >>> ev = el.Analysis.from_predictions({"x": [1, 2]}, y_true=["a", "b"], y_pred=["a", "a"])
    >>> view = ConfusionView(ev)
    >>> view.handle({"type": "select_cell", "rid": 1, "true": 1, "predicted": 0,
    ...              "version": view.version})
    ({'type': 'reply', 'rid': 1, 'error': None}, [])
    >>> view.selection.describe()
    'true = b and predicted = a'
    """

    _esm = _JS
    _css = _CSS
    _messages = "confusion"
    normalize = traitlets.Unicode(None, allow_none=True,
                                  help='None (counts), "true" (rows sum to 1) or "pred" '
                                  "(columns sum to 1).").tag(sync=True)
    table = traitlets.Dict(help="classes, counts, values (as normalised), report per class, "
                           "accuracy, rows.").tag(sync=True)

    def __init__(self, analysis: Any, **kwargs: Any) -> None:
        """``analysis``: a classifier's Analysis, engines.LazyAnalysis, or their view source."""
        source = source_of(analysis)
        if source.task == "regression":
            raise TypeError("ConfusionView needs a classification Analysis (a regression has no "
                            "confusion table; use SegmentsView)")
        self._counted: tuple[str, np.ndarray] | None = None  # (selection key, its counts)
        super().__init__(source, **kwargs)
        self.observe(lambda _: self._refresh(), "normalize")

    @traitlets.validate("normalize")
    def _valid_normalize(self, proposal: Any) -> Any:
        if proposal["value"] not in NORMALIZE:
            raise traitlets.TraitError(f"normalize must be one of {NORMALIZE}")
        return proposal["value"]

    def _refresh(self) -> None:
        picked = self._selected()
        if self._counted is None or self._counted[0] != picked.key:
            # counted once per selection: a change of normalisation only divides again
            self._counted = (picked.key, self.source.confusion(picked))
        table = confusion_payload(self.source.classes, self._counted[1], self.normalize)
        with self.hold_sync():
            self.rows = table["rows"]
            self.table = table
            self.version += 1

    def _handlers(self) -> Mapping[str, Handler]:
        return {**super()._handlers(), "normalize": self._on_normalize,
                "select_cell": self._on_select_cell}

    def _on_normalize(self, msg: dict[str, Any]) -> None:
        how = msg["normalize"]
        if how not in NORMALIZE:
            raise SelectionError(f"normalize must be one of {NORMALIZE}, got {how!r}")
        self.normalize = how

    def _on_select_cell(self, msg: dict[str, Any]) -> None:
        self._check_version(msg)
        classes = self.source.classes
        i, j = msg["true"], msg["predicted"]
        for k in (i, j):
            if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k < len(classes):
                raise SelectionError(f"no confusion cell ({i!r}, {j!r}); classes are 0.."
                                     f"{len(classes) - 1}")
        assert isinstance(i, int) and isinstance(j, int)
        cell = Cohort.confusion_cell(classes[i], classes[j])
        self._set_selection(combine(self.selection, cell))
