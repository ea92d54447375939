"""The standalone report opens offline in Chromium: no network request, every view drawn,
hostile strings shown as text, relabel controls disabled."""

from __future__ import annotations

from urllib.parse import urlparse

import numpy as np
import pandas as pd
import pytest

import errlens as el
from errlens.changelog.store import LabelStore
from errlens.report import to_html

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture
def report(adult: pd.DataFrame, tmp_path):
    data = adult.head(4_000).drop(columns=["split"]).copy()
    data["workclass"] = data["workclass"].cat.add_categories([HOSTILE])
    data.loc[data.index[:300], "workclass"] = HOSTILE
    rng = np.random.default_rng(1)
    p = np.clip(np.where(data["education_num"] >= 13, 0.7, 0.2)
                + rng.normal(0, 0.1, len(data)), 0.01, 0.99)
    # the hostile segment is always wrong, so it leads the segment bars
    p[:300] = np.where(data["income"].to_numpy()[:300] == "<=50K", 0.95, 0.05)
    ev = el.Analysis.from_predictions(data, y_true="income", proba=np.c_[1 - p, p], id="id",
                                      proba_out_of_fold=True)
    store = LabelStore(ev, tmp_path / "labels.changelog.jsonl", author="ana")
    store.relabel(ev.ids[0], ">50K", note=HOSTILE)
    return to_html(ev, tmp_path / "report.html", store=store, max_rows=10)


def test_report_opens_offline_without_requests(browser_context, report):
    browser_context.set_offline(True)
    page = browser_context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(report.as_uri())
        page.wait_for_selector("body[data-ready='true']", timeout=20_000)
        assert not errors, errors
        assert {urlparse(u).scheme for u in requests} <= {"file", "blob", "data"}, requests
        text = page.inner_text("body")
        for expected in ("Selection:", "Segments", "Heatmap", "Error tree", "Confusion",
                         "Top suspects", "Changelog", "1 events on 1 samples", HOSTILE):
            assert expected in text
        assert page.locator("img").count() == 0
        assert page.locator(".errlens-segments .el-bars button").count() > 1
        assert page.locator(".errlens-confusion tbody button").count() == 4
        relabel = page.locator("button[aria-label^='relabel']")
        assert relabel.count() == 10 * 2
        assert all(relabel.nth(i).is_disabled() for i in range(relabel.count()))
    finally:
        page.close()
        browser_context.set_offline(False)
