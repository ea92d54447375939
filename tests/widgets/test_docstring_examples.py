"""The examples in the widget modules' docstrings run and print what they say (tests/core skips
the widget modules, which import anywidget)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import errlens.widgets

# Modules moved to errlens.views keep an alias here that warns on import (tests/widgets/
# test_moved_to_views.py); their examples run at the new path, in tests/core.
MOVED = {"engine_rows": "engine_rows", "paging": "paging", "protocol": "protocol",
         "source": "source", "suspect_browser_samples": "samples",
         "suspect_browser_store": "store"}
MODULES = sorted(info.name for info in pkgutil.iter_modules(errlens.widgets.__path__,
                                                            "errlens.widgets.")
                 if info.name.rsplit(".", 1)[1] not in MOVED)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
