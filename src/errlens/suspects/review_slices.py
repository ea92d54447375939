"""What reviews teach beyond the declared groups: the slices where the ranking was wrong, and
how strong the detector's evidence really is.

Two corrections, both measured on the reviewed rows only (the cost follows the reviews):

- **Slices** (:func:`moved_slices`). Every segment of every feature but the declared groups'
  (the dashboard's segments, ``errlens.slicing.segment_cache.segments_at``) is a candidate
  review group, though nothing declares it. A segment moves the ranking only where its reviews
  depart from what the ranking predicted: the test of
  :func:`~errlens.suspects.reviews.updated_by_reviews` (at least
  :data:`~errlens.suspects.reviews.MIN_REVIEWS` decided reviews, a two-sided binomial test of
  the relabels against the predicted precision beyond what all rows share), with the p-values of
  all segments of all features tested corrected together (Benjamini–Hochberg at
  :data:`~errlens.suspects.priors.ALPHA`), so a chance run among many segments moves nothing.
- **Calibration** (:func:`calibrated_slope`). The reviews of this detector fit a slope ``b`` in
  ``logit P(wrong) = a + logit(prior) + b * evidence`` (the evidence is the detector's
  log-odds, ``log((1 - p) / ((k - 1) p))``); ``b < 1``: its evidence is over-confident
  relative to the priors. The ranking uses ``b`` once a score test rejects ``b = 1``; reviews
  made under another detector (or naming none) do not count.

``LiveRank.rerank`` (``errlens.suspects.live_rank``) applies both, after the declared groups'
update, for the core's ranking and the browser's alike.

>>> slope, p = calibrated_slope(np.array([1, 0, 1, 0] * 10), np.zeros(40),
...                              np.array([2.0, 2.0, -2.0, -2.0] * 10))
>>> round(slope, 2), p < 0.05      # the relabels do not follow the evidence at all
(0.1, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest, chi2, false_discovery_control

from errlens.suspects.priors import ALPHA, logit, sigmoid
from errlens.suspects.reviews import BOUND, MIN_REVIEWS, REVIEW_STRENGTH

#: At most this many features' slices move one ranking (see :func:`moved_slices`).
MAX_SLICE_FEATURES = 3
#: Standard deviation of the Gaussian prior on the evidence slope ``b`` around 1: reviews must
#: outweigh about ``1 / SLOPE_SD² = 4`` pseudo-observations of ``b = 1`` to move it.
SLOPE_SD = 0.5
#: The evidence is clipped to ±logit(BOUND) in the fit: a confirm of a row the detector was
#: 99.9999 % sure of is no more telling than one at 98 % (the tail would set the slope alone).
LEVERAGE = float(logit(BOUND))
#: The slope is kept within these bounds (a negative slope would reverse the evidence).
SLOPE_RANGE = (0.1, 10.0)


@dataclass(frozen=True)
class SliceMove:
    """The moved segments of one feature: ``table`` per segment (``segment``, ``reviewed``,
    ``relabeled``, ``predicted_precision``, ``p_value``, ``p_adjusted``, ``moved``, ``shift``:
    the prior log-odds added to its rows), ``codes`` each row's segment."""

    feature: str
    codes: np.ndarray
    table: pd.DataFrame

    def describe(self, code: int) -> str | None:
        """``"slice occupation = Farming-fishing: reviews found 14 of 20 wrong, predicted
        35%"`` for a moved segment, None for another."""
        row = self.table.iloc[code]
        if not row["moved"]:
            return None
        return (f"slice {self.feature} = {row['segment']}: reviews found "
                f"{int(row['relabeled'])} of {int(row['reviewed'])} wrong, predicted "
                f"{row['predicted_precision']:.0%}")


@dataclass(frozen=True)
class Calibration:
    """The detector's evidence slope fitted on its ``reviewed`` decided reviews."""

    method: str
    slope: float
    reviewed: int
    p_value: float

    def describe(self) -> str:
        """``"detector confident_learning: reviews say its evidence is 0.6x as strong as
        assumed"``."""
        return (f"detector {self.method}: reviews say its evidence is {self.slope:.2g}x as "
                f"strong as assumed")


