"""Noise priors per annotator, source or segment, and the posterior that ranks suspects by them.

Confident learning judges each row alone: how unlikely the model finds its given label. Real
label errors cluster (a careless annotator, a vendor batch, a labelling round, a segment one team
reads differently), so a row labelled by a careless annotator is likelier wrong than one with
the same probabilities from a careful one. This module estimates each group's noise rate from
confident learning's joint within the group (:func:`group_noise`), shrinks it toward the
overall rate by its uncertainty (empirical Bayes), combines the groups into a per-row prior
(:func:`row_prior`) and that prior with the row's evidence into a posterior (:func:`posterior`).

>>> rng = np.random.default_rng(0)
>>> given = rng.integers(0, 2, 400)
>>> proba = np.where(given[:, None] == [0, 1], 0.8, 0.2)
>>> proba[:100] = proba[:100, ::-1]          # the first 100 rows: the model disagrees
>>> who = np.where(np.arange(400) < 100, "ann1", "ann2")
>>> noise = group_noise(given, proba, who, name="annotator")
>>> noise.table["noise_rate"].round(2).to_dict()
{'ann1': 1.0, 'ann2': 0.0}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2

from errlens.base.stats import wilson_interval
from errlens.suspects.confident import ConfidentLearning
from errlens.suspects.contrast import (
    CONFIDENCE_EDGES,
    ContrastFit,
    fit_contrast,
    given_alike,
    prediction_cells,
    shrunk_rates,
)
from errlens.suspects.rates import MISSING

#: Probabilities are clipped to [EPS, 1 - EPS] before taking odds.
EPS = 1e-6
#: Groups whose rates differ no more than a chance split would at this level share one prior.
ALPHA = 0.05


@dataclass(frozen=True)
class GroupNoise:
    """Estimated label noise per value of one grouping column (annotator, source, segment).

    ``table`` is indexed by the group value (missing values form the ``"(missing)"`` group) with
    ``n``, ``suspects`` (rows flagged), ``estimated_errors``, ``noise_rate`` with its 95 %
    Wilson interval (``ci_low``, ``ci_high``), ``prior`` (the rate shrunk toward ``overall``),
    and the group's top confusion: ``given`` → ``likely_true`` with its ``confusion_count``.
    ``codes`` gives each row's position in ``table``; ``strength`` is the pseudo-count of the
    shrinkage (``inf``: the groups do not differ more than chance, every prior is ``overall``;
    ``nan`` for a contrast fit, where each group is shrunk on the logit scale by its own
    standard error instead).
    ``method`` says how the rates were estimated: ``"contrast"`` (exchangeable sources, see
    :mod:`errlens.suspects.contrast`; ``slope`` and ``shift`` then calibrate the evidence) or
    ``"confident joint"``.
    """

    name: str
    table: pd.DataFrame
    codes: np.ndarray
    overall: float
    strength: float
    method: str = "confident joint"
    slope: float = 1.0
    shift: float = 0.0

    def row_prior(self) -> np.ndarray:
        """The shrunk prior of each row's group."""
        return self.table["prior"].to_numpy(dtype=np.float64)[self.codes]

    def describe(self, value: Any) -> str:
        """One line on the group ``value``: ``"annotator ann3: est. 31% noise [24–38%]"``."""
        value = MISSING if pd.isna(value) else value  # a row's missing value: its own group
        row = self.table.loc[value]
        text = (f"{self.name} {value}: est. {row['noise_rate']:.0%} noise "
                f"[{row['ci_low']:.0%}–{row['ci_high']:.0%}]")
        if row.get("judged", 0) > 0:
            text += (f", as a judge {row['judge_disagreement']:.0%} against consensus "
                     f"({int(row['judged'])} votes)")
        if abs(row["prior"] - row["noise_rate"]) >= 0.005:
            text += f", prior {row['prior']:.0%}"
        return text


