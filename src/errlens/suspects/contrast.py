"""Noise rates of exchangeable label sources, from how each source's rows spread over the evidence.

Where annotators (or batches, vendors, labelling rounds) label rows drawn alike from the data,
the one thing that differs between their rows is how often their labels are wrong. Among the
rows the model finds most suspicious, a careless annotator's share of rows rises above its share
of all rows, in proportion to its noise rate; among the least suspicious it falls a little. So the
sources' shares along the evidence identify each source's noise rate and how strongly the
evidence separates wrong labels from right ones, without any label known to be wrong.

Model: a row of source ``g`` is wrong with probability ``pi_g``; a wrong label's evidence ``e``
(the model's log-odds against the given label, ``log((1 - p) / ((k - 1) p))``) is
``L(e) = exp(slope * e + shift)`` times likelier than a right label's. Then

    P(source g | e) = w_g (1 - pi_g + pi_g L(e)) / sum_h w_h (1 - pi_h + pi_h L(e))

with ``w_g`` the source's share of rows. :func:`fit_contrast` maximises the likelihood of each
row's source given its evidence over ``pi``, ``slope`` and ``shift`` (rows pooled in
:data:`BINS` quantile bins of ``e``, so 1M rows cost a bincount), and a row's posterior
log-odds of a wrong label are ``logit(pi_g) + slope * e + shift``.

Why not confident learning's count per source: a confident disagreement is either a wrong label
or the model's own mistake, and the model's mistakes fall on every source alike. On the tweets
(a 3-class model right 74 % of the time), one annotator flipping 35 % of its labels among four
flipping 3 %: confident learning estimates 44 % and 21 %, this fit 36 % and 3 to 4 %.

The assumption is that sources label rows drawn alike: it holds for annotators or batches given
rows at random, not for segments of a feature (a hard segment has more confident disagreements
with no more wrong labels), which keep confident learning's count. :func:`given_alike` checks
it: a declared source whose rows the model sees differently (another mix of predicted classes
and confidence) keeps confident learning's count too.

>>> rng = np.random.default_rng(0)
>>> source = rng.integers(0, 4, 20_000)
>>> wrong = rng.random(20_000) < np.array([0.3, 0.03, 0.03, 0.03])[source]
>>> evidence = rng.normal(np.where(wrong, 1.5, -1.5), 1.0)
>>> fit = fit_contrast(evidence, source, 4)
>>> fit.rates.round(2).tolist(), fit.identified
([0.28, 0.03, 0.03, 0.03], True)
>>> [round(float(wrong[source == g].mean()), 2) for g in range(4)]   # the planted rates
[0.28, 0.03, 0.03, 0.03]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_expit
from scipy.stats import chi2, chi2_contingency

#: Quantile bins of the evidence the likelihood pools rows in.
BINS = 200
#: Bounds of the evidence's slope: a fit at a bound has not found the evidence's strength.
SLOPE_BOUNDS = (0.05, 5.0)
#: Sources whose rates a likelihood-ratio test at this level cannot tell apart share one rate.
ALPHA = 0.05
#: Sources whose rows the model sees differently (a chi-square test of independence between
#: the source and the model's prediction at this level) were not given rows alike.
ALIKE_ALPHA = 1e-3
#: Edges of the model's top probability binned with its predicted class for that test.
CONFIDENCE_EDGES = (0.2, 0.4, 0.6, 0.8)


@dataclass(frozen=True)
class ContrastFit:
    """``rates`` and their standard errors on the logit scale (``logit_se``) per source,
    the evidence's ``slope`` and ``shift``; ``measured``: the fit converged with the slope
    inside its bounds; ``differ``: the rates differ beyond chance (a likelihood-ratio test)."""

    rates: np.ndarray
    logit_se: np.ndarray
    slope: float
    shift: float
    measured: bool
    differ: bool

    @property
    def identified(self) -> bool:
        """Both: the rates and the evidence's strength were found."""
        return self.measured and self.differ


