"""errlens: Jupyter-native ML error analysis and relabeling.

>>> import errlens as el
>>> ev = el.Analysis.from_predictions({"x": [1, 2, 3]}, y_true=[0, 1, 1], y_pred=[0, 1, 0])
>>> round(ev.error_rate, 3)
0.333
"""

from __future__ import annotations

from errlens.analysis import Analysis
from errlens.widgets.summary import SummaryWidget

__all__ = ["Analysis", "SummaryWidget"]
__version__ = "0.1.0"
