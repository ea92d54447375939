"""The Explorer links the views through one selection, driven as the front end drives it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import errlens as el
from errlens.slicing.cohort import Cohort
from errlens.views.selection import SelectionError, SelectionHistory, parse_cohort
from errlens.widgets.explorer import Explorer, explore
from errlens.widgets.suspect_browser import SuspectBrowser

from .messaging import click

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def ev(adult: pd.DataFrame) -> el.Analysis:
    data = adult.head(10_000).drop(columns=["split"])
    pred = np.where((data["education_num"] >= 13) & (data["age"] >= 30), ">50K", "<=50K")
    return el.Analysis.from_predictions(data, y_true="income", y_pred=pred, id="id")


def test_a_segment_click_moves_every_view_and_the_bar(ev):
    ex = explore(ev)
    assert isinstance(ex, Explorer) and ex.selection is None and ex.bar.rows == ev.n
    assert click(ex.segments, {"type": "select_segment", "feature": "sex", "label": "Female"})[
        "error"] is None
    female = Cohort.segment("sex", "Female")
    assert ex.selection == female
    assert ex.confusion.cohort == female.to_json()
    assert ex.confusion.table["counts"] == ev.confusion(female).counts.values.tolist()
    assert (ex.bar.text, ex.bar.rows, ex.bar.depth) == ("sex = Female", female.mask(ev).sum(), 1)

    click(ex.confusion, {"type": "select_cell", "true": 1, "predicted": 0})
    cell = female & Cohort.confusion_cell(">50K", "<=50K")
    assert ex.selection == cell and ex.segments.cohort == cell.to_json()
    assert ex.segments.rows == ex.bar.rows == cell.mask(ev).sum() > 0

    click(ex.bar, {"type": "back"})
    assert ex.selection == female and ex.confusion.rows == female.mask(ev).sum()
    click(ex.bar, {"type": "clear"})
    assert ex.selection is None and ex.segments.rows == ev.n and ex.bar.text == "all rows"
    click(ex.bar, {"type": "back"})
    assert ex.selection == female  # clearing is a step too


def test_selection_from_python_updates_every_view(ev):
    ex = explore(ev)
    older = Cohort.where("age", ">=", 50)
    ex.selection = older
    frame = ex.selection.frame(ev)
    assert len(frame) == ex.segments.rows == ex.confusion.rows == ex.bar.rows
    assert (frame["age"] >= 50).all()
    assert Cohort.from_json(ex.selection.to_json()) == older
    ex.selection = (ev.features["sex"] == "Male").to_numpy()  # a mask becomes an id cohort
    assert ex.bar.rows == (ev.features["sex"] == "Male").sum()
    ex.selection = None
    assert ex.segments.cohort is None and ex.bar.depth == 3


def test_invalid_selections_change_nothing(ev):
    ex = explore(ev)
    ex.selection = Cohort.where("age", ">=", 50)
    before = (ex.selection, ex.segments.cohort, ex.confusion.table, ex.bar.text, ex.bar.depth)
    with pytest.raises(KeyError, match="salary"):
        ex.selection = Cohort.where("salary", ">", 1)
    reply = click(ex.segments, {"type": "select_segment", "feature": "sex", "label": HOSTILE})
    assert "has no segment" in reply["error"]
    reply = ex.bar.handle({"type": "rm -rf", "rid": 2})[0]
    assert reply["rid"] == 2 and reply["error"].startswith("unknown message type 'rm -rf'")
    assert (ex.selection, ex.segments.cohort, ex.confusion.table, ex.bar.text,
            ex.bar.depth) == before


def test_hostile_strings_pass_through_as_text():
    frame = pd.DataFrame({"note": [HOSTILE, "fine"] * 20, "x": range(40)})
    ev = el.Analysis.from_predictions(frame, y_true=[HOSTILE, "ok"] * 20,
                                      y_pred=[HOSTILE, HOSTILE, "ok", "ok"] * 10)
    ex = explore(ev)
    assert HOSTILE in {s["label"] for f in ex.segments.features for s in f["segments"]}
    click(ex.segments, {"type": "select_segment", "feature": "note", "label": HOSTILE})
    assert ex.bar.text == f"note = {HOSTILE}" and ex.bar.rows == 20
    assert HOSTILE in ex.confusion.table["classes"]


def test_the_suspect_browser_follows_the_selection(ev):
    ex = explore(ev)
    assert isinstance(ex.suspects, SuspectBrowser) and len(ex.views) == 3
    ex.selection = Cohort.where("age", ">=", 50)
    assert ex.suspects.cohort == ex.selection.to_json()


def test_regression_has_no_confusion_view():
    ev = el.Analysis.from_predictions({"x": [1.0, 2.0, 3.0]}, y_true=[1.0, 2.0, 3.0],
                                      y_pred=[1.5, 2.0, 2.0])
    ex = explore(ev)
    assert ex.confusion is None and ex.segments in ex.views


def test_segments_and_confusion_share_a_row_that_wraps_only_when_narrow(ev):
    ex = explore(ev)
    row = ex.children[1]
    assert list(row.children) == [ex.segments, ex.confusion]
    assert row.layout.flex_flow == "row wrap"
    # segments take the spare room; the confusion table keeps its narrowest width
    assert ex.segments.layout.flex == "1 1 560px" and ex.segments.layout.min_width == "0"
    assert (ex.confusion.layout.flex, ex.confusion.layout.width) == ("0 0 auto", "min-content")
    assert all("errlens-box" in v._dom_classes for v in (ex.segments, ex.confusion))


def test_marimo_displays_the_views_themselves(ev):
    """marimo shows no ipywidgets container: it gets the same views in its own stacks."""
    import marimo as mo

    ex = explore(ev)
    html = mo.as_html(ex).text  # marimo's formatter calls Explorer._display_
    assert "application/vnd.jupyter.widget-view+json" not in html
    views = [ex.bar, ex.segments, ex.confusion, ex.suspects]
    places = [html.index(f"&quot;{v.model_id}&quot;") for v in views]
    assert places == sorted(places)  # bar, segments, confusion, then the suspect browser
    segments_box = html.rindex('class="errlens-box"', 0, places[1])
    confusion_box = html.rindex('class="errlens-box"', 0, places[2])
    assert places[0] < segments_box < places[1] < confusion_box < places[2]
    assert "flex: 1 1 560px" in html[segments_box:places[1]]
    assert "width: min-content" in html[confusion_box:places[2]]

    ex.selection = Cohort.where("age", ">=", 50)  # the Explorer keeps linking its own views
    assert ex.confusion.rows == ex.bar.rows == (ev.features["age"] >= 50).sum()


def test_marimo_regression_dashboard_has_no_confusion_box():
    import marimo as mo

    ev = el.Analysis.from_predictions({"x": [1.0, 2.0, 3.0]}, y_true=[1.0, 2.0, 3.0],
                                      y_pred=[1.5, 2.0, 2.0])
    html = mo.as_html(explore(ev)).text
    assert html.count('class="errlens-box"') == 1 and "min-content" not in html


def test_parse_cohort_refuses_malformed_payloads(ev):
    assert parse_cohort(None, ev) is None and parse_cohort({"kind": "all"}, ev) is None
    for payload, needle in [
        ("age > 3", "JSON object"),
        ({"kind": "sql", "q": "drop"}, "unknown cohort node kind"),
        ({"kind": "where", "feature": "age", "op": "~", "value": 1}, "unknown cohort op"),
        ({"kind": "where", "feature": "sex", "op": "<", "value": 1}, "cannot compare"),
        ({"kind": "ids", "ids": ["x"] * 20_000}, "larger than"),
        ({"kind": "and", "args": [{"kind": "all"}]}, "at least two"),
    ]:
        with pytest.raises(SelectionError, match=needle):
            parse_cohort(payload, ev)


def test_history_is_bounded_and_skips_repeats():
    history = SelectionHistory()
    cohorts = [Cohort.where("x", ">", i) for i in range(80)]
    for c in cohorts:
        history.push(c)
        history.push(c)
    assert history.depth == 50 and history.current == cohorts[-1]
    assert history.back() == cohorts[-2]
