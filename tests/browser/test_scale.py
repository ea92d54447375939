"""The dashboard over a DuckDB-backed LazyAnalysis in a real JupyterLab: a segment click is
re-counted in the engine (bar, confusion table and row pages follow), and what the engine cannot
do (error tree, suspects, search) is shown disabled with its reason."""

from __future__ import annotations

from pathlib import Path

from labserver import ARTIFACTS
from nbrun import kernel_json, open_and_run

NOTEBOOK = "_e2e_scale.ipynb"
TRUTH = """
import json
print(json.dumps({"text": explorer.selection.describe(), "rows": explorer.bar.rows,
                  "counts": explorer.confusion.table["counts"],
                  "first": str(lazy.rows(explorer.selection, limit=1).index[0])}))
"""


def test_duckdb_dashboard_in_jupyterlab(page, lab):
    open_and_run(page, lab, NOTEBOOK, timeout_s=150)
    bar_text = page.locator(".errlens-selection .el-cohort")
    bar_text.wait_for(timeout=30_000)
    note = page.locator(".errlens-segments .el-unavailable")
    assert "not computed in an engine" in note.inner_text()
    assert page.locator(".errlens-segments .el-tree").count() == 0
    assert page.get_by_role("button", name="Show suspects").is_disabled()
    assert page.get_by_role("searchbox", name="Search").is_disabled()
    page.wait_for_function("() => document.querySelector('.errlens-suspects .el-pagetext')"
                           ".textContent.startsWith('1–25 of 48,842')", timeout=20_000)

    page.locator(".errlens-segments .el-bars button").first.click()
    page.wait_for_function(
        "() => document.querySelector('.errlens-selection .el-cohort').textContent !== 'all rows'",
        timeout=20_000)
    # the grid's page is the dashboard's last query: the kernel is idle once it shows
    page.wait_for_function("() => !document.querySelector('.errlens-suspects .el-pagetext')"
                           ".textContent.includes('48,842')", timeout=20_000)
    truth = kernel_json(page, TRUTH)
    assert bar_text.inner_text() == truth["text"]
    page.wait_for_function(
        "(n) => [...document.querySelectorAll('.errlens-confusion tbody button')]"
        ".map((b) => b.textContent).join('|') === n",
        arg="|".join(f"{c:,}" for row in truth["counts"] for c in row), timeout=20_000)
    page.wait_for_function(
        "(t) => document.querySelector('.errlens-suspects .el-pagetext').textContent === t",
        arg=f"1–{min(25, truth['rows'])} of {truth['rows']:,} rows", timeout=20_000)
    first_id = page.locator(".errlens-suspects .el-grid tbody tr").first.locator("td").nth(2)
    assert first_id.inner_text() == truth["first"]

    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".jp-OutputArea-output:has(.errlens-selection)").screenshot(
        path=str(Path(ARTIFACTS) / "explorer-duckdb.png"))
