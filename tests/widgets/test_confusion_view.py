"""ConfusionView driven as the front end drives it; figures checked against scikit-learn."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

import errlens as el
from errlens.slicing.cohort import Cohort
from errlens.widgets.confusion_view import ConfusionView


def send(view: Any, msg: dict[str, Any]) -> dict[str, Any]:
    replies: list[dict[str, Any]] = []
    view.send = lambda content, buffers=None: replies.append(content)
    view._on_msg(view, {"rid": 5, **msg}, [])
    assert len(replies) == 1 and replies[0]["rid"] == 5
    return replies[0]


@pytest.fixture(scope="module")
def ev(adult: pd.DataFrame) -> el.Analysis:
    data = adult.head(8_000).drop(columns=["split"])
    pred = np.where((data["education_num"] >= 13) & (data["age"] >= 30), ">50K", "<=50K")
    return el.Analysis.from_predictions(data, y_true="income", y_pred=pred, id="id")


def test_table_and_report_agree_with_sklearn(ev):
    cohort = Cohort.where("sex", "==", "Female")
    view = ConfusionView(ev, cohort=cohort)
    mask = cohort.mask(ev)
    truth, pred = ev.y_true[mask], ev.y_pred[mask]
    assert view.table["counts"] == confusion_matrix(truth, pred, labels=ev.classes).tolist()
    p, r, f, s = precision_recall_fscore_support(truth, pred, labels=ev.classes, zero_division=0)
    np.testing.assert_allclose([row["precision"] for row in view.table["report"]], p)
    np.testing.assert_allclose([row["recall"] for row in view.table["report"]], r)
    np.testing.assert_allclose([row["f1"] for row in view.table["report"]], f)
    assert [row["support"] for row in view.table["report"]] == s.tolist()
    assert view.table["rows"] == mask.sum() == view.rows


def test_normalize_toggle(ev):
    view = ConfusionView(ev)
    assert send(view, {"type": "normalize", "normalize": "true"})["error"] is None
    np.testing.assert_allclose(np.nansum(view.table["values"], axis=1), 1.0)
    send(view, {"type": "normalize", "normalize": "pred"})
    np.testing.assert_allclose(np.nansum(view.table["values"], axis=0), 1.0)
    send(view, {"type": "normalize", "normalize": None})
    assert view.table["values"] == view.table["counts"]


def test_cell_click_combines_with_the_current_selection(ev):
    view = ConfusionView(ev, cohort=Cohort.where("age", ">=", 40))
    reply = send(view, {"type": "select_cell", "true": 1, "predicted": 0, "version": view.version})
    assert reply["error"] is None
    assert view.selection == Cohort.where("age", ">=", 40) & Cohort.confusion_cell(">50K", "<=50K")
    old = (ev.features["age"] >= 40).to_numpy() & (ev.y_true == ">50K").to_numpy() & (
        ev.y_pred == "<=50K").to_numpy()
    assert view.rows == old.sum() and view.table["counts"][1][0] == old.sum()


@pytest.mark.parametrize("msg, needle", [
    ({"type": "normalize", "normalize": "rows"}, "normalize must be one of"),
    ({"type": "select_cell", "true": 2, "predicted": 0}, "no confusion cell"),
    ({"type": "select_cell", "true": "0", "predicted": 0}, "no confusion cell"),
    ({"type": "select_cell", "true": 0, "predicted": 0, "version": 999}, "stale"),
    ({"type": "eval", "code": "1"}, "unknown message"),
])
def test_forged_messages_are_refused(ev, msg, needle):
    view = ConfusionView(ev)
    msg = {"version": view.version, **msg} if msg["type"] == "select_cell" else msg
    before = (view.cohort, view.table, view.normalize)
    assert needle in send(view, msg)["error"]
    assert (view.cohort, view.table, view.normalize) == before


def test_hostile_class_labels_stay_plain_strings():
    hostile = "<img src=x onerror=alert(1)>"
    ev = el.Analysis.from_predictions({"x": [1, 2, 3]}, y_true=[hostile, "ok", "ok"],
                                      y_pred=[hostile, hostile, "ok"])
    view = ConfusionView(ev)
    assert hostile in view.table["classes"]
    send(view, {"type": "select_cell", "true": view.table["classes"].index("ok"),
                "predicted": view.table["classes"].index(hostile), "version": view.version})
    assert view.selection.describe() == f"true = ok and predicted = {hostile}"


def test_regression_is_refused_with_a_hint():
    ev = el.Analysis.from_predictions({"x": [1.0, 2.0]}, y_true=[1.0, 2.0], y_pred=[1.5, 2.5])
    with pytest.raises(TypeError, match="regression"):
        ConfusionView(ev)
