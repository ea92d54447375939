"""The suspect browser re-ranks from the reviews so far: on Adult with a planted careless
annotator, the page on screen keeps its rows, the next page follows the core's ranking with the
reviews, and the reply says the order was updated."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import errlens as el
from errlens.changelog import LabelStore
from errlens.slicing.cohort import Cohort
from errlens.suspects.reviews import MIN_REVIEWS
from errlens.widgets.suspect_browser import SuspectBrowser

from .test_health_view import NOISY, analysis, planted

METHOD = "prune_by_noise_rate"


@pytest.fixture(scope="module")
def noisy(adult: pd.DataFrame) -> el.Analysis:
    data, _ = planted(adult, n=12_000, seed=2)
    return analysis(data, annotator="labeller")


def page(browser: SuspectBrowser, number: int, rid: int = 1) -> tuple[dict[str, Any], list[Any]]:
    reply, buffers = browser.handle({"type": "page", "rid": rid, "mode": "suspects",
                                     "page": number})
    assert reply["error"] is None, reply["error"]
    table = pa.ipc.open_stream(buffers[0]).read_all()
    return reply, table.column("id").to_pylist()


def act(browser: SuspectBrowser, action: str, sample: Any, **extra: Any) -> None:
    label = browser._ctx.view.label_of(sample)
    reply, _ = browser.handle({"type": "action", "rid": 9, "action": action, "id": sample,
                               "token": browser.version, "mode": "suspects", "source": "grid",
                               "seen": label, **extra})
    assert reply["error"] is None, reply["error"]


def flagged_order(ev: el.Analysis, store: LabelStore | None) -> list[Any]:
    """The core's ranking of the flagged rows (with the store's reviews, if any)."""
    found = ev.suspects(METHOD, **({} if store is None else {"reviews": store})).table
    return found.index[found["flagged"].to_numpy()].tolist()


def test_the_next_page_follows_the_reviews_and_the_shown_page_stays(noisy, tmp_path):
    ev = noisy
    store = LabelStore(ev, tmp_path / "labels.jsonl", author="ana")
    browser = SuspectBrowser(ev, store)
    size, seen = browser.page_size, 4
    reply, first = page(browser, 0)
    assert reply["ranking"] is None  # nothing reviewed yet
    assert first == flagged_order(ev, None)[:size]
    shown = first + [s for number in range(1, seen) for s in page(browser, number, rid=number)[1]]
    static_next = flagged_order(ev, None)[seen * size:(seen + 1) * size]
    # the reviewer finds the careless annotator's labels on these pages right and the others'
    # wrong: its prior must fall relative to the others' (a group's prior moves only after
    # MIN_REVIEWS decided reviews, and only by what it does not share with every group)
    labeller = pd.Series(ev.features["labeller"].to_numpy(), index=ev.ids)
    confirmed = [s for s in shown if labeller[s] == NOISY]
    # (the careful annotators' few suspects are further down: reviewed there)
    relabelled = [s for s in flagged_order(ev, None) if labeller[s] != NOISY][:MIN_REVIEWS * 2]
    assert len(confirmed) >= MIN_REVIEWS, "the careless annotator's rows lead the ranking"
    assert len(relabelled) >= MIN_REVIEWS
    for sample in confirmed:
        act(browser, "confirm", sample)
    for sample in relabelled:
        given = browser._ctx.view.label_of(sample)
        act(browser, "relabel", sample, label=next(c for c in browser.classes if c != given))
    again, same = page(browser, 0, rid=20)
    assert same == first  # the page under the reviewer's hand does not move
    n = len(confirmed) + len(relabelled)
    assert again["ranking"] == f"re-ranked after {n} reviews"
    _, following = page(browser, seen, rid=21)
    expected = [s for s in flagged_order(ev, store) if s not in set(shown)][:size]
    assert following == expected  # the core's ranking with the reviews, shown rows kept out
    assert following != static_next  # and it did change the order


def test_an_undo_reranks_again_and_a_new_selection_starts_fresh(noisy, tmp_path):
    ev = noisy
    store = LabelStore(ev, tmp_path / "labels.jsonl", author="ana")
    browser = SuspectBrowser(ev, store)
    _, shown = page(browser, 0)
    classes = browser.classes
    first = shown[0]
    other = next(c for c in classes if c != browser._ctx.view.label_of(first))
    act(browser, "relabel", first, label=other)
    reply, _ = page(browser, 1)
    assert reply["ranking"] == "re-ranked after 1 review"
    undo, _ = browser.handle({"type": "action", "rid": 5, "action": "undo"})
    assert undo["error"] is None
    reply, again = page(browser, 0, rid=6)
    assert reply["ranking"] is None and again == shown
    # a new selection: its first page is the core's ranking within it, nothing pinned
    act(browser, "confirm", shown[1])
    browser.cohort = Cohort.where("labeller", "==", NOISY).to_json()
    _, cohort_first = page(browser, 0, rid=7)
    in_cohort = set(ev.ids[(ev.features["labeller"] == NOISY).to_numpy()])
    expected = [s for s in flagged_order(ev, store) if s in in_cohort][:browser.page_size]
    assert cohort_first == expected


def test_without_a_store_the_order_never_changes(noisy):
    browser = SuspectBrowser(noisy)
    first, ids = page(browser, 0)
    assert first["ranking"] is None
    assert ids == flagged_order(noisy, None)[:browser.page_size]
    assert np.array_equal(page(browser, 0, rid=2)[1], ids)


def test_a_suspect_without_an_annotator_has_its_reason_and_can_be_relabelled(noisy, tmp_path):
    ev = noisy
    store = LabelStore(ev, tmp_path / "labels.jsonl", author="ana")
    browser = SuspectBrowser(ev, store)
    missing = set(ev.ids[ev.features["labeller"].isna().to_numpy()])
    sample = next(s for s in flagged_order(ev, None) if s in missing)
    detail, _ = browser.handle({"type": "detail", "rid": 1, "id": sample})
    assert detail["error"] is None and detail["cause"]["why"].startswith("labeller (missing)")
    act(browser, "confirm", sample)
    assert store.events()["op"].tolist() == ["confirm"]


def test_without_declared_label_sources_the_ranking_still_learns_and_few_reviews_move_nothing(
        adult_oof, tmp_path):
    store = LabelStore(adult_oof, tmp_path / "labels.jsonl", author="ana")
    browser = SuspectBrowser(adult_oof, store)
    size = browser.page_size
    _, shown = page(browser, 0)
    for sample in shown[:5]:
        act(browser, "confirm", sample)
    reply, following = page(browser, 1, rid=2)
    # the slices and the detector's slope may move (nothing need be declared): re-ranked
    assert reply["ranking"] == "re-ranked after 5 reviews" and browser._ctx.rows.reranked
    # five reviews are fewer than a slice or the slope needs: the order is the static one
    assert following == flagged_order(adult_oof, None)[size:2 * size]
    assert following == [s for s in flagged_order(adult_oof, store) if s not in shown][:size]
