"""Keys pressed inside errlens widgets never reach the notebook, in real JupyterLab and Notebook 7.

With a row of the suspect grid focused, then a button of the segments view, every widget key and
a set of notebook command-mode keys are pressed; the notebook's cells must be unchanged (count,
types, sources, execution counts, outputs), focus must stay inside the widget after each key, and
Escape must hand focus back to the cell, whose notebook keys then work again.

Shift+Enter / Ctrl+Enter / Alt+Enter inside a widget do not run the cell (re-running it would
rebuild the widget under the user's hands): press Escape first, then run.
"""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import Page

from labserver import JupyterServer
from nbrun import open_and_run

NOTEBOOK = "_e2e_keys.ipynb"
# The suspect browser's own keys (suspects/keys.js); "?" / "l" open its help / label picker and
# the "Escape" after each closes it (focus stays in the widget).
WIDGET_KEYS = [*"1234567890", "Enter", "s", "u", "j", "k", "n", "p", "x", "h", "m", "?", "Escape",
               "l", "Escape", "ArrowDown", "ArrowUp", "ArrowRight", "ArrowLeft"]
# Notebook command-mode keys (JupyterLab 4 / Notebook 7 defaults); "d d" and "0 0" are chords.
NOTEBOOK_KEYS = ["a", "b", "c", "d", "d", "m", "y", "r", "z", "x", "v", "Shift+M", "Shift+J",
                 "Shift+K", "Shift+ArrowDown", "Shift+Enter", "Control+Enter", "Alt+Enter",
                 "ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Space", "Shift+Space",
                 "0", "0", "i", "i", "Shift+L", "1"]
# A beat after each key for the widget's own redraw; late kernel replies are awaited at the end.
SETTLE_S = 0.05

_CELLS = """() => window.jupyterapp.shell.currentWidget.content.widgets.map((c) => ({
  type: c.model.type, source: c.model.sharedModel.getSource(),
  count: c.model.type === 'code' ? c.model.executionCount : null,
  outputs: c.model.type === 'code' ? c.model.outputs.toJSON().map((o) => o.output_type) : null,
}))"""
# Where focus is: in an errlens widget (its root class), on a notebook cell (its index), or else.
_FOCUS = """() => {
  const el = document.activeElement;
  const widget = el && el.closest('.errlens');
  if (widget) return 'widget:' + [...widget.classList].find((c) => c.startsWith('errlens-'));
  const nb = window.jupyterapp.shell.currentWidget.content;
  const i = nb.widgets.findIndex((c) => c.node === el);
  return i >= 0 ? `cell:${i}:${nb.mode}:${nb.activeCellIndex}` : `other:${el && el.className}`;
}"""


def _press_all(page: Page, keys: list[str], widget: str) -> int:
    """Press ``keys`` in turn; after each, focus must still be inside ``widget``."""
    for key in keys:
        page.keyboard.press(key)
        time.sleep(SETTLE_S)
        where = page.evaluate(_FOCUS)
        assert where == f"widget:{widget}", f"after {key!r} focus left {widget}: {where}"
    return len(keys)


def _wait_idle(page: Page) -> None:
    """Let every kernel reply the keys asked for arrive (a late redraw could still drop focus)."""
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status"
        " === 'idle'", timeout=20_000)
    time.sleep(0.3)


def _dashboard_cell(cells: list[dict[str, Any]]) -> int:
    return next(i for i, c in enumerate(cells) if c["source"].startswith("dashboard ="))


def _keys_stay_in_widgets(page: Page, server: JupyterServer) -> int:
    """The whole scenario in one front end; returns the number of keys pressed."""
    open_and_run(page, server, NOTEBOOK, timeout_s=90)
    suspects = page.locator(".errlens-suspects")
    rows = suspects.locator("tbody [role=row]")
    rows.nth(4).wait_for(timeout=30_000)
    page.locator(".errlens-summary").wait_for(timeout=30_000)
    bars = page.locator(".errlens-segments .el-bars button")
    bars.first.wait_for(timeout=30_000)
    cells = page.evaluate(_CELLS)
    assert [c["type"] for c in cells] == ["markdown", "code", "code", "code", "code"]
    pressed = 0

    # 1. A row of the suspect grid: its keys act on the grid, the notebook's do nothing.
    rows.nth(0).click()
    assert page.evaluate(_FOCUS) == "widget:errlens-suspects"
    page.keyboard.press("j")
    page.wait_for_function(
        "() => document.querySelectorAll('.errlens-suspects tbody [role=row]')[1]"
        ".getAttribute('aria-selected') === 'true'", timeout=5_000)
    page.keyboard.press("?")
    assert suspects.locator(".el-help").is_visible()  # the widget took "?"
    page.keyboard.press("Escape")  # closes the help; focus stays in the widget
    assert suspects.locator(".el-help").is_hidden()
    pressed += 3 + _press_all(page, WIDGET_KEYS, "errlens-suspects")
    pressed += _press_all(page, NOTEBOOK_KEYS, "errlens-suspects")
    _wait_idle(page)
    assert page.evaluate(_FOCUS) == "widget:errlens-suspects"
    page.keyboard.press("Escape")  # help closed: focus goes back to the dashboard's cell
    pressed += 1
    at = _dashboard_cell(cells)
    assert page.evaluate(_FOCUS) == f"cell:{at}:command:{at}"

    # 2. The search box: typing works, Tab moves focus on inside the widget.
    search = suspects.get_by_role("searchbox", name="Search")
    search.focus()
    page.keyboard.type("abdmyz0")
    pressed += 7
    assert search.input_value() == "abdmyz0"
    page.keyboard.press("Tab")
    pressed += 1
    assert page.evaluate(_FOCUS) == "widget:errlens-suspects"
    assert page.evaluate("() => document.activeElement.getAttribute('aria-label')") != "Search"

    # 3. A button of the segments view (focused, not clicked), then every key again.
    bars.first.focus()
    pressed += _press_all(page, [k for k in WIDGET_KEYS if k != "Escape"], "errlens-segments")
    pressed += _press_all(page, NOTEBOOK_KEYS, "errlens-segments")
    _wait_idle(page)
    assert page.evaluate(_FOCUS) == "widget:errlens-segments"
    assert page.evaluate(_CELLS) == cells, "a key reached the notebook"
    for root in ("suspects", "segments", "confusion", "selection", "summary"):
        assert page.locator(f".errlens-{root}").count() == 1, f"the {root} widget is gone"

    # 4. Escape hands focus to the dashboard's cell again; notebook keys work again.
    page.keyboard.press("Escape")
    pressed += 1
    assert page.evaluate(_FOCUS) == f"cell:{at}:command:{at}"
    page.keyboard.press("j")
    pressed += 1
    page.wait_for_function(
        "(i) => window.jupyterapp.shell.currentWidget.content.activeCellIndex === i",
        arg=at + 1, timeout=5_000)
    assert page.evaluate(_CELLS) == cells
    return pressed


def test_keys_stay_in_widgets_in_jupyterlab(page: Page, lab: JupyterServer) -> None:
    pressed = _keys_stay_in_widgets(page, lab)
    print(f"JupyterLab: {pressed} keys pressed")
    assert pressed > 100


def test_keys_stay_in_widgets_in_notebook7(page: Page, notebook7: JupyterServer) -> None:
    pressed = _keys_stay_in_widgets(page, notebook7)
    print(f"Notebook 7: {pressed} keys pressed")
    assert pressed > 100
