"""Relabel in the suspect browser, in real JupyterLab and Notebook 7: a row with the mouse, one
with the keyboard, an undo; the changelog file on disk and store.labels() in the kernel agree.
In JupyterLab also: the detail panel of the current row, and a relabel to the 12th class of
twelve through the label picker (no digit key reaches it)."""

from __future__ import annotations

import json
from pathlib import Path

from labserver import ARTIFACTS
from nbrun import kernel_json, open_and_run, set_theme

HOSTILE = "<img src=x onerror=alert(1)>"
OTHER = {"<=50K": ">50K", ">50K": "<=50K"}


def _cell_types(page) -> list[str]:
    return page.evaluate("""() => window.jupyterapp.shell.currentWidget.content.widgets
        .map((c) => c.model.type)""")


def _label_of(row) -> str:
    return row.locator("td").nth(3).inner_text().split("→")[-1].strip()


def _relabel_flow(page, server) -> tuple[str, str, str, str]:
    """Mouse relabel of row 1, keyboard relabel of row 2, then undo; returns ids and labels."""
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_and_run(page, server, "_e2e_relabel.ipynb", timeout_s=90)
    widget = page.locator(".errlens-suspects").first
    rows = widget.locator("tbody [role=row]")
    rows.nth(9).wait_for(timeout=30_000)
    cells_before = _cell_types(page)

    first, second = rows.nth(0), rows.nth(1)
    id1, id2 = first.locator("td").nth(2).inner_text(), second.locator("td").nth(2).inner_text()
    label1, label2 = _label_of(first), _label_of(second)
    first.click()
    button = widget.get_by_role("button", name=f"Relabel as {OTHER[label1]}", exact=True)
    button.click()
    first.locator(".el-badge", has_text="relabelled").wait_for(timeout=15_000)

    second.click()
    digit = "1" if OTHER[label2] == "<=50K" else "2"
    page.keyboard.press(digit)
    second.locator(".el-badge", has_text="relabelled").wait_for(timeout=15_000)
    assert second.locator(".el-new").inner_text() == OTHER[label2]
    page.keyboard.press("u")
    second.locator(".el-badge", has_text="undone").wait_for(timeout=15_000)
    assert _label_of(second) == label2

    # The keys went to the widget, not to JupyterLab (digits would turn cells into headings).
    assert _cell_types(page) == cells_before
    # Hostile strings are shown as text and run nothing.
    assert widget.locator("img").count() == 0
    assert HOSTILE in first.inner_text()
    assert dialogs == []
    return id1, OTHER[label1], id2, label2


def _check_kernel_and_disk(page, id1: str, new1: str, id2: str, label2: str) -> None:
    truth = kernel_json(page, f"""import json
labels = store.labels()
print(json.dumps({{"a": labels[{id1!r}], "b": labels[{id2!r}], "path": str(store.path),
                  "ops": store.events()["op"].tolist()}}))""")
    assert truth["a"] == new1 and truth["b"] == label2
    assert truth["ops"] == ["schema", "set", "set", "revert"]
    lines = [json.loads(line) for line in Path(truth["path"]).read_text().splitlines()]
    events = [line for line in lines if line.get("type") == "event"]
    assert [e["op"] for e in events] == truth["ops"]
    mouse, keyboard, undo = events[1], events[2], events[3]
    assert (mouse["sample_id"], mouse["new_label"]) == (id1, new1)
    assert mouse["cause"]["method"] == "prune_by_noise_rate" and mouse["cause"]["rank"] == 1
    assert keyboard["sample_id"] == id2 and undo["refs"] == [keyboard["event_id"]]


