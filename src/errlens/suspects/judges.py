"""What annotators' judging says of their labelling: a careless judge labelled carelessly too.

After a round trip in which several annotators judged the same samples, CROWDLAB's consensus
(:func:`~errlens.suspects.reviews.consensus_of`) is each such sample's verdict, and every
author's votes against it measure how careless that author is. Where an author is also a value
of a declared annotator column (who gave the rows their labels), that is a second estimate of
the group's noise, from other rows than the data's: :func:`updated_by_judging` combines the two
on the log-odds scale, each weighted by its precision.

The judges' disagreement is read relative to all judges' (the consensus errs too, and round-trip
samples are harder than most), and it moves a group only where a binomial test says the author
disagrees more (or less) than the judges as a whole: a chance run of votes moves nothing.

>>> import pandas as pd
>>> from errlens.suspects.priors import GroupNoise
>>> table = pd.DataFrame({"noise_rate": [.1, .1], "ci_low": [.05, .05], "ci_high": [.19, .19],
...                       "prior": [.1, .1]}, index=["ann0", "ann1"])
>>> noise = GroupNoise("annotator", table, np.array([0, 1]), 0.1, float("inf"))
>>> judges = pd.DataFrame({"judged": [200, 200, 200], "disagreed": [70, 8, 10]},
...                       index=["ann0", "ann1", "ann2"])
>>> updated_by_judging(noise, judges).table["prior"].round(2).tolist()
[0.22, 0.05]
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from errlens.annotators.agreement import label_codes
from errlens.suspects.priors import ALPHA, GroupNoise, logit, sigmoid
from errlens.suspects.reviews import MIN_REVIEWS, REVIEW_STRENGTH, consensus_of

#: The judges' record of a store without samples several authors judged.
NO_JUDGES = pd.DataFrame({"judged": pd.Series(dtype=np.int64),
                          "disagreed": pd.Series(dtype=np.int64)},
                         index=pd.Index([], name="author", dtype=object))


def judge_record(reviews: Any, analysis: Any) -> pd.DataFrame:
    """Per author who judged a sample that several authors judged: ``judged`` (how many such
    samples) and ``disagreed`` (how many of the author's votes differ from CROWDLAB's
    consensus), indexed by author. Empty without such samples or without probabilities.

    ``reviews``: a LabelStore or its events frame; ``analysis``: the analysis of its rows.
    """
    if getattr(analysis, "proba", None) is None:
        return NO_JUDGES
    found = consensus_of(reviews, analysis)
    if found is None:
        return NO_JUDGES
    matrix, samples = found
    classes = list(analysis.classes)
    votes = label_codes(matrix, classes)
    consensus = pd.Categorical(samples["consensus_label"], categories=classes).codes
    voted = votes >= 0
    return pd.DataFrame({"judged": voted.sum(axis=0),
                         "disagreed": (voted & (votes != consensus[:, None])).sum(axis=0)},
                        index=pd.Index(matrix.columns, name="author", dtype=object))


def updated_by_judging(noise: GroupNoise, judges: pd.DataFrame) -> GroupNoise:
    """``noise`` with the prior of each group that is also a judge moved by its judging.

    With ``D`` the judges' pooled disagreement, an author who disagreed ``d`` times in ``n``
    votes (at least :data:`~errlens.suspects.reviews.MIN_REVIEWS`, and a two-sided binomial
    test of ``d`` against ``D`` rejecting at :data:`~errlens.suspects.priors.ALPHA`) is
    ``b = logit((d + s D) / (n + s)) - logit(D)`` more careless than the judges on the
    log-odds scale (``s`` = :data:`~errlens.suspects.reviews.REVIEW_STRENGTH`), with variance
    ``1 / (n r (1 - r))`` at that smoothed rate ``r``. The group's prior from the data is
    ``a = logit(prior) - logit(overall)`` with the variance its 95 % interval implies; the
    new prior is ``sigmoid(logit(overall) + c)``, ``c`` the precision-weighted mean of ``a`` and
    ``b``. The table gains ``judged``, ``judge_disagreement`` and ``prior_before_judging``;
    ``noise`` comes back as is where no group is a judge who differs.
    """
    authors = {str(author): at for at, author in enumerate(judges.index)}
    at = np.array([authors.get(str(value), -1) for value in noise.table.index])
    if not (at >= 0).any():
        return noise
    judged = judges["judged"].to_numpy(dtype=np.float64)
    disagreed = judges["disagreed"].to_numpy(dtype=np.float64)
    pooled = float(disagreed.sum() / max(judged.sum(), 1.0))
    if not 0 < pooled < 1:
        return noise
    n = np.where(at >= 0, judged[at], 0.0)
    d = np.where(at >= 0, disagreed[at], 0.0)
    differs = np.array([count >= MIN_REVIEWS and binomtest(int(k), int(count), pooled).pvalue
                        < ALPHA for k, count in zip(d, n, strict=True)], dtype=bool)
    if not differs.any():
        return noise
    rate = (d + REVIEW_STRENGTH * pooled) / (n + REVIEW_STRENGTH)
    by_judging = logit(rate) - logit(pooled)
    judging_var = 1 / (np.maximum(n, 1) * rate * (1 - rate))
    table = noise.table
    prior = table["prior"].to_numpy(dtype=np.float64)
    by_data = logit(prior) - logit(noise.overall)
    data_var = ((logit(table["ci_high"].to_numpy(dtype=np.float64))
                 - logit(table["ci_low"].to_numpy(dtype=np.float64))) / 3.92) ** 2
    data_weight = np.where(data_var > 0, 1 / np.where(data_var > 0, data_var, 1), 0.0)
    combined = (data_weight * by_data + by_judging / judging_var) / (
        data_weight + 1 / judging_var)
    moved = np.where(differs, sigmoid(logit(noise.overall) + combined), prior)
    table = table.assign(
        judged=n.astype(np.int64),
        judge_disagreement=np.where(n > 0, d / np.maximum(n, 1), np.nan),
        prior_before_judging=prior, prior=moved)
    return replace(noise, table=table)
