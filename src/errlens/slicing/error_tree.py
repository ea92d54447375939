"""A shallow tree that splits the rows where errors concentrate, over the segment codes.

Each split minimises the weighted Gini impurity of ``is_error`` (scikit-learn's criterion),
found exactly from per-segment counts: ordered features (numbers, dates) split at a bin edge,
with the missing segment sent to whichever side is better; categories split into the best two
groups after sorting them by error rate (optimal for a binary target, Breiman 1984). Missing
values are a branch of their own, so no row disappears: a node's rows are its children's rows.

>>> import errlens as el
>>> ev = el.Analysis.from_predictions({"x": [1, 2, 3, 4] * 10}, y_true=[0, 0, 1, 1] * 10,
...                                   y_pred=[0, 0, 0, 0] * 10)
>>> tree = build_error_tree(ev, max_depth=1, min_samples=5)
>>> [(node.path, node.rows, node.errors) for node in tree.nodes]
[('all rows', 40, 20), ('x < 3', 20, 0), ('x ≥ 3', 20, 20)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from errlens.base import inputs
from errlens.base.stats import wilson_interval
from errlens.data.cohort import Cohort
from errlens.slicing import masks
from errlens.slicing.masks import to_cohort
from errlens.slicing.packed import PackedKeys, packed_keys
from errlens.slicing.segment_cache import segments_at
from errlens.slicing.text.tree import with_terms

if TYPE_CHECKING:
    from errlens.data.evaldata import EvalData
    from errlens.slicing.segments import Segments


@dataclass
class TreeNode:
    """One node: its rows, errors, error rate with CI, and the cohort that selects it."""

    id: int
    parent: int | None
    depth: int
    rows: int
    errors: int
    error_rate: float
    ci_low: float
    ci_high: float
    lift: float
    condition: Cohort | None
    cohort: Cohort
    path: str
    split: str | None = None
    children: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (the dashboard's form)."""
        return {
            "id": self.id, "parent": self.parent, "depth": self.depth, "rows": self.rows,
            "errors": self.errors, "error_rate": _num(self.error_rate),
            "ci_low": _num(self.ci_low), "ci_high": _num(self.ci_high), "lift": _num(self.lift),
            "split": self.split, "children": list(self.children), "path": self.path,
            "condition": None if self.condition is None else self.condition.describe(),
            "cohort": self.cohort.to_json(),
        }


@dataclass(frozen=True)
class ErrorTree:
    """The nodes in depth-first order; ``nodes[0]`` is the root."""

    nodes: list[TreeNode]
    max_depth: int
    min_samples: int

    @property
    def root(self) -> TreeNode:
        return self.nodes[0]

    def leaves(self) -> list[TreeNode]:
        """Nodes without children, highest error rate first."""
        return sorted((n for n in self.nodes if not n.children), key=lambda n: -n.error_rate)

    def to_frame(self) -> pd.DataFrame:
        """One row per node."""
        rows = [{k: v for k, v in node.to_dict().items() if k not in ("cohort", "children")}
                for node in self.nodes]
        return pd.DataFrame(rows).astype({"parent": "Int64"}).set_index("id")

    def to_dict(self) -> dict[str, Any]:
        """Nested JSON: each node with its ``children`` as dicts."""
        def nest(node: TreeNode) -> dict[str, Any]:
            out = node.to_dict()
            out["children"] = [nest(self.nodes[c]) for c in node.children]
            return out

        return {"max_depth": self.max_depth, "min_samples": self.min_samples,
                "root": nest(self.root)}


