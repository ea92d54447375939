"""Confusion tables of any cohort: counts, normalised tables, per-class report, top confused
pairs, and the cohort compared with the rest of the data.

>>> import errlens as el
>>> ev = el.Analysis.from_predictions({"x": [1, 2, 3, 4]}, y_true=["a", "a", "b", "b"],
...                                   y_pred=["a", "b", "b", "b"])
>>> result = confusion_result(ev)
>>> result.counts.values.tolist()
[[1, 1], [0, 2]]
>>> result.cell_cohort("a", "b").mask(ev).tolist()
[False, True, False, False]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from errlens.data.cohort import Cohort
from errlens.slicing.counting import NumpyCounting
from errlens.slicing.masks import to_cohort
from errlens.slicing.segment_cache import segments_at

if TYPE_CHECKING:
    from errlens.data.evaldata import EvalData

NORMALIZE = (None, "true", "pred", "all")


@dataclass(frozen=True)
class ConfusionResult:
    """Confusion counts (rows: given label, columns: predicted) of ``cohort`` and derived tables.

    ``report`` equals scikit-learn's ``classification_report`` (with ``zero_division=nan``);
    ``comparison`` holds the same per-class figures for the cohort and for the rest of the rows
    (None when the cohort is every row).
    """

    classes: list[Any]
    counts: pd.DataFrame
    normalize: str | None
    report: pd.DataFrame
    top_pairs: pd.DataFrame
    accuracy: float
    comparison: pd.DataFrame | None
    cohort: Cohort | None

    @classmethod
    def from_counts(
        cls, cm: np.ndarray, classes: Sequence[Any], *, rest: np.ndarray | None = None,
        normalize: str | None = None, top: int = 10, cohort: Cohort | None = None,
    ) -> ConfusionResult:
        """The result of confusion counts ``cm[true, predicted]`` (in ``classes`` order) of
        ``cohort``; ``rest`` counts the other rows (the comparison is None without it, or when
        it is empty).

        >>> result = ConfusionResult.from_counts(np.array([[5, 1], [3, 1]]), ["no", "yes"])
        >>> result.accuracy, result.report["recall"].tolist()
        (0.6, [0.8333333333333334, 0.25])
        """
        if normalize not in NORMALIZE:
            raise ValueError(f"normalize must be one of {NORMALIZE}, got {normalize!r}")
        k = len(classes)
        for name, counts in (("cm", cm), ("rest", rest)):
            if counts is not None and np.shape(counts) != (k, k):
                raise ValueError(f"{name} must be {k} x {k} for {k} classes, got shape "
                                 f"{np.shape(counts)}")
        index = pd.Index(list(classes), name="true")
        comparison = None
        if rest is not None and rest.sum():
            comparison = pd.concat([_report(cm, index).add_suffix("_slice"),
                                    _report(rest, index).add_suffix("_rest")], axis=1)
        total = cm.sum()
        return cls(
            classes=list(classes),
            counts=pd.DataFrame(cm, index=index,
                                columns=pd.Index(list(classes), name="predicted")),
            normalize=normalize,
            report=_report(cm, index),
            top_pairs=_top_pairs(cm, list(classes), top),
            accuracy=float(np.trace(cm) / total) if total else float("nan"),
            comparison=comparison,
            cohort=cohort,
        )

    @property
    def table(self) -> pd.DataFrame:
        """Counts, or the table normalised as asked by ``normalize``."""
        return self.normalized(self.normalize)

    def normalized(self, how: str | None) -> pd.DataFrame:
        """``"true"``: rows sum to 1 (recall on the diagonal); ``"pred"``: columns sum to 1
        (precision on the diagonal); ``"all"``: the whole table sums to 1; None: counts."""
        if how not in NORMALIZE:
            raise ValueError(f"normalize must be one of {NORMALIZE}, got {how!r}")
        counts = self.counts.astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            if how == "true":
                return counts.div(counts.sum(axis=1).replace(0, np.nan), axis=0)
            if how == "pred":
                return counts.div(counts.sum(axis=0).replace(0, np.nan), axis=1)
            if how == "all":
                total = counts.to_numpy().sum()
                return counts / total if total else counts * np.nan
        return self.counts

    def cell_cohort(self, true_label: Any, predicted_label: Any) -> Cohort:
        """The rows behind one cell, as a cohort (within this table's cohort)."""
        for label in (true_label, predicted_label):
            if label not in self.classes:
                raise KeyError(f"{label!r} is not a class; classes are {self.classes}")
        cell = Cohort.confusion_cell(true_label, predicted_label)
        return cell if self.cohort is None else self.cohort & cell


def confusion_result(
    analysis: EvalData, cohort: Any = None, *, normalize: str | None = None, top: int = 10
) -> ConfusionResult:
    """Confusion table of ``cohort`` (every row by default)."""
    if analysis.task == "regression":
        raise ValueError("confusion tables need a classifier; this analysis is a regression "
                         "(use slices(metric='mae') instead)")
    if normalize not in NORMALIZE:
        raise ValueError(f"normalize must be one of {NORMALIZE}, got {normalize!r}")
    cm, rest = NumpyCounting(analysis, segments_at(analysis)).confusion_counts(cohort)
    return ConfusionResult.from_counts(cm, analysis.classes, rest=rest, normalize=normalize,
                                       top=top, cohort=to_cohort(analysis, cohort))


def _report(cm: np.ndarray, index: pd.Index) -> pd.DataFrame:
    tp = np.diag(cm).astype(float)
    predicted, support = cm.sum(axis=0), cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, tp / predicted, np.nan)
        recall = np.where(support > 0, tp / support, np.nan)
        f1 = np.where(predicted + support > 0, 2 * tp / (predicted + support), np.nan)
    return pd.DataFrame({"precision": precision, "recall": recall, "f1": f1, "support": support},
                        index=index)


def _top_pairs(cm: np.ndarray, classes: list[Any], top: int) -> pd.DataFrame:
    off = cm.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(-off, axis=None, kind="stable")[:top]
    true_i, pred_i = np.unravel_index(order, cm.shape)
    n = off[true_i, pred_i]
    keep = n > 0
    errors = off.sum()
    support = np.maximum(cm.sum(axis=1)[true_i], 1)  # only pairs with n > 0 are kept
    return pd.DataFrame({
        "true": np.asarray(classes, dtype=object)[true_i][keep],
        "predicted": np.asarray(classes, dtype=object)[pred_i][keep],
        "n": n[keep],
        "share_of_errors": (n / max(errors, 1))[keep],
        "share_of_true": (n / support)[keep],
    })