def group_keys(values: Any, n: int, *, name: str) -> pd.Series:
    """``values`` (one per row) as a Series of group keys, missing values as ``"(missing)"``."""
    series = values if isinstance(values, pd.Series) else pd.Series(
        np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values)
    if series.ndim != 1 or len(series) != n:
        raise ValueError(f"{name} has {len(series)} values but there are {n} rows: give one "
                         f"value per row (or a column name)")
    series = series.reset_index(drop=True)
    if series.isna().any():
        series = series.astype(object).where(series.notna(), MISSING)
    return series


def group_noise(
    given_codes: np.ndarray,
    proba: np.ndarray,
    groups: Any,
    *,
    name: str,
    cl: ConfidentLearning | None = None,
    flagged: np.ndarray | None = None,
    classes: Sequence[Any] | None = None,
    exchangeable: bool = False,
) -> GroupNoise:
    """Noise rate per value of ``groups`` from the confident joint within each group, or, for
    ``exchangeable`` groups (annotators or batches given rows drawn alike), from how each
    group's rows spread over the evidence (:mod:`errlens.suspects.contrast`): where that fit
    finds the groups differ, its rates, intervals and shrinkage replace the joint's; where it
    finds them alike, every prior is the overall rate; where it cannot measure the evidence's
    strength, or the model sees the groups' rows differently (:func:`~errlens.suspects.contrast
    .given_alike`: they were not given rows alike after all), the joint's estimate stands.

    With confident learning's thresholds (set on all rows), each confident row whose guessed
    true class is not its given class ``i`` (an off-diagonal count of the confident joint)
    stands for ``rows given i / confident rows given i`` errors, as cleanlab's calibration of
    the joint to the label counts; a group's estimated errors are the sum over its rows.

    Shrinkage (empirical Bayes, a Beta prior fitted by moments): with ``m`` the overall rate
    and ``tau²`` the variance of the group rates beyond what sampling explains (the per-row
    variance of that evidence over the group's rows), the
    prior strength is ``kappa = m (1 - m) / tau² - 1`` and a group's ``prior`` is
    ``(errors + kappa m) / (n + kappa)``. Small groups stay near ``m``; when the groups differ
    no more than chance (``tau² ≤ 0``, or Cochran's Q test of homogeneity at
    :data:`ALPHA` does not reject), every prior is ``m``. ``flagged`` (default: confident
    learning's own off-diagonal filter) counts each group's suspects; ``classes`` names the
    classes in the confusion columns (default: their codes).
    """
    cl = ConfidentLearning(given_codes, proba) if cl is None else cl
    n, k = len(given_codes), cl.k
    keys = group_keys(groups, n, name=name)
    codes, uniques = pd.factorize(keys, sort=True)
    n_groups = len(uniques)
    guess, confident = cl.guess
    off = cl.off_diagonal
    # Each confident disagreement stands for rows / confident rows of its given class.
    weight = cl.label_counts / np.clip(np.bincount(given_codes[confident], minlength=k), 1, None)
    evidence = np.where(off, weight[given_codes], 0.0)
    size = np.bincount(codes, minlength=n_groups)
    fit = None
    cells_per = k * (len(CONFIDENCE_EDGES) + 1)
    if exchangeable and n_groups >= 2 and (size > 0).all() and given_alike(
            np.bincount(codes * cells_per + prediction_cells(cl.pred_probs),
                        minlength=n_groups * cells_per).reshape(n_groups, cells_per)):
        p_given = cl.pred_probs[np.arange(n), given_codes]
        fit = fit_contrast(evidence_log_odds(p_given, k), codes, n_groups)
    flagged = cl.issues("confident_learning") if flagged is None else flagged
    cells, counts = np.unique((codes[off] * k + given_codes[off]) * k + guess[off],
                              return_counts=True)
    return noise_table(
        name, uniques, codes, size=size,
        errors=np.bincount(codes, weights=evidence, minlength=n_groups),
        row_var=float(evidence.var()),
        suspects=np.bincount(codes[flagged], minlength=n_groups),
        confusions=top_confusions(cells, counts, k, n_groups, classes), fit=fit)


