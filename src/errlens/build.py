"""Building the evaluation data: inputs of any dataframe library checked and turned into an
:class:`~errlens.data.evaldata.EvalData` (or a subclass such as :class:`errlens.Analysis`).

Every check names the argument and the fix; :mod:`errlens.base.inputs` does the per-column
work. ``from_estimator`` also runs the cross-validation (:mod:`errlens._oof`).

>>> import errlens as el
>>> ev = from_predictions(el.Analysis, {"x": [1, 2]}, y_true=[0, 1], y_pred=[0, 0])
>>> type(ev).__name__, ev.task, ev.error.tolist()
('Analysis', 'binary', [0.0, 1.0])
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from functools import cached_property
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from sklearn.base import is_regressor
from sklearn.utils.multiclass import type_of_target

from errlens._oof import out_of_fold_predictions
from errlens.base import inputs
from errlens.base.jsonvalue import plain
from errlens.data.evaldata import TASKS, EvalData, ProbaSource, Task, class_codes
from errlens.data.images import resolve_images
from errlens.data.text import text_frame

T = TypeVar("T", bound=EvalData)


def from_predictions(
    cls: type[T],
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
    annotator: Any = None,
    source: Any = None,
    text: str | Sequence[str] | None = None,
    images: Any = None,
) -> T:
    """Validated evaluation data of type ``cls`` from labels and predictions (see
    ``Analysis.from_predictions``)."""
    frame = inputs.to_pandas_frame(data, features if isinstance(data, np.ndarray) else None)
    n, rows = len(frame), inputs.row_index(data)
    ids = inputs.resolve_ids(frame, id, n, rows)
    keys = (rows, ids)
    y_series, y_col = inputs.resolve_column(frame, y_true, arg="y_true", n=n, keys=keys)
    true_labels = _complete_labels(y_series, "y_true")
    used = {c for c in (y_col,) if c}
    pred_series: pd.Series | None = None
    pred_labels: _Labels | None = None
    if y_pred is not None:
        pred_series, pred_col = inputs.resolve_column(frame, y_pred, arg="y_pred", n=n,
                                                       keys=keys)
        pred_labels = _complete_labels(pred_series, "y_pred")
        used |= {pred_col} if pred_col else set()
    proba_array: np.ndarray | None = None
    if proba is not None:
        proba_array, proba_cols = inputs.resolve_proba(frame, proba, n)
        used |= set(proba_cols or ())
    if isinstance(id, str):
        used.add(id)
    if isinstance(images, str):
        used.add(images)
    if pred_series is None and proba_array is None:
        raise ValueError("pass y_pred, proba or both: errlens needs the model's predictions")
    texts = text_frame(frame, text)
    if isinstance(data, np.ndarray):
        feature_frame = frame
    else:
        feature_frame = _select_features(frame, features, exclude=used)
    feature_frame, sources = _label_sources(frame, feature_frame, keys,
                                            annotator=annotator, source=source)
    feature_frame = _without_text(feature_frame, texts)
    analysis = _build(
        cls,
        label_sources=sources,
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
        parsed=(true_labels, pred_labels),
        text=texts,
    )
    return _with_images(analysis, images, frame)


def from_estimator(
    cls: type[T],
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
    annotator: Any = None,
    source: Any = None,
    text: str | Sequence[str] | None = None,
    images: Any = None,
) -> T:
    """Validated evaluation data of type ``cls`` with out-of-fold predictions of ``estimator``
    (see ``Analysis.from_estimator``)."""
    frame = inputs.to_pandas_frame(X, features if isinstance(X, np.ndarray) else None)
    n, rows = len(frame), inputs.row_index(X)
    ids = inputs.resolve_ids(frame, id, n, rows)
    y_series, y_col = inputs.resolve_column(frame, y, arg="y", n=n, keys=(rows, ids))
    inputs.check_no_missing(y_series, arg="y")
    exclude = {c for c in (y_col, id if isinstance(id, str) else None) if c}
    exclude |= {images} if isinstance(images, str) else set()
    if images is not None:
        resolve_images(images, frame, ids)  # checked before any model is fitted
    feature_frame = (
        frame if isinstance(X, np.ndarray) else _select_features(frame, features, exclude)
    )
    # The model never sees who labelled a row; the analysis keeps it as a feature.
    feature_frame, sources = _label_sources(frame, feature_frame, (rows, ids),
                                            annotator=annotator, source=source)
    model_frame = feature_frame.drop(columns=list(sources.values()))
    # the estimator reads the text columns; the analysis keeps them apart from the features
    texts = text_frame(feature_frame, text)
    kept = _without_text(feature_frame, texts)
    resolved_task = task or ("regression" if is_regressor(estimator) else None)
    labels = _Labels(y_series)
    resolved_task = resolved_task or _infer_task(labels, None, classes, task)
    if resolved_task == "regression":
        if not pd.api.types.is_numeric_dtype(y_series):
            raise TypeError(f"regression targets must be numeric, y has dtype {y_series.dtype}")
        pred, _ = out_of_fold_predictions(
            estimator, model_frame, y_series, cv=cv, regression=True,
            random_state=random_state, progress=progress,
        )
        return _with_images(_build(
            cls, ids=ids, features=kept, y_true=y_series, y_pred=pd.Series(pred),
            proba=None, classes=None, task="regression", error_threshold=error_threshold,
            proba_source="none", row_labels=rows, label_sources=sources,
            text=texts,
        ), images, frame)
    class_list = _resolve_classes(labels, None, None, classes)
    # Every label a class, before any model is fitted.
    class_codes(y_series, class_list, "y", labels.factorized)
    if not hasattr(estimator, "predict_proba"):
        raise TypeError(
            f"{type(estimator).__name__} has no predict_proba: errlens needs predicted "
            "probabilities for classifiers (wrap it in sklearn's CalibratedClassifierCV)"
        )
    counts = y_series.value_counts()
    if int(counts.min()) < cv:
        raise ValueError(
            f"cv={cv} is larger than the smallest class: "
            f"{plain(counts.idxmin())!r} has only {int(counts.min())} rows; "
            f"use cv ≤ {int(counts.min())}"
        )
    _, proba = out_of_fold_predictions(
        estimator, model_frame, y_series, cv=cv, regression=False, classes=class_list,
        random_state=random_state, progress=progress,
    )
    return _with_images(_build(
        cls,
        ids=ids, features=kept, y_true=y_series, y_pred=None, proba=proba,
        classes=class_list, task=task, error_threshold=error_threshold,
        proba_source="out_of_fold", row_labels=rows, label_sources=sources,
        text=texts,
    ), images, frame)


def _with_images(analysis: T, images: Any, frame: pd.DataFrame) -> T:
    if images is not None:
        analysis.images = resolve_images(images, frame, analysis.ids)
    return analysis


class _Labels:
    """One hash pass over a label column (labels or predictions), shared by task inference,
    class resolution and the class codes: each used to hash the whole column again (1M
    object strings: ~0.05 s a pass). The pass runs on first use only (a regression with its
    task given needs none).

    >>> _Labels(pd.Series(["b", "a", "b"])).distinct().tolist()
    ['b', 'a']
    """

    def __init__(self, series: pd.Series) -> None:
        self.series = series

    @cached_property
    def factorized(self) -> tuple[np.ndarray, pd.Index]:
        """Per-row codes (-1 where missing) and the distinct values in the column's dtype,
        first seen first, missing left out."""
        codes, uniques = pd.factorize(self.series, use_na_sentinel=True)
        return codes, uniques

    @property
    def complete(self) -> bool:
        return not (self.factorized[0] < 0).any()

    def distinct(self) -> np.ndarray:
        """What ``pd.unique(series.to_numpy())`` gives (missing values included)."""
        return np.asarray(self.factorized[1]) if self.complete else pd.unique(
            self.series.to_numpy())

    def few(self) -> pd.Series:
        """A Series with the column's dtype and distinct values (the column itself when
        values are missing), so concatenating two of them resolves dtypes as the full
        columns would."""
        return pd.Series(self.factorized[1]) if self.complete else self.series


def _complete_labels(series: pd.Series, arg: str) -> _Labels:
    """``series`` as :class:`_Labels`, refused when values are missing. Text labels are checked
    from their factorization, which the class codes reuse (a separate ``isna`` pass over 1M
    object strings costs ~70 ms); other dtypes by ``isna``, which is cheap for them.

    >>> _complete_labels(pd.Series(["a", None]), "y_true")
    Traceback (most recent call last):
    ...
    ValueError: y_true has 1 missing values (first at rows [1]); drop or fill those rows first
    """
    labels = _Labels(series)
    text = series.dtype == object or isinstance(series.dtype, pd.StringDtype)
    if not text or not labels.complete:
        inputs.check_no_missing(series, arg=arg)
    return labels


def _build(
    cls: type[T],
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
    parsed: tuple[_Labels, _Labels | None] | None = None,
    label_sources: dict[str, str] | None = None,
    text: pd.DataFrame | None = None,
) -> T:
    true, pred = parsed or (_Labels(y_true), None if y_pred is None else _Labels(y_pred))
    resolved = _infer_task(true, proba, classes, task, pred)
    features = features.set_axis(ids, axis=0)
    text = None if text is None else text.set_axis(ids, axis=0)
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
            error_threshold=threshold, row_labels=row_labels, text=text,
            label_sources=dict(label_sources or {}),
        )
    class_list = _resolve_classes(true, pred, proba, classes)
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
    true_codes = class_codes(y_true, class_list, "y_true", true.factorized)
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
        assert pred is not None
        pred_codes = class_codes(y_pred, class_list, "y_pred", pred.factorized)
        k = len(class_list)
        given = np.bincount(true_codes, minlength=k) > 0
        if not (given & (np.bincount(pred_codes, minlength=k) > 0)).any():
            warnings.warn(
                f"y_true and y_pred share no label (y_true: "
                f"{inputs.preview(pd.unique(y_true.to_numpy()), 4)}; y_pred: "
                f"{inputs.preview(pd.unique(y_pred.to_numpy()), 4)}): if they are of "
                f"different types, convert one (e.g. y_pred.astype(str))", UserWarning,
                stacklevel=4)
    wrong = true_codes != pred_codes
    analysis = cls(
        ids=ids, features=features, y_true=_indexed(y_true, ids, "y_true"),
        y_pred=_indexed(y_pred, ids, "y_pred"),
        proba=None if proba is None else np.ascontiguousarray(proba), classes=class_list,
        task=resolved, error=wrong.astype(np.float64), is_error=wrong,
        proba_source=proba_source, error_threshold=None, row_labels=row_labels, text=text,
        label_sources=dict(label_sources or {}),
    )
    # Seed the cached codes: they were needed for the error vector anyway.
    analysis.cache.y_true_codes, analysis.cache.y_pred_codes = true_codes, pred_codes
    return analysis


def _label_sources(
    frame: pd.DataFrame, features: pd.DataFrame, keys: tuple[pd.Index | None, ...], **roles: Any
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The features with each declared label source (``annotator=``, ``source=``: a column of
    the data or one value per row, added under the role's name) and role -> column.

    >>> f, s = _label_sources(pd.DataFrame({"x": [1]}), pd.DataFrame({"x": [1]}), (None,),
    ...                       annotator=["ann1"], source=None)
    >>> f.columns.tolist(), s
    (['x', 'annotator'], {'annotator': 'annotator'})
    """
    sources: dict[str, str] = {}
    for role, value in roles.items():
        if value is None:
            continue
        series, column = inputs.resolve_column(frame, value, arg=role, n=len(frame), keys=keys)
        name = column or role
        if column is None and name in features.columns:
            raise ValueError(f"{role}= was given as values but a feature is already named "
                             f"{name!r}: pass {role}={name!r} to use that column")
        if name not in features.columns:
            features = features.assign(**{name: series.to_numpy()})
        sources[role] = name
    return features, sources
