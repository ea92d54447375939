"""SegmentsView driven exactly as the front end drives it: messages in, traits and replies out."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
import traitlets

import errlens as el
from errlens.slicing.cohort import Cohort
from errlens.widgets.segments_view import SegmentsView


def rule_analysis(adult: pd.DataFrame, n: int = 12_000) -> el.Analysis:
    """Adult with a simple rule as the model (errors concentrate where the rule is wrong)."""
    data = adult.head(n).drop(columns=["split"])
    rich = (data["education_num"] >= 13) & (data["age"] >= 30)
    pred = np.where(rich, ">50K", "<=50K")
    return el.Analysis.from_predictions(data, y_true="income", y_pred=pred, id="id")


def send(view: Any, msg: dict[str, Any]) -> dict[str, Any]:
    """Deliver ``msg`` as the browser does and return the kernel's reply."""
    replies: list[dict[str, Any]] = []
    view.send = lambda content, buffers=None: replies.append(content)
    view._on_msg(view, {**msg, "rid": 7}, [])
    assert len(replies) == 1 and replies[0]["type"] == "reply" and replies[0]["rid"] == 7
    return replies[0]


@pytest.fixture(scope="module")
def ev(adult: pd.DataFrame) -> el.Analysis:
    return rule_analysis(adult)


@pytest.fixture
def view(ev: el.Analysis) -> SegmentsView:
    return SegmentsView(ev)


def test_bars_match_slice_table_and_features_are_ranked_by_lift(ev, view):
    table = ev.slices()
    for entry in view.features:
        expected = table[table["feature"] == entry["feature"]]
        assert [s["label"] for s in entry["segments"]] == expected["segment"].tolist()
        assert [s["n"] for s in entry["segments"]] == expected["n"].tolist()
        np.testing.assert_allclose([s["ci_high"] for s in entry["segments"]], expected["ci_high"])
    lifts = [f["max_lift"] for f in view.features]
    assert lifts == sorted(lifts, reverse=True)
    assert view.feature == view.features[0]["feature"]
    assert view.overall["rows"] == ev.n and view.overall["errors"] == int(ev.is_error.sum())


def test_segment_click_narrows_the_cohort_and_recomputes(ev, view):
    reply = send(view, {"type": "select_segment", "feature": "sex", "label": "Female",
                        "version": view.version})
    assert reply["error"] is None
    assert view.selection == Cohort.segment("sex", "Female")
    female = (ev.features["sex"] == "Female").to_numpy()
    assert view.rows == view.overall["rows"] == female.sum()
    race = {f["feature"]: f for f in view.features}["race"]
    assert sum(s["n"] for s in race["segments"]) == female.sum()  # other features narrow
    assert race["context"] is None and not any(s["selected"] for s in race["segments"])
    send(view, {"type": "select_segment", "feature": "race", "label": "White",
                "version": view.version})
    assert view.selection == Cohort.segment("sex", "Female") & Cohort.segment("race", "White")


def test_a_click_on_the_feature_on_show_keeps_its_bars_and_the_heatmap(ev, view):
    """The selected feature is drawn in context: all its bars stay, the selected one marked,
    counted over the selection without its own condition; the heatmap likewise."""
    feature = view.feature
    shown = view.features[0]
    assert shown["feature"] == feature
    label = shown["segments"][0]["label"]
    send(view, {"type": "select_segment", "feature": feature, "label": label,
                "version": view.version})
    assert view.selection == Cohort.segment(feature, label) and view.feature == feature
    entry = {f["feature"]: f for f in view.features}[feature]
    table = ev.slices()
    expected = table[table["feature"] == feature]
    assert [s["label"] for s in entry["segments"]] == expected["segment"].tolist()
    assert [s["n"] for s in entry["segments"]] == expected["n"].tolist()
    assert [s["label"] for s in entry["segments"] if s["selected"]] == [label]
    assert entry["context"] == {"rows": ev.n, "errors": int(ev.is_error.sum()),
                                "error_rate": pytest.approx(ev.is_error.mean()),
                                "text": "all rows"}
    assert view.overall["rows"] == shown["segments"][0]["n"] == view.rows
    heat = view.heatmap
    filled = [c for row in heat["cells"] for c in row if c["n"]]
    assert len(filled) > len(heat["labels_b"])  # more than the selected row
    assert sum(c["n"] for c in filled) == ev.n
    assert heat["selected_a"] == [label] and heat["selected_b"] == [] and heat["context"] == (
        "all rows")

    other = shown["segments"][1]["label"]  # another bar of that feature replaces the first
    send(view, {"type": "select_segment", "feature": feature, "label": other,
                "version": view.version})
    assert view.selection == Cohort.segment(feature, other)
    assert view.rows == shown["segments"][1]["n"]
    send(view, {"type": "select_segment", "feature": feature, "label": other,
                "version": view.version})  # the selected bar again: deselected
    assert view.selection is None and view.rows == ev.n


