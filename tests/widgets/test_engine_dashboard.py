"""The dashboard over a DuckDB-backed LazyAnalysis of UCI Adult, driven exactly as the front end
drives it (messages and traits): every aggregate equals the in-memory dashboard's, row pages
come from the engine a page at a time, and what an engine cannot do is refused with a reason."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import errlens as el
from errlens.changelog import LabelStore
from errlens.engines import LazyAnalysis, ScaleOutError
from errlens.slicing.cohort import Cohort
from errlens.widgets.confusion_view import ConfusionView
from errlens.widgets.explorer import explore
from errlens.widgets.segments_view import SegmentsView
from errlens.widgets.summary import SummaryWidget
from errlens.widgets.suspect_browser import SuspectBrowser

from .messaging import click

FEATURES = ["age", "workclass", "education", "education_num", "marital_status", "occupation",
            "relationship", "race", "sex", "capital_gain", "hours_per_week", "native_country"]


@pytest.fixture(scope="module")
def data(adult: pd.DataFrame) -> pd.DataFrame:
    """Adult with a rule-based prediction (19.5 % errors, concentrated in slices) and its
    probabilities."""
    rich = ((adult["education_num"] >= 13) & (adult["age"] > 30)) | (adult["capital_gain"] > 5000)
    p_high = np.clip(np.where(rich, 0.75, 0.25) + (adult["age"] - 40) / 400, 0.01, 0.99)
    return adult.drop(columns="split").assign(pred=np.where(rich, ">50K", "<=50K"),
                                              p_low=1 - p_high, p_high=p_high)


@pytest.fixture(scope="module")
def ev(data: pd.DataFrame) -> el.Analysis:
    return el.Analysis.from_predictions(data, y_true="income", y_pred="pred", id="id",
                                        proba=data[["p_low", "p_high"]].to_numpy(),
                                        proba_out_of_fold=True, features=FEATURES)


@pytest.fixture(scope="module")
def parquet(data: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scale") / "adult.parquet"
    data.to_parquet(path)
    return path


@pytest.fixture(scope="module")
def lazy(parquet: Path) -> LazyAnalysis:
    return LazyAnalysis.from_duckdb(parquet, y_true="income", y_pred="pred", id="id",
                                    features=FEATURES, proba=["p_low", "p_high"])


@pytest.fixture(scope="module")
def no_proba(parquet: Path) -> LazyAnalysis:
    """The same rows without probability columns: no suspects."""
    return LazyAnalysis.from_duckdb(parquet, y_true="income", y_pred="pred", id="id",
                                    features=FEATURES)


def page(browser: SuspectBrowser, **fields: Any) -> tuple[dict[str, Any], pa.Table | None]:
    reply, buffers = browser.handle({"type": "page", "rid": 3, "mode": "all", "page": 0, **fields})
    return reply, pa.ipc.open_stream(buffers[0]).read_all() if buffers else None


def same_views(engine: Any, memory: Any) -> None:
    """Every trait the front end draws is the in-memory dashboard's."""
    for name in ("features", "feature", "feature_b", "heatmap", "slices", "rows"):
        assert getattr(engine.segments, name) == getattr(memory.segments, name), name
    assert engine.segments.overall == memory.segments.overall  # 9531 == 9531.0
    assert engine.confusion.table == memory.confusion.table
    assert (engine.bar.text, engine.bar.rows, engine.bar.depth) == (
        memory.bar.text, memory.bar.rows, memory.bar.depth)
    assert engine.suspects.cohort == memory.suspects.cohort
    assert engine.suspects.cohort_text == memory.suspects.cohort_text


