"""The dashboard's layout in a real JupyterLab: at a 1400 px window (file browser closed, a
content area of about 1,300 px) segments and confusion sit side by side with no empty band on
the right; in a 900 px window the confusion table wraps below the segments."""

from __future__ import annotations

from labserver import ARTIFACTS
from nbrun import open_and_run

NOTEBOOK = "_e2e_explorer.ipynb"
MATRIX = '.errlens-confusion table[aria-label="confusion table"] tbody button'
_BOXES = """() => Object.fromEntries(['segments', 'confusion', 'selection'].map((name) => {
  const box = document.querySelector(`.errlens-${name}`).getBoundingClientRect();
  return [name, { x: box.x, y: box.y, right: box.right, bottom: box.bottom }];
}))"""


def _settled(page, width: int) -> dict[str, dict[str, float]]:
    """Boxes of the views once the notebook is laid out in a ``width`` px window."""
    page.set_viewport_size({"width": width, "height": 900})
    page.wait_for_function(f"() => window.innerWidth === {width}", timeout=10_000)
    page.wait_for_timeout(300)  # Lumino lays panels out on the next animation frames
    return page.evaluate(_BOXES)


def test_segments_and_confusion_side_by_side_at_1400px(page, lab):
    page.set_viewport_size({"width": 1400, "height": 900})
    open_and_run(page, lab, NOTEBOOK, timeout_s=150)
    page.locator(MATRIX).nth(3).wait_for(timeout=30_000)
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")

    boxes = _settled(page, 1400)
    segments, confusion, bar = boxes["segments"], boxes["confusion"], boxes["selection"]
    assert abs(confusion["y"] - segments["y"]) <= 1, boxes
    assert confusion["x"] >= segments["right"], boxes
    # the row is filled: segments take the spare room, nothing empty beyond the confusion table
    assert bar["right"] - confusion["right"] <= 2, boxes
    assert segments["right"] - segments["x"] > confusion["right"] - confusion["x"], boxes
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".errlens-selection").evaluate("e => e.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(ARTIFACTS / "explorer-1400.png"))

    boxes = _settled(page, 900)
    assert boxes["confusion"]["y"] >= boxes["segments"]["bottom"], boxes
