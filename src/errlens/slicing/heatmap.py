"""Two-feature heatmaps: statistics of every pair of segments, and a plotly figure of them.

>>> import errlens as el
>>> ev = el.Analysis.from_predictions({"a": ["x", "x", "y", "y"], "b": ["u", "v", "u", "v"]},
...                                   y_true=[0, 1, 0, 1], y_pred=[0, 0, 0, 1])
>>> heat = heatmap_table(ev, "a", "b")
>>> heat.pivot("errors").values.tolist()
[[0, 1], [0, 0]]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from errlens.slicing.cohort import Cohort, to_cohort
from errlens.slicing.metrics import MetricContext, group_stats

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from errlens.analysis import Analysis
    from errlens.slicing.segments import Segments


@dataclass(frozen=True)
class HeatmapTable:
    """One row per (segment of ``feature_a``, segment of ``feature_b``) cell, empty cells
    included (``n == 0``, rates NaN), in segment order."""

    feature_a: str
    feature_b: str
    labels_a: list[str]
    labels_b: list[str]
    table: pd.DataFrame
    metric: str
    bins: int
    top_k: int
    base: Cohort | None = None

    def pivot(self, value: str | None = None) -> pd.DataFrame:
        """``value`` (default: the metric) as a grid: rows ``feature_a``, columns ``feature_b``."""
        value = value or self.metric
        if value not in self.table.columns:
            raise KeyError(f"no column {value!r}; columns are {list(self.table.columns)}")
        grid = self.table.pivot(index=self.feature_a, columns=self.feature_b, values=value)
        return grid.reindex(index=self.labels_a, columns=self.labels_b)

    def cohort(self, label_a: str, label_b: str) -> Cohort:
        """The rows of one cell (within the heatmap's cohort, when it had one)."""
        for label, labels, feature in ((label_a, self.labels_a, self.feature_a),
                                       (label_b, self.labels_b, self.feature_b)):
            if label not in labels:
                raise KeyError(f"{feature!r} has no segment {label!r}; segments are {labels}")
        cell = (Cohort.segment(self.feature_a, label_a, bins=self.bins, top_k=self.top_k)
                & Cohort.segment(self.feature_b, label_b, bins=self.bins, top_k=self.top_k))
        return cell if self.base is None else self.base & cell


def heatmap_table(
    analysis: Analysis,
    feature_a: str,
    feature_b: str,
    *,
    metric: str = "error_rate",
    label: Any = None,
    cohort: Any = None,
    confidence: float = 0.95,
    segments: Segments | None = None,
) -> HeatmapTable:
    """Statistics of every segment pair of two features (see ``slice_table`` for the columns)."""
    if feature_a == feature_b:
        raise ValueError(f"a heatmap needs two different features, got {feature_a!r} twice")
    seg = analysis.segments if segments is None else segments
    ja, jb = seg.index(feature_a), seg.index(feature_b)
    labels_a, labels_b = seg.labels[ja], seg.labels[jb]
    mask = analysis.mask(cohort)
    ctx = MetricContext.build(analysis, mask, metric=metric, label=label, confidence=confidence)
    every = bool(mask.all())
    codes_a = seg.codes[:, ja] if every else seg.codes[mask, ja]
    codes_b = seg.codes[:, jb] if every else seg.codes[mask, jb]
    size_b = len(labels_b)
    groups = codes_a.astype(np.int64) * size_b + codes_b
    stats = group_stats(groups, len(labels_a) * size_b, ctx)
    cells = np.arange(len(stats))
    stats.insert(0, feature_b, np.asarray(labels_b, dtype=object)[cells % size_b])
    stats.insert(0, feature_a, np.asarray(labels_a, dtype=object)[cells // size_b])
    return HeatmapTable(feature_a, feature_b, list(labels_a), list(labels_b), stats, metric,
                        seg.bins, seg.top_k, to_cohort(analysis, cohort))


def heatmap_figure(heat: HeatmapTable, value: str | None = None) -> go.Figure:
    """A plotly heatmap of ``value`` (default: the metric); hover shows rows, errors and CI.

    >>> import errlens as el
    >>> ev = el.Analysis.from_predictions({"a": [1, 2], "b": [3, 4]}, y_true=[0, 1], y_pred=[0, 0])
    >>> heatmap_figure(heat=heatmap_table(ev, "a", "b")).data[0].type
    'heatmap'
    """
    import plotly.graph_objects as go

    value = value or heat.metric
    grid = heat.pivot(value)
    n = heat.pivot("n").to_numpy()
    errors = heat.pivot("errors").to_numpy()
    low, high = heat.pivot("ci_low").to_numpy(), heat.pivot("ci_high").to_numpy()
    text = np.vectorize(
        lambda k, e, lo, hi: f"rows {k:,}<br>errors {e:,}<br>CI [{lo:.1%}, {hi:.1%}]"
        if k else "no rows"
    )(n, errors, low, high)
    figure = go.Figure(go.Heatmap(
        z=grid.to_numpy(), x=list(grid.columns), y=list(grid.index), text=text,
        hovertemplate=f"{heat.feature_a} %{{y}}<br>{heat.feature_b} %{{x}}<br>{value} %{{z:.3g}}"
                      "<br>%{text}<extra></extra>",
        colorscale="Reds" if value in ("error_rate", "lift") else "Viridis",
        colorbar={"title": {"text": value}},
    ))
    figure.update_layout(xaxis_title=heat.feature_b, yaxis_title=heat.feature_a,
                         yaxis={"autorange": "reversed"})
    return figure
