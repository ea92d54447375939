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

from errlens.annotators.agreement import events_of
from errlens.data.evaldata import EvalData
from errlens.slicing.segment_cache import segments_at
from errlens.suspects.confident import ConfidentLearning
from errlens.suspects.judges import judge_record
from errlens.suspects.live_rank import LiveRank, SliceCandidates
from errlens.suspects.priors import GroupNoise, calibration, group_noise, posterior, row_prior
from errlens.suspects.review_slices import ReviewMoves
from errlens.suspects.reviews import review_verdicts, reviewed_methods
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


def overall_of(ev: EvalData, cl: ConfidentLearning, flagged: np.ndarray, key: Any) -> float:
    """The overall noise rate (what :func:`group_noise` shrinks toward), without a group."""
    cache = ev.cache.suspects
    slot = ("overall_noise", key)
    if slot not in cache:
        cache[slot] = group_noise(cl.labels, cl.pred_probs, np.zeros(len(cl.labels), np.int8),
                                  name="all", cl=cl, flagged=flagged).overall
    overall: float = cache[slot]
    return overall


def slice_candidates(ev: EvalData, names: Sequence[str]) -> SliceCandidates | None:
    """The segments (``ev.segments``' setting) reviews may move: every feature's but the
    declared groups' ``names`` and the one-segment features' (None: there are none)."""
    segments = segments_at(ev)
    columns = tuple(j for j, feature in enumerate(segments.features)
                    if feature not in names and len(segments.labels[j]) > 1)
    if not columns:
        return None
    return SliceCandidates(segments.codes, segments.features, segments.labels, columns)


def live_of(ev: EvalData, cl: ConfidentLearning, names: Sequence[str], *, score: np.ndarray,
            flagged: np.ndarray, key: Any, method: str) -> LiveRank:
    """The :class:`LiveRank` of a ranking by ``score`` with the groups ``names``, the
    detector ``method`` and the slices reviews may move (the core's and the browser's)."""
    noises = tuple(noise_of(ev, cl, name, flagged, key) for name in names)
    overall = noises[0].overall if noises else overall_of(ev, cl, flagged, key)
    return LiveRank(noises, score, flagged, cl.scores("self_confidence"), cl.k, overall,
                    ev.ids, method, slice_candidates(ev, names))


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
    method: str,
    learn: bool = True,
) -> tuple[pd.DataFrame, tuple[GroupNoise, ...], dict[str, Any], ReviewMoves | None]:
    """(table, the group priors used, parameters to record, what else the reviews moved).
    Rows are ordered by posterior, most likely wrong first, reviewed rows (relabeled or
    confirmed) last; ``flagged`` and ``score`` are the method's own. With ``reviews`` and
    ``learn`` (not ``prior=None``) the ranking is :class:`LiveRank`'s: the reviews of
    ``method`` calibrate its evidence and the segments of the undeclared features may move.
    Without ``names`` and ``reviews`` use ``ranked_table``."""
    params: dict[str, Any] = {"prior": list(names)}
    out: dict[str, Any] = dict(columns)
    decided = np.zeros(ev.n, dtype=bool)
    noises: tuple[GroupNoise, ...] = ()
    moves = None
    order_key = None
    if reviews is not None:
        events = events_of(reviews)
        verdicts = review_verdicts(reviews, ev.y_true, ids=ev.ids, analysis=ev,
                                   events=events).to_numpy()
        decided = (verdicts == "relabeled") | (verdicts == "confirmed")
        params["reviewed"] = int(decided.sum())
    if reviews is not None and learn:
        live = live_of(ev, cl, names, score=score, flagged=flagged, key=key, method=method)
        rows = np.flatnonzero(pd.notna(verdicts))
        methods = reviewed_methods(events).reindex(ev.ids[rows]).to_numpy(dtype=object)
        ranked = live.rerank(rows, verdicts[rows], methods,
                             judge_record(events, ev) if names else None)
        noises, moves = ranked.noises, ranked.moves
        prior, post = ranked.prior, ranked.posterior
        params |= moves.params()
    elif names:
        noises = tuple(noise_of(ev, cl, name, flagged, key) for name in names)
        prior = row_prior(noises, noises[0].overall)
        post = posterior(score, prior, cl.k, *calibration(noises))
    if noises or moves is not None:
        out |= {noise.name: group_column(ev, noise.name) for noise in noises}
        out |= {"prior": prior, "posterior": post}
        order_key = -post
    if reviews is not None:
        out["review"] = verdicts
    table = ranked_table(ev.ids, out, score, flagged, keep=keep, higher_is_worse=False,
                         top=top, first=~decided if order_key is not None else flagged & ~decided,
                         key=order_key)
    return table, noises, params, moves
