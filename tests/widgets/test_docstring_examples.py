"""The examples in the widget modules' docstrings run and print what they say (tests/core skips
the widget modules, which import anywidget)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import errlens.widgets

MODULES = sorted(info.name for info in pkgutil.iter_modules(errlens.widgets.__path__,
                                                            "errlens.widgets."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
