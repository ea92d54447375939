"""The dashboard in a real JupyterLab and Notebook 7: a segment click moves the confusion table,
keeps its feature's bars, a confusion cell narrows the selection, "back" steps back, a node of
the error-tree diagram selects its path, discovered slices line up; light and dark screenshots."""

from __future__ import annotations

from pathlib import Path

from labserver import ARTIFACTS
from nbrun import kernel_json, open_and_run, set_theme

NOTEBOOK = "_e2e_explorer.ipynb"
_BAR_TEXT = "document.querySelector('.errlens-selection .el-cohort').textContent"


def _matrix(page) -> list[str]:
    return page.locator('.errlens-confusion table[aria-label="confusion table"] tbody button'
                        ).all_inner_texts()


def test_explorer_selection_flow_in_jupyterlab(page, lab):
    open_and_run(page, lab, NOTEBOOK, timeout_s=150)
    bar_text = page.locator(".errlens-selection .el-cohort")
    bar_text.wait_for(timeout=30_000)
    assert bar_text.inner_text() == "all rows"
    all_rows = _matrix(page)

    bars = page.locator(".errlens-segments .el-bars button.el-seg")
    shown = bars.count()
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
    # the clicked feature keeps all its bars, the clicked one marked (not one lonely bar)
    assert bars.count() == shown > 1
    assert page.locator(".errlens-segments .el-bars button[aria-current=true]").count() == 1
    assert page.locator(".errlens-segments .el-heatmap button").count() > 1
    _shot(page, page.locator(".errlens-segments"), "explorer-context.png")

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

    _tree_node_and_slices(page)

    ARTIFACTS.mkdir(exist_ok=True)
    dashboard = page.locator(".jp-OutputArea-output:has(.errlens-selection)")
    for dark in (False, True):
        set_theme(page, dark)
        root = page.locator(".errlens-segments")
        assert root.evaluate("el => el.classList.contains('errlens-dark')") == dark
        name = f"explorer-{'dark' if dark else 'light'}.png"
        dashboard.screenshot(path=str(Path(ARTIFACTS) / name))
        if dark:
            _shot(page, root.locator(".el-tree-pair"), "explorer-tree-dark.png")
    set_theme(page, False)


def _tree_node_and_slices(page) -> None:
    """A node of the tree diagram (a button named by its path), pressed from the keyboard,
    selects that path; discovery fills the slices table, figures right and text left."""
    segments = page.locator(".errlens-segments")
    node = segments.locator(".el-tree-chart button").nth(2)
    label = node.get_attribute("aria-label")
    path = label.removeprefix("tree diagram node ").rsplit(": ", 1)[0]
    node.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(f"(t) => {_BAR_TEXT} === t", arg=path, timeout=20_000)
    assert kernel_json(page, "print(json.dumps(explorer.selection.describe()))") == path
    assert segments.locator(".el-tree-chart .el-tree-node.el-selected").count() == 1

    segments.get_by_role("button", name="discover slices").click()
    table = segments.locator('table[aria-label="discovered slices"]')
    table.wait_for(timeout=20_000)
    row = table.locator("tbody tr").first
    align = row.evaluate("tr => [...tr.children].map((td) => getComputedStyle(td).textAlign)")
    assert align == ["right", "left", "right", "right", "right", "right", "right"]
    # every row's figures end at the same x: consistent columns
    rights = table.locator("tbody tr").evaluate_all(
        "rows => rows.map((tr) => Math.round(tr.children[2].getBoundingClientRect().right))")
    assert len(set(rights)) == 1
    _shot(page, segments.locator(".el-tree-pair"), "explorer-tree.png")
    _shot(page, table, "explorer-slices.png")


def _shot(page, part, name: str) -> None:
    """What a user sees at 1400 × 900 with ``part`` scrolled to the top of the notebook."""
    ARTIFACTS.mkdir(exist_ok=True)
    size = page.viewport_size
    page.set_viewport_size({"width": 1400, "height": 900})
    part.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(150)  # JupyterLab's windowed notebook settles after a scroll
    page.screenshot(path=str(Path(ARTIFACTS) / name))
    if size:
        page.set_viewport_size(size)


def test_explorer_renders_in_notebook7(page, notebook7):
    open_and_run(page, notebook7, NOTEBOOK, timeout_s=150)
    page.locator(".errlens-selection .el-cohort").wait_for(timeout=30_000)
    assert page.locator(".errlens-segments .el-bars button").count() > 1
    assert len(_matrix(page)) == 4
    page.locator(".errlens-segments .el-bars button").first.click()
    page.wait_for_function(
        "() => document.querySelector('.errlens-selection .el-cohort').textContent !== 'all rows'",
        timeout=20_000)
