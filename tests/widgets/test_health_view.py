"""The annotator-health panel on Adult with a planted careless annotator: its figures, a click
selecting that annotator's rows in every view, refused clicks changing nothing, the report."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict

import errlens as el
from errlens.report import to_html
from errlens.views.health import MAX_GROUPS, health_groups
from errlens.widgets.explorer import explore
from errlens.widgets.health_view import HealthView

HOSTILE = "<img src=x onerror=alert(1)>"
NOISY = "ann3"


def planted(adult: pd.DataFrame, n: int = 12_000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """The first ``n`` Adult rows labelled by five annotators, ``ann3`` flipping 35 % of its
    labels and the others 3 %, plus a few rows whose annotator is missing; the flip mask."""
    rng = np.random.default_rng(seed)
    data = adult.head(n).drop(columns=["split"]).reset_index(drop=True)
    who = rng.choice(["ann1", "ann2", NOISY, "ann4", HOSTILE], size=n).astype(object)
    who[rng.random(n) < 0.01] = None
    rate = np.where(who == NOISY, 0.35, 0.03)
    flip = rng.random(n) < rate
    classes = np.array(sorted(data["income"].unique()))
    labels = data["income"].to_numpy().astype(object)
    labels[flip] = np.where(labels[flip] == classes[0], classes[1], classes[0])
    data["income"], data["labeller"] = labels, who
    return data, flip


def analysis(data: pd.DataFrame, **declared: str) -> el.Analysis:
    numbers = data.drop(columns=["id", "income"]).select_dtypes("number")
    proba = cross_val_predict(LogisticRegression(max_iter=300),
                              (numbers - numbers.mean()) / numbers.std(), data["income"], cv=3,
                              method="predict_proba")
    return el.Analysis.from_predictions(data.drop(columns=["income"]), y_true=data["income"],
                                        proba=proba, id="id", proba_out_of_fold=True, **declared)


@pytest.fixture(scope="module")
def noisy(adult: pd.DataFrame) -> tuple[el.Analysis, pd.DataFrame]:
    data, _ = planted(adult)
    return analysis(data, annotator="labeller"), data


def test_the_panel_shows_the_planted_annotator_as_the_noisiest(noisy):
    ev, data = noisy
    view = HealthView(ev)
    (group,) = view.health["groups"]
    assert (group["kind"], group["column"], group["total"]) == ("annotator", "labeller", 6)
    rows = {r["label"]: r for r in group["rows"]}
    assert group["rows"][0]["label"] == NOISY  # noisiest first
    counts = data["labeller"].fillna("(missing)").value_counts()
    assert {k: r["n"] for k, r in rows.items()} == counts.to_dict()
    assert all(r["selected"] == r["n"] for r in group["rows"])  # every row is selected
    careful = [r for k, r in rows.items() if k not in (NOISY, "(missing)")]
    assert all(rows[NOISY]["ci_low"] > r["ci_high"] for r in careful)
    assert all(r["ci_low"] <= r["noise_rate"] <= r["ci_high"] for r in group["rows"])
    assert rows[NOISY]["suspects"] > max(r["suspects"] for r in careful)
    assert {rows[NOISY]["given"], rows[NOISY]["likely_true"]} == set(map(str, ev.classes))
    assert HOSTILE in rows  # a name from the data is passed as text, as it is
    # only aggregates: one small row per annotator, no sample rows or ids
    assert len(json.dumps(view.health)) < 4_000
    assert not any(str(i) in json.dumps(view.health) for i in ev.ids[:50].tolist()
                   if len(str(i)) > 3)


def test_a_click_selects_the_annotators_rows_in_every_view(noisy):
    ev, data = noisy
    explorer = explore(ev)
    assert explorer.health is not None and explorer.health in explorer.children
    index = [r["label"] for r in explorer.health.health["groups"][0]["rows"]].index(NOISY)
    reply, _ = explorer.health.handle({"type": "select_group", "rid": 1, "group": "annotator",
                                       "index": index, "version": explorer.health.version})
    assert reply == {"type": "reply", "rid": 1, "error": None}
    wanted = (data["labeller"] == NOISY).to_numpy()
    assert explorer.selection.describe() == f"labeller = {NOISY}"
    assert (explorer.selection.mask(ev) == wanted).all()
    n = int(wanted.sum())
    assert explorer.bar.rows == explorer.confusion.table["rows"] == n
    assert explorer.segments.overall["rows"] == n
    assert explorer.suspects.cohort == explorer.selection.to_json()
    page, _ = explorer.suspects.handle({"type": "page", "rid": 2, "mode": "all", "page": 0})
    assert page["total"] == n
    rows = explorer.health.health["groups"][0]["rows"]
    assert [r["selected"] for r in rows] == [r["n"] if r["label"] == NOISY else 0 for r in rows]
    assert [r["active"] for r in rows] == [r["label"] == NOISY for r in rows]


def test_the_missing_group_selects_the_rows_without_an_annotator(noisy):
    ev, data = noisy
    view = HealthView(ev)
    index = [r["label"] for r in view.health["groups"][0]["rows"]].index("(missing)")
    view.handle({"type": "select_group", "rid": 1, "group": "annotator", "index": index,
                 "version": view.version})
    assert view.selection.describe() == "labeller is missing"
    assert view.rows == int(data["labeller"].isna().sum())


BAD = [
    ({"group": "source", "index": 0}, "no 'source' table in the annotator-health panel"),
    ({"group": ["annotator"], "index": 0}, "no ['annotator'] table"),
    ({"group": "annotator", "index": 6}, "no row 6 in the annotator table: it has rows 0..5"),
    ({"group": "annotator", "index": -1}, "no row -1"),
    ({"group": "annotator", "index": True}, "no row True"),
    ({"group": "annotator", "index": "0"}, "no row '0'"),
    ({"group": "annotator", "index": 0, "version": -3}, "stale click"),
    ({"group": "annotator"}, "message 'select_group' lacks index"),
    ({"group": "annotator", "index": 0, "value": NOISY}, "unknown field(s) value"),
]


@pytest.mark.parametrize("fields, needle", BAD, ids=[b[1][:30] for b in BAD])
def test_a_bad_click_gets_a_clear_error_and_changes_nothing(noisy, fields, needle):
    ev, _ = noisy
    explorer = explore(ev)
    view = explorer.health
    msg = {"type": "select_group", "rid": 4, "version": view.version, **fields}
    before = (view.cohort, view.version, view.health, explorer.selection)
    reply, buffers = view.handle(msg)
    assert needle in reply["error"] and buffers == []
    assert (view.cohort, view.version, view.health, explorer.selection) == before


def test_no_panel_without_a_declared_annotator(adult_oof):
    assert health_groups(adult_oof) == []
    assert explore(adult_oof).health is None
    with pytest.raises(TypeError, match="annotator='column'"):
        HealthView(adult_oof)


def test_sources_get_their_own_table_and_many_groups_are_capped(adult):
    data, _ = planted(adult, n=6_000, seed=1)
    rng = np.random.default_rng(1)
    data["batch"] = rng.integers(0, MAX_GROUPS + 20, len(data))
    view = HealthView(analysis(data, annotator="labeller", source="batch"))
    kinds = {g["kind"]: g for g in view.health["groups"]}
    assert set(kinds) == {"annotator", "source"}
    assert kinds["source"]["total"] == MAX_GROUPS + 20
    assert len(kinds["source"]["rows"]) == MAX_GROUPS
    rates = [r["noise_rate"] for r in kinds["source"]["rows"]]
    assert rates == sorted(rates, reverse=True)
    view.handle({"type": "select_group", "rid": 1, "group": "source", "index": 0,
                 "version": view.version})
    top = kinds["source"]["rows"][0]
    assert view.rows == top["n"] and view.selection.describe() == f"batch = {top['label']}"


def test_the_report_carries_the_panel(noisy, tmp_path):
    ev, _ = noisy
    text = to_html(ev, tmp_path / "report.html").read_text()
    raw = re.search(r'<script type="application/json" id="errlens-data">(.*?)</script>', text,
                    re.S)
    assert raw is not None
    health = json.loads(raw.group(1))["views"]["health"]
    assert health["health"] == HealthView(ev).health
    assert HOSTILE not in text and '<div id="view-health"></div>' in text
