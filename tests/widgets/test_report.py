"""The standalone report: one file, data inlined and escaped, suspects capped, changelog summed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import errlens as el
from errlens.changelog.store import LabelStore
from errlens.report import to_html
from errlens.slicing.cohort import Cohort
from errlens.widgets.explorer import explore

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def ev(adult: pd.DataFrame) -> el.Analysis:
    data = adult.head(6_000).drop(columns=["split"]).copy()
    data["workclass"] = data["workclass"].cat.add_categories([HOSTILE])
    data.loc[data.index[:400], "workclass"] = HOSTILE
    rng = np.random.default_rng(0)
    high = ((data["education_num"] >= 13) & (data["age"] >= 30)).to_numpy()
    p = np.clip(np.where(high, 0.7, 0.15) + rng.normal(0, 0.1, len(data)), 0.01, 0.99)
    return el.Analysis.from_predictions(data, y_true="income", proba=np.c_[1 - p, p], id="id",
                                        proba_out_of_fold=True)


def _snapshot(text: str) -> dict:
    raw = re.search(r'<script type="application/json" id="errlens-data">(.*?)</script>', text,
                    re.S)
    assert raw is not None
    return json.loads(raw.group(1))


def test_report_is_one_escaped_file_with_capped_data(ev, tmp_path):
    path = to_html(ev, tmp_path / "report.html", max_rows=7)
    text = path.read_text()
    assert HOSTILE not in text  # only escaped forms: \\u003c in JSON, &lt; in HTML
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in text
    assert not re.search(r"(src|href)=[\"']?https?:", text)
    data = _snapshot(text)
    assert data["views"]["segments"]["overall"]["rows"] == ev.n
    assert data["views"]["confusion"]["table"]["counts"] == ev.confusion().counts.values.tolist()
    assert len(data["suspects"]["rows"]) == 7
    top = ev.suspects("prune_by_noise_rate", top=7).table
    assert [r["id"] for r in data["suspects"]["rows"]] == top.index.tolist()
    labels = {s["label"] for f in data["views"]["segments"]["features"] for s in f["segments"]}
    assert HOSTILE in labels
    assert data["changelog"] is None and "<h2>Changelog</h2>" not in text
    assert text.count("disabled aria-label='relabel") == 7 * len(ev.classes)
    assert len(text) < 400_000


def test_report_of_an_explorer_keeps_its_selection_and_store(ev, tmp_path):
    store = LabelStore(ev, tmp_path / "labels.changelog.jsonl", author="ana")
    first = ev.suspects("prune_by_noise_rate", top=1).table.index[0]
    old = ev.y_true[first]
    new = next(c for c in ev.classes if c != old)
    store.relabel(first, new, note=HOSTILE)
    store.tag("v1")
    ex = explore(ev, store)
    ex.selection = Cohort.where("age", ">=", 40)
    text = to_html(ex, tmp_path / "r.html", max_rows=5).read_text()
    data = _snapshot(text)
    assert data["views"]["selection"]["text"] == "age ≥ 40"
    assert data["views"]["segments"]["rows"] == (ev.features["age"] >= 40).sum()
    log = data["changelog"]
    assert log["events"] == len(store.events()) and log["authors"] == ["ana"]
    assert log["versions"] == [{"version": "v1", "author": "ana", "n_changed": 1}]
    assert "<h2>Changelog</h2>" in text
    ids = [r["id"] for r in data["suspects"]["rows"]]
    if first in ids:
        assert data["suspects"]["rows"][ids.index(first)]["label"] == str(new)


def test_report_refuses_other_inputs(ev, tmp_path):
    with pytest.raises(TypeError, match=r"Explorer, an errlens\.Analysis or a LazyAnalysis"):
        to_html(ev.frame(), tmp_path / "x.html")
    with pytest.raises(ValueError, match="max_rows"):
        to_html(ev, tmp_path / "x.html", max_rows=0)


def test_report_never_lands_on_the_changelog(ev, tmp_path):
    """Passing the store's path by mistake (an easy slip: both are paths) is refused, and the
    changelog keeps every byte; a report already there is replaced as a whole."""
    store = LabelStore(ev, tmp_path / "labels.jsonl", author="ana")
    store.relabel(ev.ids[0], ev.classes[0], note="checked")
    log = Path(store.path)
    before = log.read_bytes()
    with pytest.raises(ValueError, match="is an errlens changelog; errlens never writes over"):
        to_html(ev, store.path, store=store)
    assert log.read_bytes() == before
    old = tmp_path / "report.html"
    old.write_text("last week's report")
    to_html(ev, old, max_rows=3)
    assert old.read_text().startswith("<!doctype html>")
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_report_of_an_analysis_builds_no_widget_and_shows_what_a_fresh_dashboard_shows(
        ev, tmp_path, monkeypatch):
    from errlens.widgets._base import ErrlensWidget
    from errlens.widgets.confusion_view import ConfusionView
    from errlens.widgets.segments_view import SegmentsView

    segments, confusion = SegmentsView(ev), ConfusionView(ev)

    def no_widget(*_args, **_kwargs):
        raise AssertionError("the report made a widget")

    monkeypatch.setattr(ErrlensWidget, "__init__", no_widget)
    views = _snapshot(to_html(ev, tmp_path / "report.html").read_text())["views"]
    drawn = ("features", "feature", "feature_b", "heatmap", "tree", "slices", "overall", "rows",
             "cohort", "unavailable")
    assert {k: views["segments"][k] for k in drawn} == {k: getattr(segments, k) for k in drawn}
    assert views["confusion"]["table"] == confusion.table
    assert views["confusion"]["rows"] == confusion.rows == ev.n
