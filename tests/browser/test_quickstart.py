"""The quickstart notebook in a real JupyterLab: the summary widget renders Adult's figures, the
dashboard appears, and the README's screenshots of it are taken (test-artifacts/)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from labserver import ARTIFACTS
from nbrun import kernel_json, open_and_run, set_theme
from screens import shoot


def _kernel_summary(page) -> dict:
    """Ask the kernel for ev.summary() through the page's own session (the truth to match)."""
    return kernel_json(page, "import json; print(json.dumps(ev.summary()))")


def test_quickstart_summary_widget_in_jupyterlab(page, lab):
    started = time.perf_counter()
    open_and_run(page, lab, "quickstart.ipynb", timeout_s=180)
    page.locator(".errlens-suspects tbody [role=row]").first.wait_for(timeout=30_000)
    run_all_s = time.perf_counter() - started  # Run All, from the open notebook to the dashboard
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "quickstart-timing.json").write_text(json.dumps({"run_all_s": run_all_s}))
    card = page.locator(".errlens-summary")
    card.wait_for(timeout=30_000)
    truth = _kernel_summary(page)
    assert truth["rows"] == 48842
    rows = card.locator('[data-figure="rows"] .el-figure-value').inner_text()
    rate = card.locator('[data-figure="error_rate"] .el-figure-value').inner_text()
    assert rows == "48,842"
    assert rate == f"{100 * truth['error_rate']:.1f}%"
    assert 0.10 < truth["error_rate"] < 0.16  # gradient boosting on Adult: ~13 % errors
    table_rows = card.locator("table tbody tr")
    assert table_rows.count() == 2
    first = table_rows.nth(0).locator("td")
    assert first.nth(0).inner_text() == "<=50K"
    assert first.nth(2).inner_text() == f"{truth['classes'][0]['errors']:,}"

    ARTIFACTS.mkdir(exist_ok=True)
    for dark in (False, True):
        set_theme(page, dark)
        is_dark = card.evaluate("el => el.classList.contains('errlens-dark')")
        assert is_dark == dark
        colour = card.evaluate("el => getComputedStyle(el).color")
        channels = [int(c) for c in re.findall(r"\d+", colour)[:3]]
        assert (sum(channels) / 3 > 128) == dark  # light text on dark, dark text on light
        card.screenshot(path=str(Path(ARTIFACTS) / f"summary-{'dark' if dark else 'light'}.png"))
    dashboard = page.locator(".jp-OutputArea-output:has(.errlens-selection)")
    for dark in (False, True):
        shoot(page, dashboard, f"readme-dashboard-{'dark' if dark else 'light'}.png", dark=dark)
    set_theme(page, False)


def test_quickstart_summary_widget_in_notebook7(page, notebook7):
    open_and_run(page, notebook7, "quickstart.ipynb", timeout_s=180)
    card = page.locator(".errlens-summary")
    card.wait_for(timeout=30_000)
    assert card.locator('[data-figure="rows"] .el-figure-value').inner_text() == "48,842"
    assert card.locator("table tbody tr").count() == 2
