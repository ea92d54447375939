"""The examples in the docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import errlens

# Widget modules import anywidget at the top; they are covered by tests/widgets.
MODULES = sorted(
    info.name for info in pkgutil.walk_packages(errlens.__path__, "errlens.")
    if ".widgets" not in info.name
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
