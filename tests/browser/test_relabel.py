"""Relabel in the suspect browser, in real JupyterLab and Notebook 7: a row with the mouse, one
with the keyboard, an undo; the changelog file on disk and store.labels() in the kernel agree."""

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
    widget = page.locator(".errlens-suspects")
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


def test_relabel_in_jupyterlab(page, lab):
    id1, new1, id2, label2 = _relabel_flow(page, lab)
    _check_kernel_and_disk(page, id1, new1, id2, label2)
    widget = page.locator(".errlens-suspects")
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