def test_context_keeps_the_selection_s_other_conditions(ev, view):
    older = Cohort.where("age", ">", 40)
    view.cohort = (older & Cohort.segment("sex", "Female")).to_json()
    sex = {f["feature"]: f for f in view.features}["sex"]
    in_older = ev.features["age"].to_numpy() > 40
    assert sex["context"]["text"] == "age > 40" and sex["context"]["rows"] == in_older.sum()
    assert sum(s["n"] for s in sex["segments"]) == in_older.sum()
    assert [s["label"] for s in sex["segments"] if s["selected"]] == ["Female"]
    send(view, {"type": "pick", "feature": "sex", "feature_b": "race"})
    assert view.heatmap["context"] == "age > 40"
    col = view.heatmap["labels_b"].index("White")
    row = view.heatmap["labels_a"].index("Male")
    send(view, {"type": "select_cell", "row": row, "col": col, "version": view.version})
    assert view.selection == (older & Cohort.segment("sex", "Male")
                              & Cohort.segment("race", "White"))
    assert view.rows == view.heatmap["cells"][row][col]["n"] > 0


def test_a_tree_node_s_negated_segments_keep_their_feature_in_context(ev, view):
    """The error tree writes 'relationship not in {Husband, Wife}': the relationship bars keep
    every segment, the ones that condition selects marked."""
    tree = ev.error_tree()
    node = next(n for n in tree.nodes if n.depth == 1 and n.condition is not None
                and n.condition.to_json()["kind"] == "not")
    feature = node.condition.to_json()["arg"]["feature"]
    excluded = node.condition.to_json()["arg"]["labels"]
    send(view, {"type": "select_node", "node": node.id, "version": view.version})
    entry = {f["feature"]: f for f in view.features}[feature]
    labels = [s["label"] for s in entry["segments"]]
    assert set(labels) == set(ev.segments.labels[ev.segments.index(feature)])
    assert {s["label"] for s in entry["segments"] if s["selected"]} == set(labels) - set(excluded)
    assert sum(s["n"] for s in entry["segments"] if s["selected"]) == node.rows == view.rows
    assert entry["context"]["rows"] == ev.n


def test_tree_payload_is_aggregates_only(ev, view):
    keys = {"id", "parent", "depth", "rows", "errors", "error_rate", "ci_low", "ci_high",
            "lift", "path", "condition", "split", "selected"}
    assert view.tree and all(set(node) == keys for node in view.tree)
    assert all(isinstance(node["rows"], int) for node in view.tree)
    text = json.dumps(view.tree)
    assert not any(str(i) in text for i in ev.ids[:500]) and len(text) < 1000 * len(view.tree)


def test_heatmap_follows_the_pickers_and_cells_select_rows(ev, view):
    assert send(view, {"type": "pick", "feature": "age", "feature_b": "sex"})["error"] is None
    assert (view.feature, view.feature_b) == ("age", "sex")
    heat = ev.heatmap("age", "sex")
    counts = [[cell["n"] for cell in row] for row in view.heatmap["cells"]]
    assert counts == heat.pivot("n").values.tolist()
    send(view, {"type": "select_cell", "row": 1, "col": 0, "version": view.version})
    assert view.selection == heat.cohort(heat.labels_a[1], heat.labels_b[0])
    assert view.rows == heat.pivot("n").iloc[1, 0]


