"""The validated evaluation data every errlens view starts from."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import is_regressor
from sklearn.utils.multiclass import type_of_target

from errlens._oof import out_of_fold_predictions
from errlens.base import inputs
from errlens.base.stats import wilson_interval
from errlens.slicing.api import SliceMethods
from errlens.slicing.discover_api import DiscoverMethods
from errlens.suspects.api import SuspectMethods

Task = Literal["binary", "multiclass", "regression"]
ProbaSource = Literal["out_of_fold", "given", "none"]
TASKS: tuple[str, ...] = ("binary", "multiclass", "regression")


@dataclass(eq=False, repr=False)
class Analysis(SliceMethods, DiscoverMethods, SuspectMethods):
    """Features, given labels, predictions and probabilities of one evaluation set.

    Build it with :meth:`from_predictions` or :meth:`from_estimator`; never by hand.
    Rows are addressed by stable sample ids (``ids``), never by position.

    >>> import errlens as el
    >>> ev = el.Analysis.from_predictions(
    ...     {"x": [1, 2, 3, 4]}, y_true=["a", "b", "a", "b"], y_pred=["a", "a", "a", "b"])
    >>> ev.task, ev.error_rate
    ('binary', 0.25)
    """

    ids: pd.Index
    features: pd.DataFrame
    y_true: pd.Series
    y_pred: pd.Series
    proba: np.ndarray | None
    classes: list[Any]
    task: Task
    error: np.ndarray
    is_error: np.ndarray
    proba_source: ProbaSource = "none"
    error_threshold: float | None = None
    cohorts: dict[str, Any] = field(default_factory=dict)
    #: The row labels of the pandas DataFrame it was built from (None for other data): a
    #: boolean Series over that frame (``df.age > 60``) selects its rows.
    row_labels: pd.Index | None = None

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_predictions(
        cls,
        data: Any,
        *,
        y_true: Any,
        y_pred: Any = None,
        proba: Any = None,
        id: Any = None,
        classes: Sequence[Any] | None = None,
        features: Sequence[str] | None = None,
        task: Task | None = None,
        error_threshold: float | None = None,
        proba_out_of_fold: bool = False,
    ) -> Analysis:
        """Build an analysis from labels and a model's predictions.

        ``y_true``, ``y_pred`` and ``id`` are column names of ``data`` or arrays; ``proba`` is an
        (n, k) array or a list of k column names, in the order of ``classes`` (default: the sorted
        labels). ``y_pred`` is derived from ``proba`` when absent. Set ``proba_out_of_fold=True``
        when the probabilities come from cross-validation, so suspect detection trusts them.

        >>> ev = Analysis.from_predictions(
        ...     {"age": [20, 40]}, y_true=[0, 1], proba=[[.9, .1], [.6, .4]])
        >>> ev.y_pred.tolist()
        [0, 0]
        """
        frame = inputs.to_pandas_frame(data, features if isinstance(data, np.ndarray) else None)
        n, rows = len(frame), inputs.row_index(data)
        ids = inputs.resolve_ids(frame, id, n, rows)
        keys = (rows, ids)
        y_series, y_col = inputs.resolve_column(frame, y_true, arg="y_true", n=n, keys=keys)
        inputs.check_no_missing(y_series, arg="y_true")
        used = {c for c in (y_col,) if c}
        pred_series: pd.Series | None = None
        if y_pred is not None:
            pred_series, pred_col = inputs.resolve_column(frame, y_pred, arg="y_pred", n=n,
                                                           keys=keys)
            inputs.check_no_missing(pred_series, arg="y_pred")
            used |= {pred_col} if pred_col else set()
        proba_array: np.ndarray | None = None
        if proba is not None:
            proba_array, proba_cols = inputs.resolve_proba(frame, proba, n)
            used |= set(proba_cols or ())
        if isinstance(id, str):
            used.add(id)
        if pred_series is None and proba_array is None:
            raise ValueError("pass y_pred, proba or both: errlens needs the model's predictions")
        if isinstance(data, np.ndarray):
            feature_frame = frame
        else:
            feature_frame = _select_features(frame, features, exclude=used)
        return cls._build(
            ids=ids,
            features=feature_frame,
            y_true=y_series,
            y_pred=pred_series,
            proba=proba_array,
            classes=classes,
            task=task,
            error_threshold=error_threshold,
            proba_source="out_of_fold" if proba_out_of_fold else (
                "given" if proba_array is not None else "none"
            ),
            row_labels=rows,
        )

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        X: Any,
        y: Any,
        *,
        cv: int = 5,
        id: Any = None,
        classes: Sequence[Any] | None = None,
        features: Sequence[str] | None = None,
        task: Task | None = None,
        error_threshold: float | None = None,
        random_state: int = 0,
        progress: bool = True,
    ) -> Analysis:
        """Build an analysis from an unfitted scikit-learn estimator with out-of-fold predictions.

        Each row's prediction and probabilities come from a model that never saw it (``cv``-fold
        cross-validation, stratified for classifiers), which is what suspect detection needs.

        >>> from sklearn.linear_model import LogisticRegression
        >>> from errlens.datasets import load_adult
        >>> adult = load_adult().sample(2000, random_state=0)
        >>> ev = Analysis.from_estimator(LogisticRegression(max_iter=500),
        ...     adult[["age", "hours_per_week"]], adult["income"], cv=3, progress=False)
        >>> ev.proba_source
        'out_of_fold'
        """
        frame = inputs.to_pandas_frame(X, features if isinstance(X, np.ndarray) else None)
        n, rows = len(frame), inputs.row_index(X)
        ids = inputs.resolve_ids(frame, id, n, rows)
        y_series, y_col = inputs.resolve_column(frame, y, arg="y", n=n, keys=(rows, ids))
        inputs.check_no_missing(y_series, arg="y")
        exclude = {c for c in (y_col, id if isinstance(id, str) else None) if c}
        feature_frame = (
            frame if isinstance(X, np.ndarray) else _select_features(frame, features, exclude)
        )
        resolved_task = task or ("regression" if is_regressor(estimator) else None)
        resolved_task = resolved_task or _infer_task(y_series, None, classes, task)
        if resolved_task == "regression":
            if not pd.api.types.is_numeric_dtype(y_series):
                raise TypeError(f"regression targets must be numeric, y has dtype {y_series.dtype}")
            pred, _ = out_of_fold_predictions(
                estimator, feature_frame, y_series, cv=cv, regression=True,
                random_state=random_state, progress=progress,
            )
            return cls._build(
                ids=ids, features=feature_frame, y_true=y_series, y_pred=pd.Series(pred),
                proba=None, classes=None, task="regression", error_threshold=error_threshold,
                proba_source="none", row_labels=rows,
            )
        class_list = _resolve_classes(y_series, None, None, classes)
        _codes(y_series, class_list, "y")  # every label a class, before any model is fitted
        if not hasattr(estimator, "predict_proba"):
            raise TypeError(
                f"{type(estimator).__name__} has no predict_proba: errlens needs predicted "
                "probabilities for classifiers (wrap it in sklearn's CalibratedClassifierCV)"
            )
        counts = y_series.value_counts()
        if int(counts.min()) < cv:
            raise ValueError(
                f"cv={cv} is larger than the smallest class: "
                f"{_jsonable(counts.idxmin())!r} has only {int(counts.min())} rows; "
                f"use cv ≤ {int(counts.min())}"
            )
        _, proba = out_of_fold_predictions(
            estimator, feature_frame, y_series, cv=cv, regression=False, classes=class_list,
            random_state=random_state, progress=progress,
        )
        return cls._build(
            ids=ids, features=feature_frame, y_true=y_series, y_pred=None, proba=proba,
            classes=class_list, task=task, error_threshold=error_threshold,
            proba_source="out_of_fold", row_labels=rows,
        )

    @classmethod
    def _build(
        cls,
        *,
        ids: pd.Index,
        features: pd.DataFrame,
        y_true: pd.Series,
        y_pred: pd.Series | None,
        proba: np.ndarray | None,
        classes: Sequence[Any] | None,
        task: Task | None,
        error_threshold: float | None,
        proba_source: ProbaSource,
        row_labels: pd.Index | None = None,
    ) -> Analysis:
        resolved = _infer_task(y_true, proba, classes, task, y_pred)
        features = features.set_axis(ids, axis=0)
        if resolved == "regression":
            if proba is not None:
                raise ValueError("proba was given but task is 'regression'; drop one of them")
            if y_pred is None:
                raise ValueError("regression needs y_pred")
            for name, s in (("y_true", y_true), ("y_pred", y_pred)):
                if not pd.api.types.is_numeric_dtype(s):
                    raise TypeError(f"regression {name} must be numeric, got dtype {s.dtype}")
            truth = y_true.to_numpy(dtype=np.float64)
            predicted = y_pred.to_numpy(dtype=np.float64)
            for name, values in (("y_true", truth), ("y_pred", predicted)):
                bad = np.flatnonzero(~np.isfinite(values))
                if len(bad):
                    raise ValueError(f"{name} has {len(bad)} infinite values (rows "
                                     f"{bad[:5].tolist()}); drop or fix those rows")
            error = np.abs(truth - predicted)
            threshold = float(error.mean()) if error_threshold is None else float(error_threshold)
            if not 0 <= threshold < np.inf:
                raise ValueError(f"error_threshold must be a finite number >= 0 (the residual "
                                 f"above which a row counts as an error), got {error_threshold!r}")
            return cls(
                ids=ids, features=features, y_true=_indexed(y_true, ids, "y_true"),
                y_pred=_indexed(y_pred, ids, "y_pred"), proba=None, classes=[], task="regression",
                error=error, is_error=error > threshold, proba_source="none",
                error_threshold=threshold, row_labels=row_labels,
            )
        class_list = _resolve_classes(y_true, y_pred, proba, classes)
        if proba is not None and proba.shape[1] != len(class_list):
            raise ValueError(
                f"proba has {proba.shape[1]} columns but there are {len(class_list)} classes "
                f"({inputs.preview(class_list)}); pass classes= in the order of proba's columns"
            )
        if resolved == "binary" and len(class_list) > 2:
            if task == "binary":
                raise ValueError(f"task='binary' but there are {len(class_list)} classes "
                                 f"({inputs.preview(class_list)}); use task='multiclass'")
            resolved = "multiclass"  # y_pred holds a class y_true lacks
        true_codes = _codes(y_true, class_list, "y_true")
        if y_pred is None:
            assert proba is not None
            pred_codes = proba.argmax(axis=1)
            # Take from the classes in y_true's own dtype (no per-row conversion of labels)
            # when it holds every class as it is; else as objects.
            labels = pd.Index(class_list, dtype=object)
            dtype = y_true.dtype
            if not isinstance(dtype, pd.CategoricalDtype) or set(class_list) <= set(
                    dtype.categories):
                try:
                    typed = pd.Index(class_list, dtype=dtype)
                    if typed.tolist() == class_list and not typed.isna().any():
                        labels = typed
                except (TypeError, ValueError, OverflowError):
                    pass
            y_pred = pd.Series(labels.take(pred_codes))
        else:
            pred_codes = _codes(y_pred, class_list, "y_pred")
            k = len(class_list)
            if not (np.bincount(true_codes, minlength=k) & np.bincount(pred_codes, minlength=k)
                    ).any():
                warnings.warn(
                    f"y_true and y_pred share no label (y_true: "
                    f"{inputs.preview(pd.unique(y_true.to_numpy()), 4)}; y_pred: "
                    f"{inputs.preview(pd.unique(y_pred.to_numpy()), 4)}): if they are of "
                    f"different types, convert one (e.g. y_pred.astype(str))", UserWarning,
                    stacklevel=3)
        wrong = true_codes != pred_codes
        analysis = cls(
            ids=ids, features=features, y_true=_indexed(y_true, ids, "y_true"),
            y_pred=_indexed(y_pred, ids, "y_pred"),
            proba=None if proba is None else np.ascontiguousarray(proba), classes=class_list,
            task=resolved, error=wrong.astype(np.float64), is_error=wrong,
            proba_source=proba_source, error_threshold=None, row_labels=row_labels,
        )
        # Seed the cached codes: they were needed for the error vector anyway.
        analysis.__dict__.update(y_true_codes=true_codes, y_pred_codes=pred_codes)
        return analysis

    # ------------------------------------------------------------------ basic views
    @property
    def n(self) -> int:
        """Number of rows."""
        return len(self.ids)

    @property
    def error_rate(self) -> float:
        """Share of rows counted as errors (misclassified, or residual above the threshold)."""
        return float(self.is_error.mean())

    @cached_property
    def y_true_codes(self) -> np.ndarray:
        """Given labels as positions in :attr:`classes` (classifiers only)."""
        return _codes(self.y_true, self.classes, "y_true")

    @cached_property
    def y_pred_codes(self) -> np.ndarray:
        """Predicted labels as positions in :attr:`classes` (classifiers only)."""
        return _codes(self.y_pred, self.classes, "y_pred")

    def mask(self, cohort: Any = None) -> np.ndarray:
        """Boolean row mask for ``cohort``: None (all rows), a boolean array / Series, a list of
        sample ids, or any object with a ``mask(analysis)`` method (such as a Cohort).

        >>> ev = Analysis.from_predictions(
        ...     {"x": [1, 2]}, y_true=[0, 1], y_pred=[0, 0], id=["a", "b"])
        >>> ev.mask(["b"]).tolist()
        [False, True]
        """
        if cohort is None:
            return np.ones(self.n, dtype=bool)
        if isinstance(cohort, str):
            raise TypeError(f"the cohort is the string {cohort!r}: pass a list of sample ids "
                            f"([{cohort!r}]), a boolean mask or a Cohort")
        if isinstance(cohort, pd.Series) and cohort.dtype == bool:
            result = inputs.by_id(cohort, self.labels_of(cohort), arg="the cohort mask",
                                   fill=False)
        elif not isinstance(cohort, (pd.Series, np.ndarray)) and callable(
            getattr(cohort, "mask", None)
        ):
            result = np.asarray(cohort.mask(self), dtype=bool)
        else:
            array = np.asarray(cohort)
            if array.dtype == bool:
                result = array
            else:
                positions = self.ids.get_indexer(pd.Index(list(cohort)))
                if (positions < 0).any():
                    unknown = [c for c, p in zip(cohort, positions, strict=True) if p < 0]
                    raise KeyError(f"{len(unknown)} unknown sample ids, e.g. {unknown[:5]}")
                result = np.zeros(self.n, dtype=bool)
                result[positions] = True
        if result.shape != (self.n,):
            raise ValueError(
                f"cohort mask has shape {result.shape} but the analysis has {self.n} rows"
            )
        return result

    def labels_of(self, series: pd.Series) -> pd.Index:
        """The row labels a pandas Series given per row is matched on: the sample ids, or
        the source DataFrame's row labels when the Series names none of the ids."""
        if self.row_labels is None or series.index.isin(self.ids).any():
            return self.ids
        return self.row_labels

    def unavailable(self, operation: str) -> str | None:
        """None: rows in memory allow every operation (see :class:`errlens.base.facade.Facade`)."""
        return None

    def frame(self, cohort: Any = None) -> pd.DataFrame:
        """The rows of ``cohort`` as a DataFrame: features, given and predicted label, error
        (``errlens_y_true`` etc. when a feature already has that name).

        >>> ev = Analysis.from_predictions({"x": [1, 2]}, y_true=[0, 1], y_pred=[0, 0])
        >>> ev.frame().columns.tolist()
        ['x', 'y_true', 'y_pred', 'error']
        """
        keep = self.mask(cohort)
        out = self.features.loc[keep].copy()
        added = {"y_true": self.y_true.to_numpy()[keep], "y_pred": self.y_pred.to_numpy()[keep],
                 "error": self.error[keep] if self.task == "regression" else self.is_error[keep]}
        for name, values in added.items():  # a feature of the same name keeps its column
            out[name if name not in self.features.columns else f"errlens_{name}"] = values
        return out

    def summary(self) -> dict[str, Any]:
        """Headline figures: rows, errors, error rate with its 95 % Wilson interval, per-class
        support / errors / predicted counts (classifiers), as plain JSON-ready values."""
        errors = int(self.is_error.sum())
        low, high = wilson_interval([errors], [self.n])
        out: dict[str, Any] = {
            "task": self.task,
            "rows": self.n,
            "features": len(self.features.columns),
            "errors": errors,
            "error_rate": errors / self.n,
            "ci_low": float(low[0]),
            "ci_high": float(high[0]),
            "proba_source": self.proba_source,
            "classes": [],
        }
        if self.task == "regression":
            out["mae"] = float(self.error.mean())
            out["error_threshold"] = self.error_threshold
            return out
        k = len(self.classes)
        true_codes, pred_codes = self.y_true_codes, self.y_pred_codes
        support = np.bincount(true_codes, minlength=k)
        wrong = np.bincount(true_codes, weights=self.is_error, minlength=k).astype(int)
        predicted = np.bincount(pred_codes, minlength=k)
        out["classes"] = [
            {
                "label": _jsonable(c),
                "support": int(support[i]),
                "errors": int(wrong[i]),
                "error_rate": float(wrong[i] / support[i]) if support[i] else None,
                "predicted": int(predicted[i]),
            }
            for i, c in enumerate(self.classes)
        ]
        return out

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"<Analysis {s['task']}: {s['rows']:,} rows × {s['features']} features, "
            f"error rate {s['error_rate']:.2%} [{s['ci_low']:.2%}, {s['ci_high']:.2%}]>"
        )

    def _warn_if_in_sample(self) -> None:
        """Warn when probabilities were passed in by the user and may be in-sample."""
        if self.proba_source == "given":
            warnings.warn(
                "the probabilities were passed to from_predictions without "
                "proba_out_of_fold=True. If the model was trained on these rows, it has memorised "
                "their labels (including the wrong ones), so label-issue detection will miss most "
                "of them. Use Analysis.from_estimator(...) or pass out-of-fold probabilities "
                "(sklearn's cross_val_predict) with proba_out_of_fold=True.",
                UserWarning,
                stacklevel=3,
            )


