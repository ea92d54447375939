"""Slicing methods of :class:`errlens.Analysis` (mixed in, so this module owns them)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from errlens.slicing import segments as _segments
from errlens.slicing.cohort import Cohort

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
