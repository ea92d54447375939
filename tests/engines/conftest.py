"""Adult with rule-based predictions, as an in-memory Analysis and as Parquet for the engines;
Adult with a planted careless annotator; one local[2] Spark session for the tests marked
``spark``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import errlens as el

FEATURES = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
            "occupation", "relationship", "race", "sex", "capital_gain", "capital_loss",
            "hours_per_week", "native_country"]


#: The numeric features the planted annotator's model sees, and the annotators' flip rates.
NUMBERS = ["age", "education_num", "hours_per_week", "capital_gain", "capital_loss"]
CARELESS_RATES = np.array([0.35, 0.03, 0.03, 0.03, 0.03])  # ann0 careless, the others careful


@pytest.fixture(scope="session")
def careless_adult(adult: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Adult whose labels one careless annotator (of five) flipped 35 % of, the others 3 %;
    out-of-fold probabilities of a logistic regression on the noisy labels; a vendor column
    (missing on 2 % of rows) that tells nothing. Returns the frame (labels ``y``, prediction
    ``pred``, probabilities ``p0`` / ``p1``, ``annotator``, ``vendor``), the flips and the
    proba."""
    rng = np.random.default_rng(0)
    who = rng.integers(0, len(CARELESS_RATES), len(adult))
    truth = (adult["income"].astype(str) == ">50K").to_numpy().astype(int)
    flip = rng.random(len(adult)) < CARELESS_RATES[who]
    noisy = np.where(flip, 1 - truth, truth)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    proba = cross_val_predict(model, adult[NUMBERS], noisy, cv=3, method="predict_proba")
    data = adult[NUMBERS].assign(sex=adult["sex"].astype(str), id=np.arange(len(adult)))
    labels = np.asarray(["<=50K", ">50K"], dtype=object)
    data["y"], data["pred"] = labels[noisy], labels[proba.argmax(axis=1)]
    data["p0"], data["p1"] = proba[:, 0], proba[:, 1]
    data["annotator"] = np.array([f"ann{w}" for w in who], dtype=object)
    vendor = rng.choice(np.array(["north", "south", "east"], dtype=object), len(adult))
    data["vendor"] = np.where(rng.random(len(adult)) < 0.02, None, vendor)
    return data, flip, proba


@pytest.fixture(scope="session")
def adult_pred(adult: pd.DataFrame) -> pd.DataFrame:
    """Adult with a plausible rule-based prediction (19.5 % errors, concentrated in slices)."""
    rich = ((adult["education_num"] >= 13) & (adult["age"] > 30)) | (adult["capital_gain"] > 5000)
    return adult.drop(columns="split").assign(pred=np.where(rich, ">50K", "<=50K"))


@pytest.fixture(scope="session")
def adult_ev(adult_pred: pd.DataFrame) -> el.Analysis:
    return el.Analysis.from_predictions(adult_pred, y_true="income", y_pred="pred", id="id",
                                        features=FEATURES)


@pytest.fixture(scope="session")
def adult_parquet(adult_pred: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("engines") / "adult.parquet"
    adult_pred.to_parquet(path)
    return path


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local[2] session for the whole run (JVM start ~6 s), configured for CI boxes."""
    pyspark_sql = pytest.importorskip("pyspark.sql")
    session = (
        pyspark_sql.SparkSession.builder.master("local[2]").appName("errlens-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "1g")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