def noise_table(
    name: str, uniques: Any, codes: np.ndarray, *, size: np.ndarray, errors: np.ndarray,
    row_var: float, suspects: np.ndarray, confusions: pd.DataFrame, fit: ContrastFit | None,
) -> GroupNoise:
    """:func:`group_noise` from the pooled sums (the step an engine's GROUP BY can feed): per
    group its rows ``size``, the confident joint's ``errors`` (rows' evidence summed),
    flagged ``suspects`` and top ``confusions`` (:func:`top_confusions`); ``row_var`` the
    variance of one row's evidence over all rows; ``fit`` the sources' contrast (None: not
    exchangeable); ``uniques`` the group values and ``codes`` each row's group (may be empty).

    >>> none = top_confusions(np.array([], dtype=np.int64), np.array([]), 2, 2, None)
    >>> noise = noise_table("a", ["x", "y"], np.empty(0), size=np.array([100, 100]),
    ...     errors=np.array([30.0, 3.0]), row_var=0.15, suspects=np.array([30, 3]),
    ...     confusions=none, fit=None)
    >>> noise.table["noise_rate"].tolist(), noise.table["prior"].round(3).tolist()
    ([0.3, 0.03], [0.291, 0.039])
    """
    n_groups = len(size)
    overall = float(errors.sum() / max(int(size.sum()), 1))
    strength = _strength(errors, size, overall, row_var)
    if np.isinf(strength):
        prior = np.full(n_groups, overall)
    else:
        prior = (errors + strength * overall) / (size + strength)
    rate = errors / np.clip(size, 1, None)
    low, high = wilson_interval(errors, size)
    extra: dict[str, Any] = {}
    if fit is not None:
        if fit.measured and not fit.differ:  # the sources are alike: one prior for all
            prior, strength = np.full(n_groups, overall), float("inf")
        if fit.identified:
            rate, errors = fit.rates, fit.rates * size
            low, high = sigmoid(logit(rate) - 1.96 * fit.logit_se), sigmoid(
                logit(rate) + 1.96 * fit.logit_se)
            prior, overall = shrunk_rates(fit, size)
            strength = float("nan")  # shrunk on the logit scale by each group's own error
            extra = {"method": "contrast", "slope": fit.slope, "shift": fit.shift}
    table = pd.DataFrame(
        {"n": size, "suspects": suspects, "estimated_errors": errors, "noise_rate": rate,
         "ci_low": low, "ci_high": high, "prior": prior},
        index=pd.Index(uniques, name=name),
    )
    table = table.join(confusions.set_axis(table.index))
    return GroupNoise(name, table, codes, overall, strength, **extra)


def _strength(errors: np.ndarray, size: np.ndarray, overall: float, row_var: float) -> float:
    """Method-of-moments pseudo-count of the Beta prior (``inf`` when the rates do not vary
    beyond sampling: a group mean of ``n`` rows varies by ``row_var / n`` by chance)."""
    total = size.sum()
    if len(size) < 2 or total == 0 or not 0 < overall < 1:
        return float("inf")
    rates = errors / np.clip(size, 1, None)
    spread = float((size * (rates - overall) ** 2).sum() / total)
    groups = int((size > 0).sum())
    chance = row_var * groups / total
    between = spread - chance
    # Cochran's Q test of homogeneity: differences a chance split would show pool fully.
    if between <= 0 or row_var <= 0 or chi2.sf(spread * total / row_var, groups - 1) > ALPHA:
        return float("inf")
    return max(overall * (1 - overall) / between - 1, 0.0)


