"""Open a notebook in JupyterLab or Notebook 7 and run all its cells, with bounded waits."""

from __future__ import annotations

from playwright.sync_api import Page

from labserver import JupyterServer

# Wait until the notebook's context and kernel session are ready, then run all cells.
_READY = """() => {
  const app = window.jupyterapp;
  const panel = app && app.shell.currentWidget;
  if (!panel || !panel.sessionContext || !panel.context) return false;
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
    """Open ``notebook``, run all cells and fail on any cell error or cell that never ran."""
    path = f"lab/tree/{notebook}" if server.app == "lab" else f"notebooks/{notebook}"
    page.goto(server.url(path))
    page.wait_for_function(_READY, timeout=60_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    try:
        page.wait_for_function(_DONE, timeout=timeout_s * 1000, polling=500)
    finally:
        errors = page.evaluate(_ERRORS)
        assert not errors, f"cells raised: {errors}"


def set_theme(page: Page, dark: bool) -> None:
    theme = "JupyterLab Dark" if dark else "JupyterLab Light"
    page.evaluate(
        "(theme) => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", theme
    )
    page.wait_for_function(
        f"() => document.body.dataset.jpThemeLight === '{str(not dark).lower()}'", timeout=20_000
    )