def test_tree_nodes_select_their_rows(ev, view):
    tree = ev.error_tree()
    assert [n["rows"] for n in view.tree] == [n.rows for n in tree.nodes]
    leaf = tree.leaves()[0]
    send(view, {"type": "select_node", "node": leaf.id, "version": view.version})
    assert view.selection == leaf.cohort and view.rows == leaf.rows
    send(view, {"type": "select_node", "node": 0, "version": view.version})
    assert view.cohort is None


def test_discovery_reports_progress_and_slices_are_clickable(ev, view):
    seen: list[dict[str, Any]] = []
    view.observe(lambda change: seen.append(change["new"]), "progress")
    assert send(view, {"type": "discover", "k": 5, "max_level": 2})["error"] is None
    found = ev.discover(k=5, max_level=2)
    assert [s["slice"] for s in view.slices] == found.to_frame()["slice"].tolist()
    assert [s["n"] for s in view.slices] == found.to_frame()["n"].tolist()
    assert seen[0]["running"] and not seen[-1]["running"]
    assert seen[-1]["done"] == seen[-1]["total"] > 0
    send(view, {"type": "select_slice", "rank": 0, "version": view.version})
    assert view.selection == found.cohort(0)
    assert view.rows == found.to_frame()["n"].iloc[0]


@pytest.mark.parametrize("msg, needle", [
    ({"type": "drop_table"}, "unknown message"),
    ({"type": "select_segment", "feature": "salary", "label": "x"}, "unknown feature"),
    ({"type": "select_segment", "feature": "sex", "label": "<img src=x onerror=alert(1)>"},
     "has no segment"),
    ({"type": "select_segment", "feature": "sex", "label": "Female", "version": -5}, "stale"),
    ({"type": "select_cell", "row": 99, "col": 0}, "no heatmap cell"),
    ({"type": "select_node", "node": True}, "no node"),
    ({"type": "select_node", "node": "0"}, "no node"),
    ({"type": "select_slice", "rank": 0}, "run discovery first"),
    ({"type": "discover", "k": 0}, "1 ≤ k ≤ 50"),
    ({"type": "discover", "max_level": 9}, "max_level"),
    ({"type": "pick", "feature": "nope"}, "unknown feature"),
])
def test_forged_messages_are_refused_and_change_nothing(view, msg, needle):
    if msg["type"].startswith("select_"):
        msg = {"version": view.version, **msg}
    before = (view.cohort, view.version, view.feature, view.slices)
    reply = send(view, msg)
    assert needle in reply["error"]
    assert (view.cohort, view.version, view.feature, view.slices) == before


def test_non_dict_message_is_refused(view):
    replies: list[dict[str, Any]] = []
    view.send = lambda content, buffers=None: replies.append(content)
    view._on_msg(view, ["select_node", 0], [])
    assert replies == [{"type": "reply", "rid": None,
                        "error": "a message must be a JSON object, got list"}]


def test_cohort_trait_is_validated(ev, view):
    with pytest.raises(traitlets.TraitError, match="unknown feature 'salary'"):
        view.cohort = {"kind": "where", "feature": "salary", "op": ">", "value": 1}
    with pytest.raises(traitlets.TraitError, match="cannot compare"):
        view.cohort = {"kind": "where", "feature": "sex", "op": ">", "value": 3}
    assert view.cohort is None
    view.cohort = {"kind": "all"}
    assert view.cohort is None and view.rows == ev.n


def test_empty_cohort_shows_no_bars(ev):
    view = SegmentsView(ev, cohort=Cohort.where("age", ">", 500))
    assert view.rows == 0 and view.features == []
    assert view.overall == {"rows": 0, "errors": 0, "error_rate": None}