@dataclass(frozen=True)
class ReviewMoves:
    """What the reviews moved beyond the declared groups (``ids``: the rows' sample ids)."""

    ids: pd.Index
    slices: tuple[SliceMove, ...] = ()
    calibration: Calibration | None = None

    def codes_at(self, position: int) -> tuple[int, ...]:
        """The row's segment of each moved feature."""
        return tuple(int(move.codes[position]) for move in self.slices)

    def describe(self, codes: tuple[int, ...]) -> list[str]:
        """The parts of a row's ``why`` (its moved slices, the detector's calibration)."""
        parts = [move.describe(code) for move, code in zip(self.slices, codes, strict=True)]
        if self.calibration is not None:
            parts.append(self.calibration.describe())
        return [part for part in parts if part]

    def why(self, id: Any) -> list[str]:
        """:meth:`describe` of the row of sample ``id``."""
        return self.describe(self.codes_at(int(self.ids.get_indexer(pd.Index([id]))[0])))

    def table(self) -> pd.DataFrame:
        """The segments tested in the moved features (the ``review_slices`` of a result)."""
        frames = [move.table.assign(feature=move.feature) for move in self.slices]
        columns = ["feature", "segment", "reviewed", "relabeled", "predicted_precision",
                   "p_value", "p_adjusted", "moved", "shift"]
        if not frames:
            return pd.DataFrame(columns=columns)
        return pd.concat(frames, ignore_index=True)[columns]

    def params(self) -> dict[str, Any]:
        """JSON-able record of the moves, for a cause's parameters."""
        table = self.table()
        moved = table[table["moved"].astype(bool)]
        numbers = moved[["reviewed", "relabeled", "predicted_precision", "shift"]].to_numpy(
            dtype=np.float64)
        calibration = self.calibration
        return {
            "review_slices": [
                {"feature": str(feature), "segment": str(segment), "reviewed": int(reviewed),
                 "relabeled": int(relabeled), "predicted_precision": float(predicted),
                 "shift": float(shift)}
                for feature, segment, (reviewed, relabeled, predicted, shift)
                in zip(moved["feature"], moved["segment"], numbers, strict=True)],
            "review_calibration": None if calibration is None else {
                "method": calibration.method, "slope": calibration.slope,
                "reviewed": calibration.reviewed, "p_value": calibration.p_value},
        }

    def shift(self, n: int) -> np.ndarray | None:
        """Each row's prior log-odds added by the moved slices (None: nothing moved)."""
        if not self.slices:
            return None
        total = np.zeros(n)
        for move in self.slices:
            total += move.table["shift"].to_numpy(dtype=np.float64)[move.codes]
        return total


def calibrated_slope(wrong: np.ndarray, offset: np.ndarray, x: np.ndarray
                     ) -> tuple[float, float]:
    """(slope, p-value) of ``logit P(wrong) = a + offset + b x`` (``x`` clipped to
    ±:data:`LEVERAGE`): the maximum a posteriori ``b`` under a Gaussian prior
    ``N(1, SLOPE_SD²)``, ``a`` free, clipped to :data:`SLOPE_RANGE`, and the score test's
    p-value of ``b = 1`` (the information at the fit with ``b = 1``; it stays finite when the
    reviews separate perfectly). Newton's method."""
    x = np.clip(x, -LEVERAGE, LEVERAGE)
    with np.errstate(over="ignore"):
        a = _intercept(wrong, offset + x)
        mu = sigmoid(a + offset + x)
        w = mu * (1 - mu)
        information = (w * x * x).sum() - (w * x).sum() ** 2 / max(w.sum(), 1e-12)
        u = float(((wrong - mu) * x).sum())
        p_value = float(chi2.sf(u * u / information, 1)) if information > 1e-12 else 1.0
        b = 1.0
        for _ in range(50):
            mu = sigmoid(a + offset + b * x)
            w = mu * (1 - mu)
            grad = np.array([(wrong - mu).sum(),
                             ((wrong - mu) * x).sum() - (b - 1) / SLOPE_SD**2])
            hess = np.array([[w.sum() + 1e-9, (w * x).sum()],
                             [(w * x).sum(), (w * x * x).sum() + 1 / SLOPE_SD**2]])
            step = np.linalg.solve(hess, grad)
            a, b = a + float(step[0]), b + float(step[1])
            if abs(step).max() < 1e-9:
                break
    return float(np.clip(b, *SLOPE_RANGE)), p_value


def _intercept(wrong: np.ndarray, offset: np.ndarray) -> float:
    """Maximum-likelihood ``a`` of ``logit P(wrong) = a + offset`` (Newton's method)."""
    a = 0.0
    for _ in range(50):
        mu = sigmoid(a + offset)
        step = float((wrong - mu).sum() / max((mu * (1 - mu)).sum(), 1e-12))
        a += step
        if abs(step) < 1e-10:
            break
    return a


