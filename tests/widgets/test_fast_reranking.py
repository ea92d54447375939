"""The browser's fast re-rank (cached arrays, ``errlens.suspects.live_rank``) gives the core's
ranking with the reviews row for row: on Adult with a planted careless annotator (and rows with
no annotator), after relabels, confirms, a skip and an undo, the order of every flagged row, each
row's prior and posterior, the ``why`` text and the cause a relabel records are those of
``ev.suspects(reviews=store)``, whole and within a cohort."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import errlens as el
from errlens.changelog import LabelStore
from errlens.slicing.cohort import Cohort
from errlens.suspects.detect import live_rank
from errlens.suspects.live_rank import reviewed_rows
from errlens.suspects.reviews import review_verdicts, reviewed_verdicts
from errlens.widgets.suspect_browser import SuspectBrowser

from .test_health_view import analysis, planted

METHOD = "prune_by_noise_rate"


@pytest.fixture(scope="module")
def noisy(adult: pd.DataFrame) -> el.Analysis:
    data, _ = planted(adult, n=12_000, seed=5)
    return analysis(data, annotator="labeller")


def reviewed_store(ev: el.Analysis, path: Any) -> LabelStore:
    """Reviews of the head of the ranking: relabels, confirms, a skip, an undone relabel."""
    store = LabelStore(ev, path, author="ana")
    head = ev.suspects(METHOD).table.index[:40]
    for i, sample in enumerate(head):
        if i % 3 == 0:
            store.relabel(sample, "<=50K" if ev.y_true.loc[sample] == ">50K" else ">50K")
        elif i % 3 == 1:
            store.confirm(sample)
        else:
            store.skip(sample)
    store.undo()
    return store


def test_fast_ranking_equals_the_reference_row_for_row(noisy, tmp_path):
    ev = noisy
    store = reviewed_store(ev, tmp_path / "labels.jsonl")
    reference = ev.suspects(METHOD, reviews=store)
    table = reference.table
    verdicts = reviewed_verdicts(store, analysis=ev)
    assert verdicts.reindex(ev.ids).where(lambda v: v.notna(), None).tolist() == \
        review_verdicts(store, ev.y_true, ids=ev.ids, analysis=ev).tolist()
    assert set(verdicts) == {"relabeled", "confirmed", "skipped"}
    live = live_rank(ev, METHOD)
    assert live is not None
    ranked = live.rerank(*reviewed_rows(verdicts, ev.ids))
    flagged = table.index[table["flagged"].to_numpy()]
    assert ev.ids[ranked.flagged_order()].tolist() == flagged.tolist()
    positions = ev.ids.get_indexer(table.index)
    np.testing.assert_array_equal(ranked.posterior[positions], table["posterior"].to_numpy())
    np.testing.assert_array_equal(ranked.prior[positions], table["prior"].to_numpy())
    for sample in [*flagged[:5], *flagged[-5:], *table.index[[100, 5000, -1]]]:
        position = int(ev.ids.get_loc(sample))
        assert ranked.cause(position, reference.cause(table.index[0])) == \
            reference.cause(sample)


def page(browser: SuspectBrowser, number: int) -> pa.Table:
    reply, buffers = browser.handle({"type": "page", "rid": 1, "mode": "suspects",
                                     "page": number})
    assert reply["error"] is None, reply["error"]
    return pa.ipc.open_stream(buffers[0]).read_all()


@pytest.mark.parametrize("cohort", [None, Cohort.where("sex", "==", "Female")])
def test_the_browser_after_reviews_shows_the_reference_ranking_and_causes(noisy, tmp_path,
                                                                          cohort):
    ev = noisy
    store = LabelStore(ev, tmp_path / "labels.jsonl", author="ana")
    browser = SuspectBrowser(ev, store, cohort=cohort)
    shown = page(browser, 0)
    before = ev.suspects(METHOD, reviews=store, cohort=cohort)
    assert shown["why"].to_pylist() == [before.cause(s)["why"] for s in shown["id"].to_pylist()]
    for i in range(0, 8):
        sample = shown["id"][i].as_py()
        reply, _ = browser.handle({"type": "action", "rid": 2, "action": "confirm" if i % 2
                                   else "relabel", "id": sample, "token": browser.version,
                                   "mode": "suspects", "source": "grid",
                                   "seen": shown["current"][i].as_py(),
                                   **({} if i % 2 else {"label": ">50K" if shown["given"][i]
                                                        .as_py() == "<=50K" else "<=50K"})})
        assert reply["error"] is None, reply["error"]
    after = page(browser, 1)
    rows = browser._ctx.rows
    assert rows.reranked  # the fast path ran
    reference = ev.suspects(METHOD, reviews=store, cohort=cohort)
    table = reference.table
    assert len(table) == (ev.n if cohort is None else int(ev.mask(cohort).sum())) < 2 * ev.n
    assert reference.params["reviewed"] == 8
    flagged = table.index[table["flagged"].to_numpy()]
    served = shown["id"].to_pylist()
    expected = [s for s in flagged if s not in served][:browser.page_size]
    assert after["id"].to_pylist() == expected
    assert after["why"].to_pylist() == [reference.cause(s)["why"] for s in expected]
    for sample in expected[:3]:
        cause = browser._ctx.cause(int(ev.ids.get_loc(sample)))
        assert cause == reference.cause(sample)
    # the detail panel's cause (and a cohort_suspects call) fall back to the reference table
    assert rows.cohort_suspects().table.equals(table)


def test_with_prior_none_or_for_knn_the_core_ranks_as_before(noisy, adult_oof, tmp_path):
    assert live_rank(noisy, "knn") is None
    assert live_rank(noisy, METHOD, prior=None) is None
    # nothing declared: no group prior, but the reviews may still move slices and the slope
    live = live_rank(adult_oof, METHOD)
    assert live is not None and live.noises == () and live.slices is not None
    store = LabelStore(noisy, tmp_path / "labels.jsonl", author="ana")
    browser = SuspectBrowser(noisy, store, method="knn")
    page(browser, 0)
    assert not browser._ctx.rows.reranked
