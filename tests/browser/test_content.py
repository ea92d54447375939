"""Text slices, concepts, sample strips, the annotator-health panel and live re-ranking in the
dashboard, in real JupyterLab 4 and Notebook 7 (one flow, run in each): 5,000 tweets with a
planted topic failure, one careless annotator and a hostile string in one tweet
(notebooks/_e2e_content.ipynb).

"Discover" lists a text slice and the planted concept, each with a strip of plain-text snippets
(the hostile tweet's markup shown as text, its handler never run); a concept click moves the
selection bar and the confusion table; a row of the annotator-health panel selects that
annotator; a keyboard relabel makes the next page say it was re-ranked after 1 review, each row
with its reason; no key reaches the notebook."""

from __future__ import annotations

import re

from playwright.sync_api import Page

from labserver import ARTIFACTS, JupyterServer
from nbrun import kernel_json, open_and_run

NOTEBOOK = "_e2e_content.ipynb"
HOSTILE = "<img src=x onerror=window.__pwned=1>"
CLASSES = ["negative", "neutral", "positive"]  # the digit keys 1, 2, 3
_BAR = "document.querySelector('.errlens-selection .el-cohort').textContent"
# Everything a stray key could change in the notebook: its cells, their sources, runs, outputs.
_CELLS = """() => window.jupyterapp.shell.currentWidget.content.widgets.map((c) => ({
  type: c.model.type, source: c.model.sharedModel.getSource(),
  count: c.model.type === 'code' ? c.model.executionCount : null,
  outputs: c.model.type === 'code' ? c.model.outputs.toJSON().map((o) => o.output_type) : null,
}))"""


def _matrix(page: Page) -> str:
    return "|".join(page.locator('.errlens-confusion table[aria-label="confusion table"] '
                                 "tbody button").all_inner_texts())


def _wait_matrix(page: Page, matrix: str) -> None:
    """Wait until the confusion table shows ``matrix`` (its cells' texts joined by "|")."""
    page.wait_for_function(
        "(m) => [...document.querySelectorAll('.errlens-confusion tbody button')]"
        ".map((b) => b.textContent).join('|') === m", arg=matrix, timeout=20_000)


def _wait_bar(page: Page, text: str) -> None:
    page.wait_for_function(f"(t) => {_BAR} === t", arg=text, timeout=20_000)


def _kernel_selection(page: Page) -> dict:
    """The kernel's own account of the selection: its text and the confusion table's counts."""
    truth = kernel_json(page, "import json; print(json.dumps({'text': explorer.bar.text, "
                              "'counts': explorer.confusion.table['counts']}))")
    truth["matrix"] = "|".join(f"{c:,}" for row in truth["counts"] for c in row)
    return truth


def _discover(page: Page) -> None:
    """Slices and concepts of the text, each with a strip of plain-text snippets."""
    segments = page.locator(".errlens-segments")
    segments.get_by_role("button", name="discover slices").click()
    slices = segments.locator('table[aria-label="discovered slices"]')
    concepts = segments.locator('table[aria-label="concept slices"]')
    concepts.wait_for(timeout=60_000)
    names = slices.locator("button.el-link").all_inner_texts()
    assert names and names[0].startswith("text contains "), names  # the worst slice: text
    topic = concepts.get_by_role("button", name=re.compile(r"^select concept text mentions self"))
    assert topic.count() == 1
    # every listed slice and concept has a strip of snippets (errors first), as text, in a row
    # under it across the figures' columns: a few snippets a line, not one above the other
    for table in (slices, concepts):
        rows = table.locator("tbody tr:not(.el-strip-row)")
        strips = table.locator('tr.el-strip-row [role=list][aria-label^="samples of "]')
        assert rows.count() == strips.count()
        assert table.locator(".el-sample .el-snippet").count() >= rows.count()
        tops = strips.first.locator(".el-sample").evaluate_all(
            "items => items.map((e) => Math.round(e.getBoundingClientRect().top))")
        assert len(tops) > len(set(tops)) > 0, f"one snippet a line: {tops}"
        assert strips.first.evaluate("e => getComputedStyle(e.closest('td')).textAlign") == "left"
    strip = topic.locator("xpath=ancestor::tr[1]/following-sibling::tr[1]").locator(
        '[role=list][aria-label^="samples of text mentions self"]')
    hostile = strip.locator(".el-snippet", has_text=HOSTILE)
    assert hostile.count() == 1 and hostile.inner_text().endswith(HOSTILE), strip.all_inner_texts()
    assert hostile.evaluate("el => el.children.length") == 0  # a text node, no markup
    assert strip.locator(".el-sample-error").count() == strip.locator(".el-sample").count()
    assert page.locator(".errlens-segments img").count() == 0
    assert page.evaluate("() => window.__pwned") is None
    _shot(page, slices, "content-slices.png")
    _shot(page, concepts, "content-concepts.png")


