"""The dashboard in marimo (``marimo run`` in Chromium): the views render as marimo anywidgets
(not "Jupyter widgets are not supported"), segments and confusion sit side by side at 1400 px,
a digit key in the suspect browser relabels into the changelog file, and a segment click moves
the selection bar and the confusion table through the kernel.

marimo draws each anywidget in a shadow root: Playwright's locators reach into it,
``document.querySelector`` does not.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from labserver import ARTIFACTS, ROOT, child_env, free_port

NOTEBOOK = ROOT / "notebooks" / "_e2e_marimo.py"
OTHER = {"<=50K": ">50K", ">50K": "<=50K"}
KEY = {"<=50K": "1", ">50K": "2"}  # the suspect browser's digit keys, in class order
MATRIX = '.errlens-confusion table[aria-label="confusion table"] tbody button'


@dataclass
class MarimoApp:
    url: str
    changelog: Path
    log: Path


@pytest.fixture(scope="module")
def marimo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MarimoApp]:
    """``marimo run`` of a copy of the e2e notebook on a free loopback port (its session files
    land beside the copy, not in notebooks/)."""
    if importlib.util.find_spec("marimo") is None:
        message = "marimo is missing: it is in the dev extra (pip install -e '.[dev]')"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("marimo")
    notebook = Path(shutil.copy(NOTEBOOK, folder / NOTEBOOK.name))
    port, changelog, log = free_port(), folder / "labels.changelog.jsonl", folder / "marimo.log"
    command = [sys.executable, "-m", "marimo", "-q", "run", str(notebook), "--headless",
               "--no-token", "--no-sandbox", "--host", "127.0.0.1", "--port", str(port)]
    env = child_env(ERRLENS_E2E_CHANGELOG=str(changelog), MARIMO_SKIP_UPDATE_CHECK="1")
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=folder, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(process, url + "health", log)
        yield MarimoApp(url, changelog, log)
    finally:
        process.terminate()  # our own server only, by its handle
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"marimo exited: {log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"marimo did not answer on {url} within 60 s: {log.read_text()}")


def _box(page, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not displayed"
    return box


def test_explorer_in_marimo(page, marimo_app):
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(marimo_app.url)
    bar = page.locator(".errlens-selection .el-cohort")
    refused = page.get_by_text("not supported")  # marimo's banner for ipywidgets containers
    try:
        bar.or_(refused).first.wait_for(timeout=60_000)
    except Exception as exc:
        raise AssertionError(f"the dashboard never rendered; marimo said:\n"
                             f"{marimo_app.log.read_text()[-3000:]}") from exc
    assert refused.count() == 0, refused.first.inner_text()
    assert bar.inner_text() == "all rows"
    assert page.locator(".errlens-segments .el-bars button").count() > 1
    page.locator(MATRIX).nth(3).wait_for(timeout=20_000)
    rows = page.locator(".errlens-suspects tbody [role=row]")
    rows.nth(9).wait_for(timeout=30_000)

    # At 1400 px the confusion table sits to the right of the segments, tops level.
    segments, confusion = _box(page, ".errlens-segments"), _box(page, ".errlens-confusion")
    assert abs(confusion["y"] - segments["y"]) <= 1
    assert confusion["x"] >= segments["x"] + segments["width"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".errlens-selection").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "explorer-marimo.png"))

    # A digit key relabels the current suspect; the event lands in the changelog file.
    row = rows.nth(1)
    sample = row.locator("td").nth(2).inner_text()
    given = row.locator("td").nth(3).inner_text().split("→")[-1].strip()
    row.click()
    page.keyboard.press(KEY[OTHER[given]])
    row.locator(".el-badge", has_text="relabelled").wait_for(timeout=15_000)
    lines = [json.loads(line) for line in marimo_app.changelog.read_text().splitlines()]
    events = [line for line in lines if line.get("type") == "event"]
    assert [e["op"] for e in events] == ["set"]
    assert (events[0]["sample_id"], events[0]["new_label"]) == (sample, OTHER[given])
    assert events[0]["author"] == "e2e" and events[0]["cause"]["rank"] == 2

    # A segment click goes through the kernel to the bar and the confusion table.
    before = page.locator(MATRIX).all_inner_texts()
    page.locator(".errlens-segments .el-bars button").first.click()
    expect(bar).not_to_have_text("all rows", timeout=20_000)
    expect(page.locator(MATRIX)).not_to_have_text(before, timeout=20_000)
    counts = [int(text.replace(",", "")) for text in page.locator(MATRIX).all_inner_texts()]
    shown = page.locator(".errlens-selection .el-muted").inner_text()  # "412 of 4,000 rows"
    assert sum(counts) == int(shown.split(" of ")[0].replace(",", "")) < 4000
