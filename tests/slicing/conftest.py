"""Slicing test fixtures: a gradient-boosted model's predictions on Adult (fit once)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

import errlens as el
from errlens.datasets import load_adult

FEATURES = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
            "occupation", "relationship", "race", "sex", "capital_gain", "capital_loss",
            "hours_per_week", "native_country"]


@pytest.fixture(scope="session")
def adult_predictions() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Adult, and a model (fit on the train split) predicting every row: labels, probabilities."""
    adult = load_adult()
    train = (adult["split"] == "train").to_numpy()
    model = HistGradientBoostingClassifier(max_iter=30, categorical_features="from_dtype",
                                           random_state=0)
    with threadpool_limits(1):  # ~2 s; OpenMP threads on a shared 2-core box cost 20× more
        model.fit(adult.loc[train, FEATURES], adult.loc[train, "income"])
        proba = model.predict_proba(adult[FEATURES])
    return adult, model.classes_[proba.argmax(axis=1)], proba


@pytest.fixture(scope="session")
def adult_ev(adult_predictions: tuple[pd.DataFrame, np.ndarray, np.ndarray]) -> el.Analysis:
    """Analysis of the model's predictions on all 48,842 rows (tests must not mutate it)."""
    adult, pred, _ = adult_predictions
    return el.Analysis.from_predictions(adult, y_true="income", y_pred=pred, id="id",
                                        features=FEATURES)
