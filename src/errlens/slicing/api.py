"""Slicing methods of :class:`errlens.Analysis` (mixed in, so this module owns them)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import pandas as pd

from errlens.slicing import segments as _segments
from errlens.slicing.cohort import Cohort
from errlens.slicing.confusion import ConfusionResult, confusion_result
from errlens.slicing.error_tree import ErrorTree, build_error_tree
from errlens.slicing.heatmap import HeatmapTable, heatmap_table
from errlens.slicing.tables import slice_table

if TYPE_CHECKING:
    from errlens.analysis import Analysis
    from errlens.slicing.segments import Segments

DEFAULT_BINS = 5
DEFAULT_TOP_K = 10


class SliceMethods:
    """Segment tables, heatmaps, confusion tables, error tree and discovery on an Analysis."""

    @cached_property
    def segments(self) -> Segments:
        """Every feature encoded into segments with the defaults (5 quantile bins, top 10
        categories), computed once and cached.

        >>> import errlens as el
        >>> ev = el.Analysis.from_predictions({"x": [1, 2, 3, 4]}, y_true=[0, 1, 0, 1],
        ...                                   y_pred=[0, 0, 0, 1])
        >>> ev.segments.labels
        [['= 1', '= 2', '= 3', '= 4']]
        """
        return _segments.encode(_self(self), bins=DEFAULT_BINS, top_k=DEFAULT_TOP_K)

    def segment(
        self, *, bins: int = DEFAULT_BINS, top_k: int = DEFAULT_TOP_K,
        features: list[str] | None = None,
    ) -> Segments:
        """Segments with other settings (cached per setting when all features are encoded).

        >>> import errlens as el
        >>> ev = el.Analysis.from_predictions({"x": range(10)}, y_true=[0, 1] * 5, y_pred=[0] * 10)
        >>> ev.segment(bins=2).labels
        [['< 4', '≥ 4']]
        """
        if bins == DEFAULT_BINS and top_k == DEFAULT_TOP_K and features is None:
            return self.segments
        if features is not None:
            return _segments.encode(_self(self), bins=bins, top_k=top_k, features=features)
        cache = self.__dict__.setdefault("_segments_by_setting", {})
        if (bins, top_k) not in cache:
            cache[(bins, top_k)] = _segments.encode(_self(self), bins=bins, top_k=top_k)
        return cache[(bins, top_k)]

    def slices(
        self,
        features: Sequence[str] | None = None,
        *,
        cohort: Any = None,
        metric: str = "error_rate",
        label: Any = None,
        min_size: int = 1,
        sort: str | None = "lift",
        fdr: float | None = None,
        confidence: float = 0.95,
        segments: Segments | None = None,
    ) -> pd.DataFrame:
        """One row per feature segment: ``n``, ``errors``, ``error_rate``, Wilson ``ci_low`` /
        ``ci_high``, ``lift`` (over the cohort's error rate) and ``error_share``; sorted by
        ``sort`` (descending, except p-values). ``metric`` adds a column (accuracy, precision,
        recall, f1 for ``label`` — default the positive class of a binary task —, fpr / fnr,
        mae / rmse) with its CI when it is a proportion and ``<metric>_delta`` from the cohort's
        value. ``fdr=0.05`` adds one-sided Fisher ``p_value``, Benjamini-Hochberg ``p_adjusted``
        and ``significant``. ``segments`` defaults to :attr:`segments`.

        >>> import errlens as el
        >>> ev = el.Analysis.from_predictions({"g": ["a", "b", "b"]}, y_true=[0, 1, 1],
        ...                                   y_pred=[0, 0, 1])
        >>> ev.slices()[["segment", "n", "errors", "error_rate"]].values.tolist()
        [['b', 2, 1, 0.5], ['a', 1, 0, 0.0]]
        """
        return slice_table(
            _self(self), features, cohort=cohort, metric=metric, label=label, min_size=min_size,
            sort=sort, fdr=fdr, confidence=confidence, segments=segments,
        )

    def heatmap(
        self,
        feature_a: str,
        feature_b: str,
        *,
        metric: str = "error_rate",
        label: Any = None,
        cohort: Any = None,
        confidence: float = 0.95,
        segments: Segments | None = None,
    ) -> HeatmapTable:
        """Statistics of every pair of segments of two features (long ``.table``, ``.pivot()``;
        draw it with ``errlens.slicing.heatmap.heatmap_figure``).

        >>> import errlens as el
        >>> ev = el.Analysis.from_predictions({"a": [1, 2], "b": ["u", "v"]}, y_true=[0, 1],
        ...                                   y_pred=[0, 0])
        >>> ev.heatmap("a", "b").pivot("n").values.tolist()
        [[1, 0], [0, 1]]
        """
        return heatmap_table(_self(self), feature_a, feature_b, metric=metric, label=label,
                             cohort=cohort, confidence=confidence, segments=segments)

    def confusion(
        self, cohort: Any = None, *, normalize: str | None = None, top: int = 10
    ) -> ConfusionResult:
        """Confusion table of ``cohort``: counts, ``normalized("true" | "pred" | "all")``,
        per-class ``report``, ``top_pairs``, ``comparison`` with the rest, ``cell_cohort()``.

        >>> import errlens as el
        >>> ev = el.Analysis.from_predictions({"x": [1, 2]}, y_true=["a", "b"], y_pred=["a", "a"])
        >>> ev.confusion().counts.values.tolist()
        [[1, 0], [1, 0]]
        """
        return confusion_result(_self(self), cohort, normalize=normalize, top=top)

    def error_tree(
        self,
        *,
        max_depth: int = 3,
        min_samples: int | None = None,
        features: Sequence[str] | None = None,
        cohort: Any = None,
        confidence: float = 0.95,
        segments: Segments | None = None,
    ) -> ErrorTree:
        """A shallow tree splitting the rows where errors concentrate (Gini on ``is_error`` over
        the segments; missing values an explicit branch). ``min_samples``: least rows per node
        (default 1 % of the rows, at least 20).

        >>> import errlens as el
        >>> ev = el.Analysis.from_predictions({"x": [1, 2] * 30}, y_true=[0, 1] * 30,
        ...                                   y_pred=[0] * 60)
        >>> [node.path for node in ev.error_tree().leaves()]
        ['x ≥ 2', 'x < 2']
        """
        return build_error_tree(_self(self), max_depth=max_depth, min_samples=min_samples,
                                features=features, cohort=cohort, confidence=confidence,
                                segments=segments)

    def save_cohort(self, name: str, cohort: Cohort) -> Cohort:
        """Store ``cohort`` under ``name`` in ``analysis.cohorts`` (checked against the features).

        >>> import errlens as el
        >>> from errlens.slicing.cohort import Cohort
        >>> ev = el.Analysis.from_predictions({"x": [1, 2]}, y_true=[0, 1], y_pred=[0, 0])
        >>> _ = ev.save_cohort("big x", Cohort.where("x", ">", 1))
        >>> ev.cohorts["big x"].describe()
        'x > 1'
        """
        if not isinstance(cohort, Cohort):
            raise TypeError(f"save_cohort needs a Cohort, got {type(cohort).__name__}")
        if not isinstance(name, str) or not name:
            raise ValueError(f"a cohort name must be a non-empty string, got {name!r}")
        cohort.validate(_self(self))
        _self(self).cohorts[name] = cohort
        return cohort


def feature_segments(analysis: Analysis, feature: str, bins: int, top_k: int) -> Segments:
    """Segments holding ``feature`` at these settings, reusing cached encodings when possible."""
    if bins == DEFAULT_BINS and top_k == DEFAULT_TOP_K and "segments" in analysis.__dict__:
        return analysis.segments
    cached = analysis.__dict__.get("_segments_by_setting", {}).get((bins, top_k))
    if cached is not None:
        return cached
    single = analysis.__dict__.setdefault("_segments_by_feature", {})
    key = (feature, bins, top_k)
    if key not in single:
        single[key] = _segments.encode(analysis, bins=bins, top_k=top_k, features=[feature])
    return single[key]


def _self(obj: Any) -> Analysis:
    return obj