def test_every_click_reaggregates_in_the_engine_with_the_in_memory_results(lazy, ev):
    engine, memory = explore(lazy), explore(ev)
    same_views(engine, memory)
    assert engine.bar.total == memory.bar.total == 48842
    steps = [
        ("segments", {"type": "select_segment", "feature": "sex", "label": "Female"}),
        ("segments", {"type": "pick", "feature": "education", "feature_b": "age"}),
        ("segments", {"type": "select_cell", "row": 0, "col": 2}),
        ("confusion", {"type": "select_cell", "true": 1, "predicted": 0}),
        ("confusion", {"type": "normalize", "normalize": "true"}),
        ("segments", {"type": "discover", "k": 5, "max_level": 2}),
        ("segments", {"type": "select_slice", "rank": 1}),
    ]
    for view, msg in steps:
        replies = [click(getattr(ui, view), msg) for ui in (engine, memory)]
        assert replies[0] == replies[1] == {"type": "reply", "rid": 1, "error": None}, msg
        same_views(engine, memory)
    assert len(engine.segments.slices) == 5 and engine.segments.slices[1]["selected"]
    assert engine.selection == memory.selection and engine.bar.rows > 0
    for action in ("back", "back", "clear", "back"):
        for ui in (engine, memory):
            assert click(ui.bar, {"type": action})["error"] is None
        same_views(engine, memory)
    assert engine.selection == memory.selection is not None


def test_selection_is_a_cohort_without_a_mask(lazy, ev):
    ex = explore(lazy)
    ex.selection = Cohort.where("age", ">=", 60) & Cohort.segment("sex", "Male")
    assert ex.bar.rows == ex.confusion.rows == ex.segments.rows == int(
        ex.selection.frame(ev)["y_true"].size)  # the same cohort on the in-memory analysis
    assert lazy.rows(ex.selection, limit=5).index.tolist() == ex.selection.frame(
        ev).sort_index().index[:5].tolist()
    with pytest.raises(ScaleOutError, match=r"rows\(cohort, limit=\.\.\.\)"):
        ex.selection.mask(lazy)
    with pytest.raises(ScaleOutError, match="to_json"):
        ex.selection.frame(lazy)
    ex.selection = [*ev.ids[:3], "no-such-id"]  # a list of ids becomes an id cohort
    assert ex.bar.rows == 3
    with pytest.raises(ValueError, match="duckdb cannot filter by this cohort"):
        ex.selection = [1, 2]  # Adult's ids are text
    with pytest.raises(TypeError, match="Cohort or a list of ids"):
        ex.selection = np.ones(lazy.n, dtype=bool)
    assert ex.bar.rows == 3


def test_invalid_cohorts_are_refused_before_any_view_changes(lazy):
    ex = explore(lazy)
    ex.selection = Cohort.segment("sex", "Female")
    before = (ex.selection, ex.segments.features, ex.confusion.table, ex.bar.text, ex.bar.depth)
    bad = [
        (Cohort.where("age", ">", "old").to_json(), "duckdb cannot filter by this cohort"),
        (Cohort.where("salary", ">", 3).to_json(), "unknown feature 'salary'"),
        (Cohort.confusion_cell("rich", "<=50K").to_json(), "'rich' is not a class"),
        (Cohort.segment("age", "≥ 99").to_json(), "has no segment"),
        (Cohort.segment("age", "≥ 99", bins=7).to_json(), "bins=5"),
        ({"kind": "where", "feature": "age"}, "invalid cohort"),
    ]
    for payload, needle in bad:
        reply = click(ex.segments, {"type": "select_cohort", "cohort": payload})
        assert needle in reply["error"], (payload, reply)
    hostile = {"type": "select_segment", "feature": "sex", "label": "<img src=x onerror=alert(1)>"}
    assert "has no segment" in click(ex.segments, hostile)["error"]
    with pytest.raises(KeyError, match="salary"):
        ex.selection = Cohort.where("salary", ">", 1)
    assert (ex.selection, ex.segments.features, ex.confusion.table, ex.bar.text,
            ex.bar.depth) == before


