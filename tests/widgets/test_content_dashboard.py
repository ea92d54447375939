"""Text slices, concepts and clusters in the dashboard, driven as the front end drives it: the
tweets with a planted topic failure, and digits with a planted visual failure."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pytest

import errlens as el
from errlens.datasets import load_digits
from errlens.report import to_html
from errlens.views.strips import SNIPPET, STRIP
from errlens.widgets.segments_view import SegmentsView

from .test_segments_view import send


@pytest.fixture(scope="module")
def planted(plant_self_driving) -> tuple[el.Analysis, np.ndarray]:
    """The tweets (with their length as a tabular feature), a model right on 70% of rows at
    random, and every tweet about self-driving cars (a pattern the method never sees) wrong."""
    return plant_self_driving(wrong=0.3, length=True)


@pytest.fixture(scope="module")
def discovered(planted: tuple[el.Analysis, np.ndarray]) -> SegmentsView:
    view = SegmentsView(planted[0])
    assert send(view, {"type": "discover"})["error"] is None
    return view


def test_text_slices_and_concepts_reach_the_view_with_their_figures(planted, discovered):
    ev, topic = planted
    found, concepts = ev.discover(k=10, max_level=2), ev.concepts(k=10)
    view = discovered
    assert [s["slice"] for s in view.slices] == found.to_frame()["slice"].tolist()
    assert view.slices[0]["slice"].startswith("text contains ")
    assert {s["kind"] for s in view.slices} == {"slice"}
    # the top slices are the planted topic's, as the core finds them
    for row in view.slices[:3]:
        assert topic[ev.mask(found.cohort(row["rank"]))].mean() >= 0.8
    assert [c["slice"] for c in view.concepts] == concepts.table["concept"].tolist()
    top = view.concepts[0]
    assert top["kind"] == "concept" and top["slice"].startswith("text mentions ")
    assert (top["n"], top["errors"]) == (int(concepts.table.loc[0, "n"]),
                                         int(concepts.table.loc[0, "errors"]))
    assert top["ci_low"] <= top["error_rate"] <= top["ci_high"] and top["lift"] > 1
    assert topic[ev.mask(concepts.cohort(0))].mean() >= 0.9


def test_each_strip_is_a_few_rows_of_its_slice_errors_first(planted, discovered):
    ev, _ = planted
    text = ev.text["text"].to_numpy(dtype=object)
    ids = [str(i) for i in ev.ids]
    for rows, found in ((discovered.slices, ev.discover(k=10, max_level=2)),
                        (discovered.concepts, ev.concepts(k=10))):
        for row in rows:
            mask = ev.mask(found.cohort(row["rank"]))
            samples = row["samples"]
            assert 0 < len(samples) <= STRIP
            at = [ids.index(s["id"]) for s in samples]
            assert mask[at].all()  # rows of this slice only
            expected = np.flatnonzero(mask & ev.is_error)[:STRIP]  # its first errors
            assert at == expected.tolist()[:len(at)]
            for s, i in zip(samples, at, strict=True):
                assert s["error"] and s["thumb"] is None
                assert len(s["text"]) <= SNIPPET
                assert s["text"].rstrip("…") in " ".join(text[i].split())
                assert (s["given"], s["predicted"]) == (str(ev.y_true.iat[i]),
                                                        str(ev.y_pred.iat[i]))
    # aggregates and a handful of samples: the payload stays small
    assert len(json.dumps(discovered.slices + discovered.concepts)) < 40_000


def test_a_concept_click_selects_its_cohort_everywhere(planted):
    ev, _ = planted
    explorer = el.explore(ev)
    view = explorer.segments
    send(view, {"type": "discover"})
    reply = send(view, {"type": "select_slice", "rank": 0, "kind": "concept",
                        "version": view.version})
    assert reply["error"] is None
    cohort = ev.concepts(k=10).cohort(0)
    assert explorer.selection == cohort
    assert explorer.bar.text == cohort.describe()
    assert explorer.confusion is not None
    assert explorer.confusion.table["rows"] == ev.mask(cohort).sum()
    assert view.concepts[0]["selected"]
    assert not any(s["selected"] for s in view.slices)
    # a text slice click: the same message without kind
    send(view, {"type": "select_slice", "rank": 0, "version": view.version})
    assert explorer.selection == ev.discover(k=10, max_level=2).cohort(0)
    assert view.slices[0]["selected"] and not any(c["selected"] for c in view.concepts)


@pytest.mark.parametrize("msg, needle", [
    ({"rank": 99, "kind": "concept"}, "no discovered concept 99"),
    ({"rank": -1, "kind": "concept"}, "no discovered concept -1"),
    ({"rank": True, "kind": "concept"}, "no discovered concept True"),
    ({"rank": 0, "kind": "cluster"}, 'kind must be "slice" or "concept"'),
    ({"rank": 0, "kind": "concept", "version": -3}, "stale"),
    ({"rank": 0, "kind": "concept", "cohort": {"kind": "all"}}, "unknown field(s) cohort"),
])
def test_bad_concept_clicks_are_refused_and_change_nothing(discovered, msg, needle):
    view = discovered
    msg = {"type": "select_slice", "version": view.version, **msg}
    before = (view.cohort, view.version, view.slices, view.concepts)
    reply = send(view, msg)
    assert needle in reply["error"]
    assert (view.cohort, view.version, view.slices, view.concepts) == before


def test_a_tabular_analysis_has_no_concepts_nor_strips(adult):
    data = adult.head(3000).drop(columns=["split"])
    pred = np.where(data["education_num"] >= 13, ">50K", "<=50K")
    view = SegmentsView(el.Analysis.from_predictions(data, y_true="income", y_pred=pred, id="id"))
    send(view, {"type": "discover", "k": 3, "max_level": 1})
    assert view.slices and view.concepts == [] and view.clusters == []
    assert all(s["samples"] == [] for s in view.slices)
    assert send(view, {"type": "select_slice", "rank": 0, "kind": "concept",
                       "version": view.version})["error"].startswith("no discovered concept")


@pytest.fixture(scope="module")
def digits() -> tuple[el.Analysis, np.ndarray]:
    """Digits with 10% of the images inverted (white on black) and every inverted one
    predicted wrong, 5% random mistakes elsewhere; the one tabular feature is the ink."""
    frame, images = load_digits()
    rng = np.random.default_rng(0)
    inverted = rng.random(len(frame)) < 0.1
    images = np.where(inverted[:, None, None], 16 - images, images)
    truth = frame["digit"].to_numpy()
    pred = np.where(inverted | (rng.random(len(frame)) < 0.05), (truth + 1) % 10, truth)
    ev = el.Analysis.from_predictions({"ink": images.reshape(len(images), -1).mean(axis=1)},
                                      y_true=truth, y_pred=pred, id=frame["id"], images=images)
    return ev, inverted


def test_a_cluster_feature_is_drawn_and_clickable_with_typical_thumbnails(digits):
    ev, inverted = digits
    ev2 = ev.with_clusters(k=6)
    explorer = el.explore(ev2)
    view = explorer.segments
    assert "cluster" in [f["feature"] for f in view.features]
    bars = next(f for f in view.features if f["feature"] == "cluster")
    assert {s["label"] for s in bars["segments"]} == set(ev2.clusters().labels)
    # the clusters' descriptions, each with a strip of its most typical rows as thumbnails
    [payload] = view.clusters
    table = ev2.clusters().table
    assert payload["feature"] == "cluster" and payload["method"] == ev2.clusters().method
    for c in payload["clusters"]:
        assert [s["id"] for s in c["samples"]] == [str(i) for i in table.loc[c["label"],
                                                                            "typical"]]
        assert all(s["thumb"].startswith("data:image/png;base64,") and s["text"] is None
                   for s in c["samples"])
        assert c["n"] == table.loc[c["label"], "n"]
        assert c["region_error_rate"] == table.loc[c["label"], "region_error_rate"]
        assert c["core"] == table.loc[c["label"], "core"]
    # listed as ranked: by the lower bound of their region's error rate, worst first
    named = [c["label"] for c in payload["clusters"] if c["label"] != "rest"]
    assert table.loc[named, "region_ci_low"].is_monotonic_decreasing
    # the worst cluster is the inverted images, and a click on its bar selects it everywhere
    reply = send(view, {"type": "select_segment", "feature": "cluster", "label": "c1",
                        "version": view.version})
    assert reply["error"] is None
    assert explorer.selection == ev2.clusters().cohort("c1")
    picked = ev2.mask(explorer.selection)
    assert inverted[picked].mean() >= 0.9 and (inverted & picked).sum() >= 0.9 * inverted.sum()
    assert explorer.confusion is not None and explorer.confusion.table["rows"] == picked.sum()


HOSTILE = "<img src=x onerror=alert(1)>"


def _snapshot(text: str) -> dict[str, Any]:
    raw = re.search(r'<script type="application/json" id="errlens-data">(.*?)</script>', text,
                    re.S)
    assert raw is not None
    return json.loads(raw.group(1))


def test_the_report_of_a_text_analysis_carries_its_slices_and_concepts(planted, discovered,
                                                                       tmp_path):
    ev, _ = planted
    segments = _snapshot(to_html(ev, tmp_path / "r.html").read_text())["views"]["segments"]
    # what a dashboard shows after "Discover slices", strips included
    def unmarked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in row.items() if k != "selected"} for row in rows]

    assert segments["slices"] == unmarked(discovered.slices)
    assert segments["concepts"] == unmarked(discovered.concepts)
    assert segments["concepts"][0]["samples"] and segments["clusters"] == []


def test_the_report_of_an_explorer_carries_what_it_discovered_capped(planted, tmp_path):
    ev, _ = planted
    explorer = el.explore(ev)
    send(explorer.segments, {"type": "discover", "k": 5, "max_level": 1})
    segments = _snapshot(to_html(explorer, tmp_path / "r.html", max_rows=2).read_text()
                         )["views"]["segments"]
    assert segments["slices"] == explorer.segments.slices[:2]
    assert segments["concepts"] == explorer.segments.concepts[:2]


def test_report_snippets_stay_text(tmp_path):
    texts = [f"the sequel {HOSTILE} again", "a fine cast", "lovely music", "nice score"] * 40
    ev = el.Analysis.from_predictions({"review": texts, "g": ["a", "b"] * 80},
                                      y_true=[1] * 160, y_pred=[0, 1, 1, 1] * 40,
                                      text="review")
    page = to_html(ev, tmp_path / "r.html").read_text()
    assert HOSTILE not in page and "\\u003cimg src=x onerror=alert(1)\\u003e" in page
    slices = _snapshot(page)["views"]["segments"]["slices"]
    assert slices[0]["samples"][0]["text"] == f"the sequel {HOSTILE} again"


def test_the_report_describes_clusters_with_their_thumbnails(digits, tmp_path):
    ev, _ = digits
    ev2 = ev.with_clusters(k=4)
    segments = _snapshot(to_html(ev2, tmp_path / "r.html").read_text())["views"]["segments"]
    assert segments["clusters"] == SegmentsView(ev2).clusters
    assert segments["slices"] == [] and segments["concepts"] == []  # no text: no discovery
    assert segments["clusters"][0]["clusters"][0]["samples"][0]["thumb"].startswith(
        "data:image/png;base64,")
