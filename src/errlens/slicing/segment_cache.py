"""Segments of an evaluation set, encoded once per setting and kept in its cache.

``analysis.segments`` (the defaults: 5 quantile bins, top 10 categories) and every other
``(bins, top_k)`` setting are encoded for all features once; a segment cohort at another
setting encodes only its own feature.

>>> import errlens as el
>>> ev = el.Analysis.from_predictions({"x": range(10)}, y_true=[0, 1] * 5, y_pred=[0] * 10)
>>> segments_at(ev, bins=2) is segments_at(ev, bins=2), segments_at(ev, bins=2).labels
(True, [['< 4', '≥ 4']])
"""

from __future__ import annotations

from errlens.data.evaldata import EvalData
from errlens.slicing import segments as _segments
from errlens.slicing.segments import Segments

DEFAULT_BINS = 5
DEFAULT_TOP_K = 10


def segments_at(data: EvalData, bins: int = DEFAULT_BINS, top_k: int = DEFAULT_TOP_K) -> Segments:
    """Every feature of ``data`` encoded into segments at this setting, computed once."""
    cache = data.cache.segments_by_setting
    if (bins, top_k) not in cache:
        cache[(bins, top_k)] = _segments.encode(data, bins=bins, top_k=top_k)
    segments: Segments = cache[(bins, top_k)]
    return segments


def feature_segments(data: EvalData, feature: str, bins: int, top_k: int) -> Segments:
    """Segments holding ``feature`` at these settings, reusing any encoding of all features."""
    every = data.cache.segments_by_setting.get((bins, top_k))
    if every is not None:
        return every
    single = data.cache.segments_by_feature
    key = (feature, bins, top_k)
    if key not in single:
        single[key] = _segments.encode(data, bins=bins, top_k=top_k, features=[feature])
    segments: Segments = single[key]
    return segments
