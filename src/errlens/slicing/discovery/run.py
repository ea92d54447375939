"""Slice-discovery methods of :class:`errlens.Analysis` (mixed in, so this module owns them)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from errlens.slicing.cohort import to_cohort
from errlens.slicing.discovery.result import DiscoveredSlices, build
from errlens.slicing.discovery.search import Progress, find_slices

if TYPE_CHECKING:
    from errlens.analysis import Analysis


class DiscoverMethods:
    """Automatic discovery of problem slices on an Analysis."""

    def discover(
        self,
        *,
        k: int = 10,
        max_level: int = 3,
        min_support: int | float | None = None,
        alpha: float = 0.95,
        features: Sequence[str] | None = None,
        cohort: Any = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> DiscoveredSlices:
        """The exact top-``k`` problem slices (SliceLine, Sagadeeva & Boehm, SIGMOD 2021).

        Slices are conjunctions of up to ``max_level`` segments of different features (from
        ``analysis.segments``), scored ``alpha * (slice error rate / error rate - 1) -
        (1 - alpha) * (rows / slice rows - 1)``; only slices with at least ``min_support`` rows
        (a count, a fraction of rows, or None for 1% of the rows but at least 32), some errors
        and a positive score qualify. ``features`` limits the search to some features,
        ``cohort`` to some rows (the error rate and row count are then the cohort's).
        ``progress`` is called with a :class:`~errlens.slicing.discovery.search.Progress` after each
        feature set examined.

        >>> import errlens as el
        >>> ev = el.Analysis.from_predictions(
        ...     {"color": ["red", "blue"] * 50, "size": ["S", "S", "L", "L"] * 25},
        ...     y_true=[0] * 100, y_pred=[1, 0, 0, 0] * 25)
        >>> found = ev.discover(k=1, min_support=10)
        >>> top = found.to_frame().iloc[0]
        >>> top["slice"], int(top["n"]), float(top["error_rate"])
        ('color = red and size = S', 25, 1.0)
        """
        ev: Analysis = self  # type: ignore[assignment]
        segments = ev.segments
        columns = (
            list(range(len(segments.features)))
            if features is None
            else [segments.index(f) for f in _feature_list(features)]
        )
        mask = ev.mask(cohort)
        if not mask.any():
            raise ValueError(
                "the cohort selects no rows: discover needs at least one row to search; "
                "check the cohort with analysis.mask(cohort).sum()"
            )
        codes = segments.codes
        if not mask.all():
            codes = codes[mask]
        if len(columns) != codes.shape[1]:
            codes = codes[:, columns]
        errors = ev.error[mask]
        search = find_slices(
            codes, errors, k=k, max_level=max_level, min_support=min_support, alpha=alpha,
            cardinalities=[len(segments.labels[j]) for j in columns], progress=progress,
        )
        base = to_cohort(ev, cohort)
        params = {"k": k, "max_level": max_level, "alpha": alpha}
        return build(
            search, segments, columns, codes, errors, base=base,
            binary=ev.task != "regression" or bool(np.isin(errors, (0.0, 1.0)).all()),
            params=params,
        )


def _feature_list(features: Sequence[str]) -> list[str]:
    names = [features] if isinstance(features, str) else list(features)
    if not names:
        raise ValueError("features is empty: pass None to search all features, or some names")
    if len(set(names)) != len(names):
        raise ValueError(f"features lists a feature twice: {names}")
    return names