def build_error_tree(
    analysis: EvalData,
    *,
    max_depth: int = 3,
    min_samples: int | None = None,
    features: Sequence[str] | None = None,
    cohort: Any = None,
    confidence: float = 0.95,
    segments: Segments | None = None,
    text: bool = True,
) -> ErrorTree:
    """Grow the error tree on the rows of ``cohort``; ``min_samples`` is the least number of rows
    in a node (default: 1 % of the rows, at least 20). With ``text`` and text columns, the
    screened terms (:mod:`errlens.slicing.text.tree`) are split on too."""
    if int(max_depth) != max_depth or max_depth < 0:
        raise ValueError(f"max_depth must be a non-negative integer, got {max_depth!r}")
    seg = segments_at(analysis) if segments is None else segments
    chosen = seg.features if features is None else inputs.names(features, arg="features")
    columns = [seg.index(f) for f in chosen]
    selected = masks.mask(analysis, cohort)
    idx = np.flatnonzero(selected)
    if min_samples is None:
        min_samples = max(20, len(idx) // 100)
    if int(min_samples) != min_samples or min_samples < 1:
        raise ValueError(f"min_samples must be a positive integer, got {min_samples!r}")
    if text and analysis.text_columns:
        width = len(seg.features)
        seg = with_terms(analysis, seg, min_support=int(min_samples), mask=selected)
        columns += list(range(width, len(seg.features)))
    grower = _Grower(seg, columns, packed_keys(analysis, seg), len(analysis.is_error),
                     int(max_depth), int(min_samples))
    base = to_cohort(analysis, cohort) or Cohort.all()
    errors = int(np.count_nonzero(analysis.is_error[idx]))
    grower.grow(idx, len(idx), errors, None, base, None, 0, base.describe())
    nodes = grower.nodes
    # One interval computation for the whole tree (its quantile is the costly part).
    low, high = wilson_interval(np.array([node.errors for node in nodes]),
                                np.array([node.rows for node in nodes]), confidence=confidence)
    for node, node_low, node_high in zip(nodes, low.tolist(), high.tolist(), strict=True):
        node.ci_low, node.ci_high = node_low, node_high
    return ErrorTree(nodes, int(max_depth), int(min_samples))


Histograms = list[tuple[np.ndarray, np.ndarray]]  # (rows, errors) per segment, per feature


class _Grower:
    """Grows the tree; ``idx`` are row positions in the analysis."""

    def __init__(self, seg: Segments, columns: list[int], packed: PackedKeys, n_all: int,
                 max_depth: int, min_samples: int) -> None:
        self.seg, self.columns, self.max_depth = seg, columns, max_depth
        self.packed = packed  # codes and error bits packed: a few bincounts per node
        self.n_all = n_all
        self.min_samples = min_samples
        self.sizes = [len(seg.labels[j]) for j in columns]
        self.overall: float | None = None
        self.nodes: list[TreeNode] = []

    def splits(self, depth: int, rows: int, errors: int) -> bool:
        """Whether a node at ``depth`` with these counts is split further."""
        return depth < self.max_depth and rows >= 2 * self.min_samples and 0 < errors < rows

    def grow(self, idx: np.ndarray | None, rows: int, errors: int, parent: int | None,
             cohort: Cohort, condition: Cohort | None, depth: int, path: str,
             hist: Histograms | None = None) -> int:
        """Add the node of ``rows`` rows and ``errors`` errors and grow below it; ``idx`` (its
        row positions) is only given when the node is split."""
        rate = errors / rows if rows else float("nan")
        if self.overall is None:
            self.overall = rate
        node = TreeNode(
            id=len(self.nodes), parent=parent, depth=depth, rows=rows, errors=errors,
            error_rate=rate, ci_low=float("nan"), ci_high=float("nan"),
            lift=rate / self.overall if self.overall else float("nan"),
            condition=condition, cohort=cohort, path=path,
        )
        self.nodes.append(node)
        if idx is None or not self.splits(depth, rows, errors):
            return node.id
        whole = parent is None and rows == self.n_all  # every row: read without a gather
        hist = self._histograms(None if whole else idx) if hist is None else hist
        best = self._best(hist)
        if best is None:
            return node.id
        k, left_codes, present = best
        j = self.columns[k]
        lookup = np.zeros(self.sizes[k], dtype=bool)
        lookup[left_codes] = True
        node.split = self.seg.features[j]
        plain = parent is None and cohort == Cohort.all()
        # A child's rows and errors are sums of this node's histogram; its row positions (and
        # histograms) are only gathered when it is split in turn.
        n, e = hist[k]
        counts = {True: (int(n[lookup].sum()), int(e[lookup].sum()))}
        counts[False] = (rows - counts[True][0], errors - counts[True][1])
        split = {side: self.splits(depth + 1, *counts[side]) for side in (True, False)}
        positions: dict[bool, np.ndarray | None] = {True: None, False: None}
        child_hist: dict[bool, Histograms | None] = {True: None, False: None}
        if any(split.values()):
            codes = self.seg.codes[:, j]
            go_left = lookup[codes if whole else codes[idx]]
            # Histogram subtraction (as in LightGBM): count the smaller child, derive the
            # larger from its parent.
            small = counts[True][0] <= rows // 2
            positions[small] = idx[go_left if small else ~go_left]
            if split[not small]:
                positions[not small] = idx[~go_left if small else go_left]
                counted = self._histograms(positions[small])
                child_hist[small] = counted
                child_hist[not small] = [(pn - sn, pe - se) for (pn, pe), (sn, se)
                                         in zip(hist, counted, strict=True)]
        for side in (True, False):
            # segments absent from this node are left out of the condition, for shorter text
            cond = _condition(self.seg, j, np.flatnonzero((lookup == side) & present))
            text = cond.describe()
            child = self.grow(positions[side], *counts[side], node.id,
                              cond if plain else cohort & cond, cond, depth + 1,
                              text if plain else f"{path} and {text}", child_hist[side])
            node.children.append(child)
        return node.id

    def _histograms(self, idx: np.ndarray | None) -> Histograms:
        """Rows and errors per segment of every searched feature, within ``idx`` (None: all)."""
        counts = self.packed.counts(idx)
        return [counts[j] for j in self.columns]

    def _best(self, hist: Histograms) -> tuple[int, np.ndarray, np.ndarray] | None:
        """Best feature (position in ``columns``), its left segments and which of its segments
        this node holds."""
        best_score, best = None, None
        for k, j in enumerate(self.columns):
            n, e = hist[k]
            if best_score is None:
                best_score = float(_gini(n.sum(), e.sum())) * (1 - 1e-9)
            found = _best_split(n, e, _is_ordered(self.seg, j), self.seg.definition[j]["missing"],
                                self.min_samples)
            if found is not None and found[0] < best_score:
                best_score, best = found[0], (k, found[1], n > 0)
        return best


def _best_split(n: np.ndarray, e: np.ndarray, ordered: bool, has_missing: bool,
                min_samples: int) -> tuple[float, np.ndarray] | None:
    """Lowest weighted Gini over the candidate two-way splits of one feature's segments."""
    codes = np.arange(len(n))
    floating = None
    if ordered:
        order = codes[:-1] if has_missing else codes
        floating = codes[-1] if has_missing and n[-1] > 0 else None
    else:
        present = codes[n > 0]
        order = present[np.argsort(e[present] / n[present], kind="stable")]
    if len(order) < 2 and floating is None:
        return None
    cum_n, cum_e = np.cumsum(n[order]), np.cumsum(e[order])
    total_n, total_e = int(n.sum()), int(e.sum())
    # candidate i: left = order[:i+1] (+ floating when it goes left)
    cands_n = [cum_n[:-1]]
    cands_e = [cum_e[:-1]]
    cuts = [np.arange(len(order) - 1)]
    with_float = [np.zeros(len(order) - 1, dtype=bool)]
    if floating is not None:
        cands_n += [cum_n[:-1] + n[floating], cum_n[-1:]]
        cands_e += [cum_e[:-1] + e[floating], cum_e[-1:]]
        cuts += [np.arange(len(order) - 1), np.array([len(order) - 1])]
        with_float += [np.ones(len(order) - 1, dtype=bool), np.zeros(1, dtype=bool)]
    left_n, left_e = np.concatenate(cands_n), np.concatenate(cands_e)
    valid = (left_n >= min_samples) & (total_n - left_n >= min_samples)
    if not valid.any():
        return None
    score = _gini(left_n, left_e) + _gini(total_n - left_n, total_e - left_e)
    score = np.where(valid, score, np.inf)
    i = int(np.argmin(score))
    cut, float_left = np.concatenate(cuts)[i], np.concatenate(with_float)[i]
    left = order[: cut + 1]
    if float_left and floating is not None:
        left = np.append(left, floating)
    return float(score[i]), left


def _gini(n: Any, e: Any) -> Any:
    """n × Gini impurity of a node with n rows and e errors: 2 e (n - e) / n."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.asarray(n) > 0, 2 * e * (n - e) / np.maximum(n, 1), 0.0)


def _is_ordered(seg: Segments, j: int) -> bool:
    return seg.definition[j]["kind"] in ("numeric", "datetime")


def _condition(seg: Segments, j: int, chosen: np.ndarray) -> Cohort:
    """Readable cohort for the segments ``chosen`` of feature ``j``."""
    d, feature = seg.definition[j], seg.features[j]
    labels = seg.labels[j]
    if d["kind"] == "contains":  # a term: contains it (code 1) or not
        term = Cohort.contains(d["column"], d["term"])
        return term if chosen.tolist() == [1] else ~term
    if not _is_ordered(seg, j):
        others = [label for c, label in enumerate(labels) if c not in set(chosen.tolist())]
        if len(others) < len(chosen):  # the complement is shorter to read
            return ~Cohort.segment(feature, others, bins=seg.bins, top_k=seg.top_k)
        return Cohort.segment(feature, [labels[c] for c in chosen], bins=seg.bins, top_k=seg.top_k)
    m = len(d["edges"])  # non-missing codes are 0..m
    missing_code = m + 1 if d["missing"] else None
    values = [int(c) for c in chosen if c != missing_code]
    parts = []
    if values:
        lo, hi = min(values), max(values)
        if lo > 0:
            parts.append(Cohort.where(feature, ">=", d["edges"][lo - 1]))
        if hi < m:
            parts.append(Cohort.where(feature, "<", d["edges"][hi]))
        if not parts:
            parts.append(Cohort.where(feature, "not missing"))
    range_part = parts[0] if len(parts) == 1 else parts[0] & parts[1] if parts else None
    if missing_code is not None and missing_code in chosen:
        missing = Cohort.where(feature, "is missing")
        return missing if range_part is None else range_part | missing
    assert range_part is not None
    return range_part


def _num(value: float) -> float | None:
    return None if value != value else float(value)  # NaN → None for JSON
