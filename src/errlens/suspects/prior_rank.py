"""Suspects ranked with group priors and reviews (``Analysis.suspects(prior=, reviews=)``).

The flagged set is the method's own (cleanlab's, unchanged: the parity mode); only the order
and the ``prior`` / ``posterior`` columns carry the groups' noise and the reviewers' decisions.

>>> import errlens as el
>>> ev = el.Analysis.from_predictions({"x": range(6)}, y_true=[0, 0, 0, 1, 1, 1],
...     proba=[[.9, .1], [.8, .2], [.7, .3], [.2, .8], [.1, .9], [.85, .15]],
...     proba_out_of_fold=True, annotator=["a", "a", "b", "b", "b", "b"])
>>> prior_columns(ev, "auto"), prior_columns(ev, None)
(['annotator'], [])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from errlens.data.evaldata import EvalData
from errlens.slicing.segment_cache import segments_at
from errlens.suspects.confident import ConfidentLearning
from errlens.suspects.priors import GroupNoise, calibration, group_noise, posterior, row_prior
from errlens.suspects.reviews import review_verdicts, updated_by_reviews
from errlens.suspects.table import ranked_table

#: Column names of the suspects table a prior's group column may not take.
RESERVED = ("given", "predicted", "p_given", "score", "flagged", "rank", "prior", "posterior",
            "review")


def prior_columns(ev: EvalData, prior: Any) -> list[str]:
    """The feature columns whose groups carry a prior: ``"auto"`` = the declared label sources
    (``annotator=``, ``source=``), None = none, else a column name or a list of them."""
    if prior is None:
        return []
    if isinstance(prior, str) and prior == "auto":
        return list(dict.fromkeys(ev.label_sources.values()))
    names = [prior] if isinstance(prior, str) else list(prior)
    for name in names:
        if not isinstance(name, str) or name not in ev.features.columns:
            raise KeyError(
                f"prior={name!r} is not a feature column; pass 'auto' (the declared annotator= "
                f"/ source=: {sorted(ev.label_sources.values())}), None, or feature names "
                f"such as {list(ev.features.columns)[:10]}"
            )
        if name in RESERVED:
            raise ValueError(f"a feature named {name!r} cannot carry a prior (the suspects "
                             f"table has a column of that name): rename it")
    return names


def group_values(ev: EvalData, name: str) -> np.ndarray:
    """A declared label source's own values; another feature's segments (``ev.segments``)."""
    if name in ev.label_sources.values():
        return ev.features[name].to_numpy()
    segments = segments_at(ev)
    j = segments.index(name)
    return np.asarray(segments.labels[j], dtype=object)[segments.codes[:, j]]


def group_column(ev: EvalData, name: str) -> Any:
    """:func:`group_values` as the suspects table keeps them: a declared source's own array
    (not copied into Python objects, which pandas would convert back: ~0.4 s at 1M rows)."""
    if name in ev.label_sources.values():
        return ev.features[name].array
    return group_values(ev, name)


def noise_of(ev: EvalData, cl: ConfidentLearning, name: str, flagged: np.ndarray,
             key: Any) -> GroupNoise:
    """:func:`group_noise` of feature ``name``, cached per confident-learning pass ``key``; a
    declared label source's groups are taken as exchangeable (rows given to them alike)."""
    cache = ev.cache.suspects
    slot = ("group_noise", name, key)
    if slot not in cache:
        cache[slot] = group_noise(cl.labels, cl.pred_probs, group_values(ev, name), name=name,
                                  cl=cl, flagged=flagged, classes=list(ev.classes),
                                  exchangeable=name in ev.label_sources.values())
    noise: GroupNoise = cache[slot]
    return noise


def ranked_with_prior(
    ev: EvalData,
    cl: ConfidentLearning,
    names: Sequence[str],
    *,
    columns: dict[str, np.ndarray],
    score: np.ndarray,
    flagged: np.ndarray,
    keep: np.ndarray,
    top: int | None,
    reviews: Any,
    key: Any,
) -> tuple[pd.DataFrame, tuple[GroupNoise, ...], dict[str, Any]]:
    """(table, the group priors used, parameters to record). Rows are ordered by posterior,
    most likely wrong first, reviewed rows (relabeled or confirmed) last; ``flagged`` and
    ``score`` are the method's own. Without ``names`` and ``reviews`` use ``ranked_table``."""
    noises = [noise_of(ev, cl, name, flagged, key) for name in names]
    params: dict[str, Any] = {"prior": list(names)}
    decided = np.zeros(ev.n, dtype=bool)
    out: dict[str, Any] = dict(columns)
    verdicts = None
    if reviews is not None:
        verdicts = review_verdicts(reviews, ev.y_true, ids=ev.ids, analysis=ev).to_numpy()
        decided = (verdicts == "relabeled") | (verdicts == "confirmed")
        params["reviewed"] = int(decided.sum())
    order_key = None
    if noises:
        prior = row_prior(noises, noises[0].overall)
        post = posterior(score, prior, cl.k, *calibration(noises))
        if verdicts is not None:
            noises = [updated_by_reviews(noise, verdicts, post) for noise in noises]
            prior = row_prior(noises, noises[0].overall)
            post = posterior(score, prior, cl.k, *calibration(noises))
        out |= {noise.name: group_column(ev, noise.name) for noise in noises}
        out |= {"prior": prior, "posterior": post}
        order_key = -post
    if verdicts is not None:
        out["review"] = verdicts
    table = ranked_table(ev.ids, out, score, flagged, keep=keep, higher_is_worse=False,
                         top=top, first=~decided if noises else flagged & ~decided,
                         key=order_key)
    return table, tuple(noises), params
