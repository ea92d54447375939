"""The view models left widgets/ for errlens.views; their old import paths still work, warn
with DeprecationWarning and name the new path."""

from __future__ import annotations

import importlib
import sys

import pytest

from tests.widgets.test_docstring_examples import MOVED


@pytest.mark.parametrize(("old", "new"), sorted(MOVED.items()))
def test_an_old_path_warns_and_reexports_the_new_module(old: str, new: str) -> None:
    sys.modules.pop(f"errlens.widgets.{old}", None)
    with pytest.warns(DeprecationWarning, match=f"errlens.views.{new}"):
        alias = importlib.import_module(f"errlens.widgets.{old}")
    moved = importlib.import_module(f"errlens.views.{new}")
    public = [name for name in vars(moved) if not name.startswith("_")
              and getattr(vars(moved)[name], "__module__", None) == moved.__name__]
    assert public and all(getattr(alias, name) is getattr(moved, name) for name in public)

