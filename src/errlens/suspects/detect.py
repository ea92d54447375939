"""Suspect detection over the evaluation data: what ``Analysis.suspects``, ``label_health``,
``suspect_rates`` and ``similar`` compute (the facade documents the options).

The confident-learning pass, the neighbour indexes and the probabilities' fingerprint are
computed once per evaluation set and kept in its cache (``data.cache.suspects``).

>>> import errlens as el
>>> ev = el.Analysis.from_predictions({"x": range(6)}, y_true=[0, 0, 0, 1, 1, 1],
...     proba=[[.9, .1], [.8, .2], [.7, .3], [.2, .8], [.1, .9], [.85, .15]],
...     proba_out_of_fold=True)
>>> find_suspects(ev, "confident_learning").flagged_ids.tolist()
[5]
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

import cleanlab
import numpy as np
import pandas as pd

from errlens.base.inputs import by_id
from errlens.data.evaldata import EvalData
from errlens.slicing import masks
from errlens.suspects import knn, prior_rank, regression
from errlens.suspects.confident import (
    FILTERS,
    RANKINGS,
    ConfidentLearning,
    check_class_sizes,
)
from errlens.suspects.health import LabelHealth, label_health
from errlens.suspects.live_rank import LiveRank
from errlens.suspects.rates import rates_by_value
from errlens.suspects.table import Suspects, fingerprint, ranked_table

CLASSIFIER_METHODS: tuple[str, ...] = (*FILTERS, "knn")
REGRESSION_METHODS: tuple[str, ...] = ("residual",)
DEFAULT_METHOD = "prune_by_noise_rate"



def find_suspects(
    ev: EvalData,
    method: str = "prune_by_noise_rate",
    *,
    cohort: Any = None,
    rank_by: str = "self_confidence",
    top: int | None = None,
    n_jobs: int = 1,
    filter_by: str | None = None,
    embeddings: Any = None,
    n_neighbors: int | None = None,
    threshold: float | None = None,
    prior: Any = "auto",
    reviews: Any = None,
) -> Suspects:
    """Suspect rows of ``ev`` (``Analysis.suspects`` documents the options)."""
    keep = masks.mask(ev, cohort)
    params: dict[str, Any] = {"cohort_rows": int(keep.sum()), "top": top}
    if cohort is not None and hasattr(cohort, "to_json"):
        params["cohort"] = cohort.to_json()
    if ev.task == "regression":
        if method not in REGRESSION_METHODS:
            raise ValueError(
                f"method {method!r} needs a classifier but this analysis is a regression: "
                "use method='residual'"
            )
        _only_for(method, filter_by=filter_by, embeddings=embeddings, n_neighbors=n_neighbors,
                  reviews=reviews, prior=None if prior == "auto" else prior)
        return _residual_suspects(ev, keep, params, threshold, top)
    if method not in CLASSIFIER_METHODS:
        hint = " ('residual' is for regression)" if method in REGRESSION_METHODS else ""
        raise ValueError(f"method must be one of {CLASSIFIER_METHODS}, got {method!r}{hint}")
    _only_for(method, threshold=threshold)
    if rank_by not in RANKINGS:
        raise ValueError(f"rank_by must be one of {RANKINGS}, got {rank_by!r}")
    if method == "knn":
        k = 10 if n_neighbors is None else n_neighbors
        filter_by = "prune_by_noise_rate" if filter_by is None else filter_by
        if filter_by not in FILTERS:
            raise ValueError(f"filter_by must be one of {FILTERS}, got {filter_by!r}")
        index = _neighbour_index(ev, embeddings, n_jobs)
        cl = _knn_learning(ev, index, k)
        params |= {"n_neighbors": k, "space": index.source,
                   "space_fingerprint": index.fingerprint}
    else:
        _only_for(method, filter_by=filter_by, embeddings=embeddings, n_neighbors=n_neighbors)
        filter_by = method
        cl = _confident_learning(ev)
        warn_if_in_sample(ev)
    params |= {"filter_by": filter_by, "rank_by": rank_by}
    flagged = cl.issues(filter_by)
    score = cl.scores(rank_by)
    columns = {
        "given": ev.y_true.to_numpy(),
        "predicted": ev.y_pred.to_numpy(),
        "p_given": cl.scores("self_confidence"),
    }
    names = prior_rank.prior_columns(ev, prior)
    noises: tuple[Any, ...] = ()
    moves = None
    if names or reviews is not None:
        key = (filter_by, params.get("space_fingerprint"), params.get("n_neighbors"))
        table, noises, more, moves = prior_rank.ranked_with_prior(
            ev, cl, names, columns=columns, score=score, flagged=flagged, keep=keep, top=top,
            reviews=reviews, key=key, method=method, learn=prior is not None)
        params |= more
    else:
        table = ranked_table(
            ev.ids, columns, score, flagged, keep=keep, higher_is_worse=False, top=top
        )
    probabilities = _proba_fingerprint(ev) if method != "knn" else fingerprint(cl.pred_probs)
    return Suspects(table, method, params, rank_by, probabilities, meta=_engine(),
                    priors=noises, moves=moves)

def live_rank(ev: EvalData, method: str = DEFAULT_METHOD, *, prior: Any = "auto"
              ) -> LiveRank | None:
    """The cached arrays :class:`LiveRank` re-ranks from after reviews, for a cleanlab
    ``method`` ranked by ``self_confidence`` with ``prior`` (as ``find_suspects``: the declared
    groups', and the slices and calibration the reviews move); None for ``prior=None`` (no
    learning) or a method that is not a confident-learning filter (rank again with
    ``find_suspects``)."""
    if ev.task == "regression" or method not in FILTERS or prior is None:
        return None
    names = prior_rank.prior_columns(ev, prior)
    cl = _confident_learning(ev)
    return prior_rank.live_of(ev, cl, names, score=cl.scores("self_confidence"),
                              flagged=cl.issues(method), key=(method, None, None),
                              method=method)


def health_of(ev: EvalData) -> LabelHealth:
    """Per-class noise rates and likely confusions (``Analysis.label_health``)."""
    if ev.task == "regression":
        raise ValueError("label_health needs a classifier; for regression use "
                         "suspects(method='residual')")
    warn_if_in_sample(ev)
    cl = _confident_learning(ev)
    health = label_health(cl, list(ev.classes))
    by_role = {}
    for role, column in ev.label_sources.items():
        noise = prior_rank.noise_of(ev, cl, column, cl.issues(DEFAULT_METHOD),
                                    (DEFAULT_METHOD, None, None))
        by_role[role] = noise.table
    return replace(health, annotators=by_role.get("annotator"), sources=by_role.get("source"))

def rates_of(
    ev: EvalData, column: Any, method: str = "prune_by_noise_rate", **options: Any
) -> pd.DataFrame:
    """Suspect rate per value of ``column`` (``Analysis.suspect_rates``)."""
    if "cohort" in options or "top" in options:
        raise ValueError("suspect_rates ranks every row: drop cohort= / top=")
    if isinstance(column, str):
        if column not in ev.features.columns:
            raise KeyError(
                f"{column!r} is not a feature column; columns are: "
                f"{list(ev.features.columns)[:20]}"
            )
        values = ev.features[column]
    elif isinstance(column, pd.Series):
        values = pd.Series(by_id(column, ev.labels_of(column), arg="column", fill=None),
                           index=ev.ids)
    else:
        array = np.asarray(column, dtype=object)
        if array.ndim != 1 or len(array) != ev.n:
            raise ValueError(f"column has shape {array.shape} but the analysis has {ev.n} "
                             f"rows: give one value per row")
        values = pd.Series(array, index=ev.ids)
    table = find_suspects(ev, method, **options).table
    flagged = table["flagged"].reindex(ev.ids).to_numpy(dtype=bool)
    return rates_by_value(values, flagged)

def similar_to(ev: EvalData, id: Any, k: int = 10, *, embeddings: Any = None) -> pd.DataFrame:
    """The ``k`` nearest other samples of sample ``id`` (``Analysis.similar``)."""
    if id not in ev.ids:
        raise KeyError(f"sample id {id!r} is not in the analysis (ids look like "
                       f"{ev.ids[:3].tolist()})")
    index = _neighbour_index(ev, embeddings, n_jobs=1)
    positions, distance = index.neighbours_of(int(ev.ids.get_indexer(pd.Index([id]))[0]), k)
    return pd.DataFrame(
        {
            "distance": distance,
            "given": ev.y_true.to_numpy()[positions],
            "predicted": ev.y_pred.to_numpy()[positions],
            "error": ev.is_error[positions],
        },
        index=ev.ids[positions],
    )


def warn_if_in_sample(ev: EvalData) -> None:
    """Warn when probabilities were passed in by the user and may be in-sample."""
    if ev.proba_source == "given":
        warnings.warn(
            "the probabilities were passed to from_predictions without "
            "proba_out_of_fold=True. If the model was trained on these rows, it has memorised "
            "their labels (including the wrong ones), so label-issue detection will miss most "
            "of them. Use Analysis.from_estimator(...) or pass out-of-fold probabilities "
            "(sklearn's cross_val_predict) with proba_out_of_fold=True.",
            UserWarning,
            stacklevel=4,
        )


def _cache(ev: EvalData) -> dict[Any, Any]:
    return ev.cache.suspects


def _confident_learning(ev: EvalData) -> ConfidentLearning:
    cache = _cache(ev)
    if "confident" not in cache:
        if ev.proba is None:
            raise ValueError(
                "this analysis has no probabilities: use suspects(method='knn') (neighbours' "
                "vote, no model needed), or build it with proba= or from_estimator(...)"
            )
        labels = ev.y_true_codes
        # the Analysis validated the probabilities (shape, finite, rows summing to one)
        check_class_sizes(labels, ev.proba.shape[1])
        cache["confident"] = ConfidentLearning(labels, ev.proba)
    return cache["confident"]


def _proba_fingerprint(ev: EvalData) -> str:
    cache = _cache(ev)
    if "proba_fingerprint" not in cache:
        assert ev.proba is not None
        cache["proba_fingerprint"] = fingerprint(ev.proba)
    return cache["proba_fingerprint"]


def _neighbour_index(ev: EvalData, embeddings: Any, n_jobs: int) -> knn.NeighbourIndex:
    cache = _cache(ev)
    if embeddings is None:
        key: Any = "features_index"
        if key not in cache:
            cache[key] = knn.NeighbourIndex.fit(knn.encode_features(ev.features), "features")
    else:
        matrix = knn.check_embeddings(embeddings, ev.n)
        key = ("embeddings_index", knn.space_fingerprint(matrix))
        if key not in cache:
            cache[key] = knn.NeighbourIndex.fit(matrix, "embeddings")
    index: knn.NeighbourIndex = cache[key]
    index.model.set_params(n_jobs=n_jobs)
    return index


def _knn_learning(ev: EvalData, index: knn.NeighbourIndex, k: int) -> ConfidentLearning:
    cache = _cache(ev)
    key = ("knn", index.fingerprint, k)
    if key not in cache:
        labels = ev.y_true_codes
        check_class_sizes(labels, len(ev.classes))
        proba = knn.vote_proba(index.neighbours_of_all(k), labels, len(ev.classes))
        cache[key] = ConfidentLearning(labels, proba)
    return cache[key]


def _residual_suspects(
    ev: EvalData, keep: np.ndarray, params: dict[str, Any], threshold: float | None,
    top: int | None,
) -> Suspects:
    limit = regression.DEFAULT_THRESHOLD if threshold is None else float(threshold)
    if not limit > 0:
        raise ValueError(f"threshold must be a positive number of robust SDs, got {threshold!r}")
    residual = ev.y_true.to_numpy(dtype=np.float64) - ev.y_pred.to_numpy(dtype=np.float64)
    if not np.isfinite(residual).all():
        bad = np.flatnonzero(~np.isfinite(residual))
        raise ValueError(f"{bad.size} residuals are NaN or infinite (rows {bad[:5].tolist()})")
    score = np.abs(regression.robust_z(residual))
    columns = {"given": ev.y_true.to_numpy(), "predicted": ev.y_pred.to_numpy(),
               "residual": residual}
    table = ranked_table(
        ev.ids, columns, score, score > limit, keep=keep, higher_is_worse=True, top=top
    )
    params |= {"threshold": limit}
    return Suspects(table, "residual", params, "abs_robust_z", fingerprint(residual),
                    meta=_engine())


def _only_for(method: str, **options: Any) -> None:
    given = [name for name, value in options.items() if value is not None]
    if given:
        raise ValueError(f"{', '.join(given)} do(es) not apply to method={method!r}; drop it")


def _engine() -> dict[str, Any]:
    from errlens import __version__

    return {"engine": f"errlens {__version__}, cleanlab {cleanlab.__version__}"}
