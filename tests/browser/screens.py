"""Clean screenshots of one widget output: the whole output in view, nothing of JupyterLab's
own chrome over it (the viewport grows to fit it), light or dark."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Locator, Page

from labserver import ARTIFACTS
from nbrun import set_theme

MARGIN_PX = 260  # JupyterLab's menu, toolbar and status bar above and below the notebook


def shoot(page: Page, output: Locator, name: str, *, dark: bool) -> Path:
    """Screenshot ``output`` into test-artifacts/``name`` in the light or dark theme."""
    set_theme(page, dark)
    before = page.viewport_size or {"width": 1400, "height": 1000}
    box = output.bounding_box()
    assert box, f"{name}: the output is not on the page"
    page.set_viewport_size({"width": before["width"],
                            "height": max(before["height"], int(box["height"]) + MARGIN_PX)})
    try:
        output.scroll_into_view_if_needed()
        page.mouse.move(0, 0)  # no hover highlight in the picture
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        output.screenshot(path=str(path), animations="disabled")
    finally:
        page.set_viewport_size(before)
    return path