def moved_slices(
    wrong: np.ndarray,
    base: np.ndarray,
    strength: np.ndarray,
    rows: np.ndarray,
    codes: np.ndarray,
    columns: Sequence[int],
    features: Sequence[str],
    labels: Sequence[Sequence[str]],
) -> tuple[SliceMove, ...]:
    """The features whose segments' reviews depart from the ranking's prediction.

    Of the decided reviewed rows: ``wrong`` (relabeled), ``base`` (prior log-odds after the
    declared groups' update), ``strength`` (the calibrated evidence log-odds), ``rows`` (their
    positions); ``codes`` is the segments' matrix of all rows, ``columns`` its candidate
    columns (feature ``features[j]``, segments ``labels[j]``).

    Features are correlated (occupation and education, a pixel and its neighbour); adding every
    feature's moves would count the same reviews once per feature (naive Bayes over features).
    So features enter by forward selection: among the features with a segment that the
    Benjamini–Hochberg procedure rejects, the one whose moved segments gain the most binomial
    log-likelihood on the reviews enters; the prediction is updated with its moves and every
    other feature is tested again, with a fresh correction, against what is left. A
    correlated feature then no longer departs (its departure was the first one's), a feature
    with its own signal still does. At most :data:`MAX_SLICE_FEATURES` enter.
    """
    current = base.copy()
    chosen: list[SliceMove] = []
    left = list(columns)
    while left and len(chosen) < MAX_SLICE_FEATURES:
        predicted = sigmoid(current + strength)
        tests = [_segment_tests(wrong, predicted, codes[rows, j], len(labels[j])) for j in left]
        p = np.concatenate([t["p_value"].to_numpy() for t in tests])
        tested = ~np.isnan(p)
        if not tested.any():
            break
        adjusted = np.full(len(p), np.nan)
        adjusted[tested] = false_discovery_control(p[tested], method="bh")
        start, best, best_gain = 0, -1, 0.0
        for i, table in enumerate(tests):
            table["p_adjusted"] = adjusted[start: start + len(table)]
            start += len(table)
            table["moved"] = table["p_adjusted"].to_numpy() <= ALPHA
            gain = float(table["gain"].to_numpy()[table["moved"].to_numpy()].sum())
            if table["moved"].any() and gain > best_gain:
                best, best_gain = i, gain
        if best < 0:
            break
        j = left.pop(best)
        table = tests[best]
        table["shift"] = np.where(table["moved"], table["shift"], 0.0)
        table.insert(0, "segment", list(labels[j]))
        chosen.append(SliceMove(features[j], codes[:, j], table.drop(columns="gain")))
        current = current + table["shift"].to_numpy(dtype=np.float64)[codes[rows, j]]
    return tuple(chosen)


def _segment_tests(wrong: np.ndarray, predicted: np.ndarray, codes: np.ndarray,
                   segments: int) -> pd.DataFrame:
    """Per segment, :func:`~errlens.suspects.reviews.updated_by_reviews`' numbers: reviews,
    relabels, predicted precision ``q``, the binomial test's p-value against it beyond what
    all reviewed rows share (NaN: fewer than MIN_REVIEWS), the log-odds shift if it moved and
    the binomial log-likelihood the shift gains on the segment's reviews."""
    reviewed = np.bincount(codes, minlength=segments).astype(np.float64)
    relabeled = np.bincount(codes, weights=wrong, minlength=segments)
    expected = np.bincount(codes, weights=predicted, minlength=segments)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.clip(np.where(reviewed > 0, expected / reviewed, 0.5), 1 - BOUND, BOUND)
        observed = (relabeled + REVIEW_STRENGTH * q) / (reviewed + REVIEW_STRENGTH)
    q_all = float(np.clip(predicted.mean(), 1 - BOUND, BOUND))
    o_all = (wrong.sum() + REVIEW_STRENGTH * q_all) / (len(wrong) + REVIEW_STRENGTH)
    common = float(logit(o_all) - logit(q_all))
    rate = sigmoid(logit(q) + common)
    p = np.full(segments, np.nan)
    for s in np.flatnonzero(reviewed >= MIN_REVIEWS):
        p[s] = binomtest(int(relabeled[s]), int(reviewed[s]), float(rate[s])).pvalue
    with np.errstate(invalid="ignore", divide="ignore"):  # the moved rate is ``observed``
        gain = relabeled * np.log(observed / rate) + (reviewed - relabeled) * np.log(
            (1 - observed) / (1 - rate))
    return pd.DataFrame({
        "reviewed": reviewed.astype(np.int64), "relabeled": relabeled.astype(np.int64),
        "predicted_precision": np.where(reviewed > 0, q, np.nan), "p_value": p,
        "shift": logit(observed) - logit(q) - common, "gain": gain})
