"""Adult with rule-based predictions, as an in-memory Analysis and as Parquet for the engines;
one local[2] Spark session for the tests marked ``spark``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import errlens as el

FEATURES = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
            "occupation", "relationship", "race", "sex", "capital_gain", "capital_loss",
            "hours_per_week", "native_country"]


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