def _shot(page: Page, part, name: str) -> None:
    """What a user sees with ``part`` scrolled to the top of the notebook, for the artifacts."""
    ARTIFACTS.mkdir(exist_ok=True)
    part.evaluate("e => e.scrollIntoView({block: 'start'})")
    if "/notebooks/" in page.url:  # Notebook 7's keep their own names
        name = name.replace("content-", "content-notebook7-")
    page.screenshot(path=str(ARTIFACTS / name))


def _clusters(page: Page) -> None:
    """The cluster feature's bars have its clusters under them, each with its top terms and a
    strip of typical rows; a cluster's button selects it as its bar does."""
    segments = page.locator(".errlens-segments")
    assert segments.get_by_role("combobox", name="feature", exact=True).input_value() == "cluster"
    clusters = segments.locator('[role=list][aria-label="clusters of cluster"]')
    items = clusters.locator(":scope > [role=listitem]")
    assert items.count() == 6
    assert clusters.locator('[role=list][aria-label^="samples of cluster c"]').count() == 6
    assert "self driving" in clusters.inner_text()  # the planted topic's cluster, by its terms
    # the annotators are random: no segment stands for a cluster, and none is named as one
    assert "≈" not in clusters.inner_text()
    assert clusters.locator("img").count() == 0
    _shot(page, clusters, "content-clusters.png")
    before = _matrix(page)
    clusters.get_by_role("button", name=re.compile(r"^select cluster c2: ")).click()
    _wait_bar(page, "cluster = c2")
    truth = _kernel_selection(page)
    assert truth["text"] == "cluster = c2"
    _wait_matrix(page, truth["matrix"])
    assert _matrix(page) != before
    segments.locator(".el-bars button[aria-current=true]", has_text="c2").wait_for(timeout=20_000)


def _select_concept(page: Page) -> None:
    """A concept click: the selection bar names it, the confusion table counts its rows."""
    before = _matrix(page)
    concepts = page.locator('.errlens-segments table[aria-label="concept slices"]')
    topic = concepts.get_by_role("button", name=re.compile(r"^select concept text mentions self"))
    topic.click()
    page.wait_for_function(f"() => {_BAR}.startsWith('text mentions self')", timeout=20_000)
    truth = _kernel_selection(page)
    assert page.locator(".errlens-selection .el-cohort").inner_text() == truth["text"]
    _wait_matrix(page, truth["matrix"])
    assert _matrix(page) != before
    assert concepts.locator("button[aria-current=true]").count() == 1


def _select_annotator(page: Page) -> None:
    """The noisiest annotator's row of the health panel selects that annotator's rows."""
    health = page.locator(".errlens-health")
    rows = health.locator('[role=group][aria-label="noise by annotator"] button')
    assert rows.count() == 5
    assert rows.first.get_attribute("aria-label").startswith("select annotator ann3: ")
    before = _matrix(page)
    rows.first.click()
    _wait_bar(page, "annotator = ann3")
    truth = _kernel_selection(page)
    assert truth["text"] == "annotator = ann3"
    _wait_matrix(page, truth["matrix"])
    assert _matrix(page) != before
    health.locator("button[aria-current=true]", has_text="ann3").wait_for(timeout=20_000)
    assert health.locator("button[aria-current=true]").count() == 1
    page.locator(".errlens-suspects .el-cohort", has_text="annotator = ann3").wait_for(
        timeout=20_000)
    _shot(page, health, "content-health.png")


