"""Per-group statistics as counts over integer group codes (``np.bincount``).

Every slice table, heatmap cell and tree node is a group: rows, errors, error rate with its
Wilson interval, lift over the overall error rate, share of all errors, and optionally one more
metric (accuracy, per-class precision / recall / F1, FPR / FNR for binary tasks, MAE / RMSE for
regressions). A metric whose denominator is zero in a group is NaN there (scikit-learn would
report 0 with a warning).

>>> import numpy as np
>>> import errlens as el
>>> ev = el.Analysis.from_predictions({"x": [0, 0, 1, 1]}, y_true=[0, 1, 1, 1], y_pred=[0, 0, 1, 0])
>>> ctx = MetricContext.build(ev, np.ones(4, bool), metric="recall")
>>> counts = GroupCounts.from_groups(np.array([0, 0, 1, 1]), 2, ctx)
>>> {k: counts.columns("recall")[k].tolist() for k in ("n", "errors", "recall")}
{'n': [2, 2], 'errors': [1, 1], 'recall': [0.0, 0.5]}

The counts are the seam between counting and statistics: the in-memory functions count with
numpy (:meth:`GroupCounts.from_groups`), the engines pull ``cm[group, true, pred]`` back from
DuckDB / Spark (:meth:`GroupCounts.from_confusion`); the columns are computed once, here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from errlens.base.stats import wilson_interval

if TYPE_CHECKING:
    from errlens.data.evaldata import EvalData

CLASS_METRICS = ("precision", "recall", "f1")
BINARY_METRICS = ("fpr", "fnr")
REGRESSION_METRICS = ("mae", "rmse")
METRICS = ("error_rate", "accuracy", *CLASS_METRICS, *BINARY_METRICS, *REGRESSION_METRICS)
# Metrics that are a share of rows, so they get a Wilson interval.
_PROPORTIONS = ("accuracy", "precision", "recall", "fpr", "fnr")


@dataclass(frozen=True)
class MetricContext:
    """The arrays of the selected rows and the metric to compute on them."""

    is_error: np.ndarray
    true_codes: np.ndarray | None
    pred_codes: np.ndarray | None
    abs_error: np.ndarray | None
    n_classes: int
    metric: str
    label_index: int | None
    confidence: float
    positions: np.ndarray | None  # the selected rows' positions; None when every row is

    @classmethod
    def build(
        cls, analysis: EvalData, mask: np.ndarray, *, metric: str = "error_rate",
        label: Any = None, confidence: float = 0.95,
    ) -> MetricContext:
        """Check ``metric`` against the task and keep the rows of ``mask``."""
        label_index = check_metric(metric, analysis.task, list(analysis.classes), label)
        if not 0 < confidence < 1:
            raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
        regression = analysis.task == "regression"
        # Positions, not the boolean mask: a gather by positions is ~20x faster than boolean
        # indexing of a scattered mask, and the callers reuse them for their own gathers.
        positions = None if mask.all() else np.flatnonzero(mask)
        pick = (lambda a: a) if positions is None else (lambda a: a[positions])
        needs_labels = metric in (*CLASS_METRICS, *BINARY_METRICS)
        true_codes, pred_codes = label_codes(analysis) if needs_labels else (None, None)
        return cls(
            is_error=pick(analysis.is_error).astype(np.float64),
            true_codes=None if true_codes is None else pick(true_codes),
            pred_codes=None if pred_codes is None else pick(pred_codes),
            abs_error=pick(analysis.error) if regression else None,
            n_classes=len(analysis.classes),
            metric=metric,
            label_index=label_index,
            confidence=confidence,
            positions=positions,
        )

    @property
    def rows(self) -> int:
        return len(self.is_error)


def label_codes(data: EvalData) -> tuple[np.ndarray, np.ndarray]:
    """Given and predicted labels as class positions (computed once, in the data's cache)."""
    return data.y_true_codes, data.y_pred_codes


@dataclass(frozen=True)
class GroupCounts:
    """Per group (segment, heatmap cell): rows, errors and, for a metric other than the error
    rate, its numerator and denominator (for ``mae`` / ``rmse``: the sum of |error| or error²
    and the rows). Every table of groups is built from these, whoever counted them.

    >>> cm = np.array([[[3, 1], [0, 0]], [[0, 0], [2, 2]]])  # two groups, two classes
    >>> c = GroupCounts.from_confusion(cm, "recall", 1)
    >>> c.n.tolist(), c.errors.tolist(), c.numerator.tolist(), c.denominator.tolist()
    ([4, 4], [1, 2], [0, 2], [0, 4])
    """

    n: np.ndarray
    errors: np.ndarray
    numerator: np.ndarray | None = None
    denominator: np.ndarray | None = None

    @classmethod
    def from_confusion(cls, cm: np.ndarray, metric: str = "error_rate",
                       label_index: int | None = None) -> GroupCounts:
        """From confusion counts ``cm[group, true, predicted]`` of a classifier."""
        n = cm.sum(axis=(1, 2)).astype(np.int64)
        errors = (n - np.trace(cm, axis1=1, axis2=2)).astype(np.int64)
        if metric == "error_rate":
            return cls(n, errors)
        return cls(n, errors, *fraction_from_confusion(cm, metric, label_index))

    @classmethod
    def from_groups(cls, groups: np.ndarray | None, n_groups: int, ctx: MetricContext, *,
                    counts: tuple[np.ndarray, np.ndarray] | None = None) -> GroupCounts:
        """From one group code per selected row of ``ctx`` (``np.bincount``). ``counts``
        (rows, errors) may come precomputed (:mod:`errlens.slicing.packed`); ``groups`` is
        then only needed for a metric other than the error rate."""
        if counts is None:
            assert groups is not None
            n = np.bincount(groups, minlength=n_groups)
            errors = np.rint(np.bincount(groups, weights=ctx.is_error, minlength=n_groups))
            errors = errors.astype(np.int64)
        else:
            n, errors = counts
        if ctx.metric == "error_rate":
            return cls(n, errors)
        assert groups is not None
        return cls(n, errors, *_metric_counts(groups, n_groups, ctx))

    def columns(self, metric: str = "error_rate", *, confidence: float = 0.95, ci: bool = True
                ) -> dict[str, np.ndarray]:
        """:func:`error_columns` and the ``metric``'s columns; with ``ci=False`` the error-rate
        interval is left to the caller (one call for many features)."""
        if not 0 < confidence < 1:
            raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
        out = error_columns(self.n, self.errors, int(self.n.sum()),
                            confidence=confidence if ci else None)
        if metric == "error_rate":
            return out
        if self.numerator is None or self.denominator is None:
            raise ValueError(f"these counts have no numerator / denominator for {metric!r}; "
                             f"count them with metric={metric!r}")
        if metric in REGRESSION_METRICS:
            out.update(_regression_columns(metric, self.numerator, self.denominator))
        else:
            out.update(fraction_columns(metric, self.numerator, self.denominator,
                                        confidence=confidence))
        return out


def error_columns(n: np.ndarray, errors: np.ndarray, rows: int, *,
                  confidence: float | None) -> dict[str, np.ndarray]:
    """``n``, ``errors``, ``error_rate`` (with its Wilson interval unless ``confidence`` is
    None), ``lift`` over the error rate of all ``rows`` and ``error_share`` of each group.

    >>> error_columns(np.array([4, 6]), np.array([1, 3]), 10, confidence=None)["lift"].tolist()
    [0.625, 1.25]
    """
    total_errors = int(errors.sum())
    overall = total_errors / rows if rows else np.nan
    size = len(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, errors / np.maximum(n, 1), np.nan)
        out = {"n": n, "errors": errors, "error_rate": rate}
        if confidence is not None:
            out["ci_low"], out["ci_high"] = wilson_interval(errors, n, confidence=confidence)
        out["lift"] = rate / overall if overall else np.full(size, np.nan)
        out["error_share"] = errors / total_errors if total_errors else np.full(size, np.nan)
    return out


def fraction_columns(name: str, numerator: np.ndarray, denominator: np.ndarray, *,
                     confidence: float) -> dict[str, np.ndarray]:
    """Metric ``name`` = numerator / denominator per group (NaN where the denominator is 0),
    its Wilson interval when it is a proportion, and its difference from the whole.

    >>> cols = fraction_columns("recall", np.array([1, 3]), np.array([2, 3]), confidence=.95)
    >>> cols["recall"].tolist(), cols["recall_delta"].round(2).tolist()
    ([0.5, 1.0], [-0.3, 0.2])
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(denominator > 0, numerator / np.maximum(denominator, 1), np.nan)
        whole = numerator.sum() / denominator.sum() if denominator.sum() else np.nan
    out = {name: value}
    if name in _PROPORTIONS:
        out[f"{name}_ci_low"], out[f"{name}_ci_high"] = wilson_interval(
            numerator, denominator, confidence=confidence)
    out[f"{name}_delta"] = value - whole
    return out


def _regression_columns(name: str, sums: np.ndarray, n: np.ndarray) -> dict[str, np.ndarray]:
    """Mean |error| (``mae``) or root mean error² (``rmse``) per group and its difference from
    the whole."""
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(n > 0, sums / np.maximum(n, 1), np.nan)
    whole = np.float64(sums.sum() / n.sum() if n.sum() else np.nan)
    if name == "rmse":
        value, whole = np.sqrt(value), np.sqrt(whole)
    return {name: value, f"{name}_delta": value - whole}


def _metric_counts(
    groups: np.ndarray, n_groups: int, ctx: MetricContext
) -> tuple[np.ndarray, np.ndarray]:
    """Numerator and denominator of the metric per group (per-group confusion matrices for a
    classifier, sums of the error for a regression)."""
    if ctx.metric in REGRESSION_METRICS:
        assert ctx.abs_error is not None
        weights = ctx.abs_error if ctx.metric == "mae" else ctx.abs_error**2
        return (np.bincount(groups, weights=weights, minlength=n_groups),
                np.bincount(groups, minlength=n_groups))
    if ctx.metric == "accuracy":
        n = np.bincount(groups, minlength=n_groups)
        return n - np.rint(np.bincount(groups, weights=ctx.is_error, minlength=n_groups)), n
    assert ctx.true_codes is not None and ctx.pred_codes is not None
    k = ctx.n_classes
    flat = (groups.astype(np.int64) * k + ctx.true_codes) * k + ctx.pred_codes
    cm = np.bincount(flat, minlength=n_groups * k * k).reshape(n_groups, k, k)
    return fraction_from_confusion(cm, ctx.metric, ctx.label_index)


def fraction_from_confusion(
    cm: np.ndarray, metric: str, label_index: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Numerator and denominator of a classifier ``metric`` per group of ``cm[g, true, pred]``
    (for the class ``label_index`` where the metric is per class).

    >>> cm = np.array([[[3, 1], [2, 4]]])  # one group: 3 TN, 1 FP, 2 FN, 4 TP
    >>> [a.tolist() for a in fraction_from_confusion(cm, "recall", 1)]
    [[4], [6]]
    """
    n = cm.sum(axis=(1, 2))
    if metric == "accuracy":
        return np.trace(cm, axis1=1, axis2=2), n
    c = label_index
    assert c is not None
    tp = cm[:, c, c]
    predicted = cm[:, :, c].sum(axis=1)  # column c = predicted as c
    actual = cm[:, c, :].sum(axis=1)  # row c = truly c
    if metric == "precision":
        return tp, predicted
    if metric == "recall":
        return tp, actual
    if metric == "f1":
        return 2 * tp, predicted + actual
    if metric == "fnr":
        return actual - tp, actual
    return predicted - tp, n - actual  # fpr


def check_metric(metric: str, task: str, classes: list[Any], label: Any) -> int | None:
    """Check ``metric`` (and ``label=``) against the task; the class position a per-class
    metric is computed for, else None.

    >>> check_metric("recall", "binary", ["no", "yes"], None)
    1
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {METRICS}")
    regression = task == "regression"
    if regression and metric not in ("error_rate", *REGRESSION_METRICS):
        raise ValueError(f"{metric!r} needs a classifier; for a regression use mae or rmse")
    if not regression and metric in REGRESSION_METRICS:
        raise ValueError(f"{metric!r} needs a regression; this analysis is {task}")
    if metric in BINARY_METRICS and task != "binary":
        raise ValueError(f"{metric!r} is defined for binary tasks; use recall / precision "
                         "with label= for a multiclass task")
    if metric not in (*CLASS_METRICS, *BINARY_METRICS):
        if label is not None:
            raise ValueError(f"label= is only used by per-class metrics, not {metric!r}")
        return None
    if label is None:
        if task != "binary":
            raise ValueError(f"{metric!r} is per class: pass label= one of {classes}")
        return 1  # the positive class of a binary task, like scikit-learn's pos_label=1
    if label not in classes:
        raise KeyError(f"label {label!r} is not a class; classes are {classes}")
    return list(classes).index(label)
