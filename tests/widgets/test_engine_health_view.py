"""The annotator-health panel over a DuckDB-backed LazyAnalysis of Adult with a planted careless
annotator, driven through the widgets' message handlers as the front end drives them: the
in-memory panel's figures, a click selecting the annotator's rows as a cohort, and each
selection's per-annotator counts from one GROUP BY in the engine (aggregates only)."""

from __future__ import annotations

import json
import re
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict

import errlens as el
from errlens.engines import LazyAnalysis
from errlens.engines import health as engine_health
from errlens.report import to_html
from errlens.slicing.cohort import Cohort
from errlens.widgets.explorer import explore
from errlens.widgets.health_view import HealthView
from tests.widgets.test_health_view import HOSTILE, NOISY, planted

from .messaging import click

EXACT = ("label", "n", "given", "likely_true", "confusion_count", "selected", "active")
RATES = ("noise_rate", "ci_low", "ci_high", "prior")


@pytest.fixture(scope="module")
def pair(adult: pd.DataFrame) -> tuple[LazyAnalysis, el.Analysis, pd.DataFrame]:
    """The same planted rows and out-of-fold probabilities as a LazyAnalysis in DuckDB and as
    an in-memory Analysis."""
    data, _ = planted(adult)
    numbers = data.drop(columns=["id", "income"]).select_dtypes("number")
    proba = cross_val_predict(LogisticRegression(max_iter=300),
                              (numbers - numbers.mean()) / numbers.std(), data["income"], cv=3,
                              method="predict_proba")
    classes = sorted(data["income"].unique())
    frame = data.assign(pred=np.asarray(classes, dtype=object)[proba.argmax(axis=1)],
                        p0=proba[:, 0], p1=proba[:, 1])
    lazy = LazyAnalysis.from_duckdb(duckdb.from_df(frame), y_true="income", y_pred="pred",
                                    id="id", proba=["p0", "p1"], annotator="labeller")
    ev = el.Analysis.from_predictions(frame.drop(columns=["p0", "p1"]), y_true="income",
                                      y_pred="pred", id="id", proba=proba,
                                      proba_out_of_fold=True, annotator="labeller")
    return lazy, ev, data


def same_panel(engine: dict[str, Any], memory: dict[str, Any], suspects: pd.Series) -> None:
    """The in-memory panel's rows; ``suspects`` count the engine's confident-learning flags."""
    (got,), (want,) = engine["groups"], memory["groups"]
    assert {k: got[k] for k in ("kind", "column", "total")} == \
        {k: want[k] for k in ("kind", "column", "total")}
    assert got["overall"] == pytest.approx(want["overall"], rel=1e-9)
    assert [{k: r[k] for k in EXACT} for r in got["rows"]] == \
        [{k: r[k] for k in EXACT} for r in want["rows"]]
    for a, b in zip(got["rows"], want["rows"], strict=True):
        assert [a[k] for k in RATES] == pytest.approx([b[k] for k in RATES], rel=1e-9)
    labels = [r["label"] for r in got["rows"]]
    assert [r["suspects"] for r in got["rows"]] == suspects.rename(str).reindex(labels).tolist()


def selected_by_pandas(data: pd.DataFrame, keep: np.ndarray, labels: list[str]) -> list[int]:
    counts = data.loc[keep, "labeller"].fillna("(missing)").value_counts()
    return [int(counts.get(label, 0)) for label in labels]


