"""What every errlens widget shares: its bundle location and strict constructor."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import anywidget

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent.parent / "static"


def bundle(name: str) -> tuple[Path, Path]:
    """Paths of the built ``<name>.js`` and ``<name>.css``, with a clear error when missing.

    >>> bundle("summary")[0].name
    'summary.js'
    """
    js, css = STATIC / f"{name}.js", STATIC / f"{name}.css"
    if not js.exists():
        raise FileNotFoundError(
            f"the widget bundle {js} is missing: errlens was installed without its front-end. "
            "From a source checkout run `make lab` (or `npm --prefix js run build`)."
        )
    return js, css


class ErrlensWidget(anywidget.AnyWidget):
    """Base class: unknown constructor keywords raise instead of being silently ignored, and
    the browser cannot write synced state: errlens front ends only send messages, which each
    widget validates one by one, so a state update from the page (a forged one, since ours
    never send any) is dropped before it touches a trait."""

    def __init__(self, **kwargs: Any) -> None:
        unknown = sorted(k for k in kwargs if not self.has_trait(k) and not k.startswith("_"))
        if unknown:
            raise TypeError(f"{type(self).__name__} got unknown arguments: {', '.join(unknown)}")
        super().__init__(**kwargs)

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """Drop a state update sent by the browser (see the class docstring)."""
        log.warning("%s: ignored a state update from the browser for %s", type(self).__name__,
                    sorted(sync_data))
