"""Confident learning on (labels, probabilities): cleanlab's filters and scores, computed once.

This is cleanlab 2.x's ``filter.find_label_issues`` re-expressed over rows grouped by class, so
that one pass over the data serves every filter and no (n, k) copy is made. The small (k, k)
steps (rounding the confident joint) call cleanlab itself; the tests assert the flagged sets are
identical to ``cleanlab.filter.find_label_issues`` for every ``filter_by``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from cleanlab.filter import _keep_at_least_n_per_class
from cleanlab.internal.constants import (
    CONFIDENT_THRESHOLDS_LOWER_BOUND,
    FLOATING_POINT_COMPARISON,
    TINY_VALUE,
)
from cleanlab.internal.util import round_preserving_row_totals
from cleanlab.rank import get_confidence_weighted_entropy_for_each_label

FILTERS: tuple[str, ...] = (
    "prune_by_noise_rate", "prune_by_class", "both", "confident_learning",
    "predicted_neq_given", "low_normalized_margin", "low_self_confidence",
)
RANKINGS: tuple[str, ...] = ("self_confidence", "normalized_margin", "confidence_weighted_entropy")
PROBA_SUM_TOLERANCE = 1e-4


def check_inputs(labels: np.ndarray, pred_probs: np.ndarray) -> None:
    """Raise a clear error unless ``pred_probs`` is a valid (n, k) probability matrix for the
    integer ``labels`` and every class present has at least two examples."""
    if pred_probs.ndim != 2 or pred_probs.shape[1] < 2:
        raise ValueError(f"probabilities must be (n, k ≥ 2), got shape {pred_probs.shape}")
    n, k = pred_probs.shape
    if labels.shape != (n,):
        raise ValueError(f"there are {labels.shape[0]} labels but {n} rows of probabilities")
    if labels.size and (labels.min() < 0 or labels.max() >= k):
        raise ValueError(
            f"label codes must lie in [0, {k}) to match the {k} probability columns, got "
            f"[{labels.min()}, {labels.max()}]: pass one probability column per class"
        )
    finite = np.isfinite(pred_probs).all(axis=1)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        raise ValueError(
            f"{bad.size} rows have NaN or infinite scores (first at rows {bad[:5].tolist()}); "
            "drop them or fix the model output"
        )
    sums = pred_probs.sum(axis=1)
    off = np.abs(sums - 1) > PROBA_SUM_TOLERANCE
    if off.any() or (pred_probs < 0).any():
        first = int(np.flatnonzero(off)[0]) if off.any() else int(np.flatnonzero(pred_probs < 0)[0])
        raise ValueError(
            f"probability rows must be non-negative and sum to 1; row {first} sums to "
            f"{sums[first]:.4f}: apply a softmax to raw scores first"
        )
    check_class_sizes(labels, k)


def check_class_sizes(labels: np.ndarray, k: int) -> None:
    """Raise unless every class given to some row is given to at least two."""
    check_label_counts(np.bincount(labels, minlength=k))


def check_label_counts(counts: np.ndarray) -> None:
    """:func:`check_class_sizes` of the count of rows given each class."""
    single = np.flatnonzero(counts == 1)
    if single.size:
        raise ValueError(
            f"classes at positions {single.tolist()} have a single example: confident learning "
            "cannot estimate their noise rate; merge them into another class or drop those rows"
        )


@dataclass
class ConfidentLearning:
    """The shared state of confident learning for integer ``labels`` and ``pred_probs``.

    >>> P = np.array([[.9, .1], [.8, .2], [.7, .3], [.2, .8], [.1, .9], [.85, .15]])
    >>> cl = ConfidentLearning(np.array([0, 0, 0, 1, 1, 1]), P)
    >>> np.flatnonzero(cl.issues("confident_learning")).tolist(), cl.confident_joint.tolist()
    ([5], [[3, 0], [1, 2]])
    """

    labels: np.ndarray
    pred_probs: np.ndarray

    @cached_property
    def k(self) -> int:
        return int(self.pred_probs.shape[1])

    @cached_property
    def label_counts(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=self.k)

    @cached_property
    def rows_by_class(self) -> list[np.ndarray]:
        """Row positions of each given class, in original order (a stable grouping)."""
        order = np.argsort(self.labels, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(self.label_counts)])
        return [order[bounds[c] : bounds[c + 1]] for c in range(self.k)]

    @cached_property
    def thresholds(self) -> np.ndarray:
        """Per-class mean probability of the class among rows labelled with it."""
        means = [
            np.mean(self.pred_probs[rows, c]) if rows.size else 2.0
            for c, rows in enumerate(self.rows_by_class)
        ]
        return np.clip(means, a_min=CONFIDENT_THRESHOLDS_LOWER_BOUND, a_max=None)

    @cached_property
    def guess(self) -> tuple[np.ndarray, np.ndarray]:
        """(guessed true class of each row, mask of the confident rows, those with some class
        above its threshold). The guess is the only class above threshold, or the argmax
        among several; it means nothing where the row is not confident."""
        above = self.pred_probs >= self.thresholds - 1e-6
        n_above = above.sum(axis=1)
        guess = np.where(n_above > 1, self.predicted, above.argmax(axis=1))
        return guess, n_above > 0

    @cached_property
    def _confident(self) -> tuple[np.ndarray, np.ndarray]:
        """(uncalibrated confident joint, mask of confident rows whose guessed true class is
        not the given one)."""
        guess, confident = self.guess
        k = self.k
        # (true, given) counts transposed, as cleanlab's transposed confusion matrix: the memory
        # order changes how the calibration's float sum rounds, which can break rounding ties.
        joint = np.bincount(
            guess[confident] * k + self.labels[confident], minlength=k * k
        ).reshape(k, k).T
        return joint, confident & (guess != self.labels)

    @cached_property
    def predicted(self) -> np.ndarray:
        return self.pred_probs.argmax(axis=1)

    @cached_property
    def confident_joint(self) -> np.ndarray:
        """Counts of (given, guessed true) among confident rows, calibrated to the label counts."""
        return calibrated_joint(self._confident[0], self.label_counts)

    @cached_property
    def off_diagonal(self) -> np.ndarray:
        """Confident rows whose guessed true class differs from the given one."""
        return self._confident[1]

    @cached_property
    def close_to_given(self) -> np.ndarray:
        """Rows whose given class wins the argmax once nudged up by 1e-6 (never flagged)."""
        p, rows = self.pred_probs, np.arange(len(self.labels))
        boosted = p[rows, self.labels] + FLOATING_POINT_COMPARISON
        best = p[rows, self.predicted]
        close = best < boosted
        # An exact tie with the nudged value: argmax keeps the first column, so it depends on
        # which side of the given class the rival sits (rare; checked row by row).
        for i in np.flatnonzero(best == boosted):
            rivals = np.flatnonzero(p[i] == boosted[i])
            close[i] = bool((rivals > self.labels[i]).all())
        return close

    def scores(self, kind: str) -> np.ndarray:
        """cleanlab's label-quality score of each row (lower = more likely mislabeled)."""
        p, rows = self.pred_probs, np.arange(len(self.labels))
        own = p[rows, self.labels]
        if kind == "self_confidence":
            return own
        if kind == "normalized_margin":
            others = np.where(
                np.arange(self.k)[None, :] == self.labels[:, None], -np.inf, p
            ).max(axis=1)
            return (own - others + 1) / 2
        if kind == "confidence_weighted_entropy":
            return get_confidence_weighted_entropy_for_each_label(self.labels, p)
        raise ValueError(f"rank_by must be one of {RANKINGS}, got {kind!r}")

    def issues(self, filter_by: str) -> np.ndarray:
        """Boolean mask of label issues, as cleanlab's ``find_label_issues(filter_by=...)``."""
        if filter_by not in FILTERS:
            raise ValueError(f"filter_by must be one of {FILTERS}, got {filter_by!r}")
        if filter_by in ("low_normalized_margin", "low_self_confidence"):
            count = int((self.off_diagonal & ~self.close_to_given).sum())
            mask = np.zeros(len(self.labels), dtype=bool)
            mask[np.argsort(self.scores(filter_by[4:]))[:count]] = True
            return mask
        if filter_by == "confident_learning":
            mask = self.off_diagonal.copy()
        elif filter_by == "predicted_neq_given":
            mask = self.predicted != self.labels
        else:
            mask = self._pruned(filter_by)
        mask[self.close_to_given] = False
        return mask

    def _pruned(self, filter_by: str) -> np.ndarray:
        prune = _keep_at_least_n_per_class(self.confident_joint.T, n=1, frac_noise=1.0)
        by_class = np.zeros(len(self.labels), dtype=bool)
        by_rate = np.zeros(len(self.labels), dtype=bool)
        for c, rows in enumerate(self.rows_by_class):
            if rows.size <= 1:  # cleanlab never prunes a class with one example
                continue
            if filter_by in ("prune_by_class", "both"):
                n_issues = rows.size - prune[c, c]
                if n_issues >= 1:
                    own = self.pred_probs[rows, c]
                    by_class[rows[np.argsort(own)[:n_issues]]] = True
            if filter_by in ("prune_by_noise_rate", "both"):
                p = self.pred_probs[rows]
                local = np.zeros(rows.size, dtype=bool)
                for j in range(self.k):
                    if j != c and prune[j, c] > 0:
                        margin = p[:, j] - p[:, c]
                        local[np.argsort(-margin)[: prune[j, c]]] = True
                by_rate[rows] = local
        if filter_by == "prune_by_class":
            return by_class
        if filter_by == "prune_by_noise_rate":
            return by_rate
        return by_class & by_rate


def calibrated_joint(joint: np.ndarray, label_counts: np.ndarray) -> np.ndarray:
    """cleanlab's calibration of the confident ``joint`` (given x guessed true counts among the
    confident rows) to the ``label_counts``, rounded keeping each row's total.

    >>> calibrated_joint(np.array([[3, 0], [1, 2]]), np.array([3, 3])).tolist()
    [[3, 0], [1, 2]]
    """
    joint = joint.copy(order="K")
    np.fill_diagonal(joint, joint.diagonal().clip(min=1))
    calibrated = (joint.T / np.clip(joint.sum(axis=1), a_min=TINY_VALUE, a_max=None)
                  * label_counts).T
    calibrated = calibrated / np.clip(np.sum(calibrated), a_min=TINY_VALUE, a_max=None) * (
        label_counts.sum()
    )
    return round_preserving_row_totals(calibrated)
