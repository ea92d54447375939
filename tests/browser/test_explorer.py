"""The dashboard in a real JupyterLab and Notebook 7: a segment click moves the confusion table,
a confusion cell narrows the selection, "back" steps back; light and dark screenshots."""

from __future__ import annotations

from pathlib import Path

from labserver import ARTIFACTS
from nbrun import kernel_json, open_and_run, set_theme

NOTEBOOK = "_e2e_explorer.ipynb"




def _matrix(page) -> list[str]:
    return page.locator('.errlens-confusion table[aria-label="confusion table"] tbody button'
                        ).all_inner_texts()


def test_explorer_selection_flow_in_jupyterlab(page, lab):
    open_and_run(page, lab, NOTEBOOK, timeout_s=150)
    bar_text = page.locator(".errlens-selection .el-cohort")
    bar_text.wait_for(timeout=30_000)
    assert bar_text.inner_text() == "all rows"
    all_rows = _matrix(page)

    first_bar = page.locator(".errlens-segments .el-bars button").first
    first_bar.click()
    page.wait_for_function(
        "() => document.querySelector('.errlens-selection .el-cohort').textContent !== 'all rows'",
        timeout=20_000)
    truth = kernel_json(
        page,
        "import json; print(json.dumps({'text': explorer.selection.describe(), "
        "'counts': explorer.confusion.table['counts']}))",
    )
    assert bar_text.inner_text() == truth["text"]
    page.wait_for_function(
        "(n) => [...document.querySelectorAll('.errlens-confusion tbody button')]"
        ".map((b) => b.textContent).join('|') === n",
        arg="|".join(f"{c:,}" for row in truth["counts"] for c in row), timeout=20_000)
    assert _matrix(page) != all_rows

    cell = page.locator(".errlens-confusion tbody tr").nth(1).locator("button").first
    cell.click()
    page.wait_for_function(
        "() => document.querySelector('.errlens-selection .el-cohort').textContent"
        ".includes('predicted')", timeout=20_000)
    assert truth["text"] in bar_text.inner_text()

    page.get_by_role("button", name="step back").click()
    page.wait_for_function(
        "(t) => document.querySelector('.errlens-selection .el-cohort').textContent === t",
        arg=truth["text"], timeout=20_000)
    assert kernel_json(page, "print(json.dumps(explorer.selection.describe()))") == truth["text"]

    ARTIFACTS.mkdir(exist_ok=True)
    dashboard = page.locator(".jp-OutputArea-output:has(.errlens-selection)")
    for dark in (False, True):
        set_theme(page, dark)
        root = page.locator(".errlens-segments")
        assert root.evaluate("el => el.classList.contains('errlens-dark')") == dark
        name = f"explorer-{'dark' if dark else 'light'}.png"
        dashboard.screenshot(path=str(Path(ARTIFACTS) / name))
    set_theme(page, False)


def test_explorer_renders_in_notebook7(page, notebook7):
    open_and_run(page, notebook7, NOTEBOOK, timeout_s=150)
    page.locator(".errlens-selection .el-cohort").wait_for(timeout=30_000)
    assert page.locator(".errlens-segments .el-bars button").count() > 1
    assert len(_matrix(page)) == 4
    page.locator(".errlens-segments .el-bars button").first.click()
    page.wait_for_function(
        "() => document.querySelector('.errlens-selection .el-cohort').textContent !== 'all rows'",
        timeout=20_000)
