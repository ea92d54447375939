"""Annotator health: per declared annotator / source the estimated label-noise rate with its
interval, rows, suspects and top confusion; a click on a row selects that annotator's rows as
the dashboard's cohort. The figures come from :mod:`errlens.views.health` (in memory, or counted
in the engine of a LazyAnalysis); this widget only holds them as traits and answers the clicks.

>>> import errlens as el
>>> ev = el.Analysis.from_predictions(
...     {"who": ["a", "a", "b", "b"]}, y_true=[0, 1, 1, 0], annotator="who",
...     proba=[[.9, .1], [.8, .2], [.2, .8], [.1, .9]], proba_out_of_fold=True)
>>> view = HealthView(ev)
>>> view.handle({"type": "select_group", "rid": 1, "group": "annotator", "index": 0,
...              "version": view.version})[0]["error"] is None
True
>>> view.selection.describe(), view.rows
('who = a', 2)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import traitlets

from errlens.views.dispatch import Handler
from errlens.views.health import group_cohort, health_groups, health_payload
from errlens.widgets._base import bundle
from errlens.widgets.selection import CohortView

_JS, _CSS = bundle("health")


class HealthView(CohortView):
    """The annotator-health panel of an analysis (in memory or a LazyAnalysis with one
    probability column per class) that declares ``annotator=`` and / or ``source=`` (TypeError
    otherwise: there is nothing to draw)."""

    _esm = _JS
    _css = _CSS
    _messages = "health"
    health = traitlets.Dict(help="Per declared annotator / source: kind, column, overall rate, "
                            "total and its rows (label, noise_rate, ci_low, ci_high, prior, n, "
                            "suspects, given, likely_true, confusion_count, selected, active)."
                            ).tag(sync=True)

    def __init__(self, analysis: Any, **kwargs: Any) -> None:
        """``analysis``: an Analysis or LazyAnalysis declaring an annotator or source, or its
        view source."""
        from errlens.views.source import source_of

        source = source_of(analysis)
        self._groups = health_groups(source.analysis, run=getattr(source, "run", None))
        if not self._groups:
            raise TypeError("HealthView needs an analysis that declares its label sources: "
                            "Analysis.from_predictions(..., annotator='column') or "
                            "source='column' (LazyAnalysis.from_duckdb / from_spark: the same, "
                            "with proba=[...] one column per class)")
        super().__init__(source, **kwargs)

    def _refresh(self) -> None:
        picked = self._selected()
        with self.hold_sync():
            self.rows = picked.rows
            self.health = health_payload(self._groups, picked)
            self.version += 1

    def _handlers(self) -> Mapping[str, Handler]:
        return {**super()._handlers(), "select_group": self._on_select_group}

    def _on_select_group(self, msg: dict[str, Any]) -> None:
        self._check_version(msg)
        self._set_selection(group_cohort(self._groups, msg["group"], msg["index"]))