def test_the_engine_panel_is_the_in_memory_one_and_clicks_select_cohorts(pair, monkeypatch):
    lazy, ev, data = pair
    counted: list[int] = []  # the rows each engine count brings back (one per annotator)
    real = engine_health.value_counts

    def spy(*args: Any) -> pd.Series:
        found = real(*args)
        counted.append(len(found))
        return found

    monkeypatch.setattr(engine_health, "value_counts", spy)
    engine, memory = explore(lazy), explore(ev)
    assert engine.health is not None and engine.health in engine.children
    flags = ev.suspects("confident_learning").priors[0].table["suspects"]
    same_panel(engine.health.health, memory.health.health, flags)
    rows = engine.health.health["groups"][0]["rows"]
    assert rows[0]["label"] == NOISY and HOSTILE in [r["label"] for r in rows]
    assert counted == [6]  # the panel's build: null check, one row per annotator
    labels = [r["label"] for r in rows]
    # a click on the careless annotator selects its rows, as a cohort, in every view
    for ui in (engine, memory):
        reply = click(ui.health, {"type": "select_group", "group": "annotator",
                                  "index": labels.index(NOISY)})
        assert reply == {"type": "reply", "rid": 1, "error": None}
    assert engine.selection == memory.selection == Cohort.where("labeller", "==", NOISY)
    n = int((data["labeller"] == NOISY).sum())
    assert engine.bar.rows == engine.confusion.rows == engine.segments.rows == n
    same_panel(engine.health.health, memory.health.health, flags)
    rows = engine.health.health["groups"][0]["rows"]
    assert [r["selected"] for r in rows] == [n if r["label"] == NOISY else 0 for r in rows]
    assert [r["active"] for r in rows] == [r["label"] == NOISY for r in rows]
    # another view's selection within it, then alone: each annotator's share, from the engine
    careless = (data["labeller"] == NOISY).to_numpy()
    women = (data["sex"] == "Female").to_numpy()
    for keep in (careless & women, women):
        for ui in (engine, memory):
            if not careless[keep].all():
                assert click(ui.bar, {"type": "clear"})["error"] is None
            reply = click(ui.segments, {"type": "select_segment", "feature": "sex",
                                        "label": "Female"})
            assert reply["error"] is None
        same_panel(engine.health.health, memory.health.health, flags)
        got = [r["selected"] for r in engine.health.health["groups"][0]["rows"]]
        assert got == selected_by_pandas(data, keep, labels) and 0 < sum(got) < len(data)
        assert not any(r["active"] for r in engine.health.health["groups"][0]["rows"])
    assert sum(1 for g in got if g) == len(labels)  # women in every group
    # the group without an annotator is the rows whose value is missing
    reply = click(engine.health, {"type": "select_group", "group": "annotator",
                                  "index": labels.index("(missing)")})
    assert reply["error"] is None
    assert engine.selection == Cohort.where("labeller", "is missing")
    assert engine.bar.rows == int(data["labeller"].isna().sum()) > 0
    got = [r["selected"] for r in engine.health.health["groups"][0]["rows"]]
    assert got == selected_by_pandas(data, data["labeller"].isna().to_numpy(), labels)
    # one count per selection but "all rows" (the table's own n), each bringing back one row
    # per annotator at most: no row of the data
    assert len(counted) == 5 and max(counted) <= len(labels)
    assert len(json.dumps(engine.health.health)) < 4_000


BAD = [
    ({"group": "source", "index": 0}, "no 'source' table in the annotator-health panel"),
    ({"group": "annotator", "index": 6}, "no row 6 in the annotator table: it has rows 0..5"),
    ({"group": "annotator", "index": "0"}, "no row '0'"),
    ({"group": "annotator", "index": 0, "version": -3}, "stale click"),
    ({"group": "annotator", "index": 0, "value": NOISY}, "unknown field(s) value"),
]


@pytest.mark.parametrize("fields, needle", BAD, ids=[b[1][:30] for b in BAD])
def test_a_bad_click_on_the_engine_panel_changes_nothing(pair, fields, needle):
    lazy, _, _ = pair
    explorer = explore(lazy)
    view = explorer.health
    before = (view.cohort, view.version, view.health, explorer.selection)
    reply, buffers = view.handle({"type": "select_group", "rid": 4, "version": view.version,
                                  **fields})
    assert needle in reply["error"] and buffers == []
    assert (view.cohort, view.version, view.health, explorer.selection) == before


def test_no_engine_panel_without_probabilities_and_the_report_carries_it(pair, tmp_path):
    lazy, _, data = pair
    rel = duckdb.from_df(data.assign(pred=data["income"]))
    bare = LazyAnalysis.from_duckdb(rel, y_true="income", y_pred="pred", id="id",
                                    annotator="labeller")
    assert explore(bare).health is None
    with pytest.raises(TypeError, match=r"proba=\[\.\.\.\] one column per class"):
        HealthView(bare)
    text = to_html(lazy, tmp_path / "report.html").read_text()
    raw = re.search(r'id="errlens-data">(.*?)</script>', text, re.S)
    assert raw is not None
    assert json.loads(raw.group(1))["views"]["health"]["health"] == HealthView(lazy).health
    assert HOSTILE not in text
