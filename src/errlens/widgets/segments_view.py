"""Segments view: per-feature error rate by segment (CI, support, lift), a two-feature heatmap,
the error tree and the discovered slices, every mark a click that selects its rows.

Only aggregates reach the browser: one row per segment, heatmap cell, tree node or slice.

A feature's bars (and a heatmap) keep their context, as crossfilter's groups do: they are
counted over the selection *without* its own segment conditions on the features drawn, with the
selected segments marked. Selecting ``sex = Female`` therefore leaves every ``sex`` bar in place
(Female highlighted, its rate beside the rest), while the other features' bars narrow to the
Female rows; another bar of ``sex`` then replaces Female instead of emptying the selection.

>>> import errlens as el
>>> from errlens.datasets import load_adult
>>> adult = load_adult().head(2000)
>>> ev = el.Analysis.from_predictions(adult, y_true="income", y_pred=["<=50K"] * 2000, id="id")
>>> view = SegmentsView(ev)
>>> view.features[0]["feature"] in ev.features.columns
True
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import traitlets

from errlens.slicing.cohort import Cohort
from errlens.slicing.concepts import Concepts
from errlens.slicing.discovery.result import DiscoveredSlices
from errlens.slicing.discovery.search import Progress
from errlens.views.dispatch import Handler
from errlens.views.segments import (
    TREE_DEPTH,
    Counted,
    bars,
    drawn_pair,
    heatmap_payload,
    index_ok,
    int_in,
    split,
    tree_rows,
)
from errlens.views.selection import SelectionError, combine
from errlens.views.source import Unavailable, source_of
from errlens.views.strips import cluster_payload, concept_slices, discovered_rows
from errlens.widgets._base import bundle
from errlens.widgets.selection import CohortView

_JS, _CSS = bundle("segments")
_PROGRESS_EVERY = 0.1  # seconds between progress updates sent to the browser


class SegmentsView(CohortView):
    """Error rate by segment within the current cohort, plus the error tree and discovered
    slices (both over all rows). Clicking a bar or heatmap cell narrows the cohort; clicking a
    tree node or a slice selects its rows.

    >>> import errlens as el
    >>> ev = el.Analysis.from_predictions({"g": ["a", "b", "b"], "h": [1, 2, 3]},
    ...                                   y_true=[0, 1, 1], y_pred=[0, 0, 1])
    >>> view = SegmentsView(ev)
    >>> view.handle({"type": "select_segment", "rid": 1, "feature": "g", "label": "b",
    ...              "version": view.version})[0]["error"] is None
    True
    >>> view.selection.describe()
    'g = b'
    """

    _esm = _JS
    _css = _CSS
    _messages = "segments"
    features: traitlets.List[dict[str, Any]] = traitlets.List(
        help="Per feature (highest lift first): its segments with n, errors, error_rate, "
        "ci_low, ci_high, lift, selected (sorted by lift); a feature the selection has a "
        "segment condition on is counted without it, over ``context`` (rows, errors, "
        "error_rate, text), its selected segments marked.").tag(sync=True)
    feature = traitlets.Unicode("", help="Feature whose bars are shown.").tag(sync=True)
    feature_b = traitlets.Unicode("", help="Second feature of the heatmap.").tag(sync=True)
    heatmap = traitlets.Dict(help="Heatmap of feature × feature_b: labels and cells, counted "
                             "without the selection's segment conditions on these two "
                             "features (context: their text; selected_a / selected_b: the "
                             "labels those conditions pick).").tag(sync=True)
    tree: traitlets.List[dict[str, Any]] = traitlets.List(
        help="Error-tree nodes (over all rows), depth-first.").tag(sync=True)
    slices: traitlets.List[dict[str, Any]] = traitlets.List(
        help="Discovered slices (over all rows), best first, text slices among them; each "
        "with ``samples``: a strip of at most 5 rows (text snippet or thumbnail) when the "
        "analysis declares text or images.").tag(sync=True)
    concepts: traitlets.List[dict[str, Any]] = traitlets.List(
        help="Concept slices (over all rows), best first, found with the slices when the "
        "analysis has text columns; rows as ``slices``.").tag(sync=True)
    clusters: traitlets.List[dict[str, Any]] = traitlets.List(
        help="Per cluster feature (``with_clusters``): its clusters' top terms, matching "
        "segment and a strip of their most typical rows.").tag(sync=True)
    progress = traitlets.Dict(help="Discovery progress: running, level, max_level, done, total."
                              ).tag(sync=True)
    overall = traitlets.Dict(help="Rows, errors and error rate of the cohort.").tag(sync=True)
    unavailable = traitlets.Dict(help="Part of the view ('tree') → why this analysis cannot "
                                 "draw it (e.g. an engine-backed LazyAnalysis).").tag(sync=True)

    def __init__(self, analysis: Any, *, tree_depth: int = TREE_DEPTH, **kwargs: Any) -> None:
        """``analysis``: an Analysis, an engines.LazyAnalysis, or their shared view source."""
        source = source_of(analysis)
        try:
            self._tree, unavailable = source.error_tree(tree_depth), {}
        except Unavailable as exc:
            self._tree, unavailable = None, {"tree": str(exc)}
        self._found: DiscoveredSlices | None = None
        self._concepts: Concepts | None = None
        self._counted = Counted()  # tables by the rows they count, across clicks
        self._last_progress = 0.0
        super().__init__(source, unavailable=unavailable,
                         clusters=cluster_payload(source.analysis), **kwargs)

    # ------------------------------------------------------------------ aggregates
    def _refresh(self) -> None:
        picked = self._selected()
        features, overall = bars(self.source, self.selection, picked, self._counted)
        with self.hold_sync():
            self.rows = picked.rows
            self.overall = overall
            self.features = features
            self._mark_selected()
            self.feature, self.feature_b = drawn_pair(
                features, list(self.source.segments.features), self.feature, self.feature_b)
            self._refresh_heatmap()

    def _context(self, features: list[str]) -> tuple[Cohort | None, dict[str, list[str]]]:
        """The selection without its segment conditions on ``features`` (what they are drawn
        over), and the labels those conditions pick, per feature."""
        return split(self.selection, features, self.source.segments)

    def _refresh_heatmap(self) -> None:
        if not self.feature_b:
            self.heatmap = {}
        else:
            a, b = self.feature, self.feature_b
            context, own = self._context([a, b])
            rows = self.source.select(context)
            heat = self._counted.get(("heatmap", a, b, rows.key),
                                     lambda: self.source.heatmap(a, b, rows))
            self.heatmap = heatmap_payload(heat, context, own)
        self.version += 1

    def _mark_selected(self) -> None:
        """Flag the tree node and discovered slice that are the current selection."""
        current = self.selection or Cohort.all()
        self.tree = tree_rows(self._tree, current)
        if self._found is not None:
            self.slices = [{**row, "selected": self._found.cohort(row["rank"]) == current}
                           for row in self.slices]
        if self._concepts is not None:
            self.concepts = [{**row, "selected": self._concepts.cohort(row["rank"]) == current}
                             for row in self.concepts]

    # ------------------------------------------------------------------ messages
    def _handlers(self) -> Mapping[str, Handler]:
        return {**super()._handlers(), "pick": self._on_pick,
                "select_segment": self._on_select_segment, "select_cell": self._on_select_cell,
                "select_node": self._on_select_node, "select_slice": self._on_select_slice,
                "discover": self._on_discover}

    def _on_pick(self, msg: dict[str, Any]) -> None:
        names = self.source.segments.features
        feature, feature_b = msg.get("feature", self.feature), msg.get("feature_b", self.feature_b)
        for name in (feature, feature_b):
            if name not in names:
                raise SelectionError(f"unknown feature {name!r}; features are {names}")
        if feature == feature_b:
            feature_b = next(f for f in names if f != feature)
        with self.hold_sync():
            self.feature, self.feature_b = feature, feature_b
            self._refresh_heatmap()

    def _on_select_segment(self, msg: dict[str, Any]) -> None:
        self._check_version(msg)
        feature, label = msg["feature"], msg["label"]
        segments = self.source.segments
        if feature not in segments.features:
            raise SelectionError(f"unknown feature {feature!r}; features are {segments.features}")
        if not isinstance(label, str) or label not in segments.labels[segments.index(feature)]:
            raise SelectionError(f"{feature!r} has no segment {label!r}")
        context, own = self._context([feature])
        if own.get(feature) == [label]:  # a second click on the selected bar removes it
            self._set_selection(context)
        else:  # another segment of a selected feature replaces its segment, never empties
            self._set_selection(combine(context, self._segment(feature, label)))

    def _on_select_cell(self, msg: dict[str, Any]) -> None:
        self._check_version(msg)
        heat, i, j = self.heatmap, msg["row"], msg["col"]
        if not heat or not index_ok(i, heat["labels_a"]) or not index_ok(j, heat["labels_b"]):
            raise SelectionError(f"no heatmap cell ({i!r}, {j!r})")
        assert isinstance(i, int) and isinstance(j, int)
        cell = (self._segment(heat["a"], heat["labels_a"][i])
                & self._segment(heat["b"], heat["labels_b"][j]))
        context, _ = self._context([heat["a"], heat["b"]])  # what the heatmap was counted over
        self._set_selection(combine(context, cell))

    def _on_select_node(self, msg: dict[str, Any]) -> None:
        self._check_version(msg)
        node = msg["node"]
        if self._tree is None:
            raise SelectionError(f"no error tree here: {self.unavailable['tree']}")
        if not index_ok(node, self._tree.nodes):
            raise SelectionError(f"the error tree has no node {node!r}")
        assert isinstance(node, int)
        cohort = self._tree.nodes[node].cohort
        self._set_selection(None if cohort == Cohort.all() else cohort)

    def _on_select_slice(self, msg: dict[str, Any]) -> None:
        self._check_version(msg)
        rank, kind = msg["rank"], msg.get("kind", "slice")
        if kind not in ("slice", "concept"):
            raise SelectionError(f'kind must be "slice" or "concept", got {kind!r}')
        found = self._found if kind == "slice" else self._concepts
        if found is None or not index_ok(rank, self.slices if kind == "slice" else self.concepts):
            raise SelectionError(f"no discovered {kind} {rank!r}; run discovery first")
        assert isinstance(rank, int)
        self._set_selection(found.cohort(rank))

    def _on_discover(self, msg: dict[str, Any]) -> None:
        k, level = msg.get("k", 10), msg.get("max_level", 2)
        if not int_in(k, 1, 50) or not int_in(level, 1, 3):
            raise SelectionError(f"discovery needs 1 ≤ k ≤ 50 and 1 ≤ max_level ≤ 3, got k={k!r}, "
                                 f"max_level={level!r}")
        self.progress = {"running": True, "level": 1, "max_level": level, "done": 0, "total": 0}
        try:
            found = self.source.discover(k, level, self._on_progress)
        finally:
            self.progress = {**self.progress, "running": False}
        concepts = concept_slices(self.source.analysis, k)
        self._found, self._concepts = found, concepts
        with self.hold_sync():
            self.slices, self.concepts = discovered_rows(self.source.analysis, found, concepts)
            self._mark_selected()
            self.version += 1

    def _segment(self, feature: str, label: str) -> Cohort:
        """The cohort of one segment, with the analysis' own segment settings."""
        segments = self.source.segments
        return Cohort.segment(feature, label, bins=segments.bins, top_k=segments.top_k)

    def _on_progress(self, step: Progress) -> None:
        now = time.monotonic()
        if now - self._last_progress >= _PROGRESS_EVERY or step.done == step.total:
            self._last_progress = now
            self.progress = {"running": True, **step._asdict()}

