"""The one seam between the dashboard views and the data they draw: a :class:`ViewSource`.

Views never touch an analysis directly; they ask their source to ``select`` a cohort (validate
it and find its rows once, shared by every view of a dashboard) and to count slices, heatmaps
and confusion tables of that selection. :class:`MemorySource` answers from an in-memory
:class:`~errlens.Analysis`: one click masks its cohort once, and every view aggregates from
that :class:`Selected` (the mask, and the positions the heatmap and the confusion table gather
codes with: a gather by positions is ~20x faster than by a scattered boolean mask at 1M rows).
:class:`EngineSource` answers from an
:class:`~errlens.engines.LazyAnalysis` (each aggregate one query in DuckDB / Spark, cohorts
passed as filters, never masks). What an engine cannot do is listed in ``unavailable`` with the
reason, which the views show as a disabled control instead of failing.

>>> import errlens as el
>>> from errlens.slicing.cohort import Cohort
>>> ev = el.Analysis.from_predictions({"g": ["a", "b", "b"]}, y_true=[0, 1, 1], y_pred=[0, 0, 1])
>>> source = source_of(ev)
>>> picked = source.select(Cohort.where("g", "==", "b"))
>>> picked.rows, picked.positions.tolist(), source.overall(picked)["errors"]
(2, [1, 2], 1.0)
>>> source.confusion(picked).tolist()  # counts (given x predicted) of the selected rows
[[0, 0], [1, 1]]
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from errlens.analysis import Analysis
from errlens.base.stats import wilson_interval
from errlens.slicing.cohort import Cohort, to_cohort
from errlens.slicing.heatmap import HeatmapTable
from errlens.slicing.metrics import GroupCounts, label_codes
from errlens.views.engine_rows import EngineRows
from errlens.views.paging import RowSource
from errlens.views.samples import Images

if TYPE_CHECKING:
    from errlens.engines import LazyAnalysis
    from errlens.slicing.discovery.result import DiscoveredSlices
    from errlens.slicing.segments import Segments

_CACHE = 4  # selections kept: the current one, and the few a "back" returns to
_BUSY_WAIT = 60.0  # seconds a dashboard query waits for a cell's query on the same connection


class Unavailable(ValueError):
    """What the source cannot compute; the message says why and what to do instead."""


@dataclass(frozen=True)
class Selected:
    """A validated cohort with its rows found, once per click: in memory its mask and row
    positions (None when every row is selected: no gather at all); in an engine the slice table.
    ``key`` is the cohort's JSON, the cache key every view looks the selection up by."""

    cohort: Cohort | None
    rows: int
    key: str = "null"
    mask: np.ndarray | None = None
    positions: np.ndarray | None = None
    table: pd.DataFrame | None = None


class ViewSource(Protocol):
    """What the dashboard views ask of the data (see the module docstring)."""

    analysis: Any
    n: int
    task: str
    classes: list[Any]
    unavailable: dict[str, str]
    """Capability ("suspects", "search", "sort", "check", "similar", "relabel", "mask") → why
    it is not available; empty when everything is. ``error_tree`` raises :class:`Unavailable`."""

    @property
    def segments(self) -> Segments: ...
    def select(self, cohort: Cohort | None) -> Selected: ...
    def select_json(self, payload: dict[str, Any] | None) -> Selected:
        """:meth:`select` of a cohort's JSON (a trait's value): a cached selection is found by
        its JSON without parsing the cohort again."""
    def slices(self, picked: Selected) -> pd.DataFrame: ...
    def overall(self, picked: Selected) -> dict[str, Any]: ...
    def heatmap(self, feature_a: str, feature_b: str, picked: Selected) -> HeatmapTable: ...
    def confusion(self, picked: Selected) -> np.ndarray:
        """Confusion counts (given x predicted, class order) of the selection; views normalise
        them (a change of normalisation never recounts)."""
    def error_tree(self, max_depth: int) -> Any: ...
    def discover(self, k: int, max_level: int, progress: Callable[[Any], None]
                 ) -> DiscoveredSlices: ...
    def to_cohort(self, selection: Any) -> Cohort | None: ...
    def selection(self, cohort: Cohort | None) -> Cohort | None: ...
    def summary(self) -> dict[str, Any]:
        """Headline figures, as :meth:`errlens.Analysis.summary`."""

    def suspect_method(self, method: str | None) -> str:
        """The suspect detection method the browser uses for ``method`` (None: the default)."""

    def row_source(self, *, method: str, text_column: str | None, image: Any,
                   page_size: int) -> Any:
        """Pages of rows for the suspect browser (``page(query, extra)``, ``set_cohort``)."""


