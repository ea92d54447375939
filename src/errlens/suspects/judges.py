"""What annotators' judging says of their labelling: a careless judge labelled carelessly too.

After a round trip in which several annotators judged the same samples, CROWDLAB's consensus
(:func:`~errlens.suspects.reviews.consensus_of`) is each such sample's verdict, and every
author's votes against it measure how careless that author is. Where an author is also a value
of a declared annotator column (who gave the rows their labels), that is a second estimate of
the group's noise, from other rows than the data's: :func:`updated_by_judging` combines the two
on the log-odds scale, each weighted by its precision.

Both are read relative to the average annotator (the consensus errs too, and round-trip samples
are harder than most, so a judge's disagreement is not its labels' noise rate; how much more
careless than the others it is, is), and judging moves a group only where a binomial test says
the author disagrees more (or less) than the other judges: a chance run of votes moves nothing.

>>> import pandas as pd
>>> from errlens.suspects.priors import GroupNoise
>>> table = pd.DataFrame({"noise_rate": [.1, .1], "ci_low": [.05, .05], "ci_high": [.19, .19],
...                       "prior": [.1, .1]}, index=["ann0", "ann1"])
>>> noise = GroupNoise("annotator", table, np.array([0, 1]), 0.1, float("inf"))
>>> judges = pd.DataFrame({"judged": [200, 200, 200], "disagreed": [70, 8, 10]},
...                       index=["ann0", "ann1", "ann2"])
>>> updated_by_judging(noise, judges).table["prior"].round(2).tolist()
[0.24, 0.05]
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

    Judging and labelling are read on one scale, relative to the average annotator: among the
    groups that judged at least :data:`~errlens.suspects.reviews.MIN_REVIEWS` votes (two or
    more of them), a group's judging says ``b = logit(r) - mean(logit(r))`` with ``r = (d +
    s D) / (n + s)`` its smoothed disagreement (``d`` of ``n`` votes against the consensus,
    ``D`` every judge's pooled rate, ``s`` = :data:`~errlens.suspects.reviews.REVIEW_STRENGTH`;
    variance ``1 / (n r (1 - r))``), and the data say ``a = logit(prior) - mean(logit(prior))``
    (variance from its 95 % interval). Where a two-sided binomial test of ``d`` against the
    other judges' rate rejects at :data:`~errlens.suspects.priors.ALPHA` (Bonferroni over the
    groups that judged), the prior becomes
    ``sigmoid(mean(logit(prior)) + c)``, ``c`` the precision-weighted mean of ``a`` and ``b``.
    The table gains ``judged``, ``judge_disagreement`` and ``prior_before_judging``; ``noise``
    comes back as is where no group is a judge who differs.
    """
    authors = {str(author): at for at, author in enumerate(judges.index)}
    at = np.array([authors.get(str(value), -1) for value in noise.table.index])
    judged = judges["judged"].to_numpy(dtype=np.float64)
    disagreed = judges["disagreed"].to_numpy(dtype=np.float64)
    n = np.where(at >= 0, judged[at], 0.0)
    d = np.where(at >= 0, disagreed[at], 0.0)
    both = n >= MIN_REVIEWS  # judged enough to be read, and labelled rows here
    pooled = float(disagreed.sum() / max(judged.sum(), 1.0))
    if both.sum() < 2 or not 0 < pooled < 1:
        return noise
    others = (disagreed.sum() - d) / np.maximum(judged.sum() - n, 1.0)
    level = ALPHA / both.sum()  # Bonferroni: one test per group that judged
    differs = both & np.array([
        count > 0 and 0 < rest < 1 and binomtest(int(k), int(count), float(rest)).pvalue < level
        for k, count, rest in zip(d, n, others, strict=True)], dtype=bool)
    if not differs.any():
        return noise
    rate = (d + REVIEW_STRENGTH * pooled) / (n + REVIEW_STRENGTH)
    by_judging = logit(rate) - logit(rate[both]).mean()
    judging_var = 1 / (np.maximum(n, 1) * rate * (1 - rate))
    table = noise.table
    prior = table["prior"].to_numpy(dtype=np.float64)
    centre = float(logit(prior[both]).mean())
    by_data = logit(prior) - centre
    data_var = ((logit(table["ci_high"].to_numpy(dtype=np.float64))
                 - logit(table["ci_low"].to_numpy(dtype=np.float64))) / 3.92) ** 2
    data_weight = np.where(data_var > 0, 1 / np.where(data_var > 0, data_var, 1), 0.0)
    combined = (data_weight * by_data + by_judging / judging_var) / (
        data_weight + 1 / judging_var)
    moved = np.where(differs, sigmoid(centre + combined), prior)
    table = table.assign(
        judged=n.astype(np.int64),
        judge_disagreement=np.where(n > 0, d / np.maximum(n, 1), np.nan),
        prior_before_judging=prior, prior=moved)
    return replace(noise, table=table)
