"""One click computes its selection once (mask + positions) and every view aggregates from it:
the figures are those of the analysis' own functions, without masking the cohort again."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import errlens as el
from errlens.slicing import masks as row_masks
from errlens.slicing.cohort import Cohort
from errlens.views.paging import Query, RowSource
from errlens.views.source import source_of
from errlens.widgets.explorer import explore


@pytest.fixture(scope="module")
def ev(adult_oof: el.Analysis) -> el.Analysis:
    return adult_oof


@pytest.fixture
def masks(monkeypatch: pytest.MonkeyPatch) -> list[Cohort]:
    """Every cohort masked from now on, in order (a spy on the one function that evaluates a
    cohort over the rows, which ``Analysis.mask`` and the slicing functions call)."""
    seen: list[Cohort] = []
    original = row_masks.mask

    def spy(data: Any, selection: Any = None) -> np.ndarray:
        if isinstance(selection, Cohort):
            seen.append(selection)
        return original(data, selection)

    monkeypatch.setattr(row_masks, "mask", spy)
    return seen


def select_segment(view: Any, feature: str, label: str) -> None:
    """A click on a bar, as the front end sends it."""
    view._on_select_segment({"type": "select_segment", "rid": 1, "feature": feature,
                             "label": label, "version": view.version})


def test_one_click_masks_its_cohort_once_for_every_view(ev, masks):
    ex = explore(ev)
    ex.segments.feature, ex.segments.feature_b = "education", "race"  # heatmap over the click
    ex.suspects.handle({"type": "page", "rid": 1, "mode": "suspects", "page": 0})
    masks.clear()

    select_segment(ex.segments, "sex", "Female")
    female = Cohort.segment("sex", "Female")
    reply, buffers = ex.suspects.handle({"type": "page", "rid": 2, "mode": "suspects",
                                         "page": 0})

    assert masks == [female]  # selection bar, segments, heatmap, confusion and suspect page
    rows = int(female.mask(ev).sum())
    assert ex.bar.rows == ex.segments.rows == ex.confusion.rows == rows
    assert ex.confusion.table["counts"] == ev.confusion(female).counts.values.tolist()
    expected = ev.heatmap("education", "race", cohort=female).table
    cells = [c for row in ex.segments.heatmap["cells"] for c in row]
    assert [c["n"] for c in cells] == expected["n"].tolist()
    assert [c["errors"] for c in cells] == expected["errors"].tolist()
    suspects = ev.suspects(ex.suspects.method, cohort=female).table
    assert reply["error"] is None and reply["total"] == int(suspects["flagged"].sum())
    assert len(buffers) == 1


def test_the_heatmap_of_a_selection_equals_the_analysis_heatmap(ev):
    source = source_of(ev)
    for cohort in (None, Cohort.where("age", ">", 40) & Cohort.segment("sex", "Male")):
        heat = source.heatmap("workclass", "education", source.select(cohort))
        expected = ev.heatmap("workclass", "education", cohort=cohort)
        pd.testing.assert_frame_equal(heat.table, expected.table)
        assert (heat.labels_a, heat.labels_b, heat.base) == (
            expected.labels_a, expected.labels_b, cohort)


def test_a_new_normalisation_divides_the_counted_table_again_without_recounting(ev):
    ex = explore(ev)
    select_segment(ex.segments, "race", "Black")
    black = Cohort.segment("race", "Black")
    calls: list[Any] = []
    counting = ex.source.confusion
    ex.source.confusion = lambda picked: calls.append(picked) or counting(picked)
    version = ex.confusion.version
    for how in ("true", "pred", None):
        ex.confusion.normalize = how
        expected = ev.confusion(black, normalize=how).table.to_numpy()
        assert np.allclose(np.array(ex.confusion.table["values"], dtype=float), expected,
                           equal_nan=True)
    assert calls == [] and ex.confusion.version == version + 3
    select_segment(ex.segments, "race", "White")  # another selection is counted, once
    assert len(calls) == 1


@pytest.mark.parametrize("method", ["prune_by_noise_rate", "confident_learning",
                                    "predicted_neq_given"])
def test_the_suspects_of_a_cohort_come_from_the_cached_ranking_unchanged(ev, method):
    rows = RowSource(ev, method=method)
    cohort = Cohort.where("age", "<", 30) | Cohort.segment("occupation", "Sales")
    rows.global_suspects()
    rows.set_cohort(cohort)
    found, expected = rows.cohort_suspects(), ev.suspects(method, cohort=cohort)
    pd.testing.assert_frame_equal(found.table, expected.table)
    assert (found.params, found.score_kind, found.fingerprint, found.meta) == (
        expected.params, expected.score_kind, expected.fingerprint, expected.meta)
    sample = expected.table.index[3]
    assert found.cause(sample) == expected.cause(sample)
    page = rows.page(Query(mode="suspects"))[0]
    assert page["total"] == int(expected.table["flagged"].sum())


def test_a_click_moves_the_suspect_browser_first_and_the_segments_last(ev):
    """The suspect page is a second round trip: its view changes first, so the browser asks
    for the page while it draws the rest (the segments, the largest state, come last)."""
    ex = explore(ev)
    order: list[str] = []
    ex.suspects.observe(lambda _: order.append("suspects"), "version")
    ex.bar.observe(lambda _: order.append("bar"), "text")
    ex.confusion.observe(lambda _: order.append("confusion"), "table")
    ex.segments.observe(lambda _: order.append("segments"), "features")
    select_segment(ex.segments, "relationship", "Husband")
    assert order == ["suspects", "bar", "confusion", "segments"]
    assert ex.bar.rows == ex.segments.rows == int(Cohort.segment("relationship", "Husband")
                                                 .mask(ev).sum())
    with pytest.raises(KeyError, match="no_such_feature"):  # refused before the history moves
        ex.segments._set_selection(Cohort.where("no_such_feature", "==", 1))
    assert ex.selection == Cohort.segment("relationship", "Husband")
    ex.back()
    assert ex.selection is None and ex.suspects.cohort is None


def test_the_new_page_is_pushed_with_the_cohort_change_before_its_version(ev):
    ex = explore(ev)
    browser = ex.suspects
    sent: list[tuple[Any, Any, bool]] = []  # what was sent, and whether the state was held

    def send(content: Any, buffers: Any = None) -> None:
        sent.append((content, buffers, browser._holding_sync))

    browser.send = send
    select_segment(ex.segments, "sex", "Female")
    assert sent == [] and browser.version == 1  # no page was ever asked for: nothing to push
    view = {"mode": "suspects", "sort": "p_given", "descending": True, "given": ">50K",
            "search": ""}
    browser.handle({"type": "page", "rid": 1, "page": 2, **view})
    sent.clear()

    select_segment(ex.segments, "sex", "Male")
    [(message, buffers, held)] = sent
    assert held  # sent while the new version's sync is held: the page reaches the browser first
    reply, asked = browser.handle({"type": "page", "rid": 2, "page": 0, **view})
    assert message["type"] == "page" and message["version"] == browser.version == 2
    assert message["query"] == view and message["page"] == 0
    assert {k: message[k] for k in ("total", "pages", "offset", "token")} == {
        k: reply[k] for k in ("total", "pages", "offset", "token")}
    assert [bytes(b) for b in buffers] == [bytes(b) for b in asked]