def test_what_an_engine_cannot_do_is_a_disabled_control_with_its_reason(no_proba, tmp_path, ev):
    lazy = no_proba
    ex = explore(lazy)
    assert ex.segments.tree == [] and "discover()" in ex.segments.unavailable["tree"]
    assert "no error tree here" in click(ex.segments, {"type": "select_node", "node": 0})["error"]
    b = ex.suspects
    assert b.mode == "all" and not b.editable and "in-memory" in b.hint
    assert set(b.unavailable) >= {"suspects", "search", "sort", "check", "similar", "relabel"}
    refused = [
        ({"type": "page", "mode": "suspects", "page": 0}, "one probability column per class"),
        ({"type": "page", "mode": "all", "page": 0, "search": "Bachelors"}, "text search"),
        ({"type": "page", "mode": "all", "page": 0, "sort": "score"}, "id order"),
        ({"type": "check", "ids": [1], "on": True}, "checking rows"),
        ({"type": "similar", "id": 1}, "neighbours"),
        ({"type": "detail", "id": 1}, "in-memory errlens.Analysis"),
        ({"type": "action", "action": "undo"}, "LabelStore"),
    ]
    for msg, needle in refused:
        reply, buffers = b.handle({"rid": 5, **msg})
        assert reply["rid"] == 5 and needle in reply["error"] and buffers == [], msg
    assert b.selected == []
    with pytest.raises(ValueError, match="rows to the driver"):
        b.selected_mask  # noqa: B018
    with pytest.raises(TypeError, match="relabelling needs an in-memory analysis"):
        explore(lazy, LabelStore(ev, tmp_path / "labels.jsonl", author="ana"))
    with pytest.raises(TypeError, match="images in memory"):
        SuspectBrowser(lazy, image=np.zeros((lazy.n, 2, 2)))


def test_row_pages_come_from_the_engine_one_page_at_a_time(lazy, ev, monkeypatch):
    browser = SuspectBrowser(lazy, page_size=20, cohort=Cohort.segment("sex", "Female"))
    reference = SuspectBrowser(ev, page_size=20, cohort=Cohort.segment("sex", "Female"))
    limits: list[int] = []
    rows = lazy.rows
    monkeypatch.setattr(lazy, "rows", lambda *a, **k: limits.append(k["limit"]) or rows(*a, **k))
    shared = ["id", "given", "predicted", "given_code", "predicted_code", "p_given", "p_pred",
              *[f"f{i}" for i in range(len(FEATURES))]]
    for number, given in ((0, None), (1, None), (300, None), (299, None), (10_000, None),
                          (4, ">50K")):
        mine, table = page(browser, page=number, given=given)
        theirs, expected = page(reference, page=number, given=given)
        assert mine["error"] is None and table is not None and expected is not None
        assert {k: mine[k] for k in ("page", "pages", "total", "offset")} == {
            k: theirs[k] for k in ("page", "pages", "total", "offset")}
        assert table.select(shared).equals(expected.select(shared)), number
        assert table["checked"].to_pylist() == [False] * table.num_rows
    assert mine["total"] == ev.confusion(Cohort.segment("sex", "Female")).counts.loc[">50K"].sum()
    assert max(limits) <= 10_000 and limits.count(20) >= 6  # pages, plus one walk to page 300


def test_suspects_are_ranked_in_the_engine_as_in_memory(lazy, ev):
    cohort = Cohort.where("age", ">=", 45)
    engine = SuspectBrowser(lazy, cohort=cohort, page_size=20)
    memory = SuspectBrowser(ev, cohort=cohort, page_size=20, method="confident_learning")
    assert engine.mode == memory.mode == "suspects" and engine.method == "confident_learning"
    shared = ["id", "given", "predicted", "given_code", "predicted_code", "p_given", "score",
              "flagged", "rank", *[f"f{i}" for i in range(len(FEATURES))]]
    for number, given in ((0, None), (3, None), (10_000, None), (1, "<=50K")):
        mine, table = page(engine, mode="suspects", page=number, given=given)
        theirs, expected = page(memory, mode="suspects", page=number, given=given)
        assert mine["error"] is None and table is not None and expected is not None, mine
        keys = ("page", "pages", "total", "offset", "score_kind")
        assert {k: mine[k] for k in keys} == {k: theirs[k] for k in keys}, number
        assert table.select(shared).equals(expected.select(shared)), number
    assert mine["total"] > 100 and all(table["flagged"].to_pylist())
    reply, _ = engine.handle({"type": "page", "rid": 1, "mode": "suspects", "page": 0,
                              "sort": "score"})
    assert "id order" in reply["error"]
    knn = SuspectBrowser(lazy, method="knn")
    assert "does not run in duckdb" in page(knn, mode="suspects")[0]["error"]