def source_of(analysis: Any) -> ViewSource:
    """The source of an Analysis, a LazyAnalysis, or a source itself (shared between views)."""
    if isinstance(analysis, (MemorySource, EngineSource)):
        return analysis
    if isinstance(analysis, Analysis):
        return MemorySource(analysis)
    from errlens.engines import LazyAnalysis

    if isinstance(analysis, LazyAnalysis):
        return EngineSource(analysis)
    raise TypeError(f"the dashboard draws an errlens.Analysis or an errlens.engines."
                    f"LazyAnalysis, got {type(analysis).__name__}")


def cohort_key(payload: dict[str, Any] | None) -> str:
    """The cache key of a cohort's JSON (None: every row)."""
    return json.dumps(payload, sort_keys=True, default=str)


class _Cache:
    """The last few selections by cohort JSON (views of one dashboard share them)."""

    def __init__(self, find: Callable[[Cohort | None, str], Selected]) -> None:
        self._items: OrderedDict[str, Selected] = OrderedDict()
        self._find = find

    def get(self, cohort: Cohort | None) -> Selected:
        return self.get_json(None if cohort is None else cohort.to_json(), cohort)

    def get_json(self, payload: dict[str, Any] | None, cohort: Cohort | None = None
                 ) -> Selected:
        """The selection of ``payload`` (its ``cohort`` when already parsed)."""
        key = cohort_key(payload)
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        if cohort is None and payload is not None:
            cohort = Cohort.from_json(payload)
        picked = self._items[key] = self._find(cohort, key)
        if len(self._items) > _CACHE:
            self._items.popitem(last=False)
        return picked


class MemorySource:
    """An in-memory Analysis: one row mask per selection, aggregates over that mask."""

    def __init__(self, analysis: Analysis) -> None:
        self.analysis = analysis
        self.unavailable: dict[str, str] = {}
        self.n, self.classes = analysis.n, analysis.classes
        self.task: str = analysis.task
        self._cache = _Cache(self._find)

    @property
    def segments(self) -> Segments:
        return self.analysis.segments

    def _find(self, cohort: Cohort | None, key: str) -> Selected:
        if cohort is None:
            return Selected(None, self.n, key, mask=np.ones(self.n, dtype=bool))
        mask = self.analysis.mask(cohort)  # values of the wrong type fail here
        positions = np.flatnonzero(mask)
        return Selected(cohort, len(positions), key, mask=mask, positions=positions)

    def select(self, cohort: Cohort | None) -> Selected:
        return self._cache.get(cohort)

    def select_json(self, payload: dict[str, Any] | None) -> Selected:
        return self._cache.get_json(payload)

    def slices(self, picked: Selected) -> pd.DataFrame:
        # the mask, not the cohort: the cohort's rows are found once per click, not per table;
        # the bars are the segments' (a text column's terms, thousands, are discovery's)
        ev = self.analysis
        return (ev.slices(cohort=picked.mask, terms=False) if picked.rows
                else ev.slices(terms=False).iloc[:0])

    def overall(self, picked: Selected) -> dict[str, Any]:
        errors = self.analysis.error[picked.mask]
        return {"rows": picked.rows, "errors": float(errors.sum()),
                "error_rate": float(errors.mean()) if picked.rows else None}

    def heatmap(self, feature_a: str, feature_b: str, picked: Selected) -> HeatmapTable:
        """The heatmap counted from the selection's positions (as ``analysis.heatmap`` counts
        it, without masking the cohort again)."""
        if feature_a == feature_b:
            raise ValueError(f"a heatmap needs two different features, got {feature_a!r} twice")
        seg, at = self.segments, picked.positions
        ja, jb = seg.index(feature_a), seg.index(feature_b)
        labels_a, labels_b = seg.labels[ja], seg.labels[jb]
        codes_a = seg.codes[:, ja] if at is None else seg.codes[at, ja]
        codes_b = seg.codes[:, jb] if at is None else seg.codes[at, jb]
        cells = len(labels_a) * len(labels_b)
        groups = codes_a.astype(np.int64) * len(labels_b) + codes_b
        wrong = self.analysis.is_error if at is None else self.analysis.is_error[at]
        counts = GroupCounts(np.bincount(groups, minlength=cells),
                             np.bincount(groups[wrong], minlength=cells))
        return HeatmapTable.from_counts(feature_a, feature_b, labels_a, labels_b, counts,
                                        bins=seg.bins, top_k=seg.top_k, base=picked.cohort)

    def confusion(self, picked: Selected) -> np.ndarray:
        true_codes, pred_codes = label_codes(self.analysis)
        at, k = picked.positions, len(self.classes)
        if at is not None:
            true_codes, pred_codes = true_codes[at], pred_codes[at]
        return np.bincount(true_codes * k + pred_codes, minlength=k * k).reshape(k, k)

    def error_tree(self, max_depth: int) -> Any:
        return self.analysis.error_tree(max_depth=max_depth)

    def discover(self, k: int, max_level: int, progress: Callable[[Any], None]
                 ) -> DiscoveredSlices:
        return self.analysis.discover(k=k, max_level=max_level, progress=progress)

    def to_cohort(self, selection: Any) -> Cohort | None:
        return to_cohort(self.analysis, selection)

    def selection(self, cohort: Cohort | None) -> Cohort | None:
        return cohort

    def summary(self) -> dict[str, Any]:
        return self.analysis.summary()

    def suspect_method(self, method: str | None) -> str:
        if self.task == "regression" and method in (None, "prune_by_noise_rate"):
            return "residual"
        return method or "prune_by_noise_rate"

    def row_source(self, *, method: str, text_column: str | None, image: Any,
                   page_size: int) -> RowSource:
        ev = self.analysis
        text = None
        if text_column is not None and text_column in ev.text_columns:
            assert ev.text is not None
            text = ev.text[text_column].to_numpy(dtype=object)
        elif text_column is not None:
            if text_column not in ev.features.columns:
                raise KeyError(f"text_column {text_column!r} is not a feature column; columns "
                               f"are {list(ev.features.columns)[:20]}")
            text = ev.features[text_column].to_numpy(dtype=object)
        if image is None:
            image = ev.images  # the images the analysis declared, if any
        images = Images(image, ev.ids) if image is not None else None
        return RowSource(ev, method=method, text=text, images=images, page_size=page_size,
                         mask=self._mask)

    def _mask(self, cohort: Cohort | None) -> np.ndarray:
        """The selection's mask (the suspect browser pages the rows a click selected)."""
        mask = self.select(cohort).mask
        assert mask is not None  # every in-memory selection has one
        return mask


