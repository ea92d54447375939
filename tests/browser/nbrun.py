"""Open a notebook in JupyterLab or Notebook 7 and run all its cells, with bounded waits."""

from __future__ import annotations

import importlib.util
import json
import uuid
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from labserver import JupyterServer

# Wait until *this* notebook's context and kernel session are ready, then run all cells.
_READY = """(name) => {
  const app = window.jupyterapp;
  const panel = app && app.shell.currentWidget;
  if (!panel || !panel.sessionContext || !panel.context) return false;
  if (!panel.context.path.endsWith(name)) return false;
  if (!panel.context.isReady || !panel.sessionContext.session?.kernel) return false;
  return panel.sessionContext.session.kernel.connectionStatus === 'connected';
}"""
_DONE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = panel.content.widgets.filter((c) => c.model.type === 'code');
  const idle = panel.sessionContext.session.kernel.status === 'idle';
  return idle && cells.every((c) => c.model.executionCount !== null);
}"""
_ERRORS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  return panel.content.widgets
    .filter((c) => c.model.type === 'code')
    .flatMap((c) => c.model.outputs.toJSON())
    .filter((o) => o.output_type === 'error')
    .map((o) => `${o.ename}: ${o.evalue}`);
}"""


def open_and_run(page: Page, server: JupyterServer, notebook: str, timeout_s: float = 120) -> None:
    """Open ``notebook``, run all cells and fail on any cell error or cell that never ran, or on
    a kernel that imports another errlens than this process would (an installed copy instead of
    the code under test)."""
    if server.app == "lab":
        # A fresh, reset workspace per visit: otherwise JupyterLab restores the notebooks that
        # earlier tests opened and one of them may become the current widget.
        workspace = f"{Path(notebook).stem.strip('_')}-{uuid.uuid4().hex[:8]}"
        page.goto(server.url(f"lab/workspaces/{workspace}/tree/{notebook}") + "&reset")
    else:
        page.goto(server.url(f"notebooks/{notebook}"))
    page.wait_for_function(_READY, arg=notebook, timeout=60_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    try:
        page.wait_for_function(_DONE, timeout=timeout_s * 1000, polling=500)
    finally:
        errors = page.evaluate(_ERRORS)
        assert not errors, f"cells raised: {errors}"
    spec = importlib.util.find_spec("errlens")
    ours = str(Path(spec.origin).resolve()) if spec and spec.origin else None
    theirs = kernel_json(page, "import errlens, json, pathlib; "
                               "print(json.dumps(str(pathlib.Path(errlens.__file__).resolve())))")
    assert theirs == ours, f"the kernel runs {theirs}, not the code under test {ours}"


def set_theme(page: Page, dark: bool) -> None:
    theme = "JupyterLab Dark" if dark else "JupyterLab Light"
    page.evaluate(
        "(theme) => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", theme
    )
    page.wait_for_function(
        f"() => document.body.dataset.jpThemeLight === '{str(not dark).lower()}'", timeout=20_000
    )
    # JupyterLab shows its splash while it swaps theme CSS: screenshots wait for it to go.
    page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=20_000)


_EXECUTE = """async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  let out = '';
  const future = kernel.requestExecute({ code, silent: false, store_history: false });
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === 'stream') out += msg.content.text;
  };
  await future.done;
  return out;
}"""


def kernel_json(page: Page, code: str) -> Any:
    """Run ``code`` (which prints one JSON document) in the open notebook's kernel; return it."""
    return json.loads(page.evaluate(_EXECUTE, code))
