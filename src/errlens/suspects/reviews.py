"""Learning from reviews: what reviewers decided on suspects moves the group priors.

A reviewer relabels (the label was wrong) or confirms (it was right) the rows a ranking put in
front of them. Per group (annotator, source, segment), the reviewed rows' share of relabels is
the ranking's observed precision there; the posterior had predicted it. A group whose rows turn
out wrong more often than predicted had its noise underestimated, and the reverse.

>>> import pandas as pd
>>> verdicts = review_verdicts(
...     pd.DataFrame({"op": ["set", "confirm"], "sample_id": [1, 2], "author": "ana",
...                   "new_label": ["b", "a"], "cause": [None, None]}),
...     pd.Series(["a", "a"], index=[1, 2]), ids=pd.Index([1, 2, 3]))
>>> verdicts.tolist()
['relabeled', 'confirmed', None]
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from errlens.annotators.agreement import effective, events_of, label_matrix
from errlens.annotators.quality import cause_field, crowdlab, review_outcomes
from errlens.suspects.priors import ALPHA, GroupNoise, logit, sigmoid

#: Pseudo-reviews behind the predicted precision in each group's Beta-binomial update.
REVIEW_STRENGTH = 10.0
#: Decided reviews a group needs before they move its prior.
MIN_REVIEWS = 20
#: Predicted and observed precisions are compared within [1 - BOUND, BOUND] (a posterior of
#: 0.999999 met by one confirm is not a millionfold surprise).
BOUND = 0.98


def review_verdicts(reviews: Any, original: pd.Series, *, ids: pd.Index,
                    analysis: Any = None, events: pd.DataFrame | None = None) -> pd.Series:
    """Per row of ``ids``: ``"relabeled"``, ``"confirmed"``, ``"skipped"`` or None (not reviewed).

    ``reviews`` is a LabelStore (its current labels are the verdicts) or its events frame (the
    latest ``set`` / ``adjudicate`` label of each sample, else its ``original`` label). Where
    several annotators judged a sample and ``analysis`` has probabilities, CROWDLAB's consensus
    (``errlens.annotators.quality.crowdlab``) is the verdict instead. ``events``: the store's
    events frame when the caller has it already (it is not built twice).
    """
    verdict = reviewed_verdicts(reviews, original, analysis=analysis, events=events)
    out = np.full(len(ids), None, dtype=object)
    rows = ids.get_indexer(verdict.index)  # the few reviewed ids looked up in ids' own index
    out[rows[rows >= 0]] = verdict.to_numpy(dtype=object)[rows >= 0]
    return pd.Series(out, index=ids, dtype=object)


def reviewed_verdicts(reviews: Any, original: pd.Series | None = None, *,
                      analysis: Any = None, events: pd.DataFrame | None = None) -> pd.Series:
    """:func:`review_verdicts` of the reviewed samples only (indexed by their ids): a
    LabelStore's labels are read for those samples alone, so the cost follows the reviews, not
    the rows (``original`` is needed for an events frame only).

    >>> reviewed_verdicts(pd.DataFrame({"op": ["skip"], "sample_id": [3], "author": "ana",
    ...     "new_label": [None], "cause": [None]}), pd.Series(["a"], index=[3])).to_dict()
    {3: 'skipped'}
    """
    source: Any = reviews
    if hasattr(reviews, "labels") and hasattr(reviews, "original_in_current_names"):
        source = events_of(reviews) if events is None else events
        judged = pd.Index(source["sample_id"].dropna().unique())
        original = reviews.original.reindex(judged).map(reviews.schema.current_name)
        current = reviews.labels().reindex(judged)
    elif original is None:
        raise ValueError("reviews is an events frame: pass the original labels (indexed by "
                         "sample id) too")
    else:
        current = _current_labels(reviews, original)
    outcome = review_outcomes(source, original, current)
    verdict = pd.Series(np.select([outcome["relabeled"], outcome["confirmed"]],
                                  ["relabeled", "confirmed"], "skipped"),
                        index=pd.Index(outcome["sample_id"]), dtype=object)
    if analysis is not None and getattr(analysis, "proba", None) is not None:
        verdict = _with_consensus(verdict, source, original, analysis)
    return verdict


def reviewed_methods(reviews: Any) -> pd.Series:
    """The detector (the cause's ``method``) of each reviewed sample's latest judgement (a
    relabel, confirm, skip or adjudication still in force), None where its cause names none.

    >>> reviewed_methods(pd.DataFrame({"op": ["set", "confirm"], "sample_id": [1, 2],
    ...     "author": "ana", "new_label": ["b", None],
    ...     "cause": [{"method": "knn"}, None]})).to_dict()
    {1: 'knn', 2: None}
    """
    events = effective(events_of(reviews))
    if "seq" in events.columns:
        events = events.sort_values("seq", kind="stable")
    judged = events[events["op"].isin(("set", "confirm", "skip", "adjudicate"))]
    latest = judged.drop_duplicates("sample_id", keep="last")
    causes = latest["cause"] if "cause" in latest.columns else [None] * len(latest)
    return pd.Series([_method(cause) for cause in causes], index=pd.Index(latest["sample_id"]),
                     dtype=object)


def _method(cause: Any) -> str | None:
    method = cause_field(cause, "method")
    return method if isinstance(method, str) else None


def _current_labels(events: Any, original: pd.Series) -> pd.Series:
    frame = effective(events_of(events))
    if "seq" in frame.columns:
        frame = frame.sort_values("seq", kind="stable")
    sets = frame[frame["op"].isin(("set", "adjudicate"))].drop_duplicates("sample_id",
                                                                           keep="last")
    current = original.astype(object).copy()
    known = sets[sets["sample_id"].isin(current.index)]
    current.loc[known["sample_id"].to_numpy()] = known["new_label"].to_numpy()
    return current


def _with_consensus(verdict: pd.Series, reviews: Any, original: pd.Series,
                    analysis: Any) -> pd.Series:
    found = consensus_of(reviews, analysis)
    if found is None:
        return verdict
    samples = found[1]
    agrees = samples["consensus_label"].to_numpy() == original.reindex(samples.index).to_numpy()
    out = verdict.copy()
    out.loc[samples.index] = np.where(agrees, "confirmed", "relabeled")
    return out


def consensus_of(reviews: Any, analysis: Any) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """(the label matrix of the samples several authors judged, CROWDLAB's table of those
    samples: ``errlens.annotators.quality.crowdlab``), or None where no sample was judged by
    two authors. CROWDLAB runs once per set of votes and analysis (kept in its cache), so the
    verdicts and the judges' record share it."""
    matrix = label_matrix(reviews)
    if matrix.shape[1] < 2 or not (matrix.notna().sum(axis=1) >= 2).any():
        return None
    votes = matrix.astype(object).where(matrix.notna(), None)
    slot = ("crowdlab", tuple(matrix.columns),
            int(pd.util.hash_pandas_object(votes.astype(str), index=True).sum()))
    cache = analysis.cache.suspects if hasattr(analysis, "cache") else {}
    if slot not in cache:
        cache[slot] = crowdlab(matrix, analysis)[0]
    samples = cache[slot]
    samples = samples[samples["num_annotations"] >= 2]
    return matrix.loc[samples.index], samples


def updated_by_reviews(noise: GroupNoise, verdicts: np.ndarray,
                       predicted: np.ndarray) -> GroupNoise:
    """``noise`` with each group's prior moved by its reviewed rows (a Beta-binomial update).

    ``verdicts`` per row ("relabeled", "confirmed", other = undecided), ``predicted`` each row's
    posterior before the reviews. In a group with ``D`` decided reviews, ``R`` relabels and
    mean predicted posterior ``q`` (clipped to [1 - :data:`BOUND`, :data:`BOUND`]), the
    precision's prior is ``Beta(s q, s (1 - q))`` (``s`` = :data:`REVIEW_STRENGTH`
    pseudo-reviews), its posterior mean ``o = (R + s q) / (D + s)``. What all groups share
    (``c = logit(o_all) - logit(q_all)`` over every reviewed row: the evidence's
    miscalibration, which moves no row past another) is taken out: a group's prior log-odds
    move by ``logit(o) - logit(q) - c``, and only where the group has :data:`MIN_REVIEWS`
    decided reviews and a two-sided binomial test of ``R`` of ``D`` against
    ``sigmoid(logit(q) + c)`` rejects at :data:`~errlens.suspects.priors.ALPHA` (a chance run
    of reviews moves nothing). The table gains ``reviewed``, ``relabeled``,
    ``review_precision``, ``predicted_precision`` and ``prior_before_reviews``.
    """
    decided = (verdicts == "relabeled") | (verdicts == "confirmed")
    groups = len(noise.table)
    reviewed = np.bincount(noise.codes[decided], minlength=groups).astype(np.float64)
    relabeled = np.bincount(noise.codes[verdicts == "relabeled"], minlength=groups)
    expected = np.bincount(noise.codes[decided], weights=predicted[decided], minlength=groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.clip(np.where(reviewed > 0, expected / reviewed, 0.5), 1 - BOUND, BOUND)
        observed = (relabeled + REVIEW_STRENGTH * q) / (reviewed + REVIEW_STRENGTH)
    common = 0.0
    if reviewed.sum() > 0:
        q_all = float(np.clip(expected.sum() / reviewed.sum(), 1 - BOUND, BOUND))
        o_all = (relabeled.sum() + REVIEW_STRENGTH * q_all) / (reviewed.sum() + REVIEW_STRENGTH)
        common = float(logit(o_all) - logit(q_all))
    expected_rate = sigmoid(logit(q) + common)
    moved = np.array([d >= MIN_REVIEWS and binomtest(int(r), int(d), float(e)).pvalue < ALPHA
                      for r, d, e in zip(relabeled, reviewed, expected_rate, strict=True)],
                     dtype=bool)
    shift = np.where(moved, logit(observed) - logit(q) - common, 0.0)
    table = noise.table.assign(
        reviewed=reviewed.astype(np.int64), relabeled=relabeled,
        review_precision=np.where(reviewed > 0, relabeled / np.clip(reviewed, 1, None), np.nan),
        predicted_precision=np.where(reviewed > 0, q, np.nan),
        prior_before_reviews=noise.table["prior"],
        prior=sigmoid(logit(noise.table["prior"].to_numpy(dtype=np.float64)) + shift),
    )
    return replace(noise, table=table)