def _without_text(features: pd.DataFrame, texts: pd.DataFrame | None) -> pd.DataFrame:
    """``features`` less the declared text columns (their words are features, not they)."""
    if texts is None:
        return features
    return features[[c for c in features.columns if c not in set(texts.columns)]]


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
    y_true: _Labels,
    proba: np.ndarray | None,
    classes: Sequence[Any] | None,
    task: str | None,
    y_pred: _Labels | None = None,
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
    kind = type_of_target(y_true.distinct())
    if kind == "continuous" or (
        y_pred is not None and type_of_target(y_pred.distinct()) == "continuous"
    ):
        return "regression"
    if kind == "binary":
        return "binary"
    if kind == "multiclass":
        return "multiclass"
    raise ValueError(f"cannot infer the task from y_true (sklearn says {kind!r}); pass task=")


def _resolve_classes(
    y_true: _Labels, y_pred: _Labels | None, proba: np.ndarray | None,
    classes: Sequence[Any] | None,
) -> list[Any]:
    if classes is not None:
        class_list = list(classes)
        if len(set(class_list)) != len(class_list):
            raise ValueError(f"classes has duplicates: {class_list}")
    else:
        seen = (pd.concat([y_true.few(), y_pred.few()], ignore_index=True)
                if y_pred is not None else y_true.few())
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


def _indexed(series: pd.Series, ids: pd.Index, name: str) -> pd.Series:
    return series.set_axis(ids).rename(name)
