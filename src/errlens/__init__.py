"""errlens: Jupyter-native ML error analysis and relabeling.

The core (Analysis, Cohort, LabelStore) is plain Python; the widgets (SummaryWidget,
SuspectBrowser, explore) load lazily, so scripts that never display one never import ipywidgets,
and so do Analysis and Cohort, so the changelog alone (and its command line) starts fast. So do
the annotators' tools: ``export_csv`` / ``import_csv``, ``export_labelstudio`` /
``import_labelstudio``, and the reports ``agreement_report``, ``consensus`` and
``review_precision`` (``el.review_precision(store, by=...)``).

>>> import errlens as el
>>> ev = el.Analysis.from_predictions({"x": [1, 2, 3]}, y_true=[0, 1, 1], y_pred=[0, 1, 0])
>>> round(ev.error_rate, 3)
0.333
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from errlens.changelog import Changelog, LabelStore, merge_logs

if TYPE_CHECKING:  # imported on first use: the changelog command line never needs scikit-learn
    from errlens.analysis import Analysis as Analysis
    from errlens.data.cohort import Cohort as Cohort

_LAZY = {
    "Analysis": "errlens.analysis",
    "Cohort": "errlens.data.cohort",
    "SummaryWidget": "errlens.widgets.summary",
    "SuspectBrowser": "errlens.widgets.suspect_browser",
    "Explorer": "errlens.widgets.explorer",
    "explore": "errlens.widgets.explorer",
    "to_html": "errlens.report",
    # the annotators' round trip and reports (agreement needs scikit-learn: loaded on use)
    "export_csv": "errlens.annotators.exchange",
    "import_csv": "errlens.annotators.exchange",
    "export_labelstudio": "errlens.annotators.labelstudio",
    "import_labelstudio": "errlens.annotators.labelstudio",
    "agreement_report": "errlens.annotators.reports",
    "consensus": "errlens.annotators.reports",
    "review_precision": "errlens.annotators.reports",
}

__all__ = ["Changelog", "LabelStore", "merge_logs", *_LAZY]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'errlens' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
