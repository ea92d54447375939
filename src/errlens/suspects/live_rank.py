"""Re-ranking suspects after reviews from cached arrays (the suspect browser's next page).

:func:`~errlens.suspects.prior_rank.ranked_with_prior` ranks from scratch: the confident-learning
pass, every row's evidence, a sorted table of every row. A reviewer's decision changes none of
that; it changes the reviewed rows (which move to the end) and the priors of their groups (a
handful of numbers). :class:`LiveRank` keeps the arrays that do not change and, per set of
reviews, recomputes the same numbers with the same functions (:func:`row_prior`,
:func:`posterior`, :func:`updated_by_reviews`), so its order and causes are those of
``ev.suspects(reviews=...)`` row for row, without building the table.

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

from errlens.suspects.priors import GroupNoise, calibration, posterior, row_prior
from errlens.suspects.reviews import updated_by_reviews
from errlens.suspects.table import argsort_ties_in_order

VERDICTS = ("relabeled", "confirmed")
"""Verdicts that decide a row (it is ranked after every undecided row)."""


@dataclass(frozen=True)
class LiveRank:
    """What does not change between reviews: the groups' priors before any review, each row's
    score, flag and ``p_given``, and the posterior before reviews (what the reviews' update
    compares the observed precision with)."""

    noises: tuple[GroupNoise, ...]
    score: np.ndarray
    flagged: np.ndarray
    p_given: np.ndarray
    k: int
    predicted: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        if not self.noises:
            raise ValueError("LiveRank needs at least one group prior (prior=None ranks by the "
                             "score alone: use ev.suspects)")
        prior = row_prior(self.noises, self.noises[0].overall)
        object.__setattr__(self, "predicted",
                           posterior(self.score, prior, self.k, *calibration(self.noises)))

    def rerank(self, rows: np.ndarray, verdicts: np.ndarray) -> Ranked:
        """The ranking after reviews: ``verdicts`` (``"relabeled"``, ``"confirmed"``,
        ``"skipped"``) of the rows at positions ``rows`` (each once), every other row undecided.
        Only the reviewed rows are looked at to update the priors; the posterior of every row
        is then one vectorised pass."""
        rows = np.asarray(rows, dtype=np.int64)
        order = np.argsort(rows, kind="stable")  # row order: the reference sums in that order
        rows, verdicts = rows[order], np.asarray(verdicts, dtype=object)[order]
        noises = tuple(
            replace(updated_by_reviews(replace(noise, codes=noise.codes[rows]), verdicts,
                                       self.predicted[rows]), codes=noise.codes)
            for noise in self.noises
        )
        prior = row_prior(noises, noises[0].overall)
        decided = np.zeros(len(self.score), dtype=bool)
        decided[rows[np.isin(verdicts, VERDICTS)]] = True
        return Ranked(self, noises, prior,
                      posterior(self.score, prior, self.k, *calibration(noises)), decided)


@dataclass(frozen=True)
class Ranked:
    """One ranking: the updated group priors, each row's ``prior`` and ``posterior``, and which
    rows reviewers decided. Rows are ordered by posterior, undecided first (ties in row order),
    as in ``ev.suspects(reviews=...)``."""

    live: LiveRank
    noises: tuple[GroupNoise, ...]
    prior: np.ndarray
    posterior: np.ndarray
    decided: np.ndarray
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
        return why_texts(self.noises, self.live.p_given, positions, self._why)

    def cause(self, position: int, base: dict[str, Any], *, keep: np.ndarray | None = None,
              ranked_rows: int | None = None) -> dict[str, Any]:
        """``Suspects.cause`` of the row at ``position``: ``base`` is a cause of the first
        ranking (method, parameters, fingerprint, engine), ``keep`` the cohort's rows."""
        out = dict(base)
        out["params"] = {**base["params"], "reviewed": int(self.decided.sum())}
        out |= {"score": float(self.live.score[position]),
                "flagged": bool(self.live.flagged[position]),
                "rank": self.rank_of(position, keep),
                "ranked_rows": len(self.posterior) if ranked_rows is None else ranked_rows,
                "prior": float(self.prior[position]),
                "posterior": float(self.posterior[position]),
                "why": self.why([position])[0]}
        return out


def why_texts(noises: Sequence[GroupNoise], p_given: np.ndarray,
              positions: Sequence[int] | np.ndarray, cache: dict[tuple[int, ...], str]
              ) -> list[str]:
    """``Suspects.cause(id)["why"]`` of the rows at ``positions`` (``p_given`` per row), each
    group's part described once and kept in ``cache`` (a page costs no table look-up).

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
        if groups not in cache:
            cache[groups] = "; ".join(noise.describe(noise.table.index[code])
                                      for noise, code in zip(noises, groups, strict=True))
        out.append(f"{cache[groups]}; p(given) {p_given[position]:.2f}")
    return out


def reviewed_rows(verdicts: pd.Series, ids: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """(positions in ``ids``, verdicts) of the reviewed samples in ``verdicts`` (indexed by
    sample id, as :func:`~errlens.suspects.reviews.reviewed_verdicts` returns)."""
    rows = ids.get_indexer(verdicts.index)
    known = rows >= 0
    return rows[known], verdicts.to_numpy(dtype=object)[known]
