"""The segments view's payloads: per-feature bars, heatmap cells, tree nodes and discovered
slices as the browser draws them, and the split of a selection into the context a feature is
drawn over (crossfilter's groups: see :mod:`errlens.widgets.segments_view`).

>>> import errlens as el
>>> from errlens.views.source import source_of
>>> ev = el.Analysis.from_predictions({"a": ["x", "x", "y"], "b": ["u", "v", "u"]},
...                                   y_true=[0, 1, 1], y_pred=[0, 0, 1])
>>> source = source_of(ev)
>>> heat = heatmap_payload(source.heatmap("a", "b", source.select(None)), None, {})
>>> [[cell["errors"] for cell in row] for row in heat["cells"]], heat["context"]
([[0, 1], [0, 0]], 'all rows')
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd

from errlens.base.jsonvalue import plain
from errlens.slicing.cohort import Cohort

if TYPE_CHECKING:
    from errlens.slicing.heatmap import HeatmapTable
    from errlens.slicing.segments import Segments
    from errlens.views.source import Selected, ViewSource

STATS = ("n", "errors", "error_rate", "ci_low", "ci_high", "lift")
"""The statistics of a bar or heatmap cell sent to the browser."""
TREE_DEPTH = 3
"""Depth of the error tree the view draws."""
T = TypeVar("T")


class Counted:
    """Tables already counted, by what they were counted over (a selection's cohort key): a
    click on a bar of ``education`` counts that feature's bars and the heatmap of
    ``education × race`` over the selection *without* its ``education`` condition, most often
    every row, which the next click counts again (at 1M rows 12 of the view's 32 ms per click).
    The analysis under a view never changes, so a table counted once stays right; the last
    ``size`` are kept (a few tables of a hundred rows).

    >>> memo = Counted()
    >>> memo.get(("overall", "null"), lambda: 1), memo.get(("overall", "null"), lambda: 2)
    (1, 1)
    """

    def __init__(self, size: int = 8) -> None:
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._size = size

    def get(self, key: Hashable, count: Callable[[], T]) -> T:
        """The value kept under ``key``, else ``count()`` (then kept)."""
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = self._items[key] = count()
        if len(self._items) > self._size:
            self._items.popitem(last=False)
        return value


def heatmap_payload(heat: HeatmapTable, context: Cohort | None, own: dict[str, list[str]]
                    ) -> dict[str, Any]:
    """The ``heatmap`` trait: labels and a grid of cells, with the ``context`` it was counted
    over and the labels the selection's own conditions pick (``own``, from :func:`split`)."""
    # heat.table holds every cell in segment order (row-major), so no pivot is needed
    cells = [{k: plain(v) for k, v in zip(STATS, row, strict=True)}
             for row in heat.table[list(STATS)].itertuples(index=False)]
    width = len(heat.labels_b)
    return {
        "a": heat.feature_a, "b": heat.feature_b,
        "labels_a": heat.labels_a, "labels_b": heat.labels_b,
        "cells": [cells[i * width:(i + 1) * width] for i in range(len(heat.labels_a))],
        "context": describe(context),
        "selected_a": own.get(heat.feature_a, []),
        "selected_b": own.get(heat.feature_b, []),
    }


def split(selection: Cohort | None, features: list[str], segments: Segments
           ) -> tuple[Cohort | None, dict[str, list[str]]]:
    """``selection`` without its top-level segment conditions on ``features`` (``f in {...}``
    or ``f not in {...}``, with the analysis' segment settings), and the labels each feature's
    conditions leave selected.

    >>> import errlens as el
    >>> ev = el.Analysis.from_predictions({"sex": ["F", "M"], "age": [30, 50]},
    ...                                   y_true=[0, 1], y_pred=[0, 1])
    >>> both = Cohort.where("age", ">", 40) & ~Cohort.segment("sex", "M")
    >>> rest, own = split(both, ["sex"], ev.segments)
    >>> rest.describe(), own
    ('age > 40', {'sex': ['F']})
    """
    if selection is None:
        return None, {}
    node = selection.to_json()
    own: dict[str, list[str]] = {}
    rest: list[dict[str, Any]] = []
    for part in node["args"] if node["kind"] == "and" else [node]:
        picked = segment_labels(part, features, segments)
        if picked is None:
            rest.append(part)
        else:
            feature, labels = picked
            own[feature] = [x for x in labels if x in own.get(feature, labels)]  # and: both
    if not rest:
        return None, own
    return Cohort.from_json(rest[0] if len(rest) == 1 else {"kind": "and", "args": rest}), own


def segment_labels(part: dict[str, Any], features: list[str], segments: Segments
                    ) -> tuple[str, list[str]] | None:
    """(feature, labels it selects) when ``part`` is a segment condition on one of
    ``features`` or its negation (as the error tree writes them); None otherwise."""
    negated = part["kind"] == "not"
    seg = part["arg"] if negated else part
    if (seg["kind"] != "segment" or seg["feature"] not in features
            or (seg["bins"], seg["top_k"]) != (segments.bins, segments.top_k)):
        return None
    if not negated:
        return seg["feature"], list(seg["labels"])
    every = segments.labels[segments.index(seg["feature"])]
    return seg["feature"], [x for x in every if x not in seg["labels"]]


def bars(source: ViewSource, selection: Cohort | None, picked: Selected,
         memo: Counted | None = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The ``features`` and ``overall`` traits of ``selection`` (``picked``: its rows, from
    ``source.select``): a feature the selection has segment conditions on is counted over the
    selection without them, its selected segments marked (the widget and the report share it).
    ``memo`` keeps the tables between calls (the widget's clicks; the report draws once).

    >>> import errlens as el
    >>> from errlens.views.source import source_of
    >>> ev = el.Analysis.from_predictions({"g": ["a", "b", "b"]}, y_true=[0, 1, 1],
    ...                                   y_pred=[0, 0, 1])
    >>> source = source_of(ev)
    >>> features, overall = bars(source, None, source.select(None))
    >>> [(s["label"], s["errors"]) for s in features[0]["segments"]]
    [('b', 1), ('a', 0)]
    """
    memo = memo or Counted()

    def counted(rows: Selected) -> tuple[pd.DataFrame, dict[str, Any]]:
        return memo.get(("bars", rows.key), lambda: (
            source.slices(rows), {k: plain(v) for k, v in source.overall(rows).items()}))

    names = list(source.segments.features)
    base_table, overall = counted(picked)
    _, own = split(selection, names, source.segments)
    tables = [base_table[~base_table["feature"].isin(list(own))]]
    contexts: dict[str, dict[str, Any]] = {}
    for name in own:  # each constrained feature over the selection without its condition
        context, _ = split(selection, [name], source.segments)
        table, ctx_overall = counted(source.select(context))
        tables.append(table[table["feature"] == name])
        contexts[name] = {**ctx_overall, "text": describe(context)}
    table = pd.concat(tables) if len(tables) > 1 else tables[0]
    features = by_feature(table, names, max(1, picked.rows // 100), own, contexts)
    return features, dict(overall)


def drawn_pair(features: list[dict[str, Any]], names: list[str], feature: str,
               feature_b: str) -> tuple[str, str]:
    """The features whose bars and heatmap are drawn: ``feature`` and ``feature_b`` while
    they exist and differ, else the first ones by lift (``features`` from :func:`bars`);
    empty without any feature.

    >>> drawn_pair([{"feature": "b"}, {"feature": "a"}], ["a", "b"], "", "")
    ('b', 'a')
    """
    order = [f["feature"] for f in features] or names
    if not order:  # no tabular feature (e.g. a text column only): no bars, no heatmap
        return "", ""
    first = feature if feature in names else order[0]
    second = (feature_b if feature_b in names and feature_b != first
              else next((f for f in order if f != first), ""))
    return first, second


def tree_rows(tree: Any, current: Cohort) -> list[dict[str, Any]]:
    """The ``tree`` trait: the error tree's nodes (None: no tree), the ``current`` one marked."""
    return [] if tree is None else [
        {**node_row(n.to_dict()), "selected": n.cohort == current} for n in tree.nodes]


def describe(cohort: Cohort | None) -> str:
    """The selection as text ("all rows" for None)."""
    return "all rows" if cohort is None else cohort.describe()


def by_feature(table: pd.DataFrame, order: list[str], min_rows: int,
                own: dict[str, list[str]], contexts: dict[str, dict[str, Any]]
                ) -> list[dict[str, Any]]:
    """Segments grouped per feature (table order, i.e. by lift), features by their max lift
    over segments of at least ``min_rows`` rows (a 10-row segment's lift is mostly noise).
    Segments in ``own`` (feature → selected labels) are marked ``selected``; features with
    a ``contexts`` entry carry it as ``context``."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in table[["feature", "segment", *STATS]].itertuples(index=False):
        feature, label = str(row[0]), str(row[1])
        grouped.setdefault(feature, []).append(
            {"label": label, **{k: plain(v) for k, v in zip(STATS, row[2:], strict=True)},
             "selected": label in own.get(feature, ())})
    out: list[dict[str, Any]] = []
    for feature, segments in grouped.items():
        lifts = [s["lift"] for s in segments if s["lift"] is not None and s["n"] >= min_rows]
        out.append({"feature": feature, "max_lift": max(lifts) if lifts else None,
                    "segments": segments, "context": contexts.get(feature)})
    out.sort(key=lambda f: (f["max_lift"] is None, -(f["max_lift"] or 0),
                            order.index(f["feature"])))
    return out


def node_row(node: dict[str, Any]) -> dict[str, Any]:
    """An error-tree node as the browser draws it (its cohort and children stay here)."""
    return {k: v for k, v in node.items() if k not in ("cohort", "children")}


def slice_row(row: dict[str, Any]) -> dict[str, Any]:
    """A discovered slice (``DiscoveredSlices.to_json()`` row) or a concept
    (``Concepts.to_json()`` row, ``kind`` "concept") as the browser draws it."""
    keys = ("rank", "slice", "level", "n", "support", "errors", "error_rate", "ci_low",
            "ci_high", "lift", "group")
    return {**{k: plain(row[k]) for k in keys}, "kind": row.get("kind", "slice")}


def index_ok(i: Any, items: Any) -> bool:
    """Whether ``i`` (from a message) is an integer index into ``items`` (not a bool)."""
    return isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(items)


def int_in(value: Any, low: int, high: int) -> bool:
    """Whether ``value`` (from a message) is an integer in ``low..high`` (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
