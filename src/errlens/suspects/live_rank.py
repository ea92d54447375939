"""Re-ranking suspects after reviews from cached arrays (the suspect browser's next page).

:func:`~errlens.suspects.prior_rank.ranked_with_prior` ranks from scratch: the confident-learning
pass, every row's evidence, a sorted table of every row. A reviewer's decision changes none of
that; it changes the reviewed rows (which move to the end), the priors of their groups, the
slices the reviews found wrong more (or less) often than predicted and the detector's evidence
slope (a handful of numbers). :class:`LiveRank` keeps the arrays that do not change and, per set
of reviews, recomputes those numbers from the reviewed rows (:func:`updated_by_reviews`,
:func:`~errlens.suspects.review_slices.calibrated_slope`,
:func:`~errlens.suspects.review_slices.moved_slices`), then every row's prior and posterior in
one pass. The core ranks with reviews through :meth:`LiveRank.rerank` too
(:func:`~errlens.suspects.prior_rank.ranked_with_prior`), so the order and causes of the
browser are those of ``ev.suspects(reviews=...)`` row for row, without building the table.

>>> import errlens as el
>>> from errlens.suspects.detect import live_rank
>>> ev = el.Analysis.from_predictions({"x": range(8)}, y_true=[0, 0, 0, 0, 1, 1, 1, 1],
...     proba=[[.9, .1], [.2, .8], [.3, .7], [.8, .2], [.1, .9], [.7, .3], [.8, .2], [.2, .8]],
...     proba_out_of_fold=True, annotator=["a", "a", "a", "b", "b", "b", "b", "b"])
>>> live = live_rank(ev, "confident_learning")
>>> ranked = live.rerank(np.array([1]), np.array(["confirmed"], dtype=object))
>>> ranked.flagged_order().tolist()      # row 1 was reviewed: it goes last
[6, 2, 5, 1]
>>> ev.ids.get_indexer(ev.suspects("confident_learning", reviews=pd.DataFrame({
...     "op": ["confirm"], "sample_id": [1], "author": "ana", "new_label": [0],
...     "cause": [None]})).flagged_ids).tolist()  # the core agrees; one review moves no prior
[6, 2, 5, 1]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from errlens.suspects.judges import updated_by_judging
from errlens.suspects.priors import (
    ALPHA,
    GroupNoise,
    calibration,
    evidence_log_odds,
    logit,
    row_prior,
    sigmoid,
)
from errlens.suspects.review_slices import (
    Calibration,
    ReviewMoves,
    calibrated_slope,
    moved_slices,
)
from errlens.suspects.reviews import MIN_REVIEWS, updated_by_reviews
from errlens.suspects.table import argsort_ties_in_order

VERDICTS = ("relabeled", "confirmed")
"""Verdicts that decide a row (it is ranked after every undecided row)."""


@dataclass(frozen=True)
class SliceCandidates:
    """The segments reviews may move (``errlens.slicing.segments.Segments``' ``codes``,
    ``features`` and ``labels``), and the columns of the features not declared as groups."""

    codes: np.ndarray
    features: Sequence[str]
    labels: Sequence[Sequence[str]]
    columns: tuple[int, ...]


@dataclass(frozen=True)
class LiveRank:
    """What does not change between reviews: the groups' priors before any review (none: every
    row's prior is ``overall``), each row's score, flag and ``p_given``, the posterior before
    reviews (what the reviews' update compares the observed precision with), the detector
    (``method``: its reviews calibrate its evidence) and the segments reviews may move."""

    noises: tuple[GroupNoise, ...]
    score: np.ndarray
    flagged: np.ndarray
    p_given: np.ndarray
    k: int
    overall: float
    ids: pd.Index
    method: str = ""
    slices: SliceCandidates | None = None
    prior: np.ndarray = field(init=False)
    evidence: np.ndarray = field(init=False)
    predicted: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        prior = (row_prior(self.noises, self.overall) if self.noises
                 else np.full(len(self.score), self.overall))
        slope, shift = calibration(self.noises)  # the sources' contrast measured the evidence
        object.__setattr__(self, "prior", prior)
        object.__setattr__(self, "evidence",
                           slope * evidence_log_odds(self.score, self.k) + shift)
        object.__setattr__(self, "predicted", recalibrated(self.evidence, prior, 1.0))

    def rerank(self, rows: np.ndarray, verdicts: np.ndarray,
               methods: np.ndarray | None = None, judges: pd.DataFrame | None = None
               ) -> Ranked:
        """The ranking after reviews: ``verdicts`` (``"relabeled"``, ``"confirmed"``,
        ``"skipped"``) of the rows at positions ``rows`` (each once), ``methods`` the detector
        each was reviewed under (None: unknown), every other row undecided; ``judges`` the
        authors' record against CROWDLAB's consensus (:func:`~errlens.suspects.judges
        .judge_record`: a group that is also a judge has its prior moved by its judging first).
        Only the reviewed rows are looked at to calibrate the evidence, update the priors and
        pick the moved slices; every row's prior and posterior is then one vectorised pass."""
        rows = np.asarray(rows, dtype=np.int64)
        order = np.argsort(rows, kind="stable")  # row order: the reference sums in that order
        rows, verdicts = rows[order], np.asarray(verdicts, dtype=object)[order]
        own = (np.zeros(len(rows), dtype=bool) if methods is None
               else np.asarray(methods, dtype=object)[order] == self.method)
        decided = np.isin(verdicts, VERDICTS)
        noises, base = self.noises, self.prior
        if judges is not None and len(judges) and noises:
            judged = tuple(updated_by_judging(noise, judges) for noise in noises)
            if any(after is not before for after, before in zip(judged, noises, strict=True)):
                noises, base = judged, row_prior(judged, self.overall)
        review_fit = self._calibration(rows[decided & own], verdicts[decided & own], base)
        slope = 1.0 if review_fit is None else review_fit.slope
        predicted = (self.predicted[rows] if review_fit is None and base is self.prior
                     else recalibrated(self.evidence[rows], base[rows], slope))
        noises = tuple(
            replace(updated_by_reviews(replace(noise, codes=noise.codes[rows]), verdicts,
                                       predicted), codes=noise.codes)
            for noise in noises
        )
        prior = row_prior(noises, self.overall) if noises else base
        moves = ReviewMoves(self.ids, calibration=review_fit)
        if self.slices is not None and decided.any():
            at = rows[decided]
            moves = replace(moves, slices=moved_slices(
                verdicts[decided] == "relabeled", logit(prior[at]),
                slope * self.evidence[at], at, self.slices.codes,
                self.slices.columns, self.slices.features, self.slices.labels))
        shift = moves.shift(len(prior))
        if shift is not None:
            prior = sigmoid(logit(prior) + shift)
        post = recalibrated(self.evidence, prior, slope)
        reviewed = np.zeros(len(self.score), dtype=bool)
        reviewed[rows[decided]] = True
        return Ranked(self, noises, prior, post, reviewed, moves)

    def _calibration(self, rows: np.ndarray, verdicts: np.ndarray, prior: np.ndarray
                     ) -> Calibration | None:
        """The detector's slope from its decided reviews given each row's ``prior`` (None:
        fewer than MIN_REVIEWS, or the score test does not reject a slope of 1)."""
        if len(rows) < MIN_REVIEWS:
            return None
        slope, p_value = calibrated_slope((verdicts == "relabeled").astype(np.float64),
                                          logit(prior[rows]), self.evidence[rows])
        if p_value >= ALPHA:
            return None
        return Calibration(self.method, slope, len(rows), p_value)


def recalibrated(evidence: np.ndarray, prior: np.ndarray, slope: float) -> np.ndarray:
    """The posterior of an error from each row's ``prior`` and its ``evidence`` (log-odds,
    already in the sources' calibration: see :func:`~errlens.suspects.priors.posterior`) times
    the reviews' ``slope``."""
    return sigmoid(logit(prior) + slope * evidence)


@dataclass(frozen=True)
class Ranked:
    """One ranking: the updated group priors, each row's ``prior`` and ``posterior``, which
    rows reviewers decided and what else the reviews moved (slices, the detector's slope).
    Rows are ordered by posterior, undecided first (ties in row order), as in
    ``ev.suspects(reviews=...)``."""

    live: LiveRank
    noises: tuple[GroupNoise, ...]
    prior: np.ndarray
    posterior: np.ndarray
    decided: np.ndarray
    moves: ReviewMoves
    _why: dict[tuple[int, ...], str] = field(default_factory=dict)

    def flagged_order(self) -> np.ndarray:
        """Positions of the flagged rows in rank order (the browser's suspects view)."""
        parts = [np.flatnonzero(self.live.flagged & ~self.decided),
                 np.flatnonzero(self.live.flagged & self.decided)]
        return np.concatenate([rows[argsort_ties_in_order(-self.posterior[rows])]
                               for rows in parts])

    def rank_of(self, position: int, keep: np.ndarray | None = None) -> int:
        """Rank (1 = first) of the row at ``position`` among all rows (or those in ``keep``)."""
        key, mine = -self.posterior, -self.posterior[position]
        same = self.decided == self.decided[position]
        ahead = same & ((key < mine) | ((key == mine) & (np.arange(len(key)) < position)))
        if self.decided[position]:
            ahead |= ~self.decided
        if keep is not None:
            ahead &= keep
        return int(ahead.sum()) + 1

    def why(self, positions: Sequence[int] | np.ndarray) -> list[str]:
        """Why each row ranks where it does: its groups' noise and its ``p(given)`` (the text
        of ``Suspects.cause(id)["why"]``), the groups' part made once per group."""
        return why_texts(self.noises, self.live.p_given, positions, self._why, self.moves)

    def cause(self, position: int, base: dict[str, Any], *, keep: np.ndarray | None = None,
              ranked_rows: int | None = None) -> dict[str, Any]:
        """``Suspects.cause`` of the row at ``position``: ``base`` is a cause of the first
        ranking (method, parameters, fingerprint, engine), ``keep`` the cohort's rows."""
        out = dict(base)
        out["params"] = {**base["params"], "reviewed": int(self.decided.sum()),
                         **self.moves.params()}
        out |= {"score": float(self.live.score[position]),
                "flagged": bool(self.live.flagged[position]),
                "rank": self.rank_of(position, keep),
                "ranked_rows": len(self.posterior) if ranked_rows is None else ranked_rows,
                "prior": float(self.prior[position]),
                "posterior": float(self.posterior[position]),
                "why": self.why([position])[0]}
        return out


def why_texts(noises: Sequence[GroupNoise], p_given: np.ndarray,
              positions: Sequence[int] | np.ndarray, cache: dict[tuple[int, ...], str],
              moves: ReviewMoves | None = None) -> list[str]:
    """``Suspects.cause(id)["why"]`` of the rows at ``positions`` (``p_given`` per row), each
    group's part (and each moved slice's, the detector's calibration: ``moves``) described once
    and kept in ``cache`` (a page costs no table look-up).

    >>> table = pd.DataFrame({"noise_rate": [.3, .02], "ci_low": [.2, .01],
    ...     "ci_high": [.4, .04], "prior": [.3, .02]}, index=["ann1", "ann2"])
    >>> noise = GroupNoise("annotator", table, np.array([0, 1, 1]), 0.1, 5.0)
    >>> for text in why_texts([noise], np.array([.9, .8, .1]), [2, 0], {}):
    ...     print(text)
    annotator ann2: est. 2% noise [1%–4%]; p(given) 0.10
    annotator ann1: est. 30% noise [20%–40%]; p(given) 0.90
    """
    out = []
    for position in positions:
        groups = tuple(int(noise.codes[position]) for noise in noises)
        slices = moves.codes_at(position) if moves is not None else ()
        if groups + slices not in cache:
            parts = [noise.describe(noise.table.index[code])
                     for noise, code in zip(noises, groups, strict=True)]
            parts += moves.describe(slices) if moves is not None else []
            cache[groups + slices] = "".join(f"{part}; " for part in parts)
        out.append(f"{cache[groups + slices]}p(given) {p_given[position]:.2f}")
    return out


def reviewed_rows(verdicts: pd.Series, ids: pd.Index, methods: pd.Series | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(positions in ``ids``, verdicts, detectors or None) of the reviewed samples in
    ``verdicts`` (indexed by sample id, as :func:`~errlens.suspects.reviews.reviewed_verdicts`
    returns; ``methods`` as :func:`~errlens.suspects.reviews.reviewed_methods` does)."""
    rows = ids.get_indexer(verdicts.index)
    known = rows >= 0
    detectors = None if methods is None else \
        methods.reindex(verdicts.index).to_numpy(dtype=object)[known]
    return rows[known], verdicts.to_numpy(dtype=object)[known], detectors