class EngineSource:
    """A LazyAnalysis: every aggregate is one engine query over the cohort as a filter."""

    def __init__(self, analysis: LazyAnalysis) -> None:
        self.analysis = analysis
        self.n, self.task, self.classes = analysis.n, analysis.task, list(analysis.classes)
        self.segments = analysis.segments
        self._cache = _Cache(self._find)
        self._lock = threading.RLock()
        self.engine = engine = str(analysis.frame.implementation).lower()
        in_memory = ("build errlens.Analysis.from_predictions(lazy.rows(cohort, limit=...), "
                     "...) for a cohort that fits in memory")
        reasons = {
            "suspects": "" if len(analysis.proba) == len(analysis.classes) else (
                f"suspects need one probability column per class ({analysis.classes}): pass "
                "proba=[...] in class order to LazyAnalysis.from_duckdb / from_spark"),
            "mask": _reason(analysis.mask),
            "similar": f"similar samples need every row's neighbours; {in_memory}",
            "relabel": f"relabelling needs an in-memory analysis and a LabelStore; {in_memory}",
            "check": f"checking rows needs an in-memory analysis; {in_memory}",
            "search": f"text search is not available on a {engine} analysis: narrow the "
                      "selection with a segment, heatmap cell or confusion cell",
            "sort": f"rows of a {engine} analysis are paged in id order (keyset paging in "
                    "the engine)",
        }
        self.unavailable = {k: v for k, v in reasons.items() if v}

    def run(self, call: Callable[[], Any], what: str) -> Any:
        """``call()`` in the engine, one dashboard query at a time. While another thread (a cell
        running on the same connection: widget messages run in their own kernel thread) keeps
        the engine busy, wait for it; other engine errors become a ValueError saying what
        failed, which the view shows. ScaleOutError (e.g. other segment settings) too."""
        deadline, pause = time.monotonic() + _BUSY_WAIT, 0.02
        with self._lock:
            while True:
                try:
                    return call()
                except (KeyError, TypeError, ValueError):
                    raise
                except NotImplementedError as exc:
                    raise ValueError(str(exc)) from None
                except Exception as exc:
                    text = str(exc).strip()
                    if "is busy" in text.lower() and time.monotonic() < deadline:
                        time.sleep(pause)
                        pause = min(2 * pause, 0.1)
                        continue
                    first = text.splitlines()[0] if text else ""
                    raise ValueError(f"{self.engine} cannot {what}: {type(exc).__name__}: "
                                     f"{first}") from None

    def _find(self, cohort: Cohort | None, key: str) -> Selected:
        table = self.run(lambda: self.analysis.slices(cohort=cohort, terms=False),
                         "filter by this cohort")
        first_feature = table[table["feature"] == self.segments.features[0]]
        return Selected(cohort, int(first_feature["n"].sum()), key, table=table)

    def select(self, cohort: Cohort | None) -> Selected:
        return self._cache.get(cohort)

    def select_json(self, payload: dict[str, Any] | None) -> Selected:
        return self._cache.get_json(payload)

    def slices(self, picked: Selected) -> pd.DataFrame:
        assert picked.table is not None
        return picked.table

    def overall(self, picked: Selected) -> dict[str, Any]:
        assert picked.table is not None
        first = picked.table[picked.table["feature"] == self.segments.features[0]]
        errors = int(first["errors"].sum())
        return {"rows": picked.rows, "errors": errors,
                "error_rate": errors / picked.rows if picked.rows else None}

    def heatmap(self, feature_a: str, feature_b: str, picked: Selected) -> HeatmapTable:
        return self.run(lambda: self.analysis.heatmap(feature_a, feature_b,
                                                      cohort=picked.cohort), "count a heatmap")

    def confusion(self, picked: Selected) -> np.ndarray:
        result = self.run(lambda: self.analysis.confusion(picked.cohort),
                          "count a confusion table")
        return np.asarray(result.counts.to_numpy(), dtype=np.int64)

    def error_tree(self, max_depth: int) -> Any:
        try:
            return self.analysis.error_tree(max_depth=max_depth)
        except NotImplementedError as exc:  # ScaleOutError
            raise Unavailable(str(exc)) from None

    def discover(self, k: int, max_level: int, progress: Callable[[Any], None]
                 ) -> DiscoveredSlices:
        return self.run(lambda: self.analysis.discover(k=k, max_level=max_level,
                                                       progress=progress),
                        "discover slices")  # one query per level, progress after each

    def to_cohort(self, selection: Any) -> Cohort | None:
        if selection is None or isinstance(selection, Cohort):
            return selection
        if isinstance(selection, (list, tuple, pd.Index)):
            return Cohort.ids(list(selection))
        raise TypeError(f"a lazy analysis selects rows with a Cohort or a list of ids, not "
                        f"{type(selection).__name__}: {self.unavailable['mask']}")

    def selection(self, cohort: Cohort | None) -> Cohort | None:
        return cohort

    def summary(self) -> dict[str, Any]:
        cm = self.confusion(self.select(None))
        rows, right = int(cm.sum()), int(np.trace(cm))
        low, high = wilson_interval([rows - right], [rows])
        support, predicted = cm.sum(axis=1), cm.sum(axis=0)
        return {
            "task": self.task, "rows": rows, "features": len(self.segments.features),
            "errors": rows - right, "error_rate": (rows - right) / rows,
            "ci_low": float(low[0]), "ci_high": float(high[0]),
            "proba_source": "given" if self.analysis.proba else "none",
            "classes": [{"label": c, "support": int(support[i]),
                         "errors": int(support[i] - cm[i, i]),
                         "error_rate": float(1 - cm[i, i] / support[i]) if support[i] else None,
                         "predicted": int(predicted[i])} for i, c in enumerate(self.classes)],
        }

    def suspect_method(self, method: str | None) -> str:
        return method or "confident_learning"  # flagged in the engine, as cleanlab flags them

    def row_source(self, *, method: str, text_column: str | None, image: Any,
                   page_size: int) -> EngineRows:
        if image is not None:
            raise TypeError("image thumbnails need the images in memory: browse a cohort of an "
                            "in-memory errlens.Analysis to see them")
        return EngineRows(self, method=method, text_column=text_column, page_size=page_size)


def _reason(call: Callable[[], Any]) -> str:
    """The ScaleOutError message a LazyAnalysis gives for what it cannot do (so the views say
    what the engine says; only for calls that fail before touching data)."""
    try:
        call()
    except NotImplementedError as exc:
        return str(exc)
    return ""