def top_confusions(cells: np.ndarray, counts: np.ndarray, k: int, n_groups: int,
                   classes: Sequence[Any] | None) -> pd.DataFrame:
    """Per group, its most frequent (given, guessed true) pair among confident disagreements,
    from the distinct ``cells`` ``(group * k + given) * k + guess`` (ascending) and their
    ``counts``; ties go to the first cell."""
    names = np.asarray(list(range(k)) if classes is None else list(classes), dtype=object)
    order = np.lexsort((-counts, cells // (k * k)))  # per group, largest count first
    cells, counts = cells[order], counts[order]
    first = np.ones(len(cells), dtype=bool)  # no disagreement at all: no cell, no pair
    first[1:] = (cells // (k * k))[1:] != (cells // (k * k))[:-1]
    cells, counts = cells[first], counts[first]
    out = pd.DataFrame({"given": pd.Series([None] * n_groups, dtype=object),
                        "likely_true": pd.Series([None] * n_groups, dtype=object),
                        "confusion_count": np.zeros(n_groups, dtype=np.int64)})
    at = cells // (k * k)
    out.loc[at, "given"] = names[(cells // k) % k]
    out.loc[at, "likely_true"] = names[cells % k]
    out.loc[at, "confusion_count"] = counts
    return out


def row_prior(noises: Sequence[GroupNoise], overall: float) -> np.ndarray:
    """Each row's prior probability that its label is wrong, combining its groups' priors.

    The groups' log-odds ratios over the overall rate add up (as independent pieces of
    evidence, naive Bayes): ``logit(prior) = logit(overall) + sum_g [logit(prior_g) -
    logit(overall)]``. With no group, every row's prior is ``overall``.

    >>> a = GroupNoise("a", pd.DataFrame({"prior": [0.2, 0.1]}), np.array([0, 1]), 0.1, 5.0)
    >>> row_prior([a], 0.1).round(3).tolist()
    [0.2, 0.1]
    """
    base = logit(np.float64(overall))
    total = np.full(len(noises[0].codes) if noises else 0, base)
    for noise in noises:
        total += logit(noise.row_prior()) - base
    return sigmoid(total)


def evidence_log_odds(score: np.ndarray, k: int) -> np.ndarray:
    """How much likelier a wrong label makes ``score`` than a right one, as log-odds:
    ``log((1 - p) / ((k - 1) p))`` with ``p`` the score clipped to [1e-6, 1 - 1e-6].

    >>> evidence_log_odds(np.array([0.5, 0.1]), 2).round(2).tolist()
    [0.0, 2.2]
    """
    p = np.clip(score, EPS, 1 - EPS)
    return np.log1p(-p) - np.log(p) - np.log(max(k - 1, 1))


def calibration(noises: Sequence[GroupNoise]) -> tuple[float, float]:
    """(slope, shift) of the evidence: the first group fitted by contrast's, else (1, 0)."""
    fitted = [noise for noise in noises if noise.method == "contrast"]
    return (fitted[0].slope, fitted[0].shift) if fitted else (1.0, 0.0)


def posterior(score: np.ndarray, prior: np.ndarray | float, k: int, slope: float = 1.0,
              shift: float = 0.0) -> np.ndarray:
    """Probability that each row's given label is wrong, from its confident-learning evidence
    and its prior.

    ``score`` is the row's label-quality score (cleanlab's, in [0, 1], low = suspicious; with
    ``self_confidence`` the model's probability ``p`` of the given label). If the true class
    were another with probability ``1 - p`` and a wrong label picked among the other ``k - 1``
    classes alike, Bayes' rule gives the posterior odds of an error as the prior odds times
    the evidence ratio: ``odds = prior / (1 - prior) * (1 - p) / ((k - 1) p)``, ``p``
    clipped to [1e-6, 1 - 1e-6]. With one prior for every row the order is the score's own.
    Where the sources' contrast measured the evidence's strength (:func:`calibration`), the
    evidence term is ``slope * evidence + shift`` instead.

    >>> posterior(np.array([0.1, 0.1, 0.9]), np.array([0.3, 0.03, 0.3]), 2).round(3).tolist()
    [0.794, 0.218, 0.045]
    """
    prior = np.clip(prior, EPS, 1 - EPS)
    log_odds = logit(prior) + slope * evidence_log_odds(score, k) + shift
    return sigmoid(log_odds)


def logit(p: Any) -> Any:
    """Log-odds of ``p`` clipped to [1e-6, 1 - 1e-6]."""
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


def sigmoid(x: Any) -> Any:
    """The inverse of :func:`logit`."""
    return 1 / (1 + np.exp(-x))
