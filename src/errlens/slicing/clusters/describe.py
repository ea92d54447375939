"""What each cluster of a derived cluster feature is: its size and errors, the rows that typify
it, its top terms (text), and the tabular segment that best matches it.

>>> import errlens as el
>>> ev = el.Analysis.from_predictions({"g": ["a", "a", "b", "b"]}, y_true=[0, 1, 0, 1],
...                                   y_pred=[1, 0, 0, 1])
>>> table = describe(ev, np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), ["c1", "c2"],
...                  np.zeros((4, 1)), None, exclude=())
>>> table[["n", "errors", "error_rate", "core", "region_n", "segment"]].values.tolist()
[[2, 2, 1.0, 0.5, 1, 'g = a'], [2, 0, 0.0, 1.0, 3, 'g = b']]
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from errlens.base.jsonvalue import plain
from errlens.base.stats import wilson_interval
from errlens.data.cohort import Cohort
from errlens.data.evaldata import EvalData
from errlens.slicing.clusters.embed import Space
from errlens.slicing.segment_cache import segments_at

TYPICAL = 5
TOP_TERMS = 8


@dataclass(frozen=True)
class Clusters:
    """A derived cluster feature: its ``name``, the ``method``, a ``note`` on the clusters and
    the embeddings used, and ``table``, one row per cluster label (``c1`` the worst; ``rest``
    the pooled others): ``n``, ``errors``, ``error_rate``, Wilson ``ci_low`` / ``ci_high``,
    ``lift``, ``error_share``; the cluster's region of the embedding, the rows the embedding
    alone puts in it (without the label and prediction terms; for k-means the cluster
    itself): ``core`` (the share of the cluster's rows inside its region: near 0 for errors
    gathered from all over the embedding), ``region_n``, ``region_error_rate`` and
    ``region_ci_low``, the lower bound clusters are ranked by; the most frequent ``given``
    and ``predicted`` label, ``typical`` (ids of the rows nearest the cluster's centre, for
    thumbnails / snippets), ``terms`` (top TF-IDF terms when the embeddings came from text,
    else empty) and the best matching tabular ``segment`` with its ``jaccard`` overlap (None
    when no feature is left)."""

    name: str
    method: str
    note: str
    table: pd.DataFrame

    @property
    def labels(self) -> list[str]:
        """The cluster labels, worst first."""
        return [str(label) for label in self.table.index]

    def cohort(self, label: str) -> Cohort:
        """The rows of cluster ``label``, as a cohort every view takes."""
        if label not in self.table.index:
            raise KeyError(f"{self.name!r} has no cluster {label!r}; clusters are {self.labels}")
        return Cohort.segment(self.name, label)  # at most 10 labels: the default segments

    def __repr__(self) -> str:
        return (f"<Clusters {self.name!r} ({self.method}): {len(self.table)} clusters; "
                f"{self.note}>")


def describe(data: EvalData, codes: np.ndarray, regions: np.ndarray, labels: list[str],
             vectors: np.ndarray, space: Space | None, *, exclude: Collection[str]
             ) -> pd.DataFrame:
    """The description table of clusters ``codes`` (positions in ``labels``) of ``data``;
    ``regions`` each row's cluster by the embedding alone (positions in ``labels``);
    ``vectors`` the rows in the clustering's space; features in ``exclude`` are not offered
    as the matching segment."""
    k = len(labels)
    size = np.bincount(codes, minlength=k)
    errors = np.bincount(codes, weights=data.is_error, minlength=k).astype(np.int64)
    low, high = wilson_interval(errors, size)
    rate = errors / np.maximum(size, 1)
    overall = data.error_rate
    region_n = np.bincount(regions, minlength=k)
    region_errors = np.bincount(regions, weights=data.is_error, minlength=k)
    inside = codes == regions
    table = pd.DataFrame({
        "n": size, "errors": errors, "error_rate": rate, "ci_low": low, "ci_high": high,
        "lift": rate / overall if overall else np.nan,
        "error_share": errors / max(int(data.is_error.sum()), 1),
        "core": np.bincount(codes[inside], minlength=k) / np.maximum(size, 1),
        "region_n": region_n,
        "region_error_rate": np.where(region_n > 0, region_errors / np.maximum(region_n, 1),
                                      np.nan),
        "region_ci_low": wilson_interval(region_errors, region_n)[0],
    }, index=pd.Index(labels, name=None))
    if data.task != "regression":
        table["given"] = _most_frequent(codes, data.y_true_codes, k, data.classes)
        table["predicted"] = _most_frequent(codes, data.y_pred_codes, k, data.classes)
    table["typical"] = _typical(data.ids, codes, vectors, k)
    table["terms"] = _terms(codes, k, space)
    segment, jaccard = _best_segments(data, codes, k, exclude)
    table["segment"], table["jaccard"] = segment, jaccard
    return table


def _most_frequent(codes: np.ndarray, values: np.ndarray, k: int, classes: list[Any]
                   ) -> list[Any]:
    c = len(classes)
    counts = np.bincount(codes * c + values, minlength=k * c).reshape(k, c)
    return [plain(classes[i]) for i in counts.argmax(axis=1)]


def _typical(ids: pd.Index, codes: np.ndarray, vectors: np.ndarray, k: int
             ) -> list[list[Any]]:
    """Per cluster, the ids of its TYPICAL rows nearest its centre (its members' mean)."""
    size = np.maximum(np.bincount(codes, minlength=k), 1)
    centres = np.stack([np.bincount(codes, weights=vectors[:, j], minlength=k)
                        for j in range(vectors.shape[1])], axis=1) / size[:, None]
    distance = ((vectors - centres[codes]) ** 2).sum(axis=1)
    order = np.lexsort((distance, codes))  # by cluster, nearest first
    starts = np.searchsorted(codes[order], np.arange(k))
    ends = np.searchsorted(codes[order], np.arange(k), side="right")
    return [[plain(i) for i in ids[order[s:min(e, s + TYPICAL)]]]
            for s, e in zip(starts, ends, strict=True)]


def _terms(codes: np.ndarray, k: int, space: Space | None) -> list[list[str]]:
    """Per cluster, the TOP_TERMS terms whose mean TF-IDF weight exceeds the overall mean most."""
    if space is None or space.weights is None or space.terms is None:
        return [[] for _ in range(k)]
    from scipy import sparse

    n = len(codes)
    member = sparse.csr_matrix((np.ones(n, dtype=np.float32), (codes, np.arange(n))),
                               shape=(k, n))
    size = np.maximum(np.bincount(codes, minlength=k), 1)[:, None]
    means = np.asarray((member @ space.weights).todense()) / size
    excess = means - np.asarray(space.weights.mean(axis=0))
    top = np.argsort(-excess, axis=1)[:, :TOP_TERMS]
    return [[str(space.terms[j]) for j in row if excess[i, j] > 0] for i, row in enumerate(top)]


def _best_segments(data: EvalData, codes: np.ndarray, k: int, exclude: Collection[str]
                   ) -> tuple[list[str | None], list[float]]:
    """Per cluster, the single segment (any feature but ``exclude``) of highest Jaccard."""
    segments = segments_at(data)
    best: list[str | None] = [None] * k
    score = np.zeros(k)
    size = np.bincount(codes, minlength=k)
    for j, feature in enumerate(segments.features):
        if feature in exclude:
            continue
        n_labels = len(segments.labels[j])
        seg = segments.codes[:, j].astype(np.int64)
        both = np.bincount(codes * n_labels + seg, minlength=k * n_labels).reshape(k, n_labels)
        union = size[:, None] + np.bincount(seg, minlength=n_labels)[None, :] - both
        jaccard = both / np.maximum(union, 1)
        top = jaccard.argmax(axis=1)
        for c in np.flatnonzero(jaccard[np.arange(k), top] > score):
            score[c] = jaccard[c, top[c]]
            best[c] = segments.cohort(feature, int(top[c])).describe()
    return best, score.tolist()
