"""``with_clusters``: a copy of the evaluation data with one more categorical feature, the
cluster of each row, which every view then slices like any other feature.

>>> import errlens as el
>>> ev = el.Analysis.from_predictions({"x": [0., 0.1, 5, 5.1] * 10}, y_true=[0, 1] * 20,
...                                   y_pred=[0, 1, 1, 0] * 10)
>>> clustered = with_clusters(ev, None, name="cluster", method="kmeans", k=2, seed=0)
>>> clustered.features.columns.tolist(), ev.features.columns.tolist()
(['x', 'cluster'], ['x'])
>>> clustered.derived_clusters["cluster"].table["n"].tolist()
[20, 20]
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from errlens.base.stats import wilson_interval
from errlens.data.evaldata import DataCache, EvalData
from errlens.slicing.clusters.describe import Clusters, describe
from errlens.slicing.clusters.embed import embed
from errlens.slicing.clusters.mixture import METHODS, fit_clusters
from errlens.slicing.segment_cache import DEFAULT_TOP_K

T = TypeVar("T", bound=EvalData)
COMPONENTS = 25  # Domino's default number of mixture components
SHOWN = DEFAULT_TOP_K - 1  # named clusters; the rest pooled, so a segments view shows all
REST = "rest"


def with_clusters(data: T, embeddings: Any, *, name: str, method: str, k: int | None,
                  seed: int) -> T:
    """``data`` with the cluster feature ``name`` and its :class:`Clusters` description in
    ``derived_clusters[name]``; ``data`` itself is unchanged (its arrays are shared).

    ``k`` clusters are fitted (default :data:`COMPONENTS`, as Domino over-clusters so a failure
    gets a component of its own). A row's cluster comes from the error-aware assignment; the
    clusters are ranked by the error rate of their *region*: the rows that the embedding
    alone (a component's weighted Gaussian, without the label and prediction terms) puts in
    the cluster, ranked by the lower bound of that rate's 95 % interval (``region_ci_low``).
    A cluster that the label and prediction terms gather out of errors scattered over the
    embedding has a region of mostly right rows (or none), so it ranks low; a failing part of
    the embedding ranks high. For k-means the region is the cluster. The worst are ``c1``,
    ``c2``, ...; beyond ``SHOWN`` clusters the rest are pooled as ``"rest"``, so every
    segments view (which shows 10 categories) shows them all."""
    _check(data, name, method, k)
    k = min(COMPONENTS, data.n) if k is None else k
    space = embed(data, embeddings, seed=seed)
    y, yhat = _outcomes(data)
    fitted, alone = fit_clusters(space.vectors, y, yhat, k=k,
                                 method=method, seed=seed)  # type: ignore[arg-type]
    size = np.bincount(fitted, minlength=k)
    used = np.flatnonzero(size)  # a component may end empty
    low, _ = wilson_interval(np.bincount(alone, weights=data.is_error, minlength=k),
                             np.bincount(alone, minlength=k))
    low = np.nan_to_num(low, nan=-1.0)[used]  # an empty region ranks last
    order = used[np.lexsort((-size[used], -low))]  # worst first; ties: the larger first
    pooled = len(order) > SHOWN + 1
    named = order[:SHOWN] if pooled else order
    labels = [f"c{i + 1}" for i in range(len(named))] + ([REST] if pooled else [])
    recode = np.full(k, len(labels) - 1, dtype=np.int64)  # "rest" unless named
    recode[named] = np.arange(len(named))
    codes = recode[fitted]
    column = pd.Categorical.from_codes(codes, categories=pd.Index(labels))
    out = dataclasses.replace(
        data, features=data.features.assign(**{name: pd.Series(column, index=data.ids)}),
        cohorts=dict(data.cohorts), derived_clusters=dict(data.derived_clusters),
        cache=DataCache(y_true_codes=data.cache.y_true_codes,
                        y_pred_codes=data.cache.y_pred_codes))
    table = describe(out, codes, recode[alone], labels, space.vectors, space,
                     exclude={name, *data.derived_clusters})
    out.derived_clusters[name] = Clusters(name, method, _note(method, len(order), pooled,
                                                              space.note), table)
    return out


def _note(method: str, clusters: int, pooled: bool, space: str) -> str:
    """Which clusters, how they are ranked, and the embeddings."""
    if method == "kmeans":
        note = f"{method}, {clusters} clusters ranked by the lower bound of their error rate"
    else:
        note = (f"{method}, {clusters} clusters ranked by the lower bound of the error rate in "
                "their region of the embedding (region_ci_low: the rows its Gaussian alone "
                "claims), so a cluster of errors scattered over the embedding ranks low")
    if pooled:
        note += f"; the {clusters - SHOWN} least error-prone pooled as {REST!r}"
    return f"{note}; {space}"


def _check(data: EvalData, name: str, method: str, k: int | None) -> None:
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    if name in data.features.columns:
        raise ValueError(f"{name!r} is already a feature: pass another name= for the clusters")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if k is not None and (isinstance(k, bool) or not isinstance(k, int | np.integer)
                          or not 2 <= k <= data.n):
        raise ValueError(f"k must be an integer from 2 to the {data.n} rows, got {k!r}")


def _outcomes(data: EvalData) -> tuple[np.ndarray, np.ndarray]:
    """One-hot given labels and the predicted probabilities (one-hot predictions without
    them); for regression, no label and the error indicator as the prediction."""
    if data.task == "regression":
        wrong = data.is_error.astype(np.int64)
        return np.ones((data.n, 1)), np.eye(2)[wrong]
    k = len(data.classes)
    y = np.eye(k)[data.y_true_codes]
    yhat = data.proba if data.proba is not None else np.eye(k)[data.y_pred_codes]
    return y, np.asarray(yhat, dtype=np.float64)
