"""Fixtures shared by the widget-model tests."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict

import errlens as el


@pytest.fixture(scope="module")
def adult_oof(adult: pd.DataFrame) -> el.Analysis:
    """All of Adult with out-of-fold probabilities of a logistic regression on its numbers."""
    X = adult.drop(columns=["id", "income", "split"])
    numbers = X.select_dtypes("number")
    proba = cross_val_predict(LogisticRegression(max_iter=300), (numbers - numbers.mean())
                              / numbers.std(), adult["income"], cv=3, method="predict_proba")
    return el.Analysis.from_predictions(X, y_true=adult["income"], proba=proba, id=adult["id"],
                                        proba_out_of_fold=True)