def test_views_work_alone_on_a_lazy_analysis(lazy, ev):
    cohort = Cohort.where("education_num", ">=", 13)
    segments, reference = SegmentsView(lazy, cohort=cohort), SegmentsView(ev, cohort=cohort)
    assert segments.features == reference.features and segments.heatmap == reference.heatmap
    confusion = ConfusionView(lazy, normalize="pred")
    assert confusion.table == ConfusionView(ev, normalize="pred").table
    assert click(confusion, {"type": "select_cell", "true": 0, "predicted": 1})["error"] is None
    assert confusion.rows == int(ev.confusion().counts.iloc[0, 1])
    browser = SuspectBrowser(lazy, text_column="occupation")
    reply, table = page(browser)
    assert reply["total"] == lazy.n and browser.kind == "text"
    assert table["text"].to_pylist() == [None if pd.isna(v) else str(v) for v in
                                         ev.features["occupation"].sort_index().iloc[:25]]
    with pytest.raises(TypeError, match="LazyAnalysis, got DataFrame"):
        SegmentsView(ev.features)



def test_a_click_waits_while_a_cell_keeps_the_connection_busy(lazy):
    """Widget messages run in their own kernel thread: a click during a running cell's query on
    the same DuckDB connection (which refuses concurrent calls) waits instead of failing."""
    ex = explore(lazy)
    started = threading.Event()

    def cell() -> None:
        started.set()
        while True:  # (its start may meet the probe below: then it tries again)
            try:
                duckdb.default_connection().sql(
                    "SELECT sum(i * i) FROM range(150000000) t(i)").fetchall()
                return
            except duckdb.Error as exc:
                assert "busy" in str(exc)

    thread = threading.Thread(target=cell)
    thread.start()
    started.wait()
    for _ in range(200):  # the contention is real ...
        try:
            lazy.rows(limit=3)
        except duckdb.Error as exc:
            assert "busy" in str(exc)
            break
        time.sleep(0.005)
    else:
        pytest.fail("the cell's query never held the connection")
    ex.selection = Cohort.segment("sex", "Female")  # ... and the dashboard waits it out
    thread.join()
    assert ex.bar.rows == ex.confusion.rows == 16192 and ex.bar.error == ""


def test_summary_card_counts_in_the_engine(lazy, ev):
    mine, theirs = SummaryWidget(lazy).summary, SummaryWidget(ev).summary
    assert mine == {**theirs, "proba_source": "given"}  # ev's probabilities are out of fold
    assert (mine["rows"], mine["errors"]) == (48842, 9531)


def test_report_of_an_engine_dashboard(lazy, ev, no_proba, tmp_path):
    from errlens.report import to_html

    ex = explore(lazy)
    ex.selection = Cohort.segment("sex", "Female")
    text = to_html(ex, tmp_path / "scale.html", max_rows=5).read_text()
    raw = re.search(r'id="errlens-data">(.*?)</script>', text, re.S)
    assert raw is not None
    data = json.loads(raw.group(1))
    women = Cohort.segment("sex", "Female")
    assert data["views"]["selection"]["rows"] == int(women.mask(ev).sum())
    assert data["views"]["segments"]["unavailable"]["tree"]  # the reason, drawn in its place
    expected = ev.suspects("confident_learning", cohort=women, top=5).table.index.tolist()
    assert [row["id"] for row in data["suspects"]["rows"]] == expected
    plain = to_html(no_proba, tmp_path / "plain.html").read_text()
    assert "no probabilities in this analysis" in plain


def test_discovery_on_an_engine_reports_its_progress(lazy):
    steps: list[Any] = []
    found = explore(lazy).segments.source.discover(5, 2, steps.append)
    assert len(found.to_frame()) == 5
    assert {step.level for step in steps} == {1, 2} and steps[-1].done == steps[-1].total