def _select_features(
    frame: pd.DataFrame, features: Sequence[str] | None, exclude: set[str]
) -> pd.DataFrame:
    if features is None:
        return frame[[c for c in frame.columns if c not in exclude]]
    features = inputs.names(features, arg="features")
    unknown = [f for f in features if f not in frame.columns]
    if unknown:
        raise KeyError(
            f"features {unknown} are not columns of data; columns are: "
            f"{inputs.preview(frame.columns)}"
        )
    return frame[list(features)]


def _infer_task(
    y_true: pd.Series,
    proba: np.ndarray | None,
    classes: Sequence[Any] | None,
    task: str | None,
    y_pred: pd.Series | None = None,
) -> Task:
    if task is not None:
        if task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {task!r}")
        return task  # type: ignore[return-value]
    if proba is not None:
        return "binary" if proba.shape[1] == 2 else "multiclass"
    if classes is not None:
        return "binary" if len(classes) == 2 else "multiclass"
    # The kind depends only on the distinct values: far cheaper than scanning every row.
    kind = type_of_target(pd.unique(y_true.to_numpy()))
    if kind == "continuous" or (
        y_pred is not None and type_of_target(pd.unique(y_pred.to_numpy())) == "continuous"
    ):
        return "regression"
    if kind == "binary":
        return "binary"
    if kind == "multiclass":
        return "multiclass"
    raise ValueError(f"cannot infer the task from y_true (sklearn says {kind!r}); pass task=")


