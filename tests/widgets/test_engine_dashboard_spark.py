"""The dashboard over a PySpark (local[2]) LazyAnalysis of UCI Adult: the same aggregates as the
in-memory dashboard after each click, and row pages read from Spark."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import errlens as el
from errlens.engines import LazyAnalysis
from errlens.widgets.explorer import explore

from .messaging import click

pytestmark = pytest.mark.spark
FEATURES = ["age", "workclass", "education", "sex", "hours_per_week"]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """The running session if another test module started one, else a local[2] one."""
    sql = pytest.importorskip("pyspark.sql")
    active = sql.SparkSession.getActiveSession()
    session = active or (
        sql.SparkSession.builder.master("local[2]").appName("errlens-widget-tests")
        .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2").config("spark.driver.memory", "1g")
        .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1")
        .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    if active is None:
        session.stop()


@pytest.fixture(scope="module")
def frame(adult: pd.DataFrame) -> pd.DataFrame:
    rich = ((adult["education_num"] >= 13) & (adult["age"] > 30)) | (adult["capital_gain"] > 5000)
    data = adult[["id", "income", *FEATURES]].assign(pred=np.where(rich, ">50K", "<=50K"))
    return data.astype({c: object for c in data.columns if c not in ("age", "hours_per_week")})


def test_spark_dashboard_equals_the_in_memory_one(spark, frame):
    ev = el.Analysis.from_predictions(frame, y_true="income", y_pred="pred", id="id",
                                      features=FEATURES)
    rows = spark.createDataFrame(frame.where(frame.notna(), None))
    lazy = LazyAnalysis.from_spark(rows, y_true="income", y_pred="pred", id="id",
                                   features=FEATURES, definition=ev.segments.definition)
    engine, memory = explore(lazy), explore(ev)
    for msg in (None, {"type": "select_segment", "feature": "sex", "label": "Female"},
                {"type": "select_cell", "row": 0, "col": 1}):
        if msg is not None:
            assert click(engine.segments, msg)["error"] is None
            click(memory.segments, msg)
        for name in ("features", "heatmap", "rows"):
            assert getattr(engine.segments, name) == getattr(memory.segments, name)
        assert engine.confusion.table == memory.confusion.table
        assert engine.bar.text == memory.bar.text
    reply, buffers = engine.suspects.handle({"type": "page", "rid": 1, "mode": "all", "page": 1})
    expected = memory.selection.frame(ev).sort_index().index[25:50].tolist()
    assert reply["error"] is None and reply["total"] == memory.bar.rows > 25
    assert pa.ipc.open_stream(buffers[0]).read_all()["id"].to_pylist() == expected
    assert "not computed in an engine" in engine.segments.unavailable["tree"]