def _relabel_and_rerank(page: Page) -> None:
    """A keyboard relabel of ann3's top suspect; the next page is ranked after that review."""
    suspects = page.locator(".errlens-suspects")
    rows = suspects.locator("tbody [role=row]")
    rows.nth(4).wait_for(timeout=30_000)
    assert suspects.locator(".el-ranking").is_hidden()
    first = rows.nth(0)
    sample = first.locator("td").nth(2).inner_text()
    given = first.locator("td").nth(3).inner_text().split("→")[-1].strip()
    target = next(c for c in CLASSES if c != given)
    first.click()
    page.keyboard.press(str(CLASSES.index(target) + 1))
    first.locator(".el-badge", has_text="relabelled").wait_for(timeout=15_000)
    page.keyboard.press("n")  # the next page, from the keyboard
    assert page.evaluate("() => !!document.activeElement.closest('.errlens-suspects')")
    page.keyboard.press("a")  # no key of the grid's: the notebook's "insert a cell above"
    ranking = suspects.locator(".el-ranking")
    ranking.wait_for(timeout=20_000)
    assert ranking.inner_text().startswith("re-ranked after 1 review:")
    assert suspects.locator(".el-pagetext").inner_text().startswith("26–")
    # each row of the new page says why it ranks there: its annotator's estimated noise
    why = suspects.locator("tbody [role=row] .el-why")
    assert why.count() == rows.count() > 0
    assert all("ann3" in text for text in why.all_inner_texts()), why.all_inner_texts()
    truth = kernel_json(page, f"import json; print(json.dumps(store.labels()[{sample!r}]))")
    assert truth == target
    _shot(page, suspects, "content-suspects.png")


# Which front end's UI the page shows: the app's name, the URL's route and the shell (JupyterLab's
# #main is its LabShell; Notebook 7 marks its notebook page on the body and has no LabShell).
_FRONT_END = """() => ({
  name: window.jupyterapp.name,
  path: location.pathname,
  labShell: document.querySelector('#main.jp-LabShell') !== null,
  notebookPage: document.body.dataset.notebook === 'notebooks',
})"""
_EXPECTED_UI = {
    "lab": {"name": "JupyterLab", "labShell": True, "notebookPage": False},
    "notebook": {"name": "Jupyter Notebook", "labShell": False, "notebookPage": True},
}
_ROUTE = {"lab": f"/lab/workspaces/[^/]+/tree/{NOTEBOOK}", "notebook": f"/notebooks/{NOTEBOOK}"}


def _content_dashboard(page: Page, server: JupyterServer) -> None:
    """The whole flow in ``server``'s front end: open, run, check the UI is that front end's,
    then every step above; no key may reach the notebook."""
    open_and_run(page, server, NOTEBOOK, timeout_s=90)
    ui = page.evaluate(_FRONT_END)
    assert re.fullmatch(_ROUTE[server.app], ui.pop("path")), (server.app, page.url)
    assert ui == _EXPECTED_UI[server.app], ui
    page.locator(".errlens-selection .el-cohort").wait_for(timeout=30_000)
    page.locator(".errlens-health button.el-hrow").first.wait_for(timeout=30_000)
    page.locator(".errlens-suspects tbody [role=row]").first.wait_for(timeout=30_000)
    cells = page.evaluate(_CELLS)
    assert [c["type"] for c in cells] == ["markdown", "code", "code", "code"]

    _discover(page)
    _clusters(page)
    _select_concept(page)
    _select_annotator(page)
    _relabel_and_rerank(page)

    # no key reached the notebook: "a" would have inserted a cell (the digit and "n" are no
    # notebook keys here: a digit makes only a focused markdown cell a heading)
    assert page.evaluate(_CELLS) == cells, "a key reached the notebook"
    assert page.evaluate("() => window.__pwned") is None


def test_content_dashboard_in_jupyterlab(page: Page, lab: JupyterServer) -> None:
    _content_dashboard(page, lab)


def test_content_dashboard_in_notebook7(page: Page, notebook7: JupyterServer) -> None:
    _content_dashboard(page, notebook7)
