"""The README's ten-line example runs as written (the dashboard call just builds the widget)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_starts_with_the_two_setup_commands():
    text = README.read_text(encoding="utf-8")
    first_block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert first_block and text.index(first_block.group(0)) < 20
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert commands == ["make lab", "make test"]


@pytest.mark.slow
def test_readme_example_runs(tmp_path, monkeypatch):
    text = README.read_text(encoding="utf-8")
    example = re.search(r"## Ten lines\n\n```python\n(.*?)```", text, re.S)
    assert example, "the README lost its ten-line example"
    code = example.group(1)
    assert len(code.strip().splitlines()) <= 12
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    explorer = eval("el.explore(ev, store)", scope)
    assert scope["ev"].n == 48842
    assert explorer.selection is None  # a fresh dashboard shows all rows
    women = scope["el"].Cohort.where("sex", "==", "Female")
    explorer.selection = women
    assert explorer.selection == women
    assert explorer.selection.mask(scope["ev"]).sum() == (scope["adult"]["sex"] == "Female").sum()
    assert (tmp_path / "adult.labels.jsonl").exists()