def fit_contrast(evidence: np.ndarray, codes: np.ndarray, n_groups: int) -> ContrastFit:
    """Maximum-likelihood noise rate per source (``codes`` in ``0..n_groups-1``) from each row's
    ``evidence`` (see the module docstring), pooled in :data:`BINS` quantile bins."""
    edges = np.unique(np.quantile(evidence, np.linspace(0, 1, BINS + 1)[1:-1]))
    bins = np.searchsorted(edges, evidence)
    n_bins = len(edges) + 1
    table = np.bincount(bins * n_groups + codes, minlength=n_bins * n_groups).reshape(
        n_bins, n_groups).astype(np.float64)
    center = np.bincount(bins, weights=evidence, minlength=n_bins) / np.maximum(
        table.sum(axis=1), 1)
    return fit_table(table, center)


def fit_table(table: np.ndarray, center: np.ndarray) -> ContrastFit:
    """:func:`fit_contrast` from the counts already pooled: ``table[b, g]`` rows of source
    ``g`` in evidence bin ``b``, ``center[b]`` the bin's mean evidence (an engine's GROUP BY
    gives both)."""
    n_groups = table.shape[1]
    share = table.sum(axis=0)
    log_w = np.log(np.maximum(share, 1) / share.sum())

    def nll(theta: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = _log_likelihood(theta, table, center, log_w)
        return -value, -gradient

    start = np.concatenate([[1.0, 0.0], np.full(n_groups, np.log(0.1 / 0.9))])
    bounds = [SLOPE_BOUNDS, (-10.0, 10.0)] + [(-9.0, 4.0)] * n_groups
    best = minimize(nll, start, jac=True, method="L-BFGS-B", bounds=bounds)
    theta = best.x
    null = -float((share * log_w).sum())  # equal rates: the source tells nothing of the evidence
    ratio = 2 * (null - float(best.fun))
    slope_free = SLOPE_BOUNDS[0] + 1e-3 < theta[0] < SLOPE_BOUNDS[1] - 1e-3
    # Under equal rates slope and shift are not identified: count them as free parameters.
    differ = bool(chi2.sf(max(ratio, 0.0), n_groups + 1) < ALPHA)
    return ContrastFit(expit(theta[2:]), _logit_se(nll, theta), float(theta[0]),
                       float(theta[1]), bool(best.success and slope_free), differ)


def _log_likelihood(theta: np.ndarray, table: np.ndarray, center: np.ndarray,
                    log_w: np.ndarray) -> tuple[float, np.ndarray]:
    """The log-likelihood of the sources given the evidence bins, and its gradient in
    ``theta`` = (slope, shift, logit rate per source)."""
    slope, shift, logit_rate = theta[0], theta[1], theta[2:]
    log_ratio = slope * center + shift  # log L(e) per bin
    log_rate = log_expit(logit_rate)[None, :]
    # log(1 - pi_g + pi_g L) per bin and source, and the source's log share given the bin
    mix = np.logaddexp(log_expit(-logit_rate)[None, :], log_rate + log_ratio[:, None])
    cell = mix + log_w[None, :]
    top = cell.max(axis=1, keepdims=True)
    log_total = top + np.log(np.exp(cell - top).sum(axis=1, keepdims=True))
    residual = table - table.sum(axis=1, keepdims=True) * np.exp(cell - log_total)
    towards_ratio = np.exp(log_rate + log_ratio[:, None] - mix)  # d mix / d log L
    rate = expit(logit_rate)
    towards_rate = rate * (1 - rate) * np.expm1(log_ratio)[:, None] * np.exp(-mix)
    by_bin = (residual * towards_ratio).sum(axis=1)
    gradient = np.concatenate([[float((by_bin * center).sum()), float(by_bin.sum())],
                               (residual * towards_rate).sum(axis=0)])
    return float((table * (cell - log_total)).sum()), gradient


def _logit_se(nll: Callable[[np.ndarray], tuple[float, np.ndarray]], theta: np.ndarray,
              step: float = 1e-4) -> np.ndarray:
    """Standard error of each source's logit rate: the inverse of the likelihood's curvature
    (central differences of its gradient over every parameter, so the slope's and shift's own
    uncertainty widens the rates'); ``inf`` where the curvature is not positive definite."""
    size = len(theta)
    hessian = np.empty((size, size))
    for i in range(size):
        move = np.zeros(size)
        move[i] = step
        hessian[i] = (nll(theta + move)[1] - nll(theta - move)[1]) / (2 * step)
    hessian = (hessian + hessian.T) / 2
    try:
        variance = np.diag(np.linalg.inv(hessian))[2:]
    except np.linalg.LinAlgError:
        return np.full(size - 2, np.inf)
    return np.where(variance > 0, np.sqrt(np.abs(variance)), np.inf)


def prediction_cells(proba: np.ndarray) -> np.ndarray:
    """Each row's predicted class and top-probability bin (:data:`CONFIDENCE_EDGES`) as one
    code, ``class * 5 + bin``: what the model sees of a row without its label."""
    top = proba.max(axis=1)
    confidence = (top[:, None] >= np.asarray(CONFIDENCE_EDGES)).sum(axis=1)
    return proba.argmax(axis=1) * (len(CONFIDENCE_EDGES) + 1) + confidence


def given_alike(counts: np.ndarray) -> bool:
    """Whether sources were given rows alike, from ``counts[g, c]``: rows of source ``g`` in
    prediction cell ``c`` (:func:`prediction_cells`). Rows given alike are seen alike by the
    model whatever their labels, so the sources' spread over the cells is independent of the
    source unless a chi-square test rejects at :data:`ALIKE_ALPHA`. Annotators given random
    rows pass (p 0.2–0.5 on Adult, digits and tweets); segments of a feature do not (p < 1e-7):
    the contrast's assumption fails there, and the confident joint estimates their rates.

    >>> given_alike(np.array([[50, 50], [48, 52]])), given_alike(np.array([[90, 10], [10, 90]]))
    (True, False)
    """
    counts = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0]
    if counts.shape[0] < 2 or counts.shape[1] < 2:
        return True
    return bool(chi2_contingency(counts, correction=False).pvalue >= ALIKE_ALPHA)


