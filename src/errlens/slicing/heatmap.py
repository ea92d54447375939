"""Two-feature heatmaps: statistics of every pair of segments, and a plotly figure of them.

>>> import errlens as el
>>> ev = el.Analysis.from_predictions({"a": ["x", "x", "y", "y"], "b": ["u", "v", "u", "v"]},
...                                   y_true=[0, 1, 0, 1], y_pred=[0, 0, 0, 1])
>>> heat = heatmap_table(ev, "a", "b")
>>> heat.pivot("errors").values.tolist()
[[0, 1], [0, 0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from errlens.data.cohort import Cohort
from errlens.slicing.counting import NumpyCounting
from errlens.slicing.masks import to_cohort
from errlens.slicing.metrics import GroupCounts
from errlens.slicing.segment_cache import segments_at

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from errlens.data.evaldata import EvalData
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

    @classmethod
    def from_counts(
        cls, feature_a: str, feature_b: str, labels_a: Sequence[str], labels_b: Sequence[str],
        counts: GroupCounts, *, metric: str = "error_rate", confidence: float = 0.95,
        bins: int, top_k: int, base: Cohort | None = None,
    ) -> HeatmapTable:
        """The heatmap of per-cell counts, cells in C order (``a * len(labels_b) + b``).

        >>> import numpy as np
        >>> counts = GroupCounts(n=np.array([1, 1, 1, 1]), errors=np.array([0, 1, 0, 0]))
        >>> heat = HeatmapTable.from_counts("a", "b", ["x", "y"], ["u", "v"], counts,
        ...                                 bins=5, top_k=10)
        >>> heat.pivot("error_rate").values.tolist()
        [[0.0, 1.0], [0.0, 0.0]]
        """
        if feature_a == feature_b:
            raise ValueError(f"a heatmap needs two different features, got {feature_a!r} twice")
        cells = len(labels_a) * len(labels_b)
        if len(counts.n) != cells:
            raise ValueError(f"{len(labels_a)} x {len(labels_b)} segments make {cells} cells, "
                             f"but the counts have {len(counts.n)}")
        stats = pd.DataFrame(counts.columns(metric, confidence=confidence))
        at, size_b = np.arange(cells), len(labels_b)
        stats.insert(0, feature_b, np.asarray(labels_b, dtype=object)[at % size_b])
        stats.insert(0, feature_a, np.asarray(labels_a, dtype=object)[at // size_b])
        return cls(feature_a, feature_b, list(labels_a), list(labels_b), stats, metric, bins,
                   top_k, base)

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
    analysis: EvalData,
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
    seg = segments_at(analysis) if segments is None else segments
    labels_a, labels_b = seg.labels[seg.index(feature_a)], seg.labels[seg.index(feature_b)]
    counts = NumpyCounting(analysis, seg).cell_counts(feature_a, feature_b, cohort,
                                                      metric=metric, label=label)
    return HeatmapTable.from_counts(feature_a, feature_b, labels_a, labels_b, counts,
                                    metric=metric, confidence=confidence, bins=seg.bins,
                                    top_k=seg.top_k, base=to_cohort(analysis, cohort))


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
