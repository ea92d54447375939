"""The suspect browser on text and on images in a real JupyterLab, with the current row's detail
panel open: the README's screenshots (test-artifacts/readme-*.png) and what they must show."""

from __future__ import annotations

from nbrun import open_and_run, set_theme
from screens import shoot


def _open_detail(page, widget) -> None:
    widget.locator("tbody [role=row]").first.click()
    widget.locator(".el-panel").get_by_role("region", name="why it is here").wait_for(
        timeout=20_000)


def test_text_suspects_with_their_whole_tweet(page, lab):
    open_and_run(page, lab, "text_sentiment.ipynb", timeout_s=180)
    widget = page.locator(".errlens-suspects").first
    _open_detail(page, widget)
    text = widget.locator(".el-detail-text")
    text.wait_for(timeout=20_000)
    assert len(text.inner_text()) > 20  # the whole tweet, not a cell cut at the grid's edge
    output = page.locator(".jp-OutputArea-output:has(.errlens-suspects)")
    shoot(page, output, "readme-suspects-text-dark.png", dark=True)
    set_theme(page, False)


def test_image_suspects_with_a_large_image(page, lab):
    open_and_run(page, lab, "images_digits.ipynb", timeout_s=180)
    widget = page.locator(".errlens-suspects").first
    _open_detail(page, widget)
    image = widget.locator(".el-panel img").first
    image.wait_for(timeout=20_000)
    box = image.bounding_box()
    assert box and box["width"] >= 128  # an 8x8 digit drawn large (pixelated), not a thumbnail
    output = page.locator(".jp-OutputArea-output:has(.errlens-suspects)")
    shoot(page, output, "readme-suspects-images-light.png", dark=False)