def _detail_panel(page, id1: str, new1: str) -> None:
    """The first row's detail: every class, why it was flagged, its history, every feature."""
    widget = page.locator(".errlens-suspects").first
    widget.locator("tbody [role=row]").nth(0).click()
    panel = widget.locator(".el-panel")
    history = panel.get_by_role("region", name="label history")
    history.get_by_text(f"set {OTHER[new1]} → {new1}").wait_for(timeout=15_000)
    assert "e2e" in history.inner_text()
    assert panel.get_by_role("region", name="probabilities").locator("li").count() == 2
    assert "rank 1 of" in panel.get_by_role("region", name="why it is here").inner_text()
    features = panel.locator(".el-features")
    assert features.locator("tr").count() == 15  # every column, the hostile one as text
    assert HOSTILE in features.inner_text() and panel.locator("img").count() == 0
    assert panel.locator("kbd.el-key").first.inner_text() == "1"
    assert id1 in panel.locator(".el-panel-head").inner_text()
    # Columns past the grid's width are reached by scrolling it sideways.
    grid = widget.locator(".el-grid-wrap")
    assert grid.evaluate("el => el.scrollWidth > el.clientWidth && getComputedStyle(el).overflowX")\
        == "auto"
    grid.get_by_role("button", name="Sort by native_country").scroll_into_view_if_needed()
    assert grid.evaluate("el => el.scrollLeft") > 0


def _relabel_with_picker(page) -> tuple[str, str]:
    """Relabel a ticket as the 11th or 12th of twelve teams: l, type, Enter."""
    tickets = page.locator(".errlens-suspects").nth(1)
    tickets.scroll_into_view_if_needed()
    row = tickets.locator("tbody [role=row]").nth(0)
    tid, given = row.locator("td").nth(2).inner_text(), _label_of(row)
    target = "wholesale" if given != "wholesale" else "marketplace"
    row.click()
    text = tickets.locator(".el-detail-text")
    text.wait_for(timeout=15_000)
    assert text.inner_text().startswith(f"ticket {int(tid[1:])}: my order")
    assert tickets.get_by_role("button", name=f"Relabel as {target}").locator("kbd").count() == 0
    page.keyboard.press("l")
    field = tickets.get_by_role("textbox", name="Filter classes")
    field.wait_for(timeout=5_000)
    page.keyboard.type(target[:5])
    assert tickets.locator(".el-picker").get_by_role("option").first.inner_text() == target
    ARTIFACTS.mkdir(exist_ok=True)
    tickets.screenshot(path=str(ARTIFACTS / "relabel-picker.png"))
    page.keyboard.press("Enter")
    row.locator(".el-badge", has_text="relabelled").wait_for(timeout=15_000)
    assert row.locator(".el-new").inner_text() == target
    return tid, target


def test_relabel_in_jupyterlab(page, lab):
    id1, new1, id2, label2 = _relabel_flow(page, lab)
    _check_kernel_and_disk(page, id1, new1, id2, label2)
    _detail_panel(page, id1, new1)
    cells_before = _cell_types(page)
    tid, team = _relabel_with_picker(page)
    truth = kernel_json(page, f"""import json
ops = store12.events()["op"].tolist()
print(json.dumps({{"label": store12.labels()[{tid!r}], "ops": ops}}))""")
    assert truth == {"label": team, "ops": ["set"]}
    assert _cell_types(page) == cells_before  # "l" and the typed name stayed in the widget
    widget = page.locator(".errlens-suspects").first
    widget.get_by_role("button", name="Keyboard shortcuts").click()
    assert widget.locator(".el-help").is_visible()
    page.keyboard.press("Escape")
    ARTIFACTS.mkdir(exist_ok=True)
    for dark in (False, True):
        set_theme(page, dark)
        assert widget.evaluate("el => el.classList.contains('errlens-dark')") == dark
        widget.screenshot(path=str(ARTIFACTS / f"relabel-{'dark' if dark else 'light'}.png"))
    set_theme(page, False)


def test_relabel_in_notebook7(page, notebook7):
    id1, new1, id2, label2 = _relabel_flow(page, notebook7)
    _check_kernel_and_disk(page, id1, new1, id2, label2)