def shrunk_rates(fit: ContrastFit, size: np.ndarray) -> tuple[np.ndarray, float]:
    """(each source's rate shrunk toward the sources' mean, the overall rate): normal-normal
    empirical Bayes on the logit scale. The spread ``tau²`` of the true logit rates is
    DerSimonian and Laird's moment estimate (Cochran's Q with inverse-variance weights), the
    mean the random-effects one (weights ``1 / (se² + tau²)``), and a source moves toward it by
    ``se² / (se² + tau²)``, so a source with few rows is not over-trusted. Inverse-variance
    weights matter: the logit of a rate near zero is poorly known, and weighting by rows
    instead would let the careful sources' wide intervals hide a careless one with few rows.
    ``size`` (rows per source) weighs the overall rate.

    >>> fit = ContrastFit(np.array([.3, .03, .5]), np.array([.1, .1, 3.]), 1., 0., True, True)
    >>> shrunk, overall = shrunk_rates(fit, np.array([1000, 1000, 10]))
    >>> shrunk.round(2).tolist()   # the 10-row source is pulled toward the mean
    [0.3, 0.03, 0.2]
    """
    logit_rate = np.log(fit.rates) - np.log1p(-fit.rates)
    weights = size / size.sum()
    overall = float((weights * fit.rates).sum())
    finite = np.isfinite(fit.logit_se) & (fit.logit_se > 0)
    if finite.sum() < 2:
        mean = float((weights * logit_rate).sum())
        return np.full(len(logit_rate), expit(mean)), overall
    se2 = np.where(finite, fit.logit_se, np.inf) ** 2
    w = 1 / se2[finite]
    y = logit_rate[finite]
    q = float((w * (y - (w * y).sum() / w.sum()) ** 2).sum())
    tau2 = max((q - (finite.sum() - 1)) / (w.sum() - (w ** 2).sum() / w.sum()), 1e-12)
    star = 1 / (se2[finite] + tau2)
    mean = float((star * y).sum() / star.sum())
    keep = tau2 / (tau2 + se2)
    return expit(mean + keep * (logit_rate - mean)), overall
