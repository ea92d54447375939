"""Real JupyterLab / Notebook 7 in Debian's Chromium, driven by Playwright.

No browser is downloaded: Playwright drives /usr/bin/chromium. Under CI=true a missing browser
fails the run instead of skipping it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from labserver import ROOT, JupyterServer, start

CHROMIUM = Path(os.environ.get("ERRLENS_CHROMIUM", "/usr/bin/chromium"))
# Console noise that is not ours (the closed network, JupyterLab's own start-up).
KNOWN_NOISE = ("Failed to load resource", "net::ERR_", "favicon", "fetchNews", "lsp")
# Notebook 7.6 raises this on every blank notebook too (a settings-plugin race of its own).
KNOWN_PAGE_ERRORS = ("Cannot read properties of undefined (reading 'schema')",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of notebooks/ that the browser tests run (the originals stay untouched)."""
    folder = tmp_path_factory.mktemp("notebooks")
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        shutil.copy(notebook, folder / notebook.name)
    return folder


@pytest.fixture(scope="session")
def lab(workdir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    server = start("lab", workdir, tmp_path_factory.mktemp("lab"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser_context(chromium: Path, tmp_path_factory: pytest.TempPathFactory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("profile")),
            executable_path=str(chromium),
            headless=True,
            viewport={"width": 1400, "height": 1000},
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-quic",
            ],
        )
        yield context
        context.close()


@pytest.fixture
def page(browser_context):
    """A fresh tab that records console errors and page errors; the test fails on any."""
    tab = browser_context.new_page()
    errors: list[str] = []
    tab.on(
        "pageerror",
        lambda exc: errors.append(f"pageerror: {exc}")
        if not any(known in str(exc) for known in KNOWN_PAGE_ERRORS)
        else None,
    )
    tab.on(
        "console",
        lambda msg: errors.append(f"console.{msg.type}: {msg.text}")
        if msg.type == "error" and not any(n in msg.text for n in KNOWN_NOISE)
        else None,
    )
    tab.errors = errors  # type: ignore[attr-defined]
    yield tab
    tab.close()
    assert not errors, "the page reported errors:\n" + "\n".join(errors)


@pytest.fixture(scope="session")
def notebook7(workdir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    server = start("notebook", workdir, tmp_path_factory.mktemp("nb7"))
    yield server
    server.stop()