def _resolve_classes(
    y_true: pd.Series, y_pred: pd.Series | None, proba: np.ndarray | None,
    classes: Sequence[Any] | None,
) -> list[Any]:
    if classes is not None:
        class_list = list(classes)
        if len(set(class_list)) != len(class_list):
            raise ValueError(f"classes has duplicates: {class_list}")
    else:
        seen = pd.concat([y_true, y_pred]) if y_pred is not None else y_true
        try:
            class_list = sorted(seen.unique().tolist())
        except TypeError:  # mixed types: keep first-seen order
            class_list = seen.unique().tolist()
        if proba is not None and len(class_list) < proba.shape[1] and y_pred is None:
            raise ValueError(
                f"proba has {proba.shape[1]} columns but y_true holds only {len(class_list)} "
                f"labels ({inputs.preview(class_list)}); pass classes= to name all columns"
            )
    if len(class_list) < 2:
        raise ValueError(
            f"only one class ({inputs.preview(class_list)}) is present: error analysis needs "
            "at least two classes (pass classes= if the others are simply absent from this set)"
        )
    return class_list


def _codes(labels: pd.Series, classes: Sequence[Any], arg: str) -> np.ndarray:
    # Factorize first: mapping a handful of distinct values is far cheaper than looking up
    # every row (1M arrow-backed strings take ~0.5 s through Index.get_indexer).
    row_codes, uniques = pd.factorize(labels, use_na_sentinel=True)
    positions = pd.Index(list(classes)).get_indexer(pd.Index(uniques))
    codes = np.append(positions, -1)[row_codes]
    if (codes < 0).any():
        bad = pd.unique(labels.to_numpy()[codes < 0])
        raise ValueError(
            f"{arg} has {int((codes < 0).sum())} labels outside classes "
            f"{inputs.preview(classes)}: {inputs.preview(bad)}"
        )
    return codes.astype(np.int64)


def _indexed(series: pd.Series, ids: pd.Index, name: str) -> pd.Series:
    return series.set_axis(ids).rename(name)


def _jsonable(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