def test_a_whole_cohort_can_be_sent_and_is_validated(ev, view):
    cohort = Cohort.where("age", "between", [30, 40]) & Cohort.where("sex", "==", "Male")
    assert send(view, {"type": "select_cohort", "cohort": cohort.to_json()})["error"] is None
    assert view.selection == cohort
    for payload, needle in [({"kind": "where", "feature": "salary", "op": ">", "value": 1},
                             "unknown feature"),
                            ({"kind": "ids", "ids": ["adult-00000"] * 10_000}, "larger than"),
                            ("age > 3", "JSON object"),
                            ({"kind": "where", "feature": "race", "op": "==", "value": {"a": 1}},
                             "must be text, a number"),
                            (_nested_not(900), "nested more than 64 levels")]:
        assert needle in send(view, {"type": "select_cohort", "cohort": payload})["error"]
        assert view.selection == cohort


def _nested_not(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"kind": "all"}
    for _ in range(depth):
        node = {"kind": "not", "arg": node}
    return node


def test_state_updates_from_the_browser_are_dropped(ev, view):
    """The front end only sends messages; a forged state update changes no trait."""
    before = {name: getattr(view, name) for name in ("heatmap", "cohort", "rows")}
    for state in ({"heatmap": {"labels_a": ["x"]}}, {"cohort": {"kind": "ids", "ids": []}}):
        view.set_state(state)  # what an "update" message from the browser calls
        assert {name: getattr(view, name) for name in before} == before


def test_unexpected_kernel_errors_reach_the_widget(ev, view, monkeypatch):
    def broken(**_: Any) -> None:
        raise MemoryError("discovery ran out of memory")

    monkeypatch.setattr(ev, "discover", broken)
    reply = send(view, {"type": "discover"})
    assert reply["error"] == ("internal error answering 'discover', please report it: "
                              "MemoryError: discovery ran out of memory")
    assert view.progress["running"] is False and view.slices == []


def test_the_selected_tree_node_and_slice_are_flagged(ev, view):
    leaf = ev.error_tree().leaves()[0]
    send(view, {"type": "select_node", "node": leaf.id, "version": view.version})
    assert [n["id"] for n in view.tree if n["selected"]] == [leaf.id]
    send(view, {"type": "discover", "k": 3, "max_level": 1})
    send(view, {"type": "select_slice", "rank": 1, "version": view.version})
    assert [s["rank"] for s in view.slices if s["selected"]] == [1]
    assert not any(n["selected"] for n in view.tree)
    view.cohort = None
    assert view.tree[0]["selected"] and not any(s["selected"] for s in view.slices)


def test_a_click_counts_only_what_its_selection_changes(ev):
    """Bars of one feature clicked in turn: that feature's bars and the heatmap are counted
    over every row (the selection without its own condition) once, not per click; each
    click counts its new selection only, and draws what a fresh view of it draws."""
    view = SegmentsView(ev)
    view.feature, view.feature_b = "education", "race"
    source = view.source
    counted: list[str] = []
    slices, heatmap = source.slices, source.heatmap
    source.slices = lambda picked: counted.append(f"slices {picked.key}") or slices(picked)  # type: ignore[method-assign]
    source.heatmap = lambda a, b, picked: (counted.append(f"heatmap {picked.key}")  # type: ignore[method-assign]
                                           or heatmap(a, b, picked))
    labels = [s["label"] for s in next(f for f in view.features
                                       if f["feature"] == "education")["segments"]][:3]
    for i, label in enumerate(labels):
        counted.clear()
        send(view, {"type": "select_segment", "feature": "education", "label": label,
                    "version": view.version})
        key = json.dumps(view.cohort, sort_keys=True, default=str)
        # every row's bars were counted when the view opened, its heatmap on the first click
        assert counted == ([f"slices {key}", "heatmap null"] if i == 0 else [f"slices {key}"])
        fresh = SegmentsView(ev, cohort=view.cohort)
        send(fresh, {"type": "pick", "feature": "education", "feature_b": "race"})
        assert (view.features, view.overall, view.heatmap) == (
            fresh.features, fresh.overall, fresh.heatmap)
