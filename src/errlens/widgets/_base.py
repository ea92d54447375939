"""What every errlens widget shares: its bundle location, strict constructor and the one
message dispatcher (:mod:`errlens.views.dispatch`) answering its front end's requests."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import anywidget

from errlens.views.dispatch import Answer, Dispatcher, Handler

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
    never send any) is dropped before it touches a trait.

    Every request from the front end gets exactly one reply (see
    :class:`~errlens.views.dispatch.Dispatcher`): subclasses name their entry of the message
    catalogue in ``_messages`` and return its handlers from :meth:`_handlers`.
    """

    _messages: ClassVar[str] = ""
    """The widget's name in :data:`errlens.views.messages.CATALOGUE` ("" = it takes none)."""

    def __init__(self, **kwargs: Any) -> None:
        unknown = sorted(k for k in kwargs if not self.has_trait(k) and not k.startswith("_"))
        if unknown:
            raise TypeError(f"{type(self).__name__} got unknown arguments: {', '.join(unknown)}")
        super().__init__(**kwargs)
        self._dispatch = Dispatcher(self._messages, self._handlers(), os_error=self._os_error)
        self.on_msg(self._on_msg)

    def _handlers(self) -> Mapping[str, Handler]:
        """Request type -> handler, one per request of the widget's catalogue entry."""
        return {}

    def _os_error(self, kind: str, exc: OSError) -> str | None:
        """The error text of an OSError while answering ``kind`` (None: the generic one)."""
        return None

    def handle(self, msg: Any) -> Answer:
        """The reply to one front-end request and its buffers (never raises).

        >>> import errlens as el
        >>> card = el.SummaryWidget(el.Analysis.from_predictions({"x": [1, 2]}, y_true=[0, 1],
        ...                                                      y_pred=[0, 0]))
        >>> card.handle({"type": "refresh", "rid": 1})
        ({'type': 'reply', 'rid': 1, 'error': "unknown message type 'refresh'; the summary \
widget takes no messages"}, [])
        """
        return self._dispatch(msg)

    def _on_msg(self, _widget: Any, msg: Any, _buffers: Any) -> None:
        reply, buffers = self.handle(msg)
        self.send(reply, buffers)

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """Drop a state update sent by the browser (see the class docstring)."""
        log.warning("%s: ignored a state update from the browser for %s", type(self).__name__,
                    sorted(sync_data))
