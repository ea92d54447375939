"""Out-of-fold predictions: every row predicted by a model that never saw it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import KFold, StratifiedKFold
from tqdm.auto import tqdm


def out_of_fold_predictions(
    estimator: Any,
    X: pd.DataFrame,
    y: pd.Series,
    *,
    cv: int,
    regression: bool,
    classes: Sequence[Any] | None = None,
    random_state: int = 0,
    progress: bool = True,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Fit ``cv`` clones of ``estimator`` and predict each held-out fold.

    Returns ``(predictions, None)`` for regression and ``(None, proba)`` for classifiers, with
    ``proba`` columns in the order of ``classes``. A progress bar (notebook or terminal) counts
    the folds.
    """
    if not isinstance(cv, int) or cv < 2:
        raise ValueError(f"cv must be an integer ≥ 2, got {cv!r}")
    if cv > len(y):
        raise ValueError(f"cv={cv} is larger than the number of rows ({len(y)})")
    splitter = (
        KFold(cv, shuffle=True, random_state=random_state)
        if regression
        else StratifiedKFold(cv, shuffle=True, random_state=random_state)
    )
    target = y.to_numpy()
    if regression:
        predictions = np.empty(len(y), dtype=np.float64)
    else:
        assert classes is not None
        proba = np.zeros((len(y), len(classes)), dtype=np.float64)
        column_of = {c: i for i, c in enumerate(classes)}
    folds = splitter.split(X, target)
    for train, test in tqdm(folds, total=cv, desc="out-of-fold fits", disable=not progress):
        model = clone(estimator).fit(X.iloc[train], target[train])
        if regression:
            predictions[test] = model.predict(X.iloc[test])
        else:
            fold_proba = model.predict_proba(X.iloc[test])
            columns = [column_of[c] for c in model.classes_]
            proba[np.ix_(test, columns)] = fold_proba
    if regression:
        return predictions, None
    return None, proba
