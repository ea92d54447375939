"""The one message dispatcher of every errlens widget: envelope in, exactly one reply out.

Every front-end message is a request ``{type, rid, ...fields}``; the kernel answers each one
with ``{"type": "reply", "rid": rid, "error": None | "text", ...reply fields}`` and optional
buffers (Arrow IPC bytes). The envelope and the fields are checked against the catalogue
(:mod:`errlens.views.messages`) before a handler runs, and whatever goes wrong (a malformed
message, an unknown type, a refused value, a full disk, a bug) still gets a reply whose
``error`` the widget shows: the browser is never left waiting for its timeout.

>>> answer = Dispatcher("confusion", {"normalize": lambda msg: None,
...                                   "select_cell": lambda msg: None,
...                                   "select_cohort": lambda msg: None})
>>> answer({"type": "normalize", "rid": 3, "normalize": "true"})
({'type': 'reply', 'rid': 3, 'error': None}, [])
>>> answer({"type": "drop_table", "rid": 4})[0]["error"]
"unknown message type 'drop_table'; expected one of normalize, select_cell, select_cohort"
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from errlens.views.messages import CATALOGUE, Request

log = logging.getLogger(__name__)

Answer = tuple[dict[str, Any], list[bytes]]
#: A handler gets the validated message; it returns its reply fields (and buffers), or None.
Handler = Callable[[dict[str, Any]], "Answer | dict[str, Any] | None"]
#: The error text of an OSError while answering ``type`` (None: the generic text).
OSErrorText = Callable[[str, OSError], "str | None"]

_ENVELOPE = frozenset({"type", "rid"})
_MAX_RID = 2**53 - 1  # a JS number counts exactly up to here


class Dispatcher:
    """Answer the requests of one widget (``widget``: its name in the catalogue) with
    ``handlers``, one per request type of the catalogue (checked here, so the catalogue and
    the code cannot drift apart).

    Errors a user can act on (``ValueError`` and its subclasses: ``ProtocolError``,
    ``ChangelogError``..., ``KeyError``, ``TypeError``) reply with their text; an ``OSError``
    with ``os_error``'s text; anything else is logged with its traceback and replies with a
    short "internal error" text.
    """

    def __init__(self, widget: str, handlers: Mapping[str, Handler], *,
                 os_error: OSErrorText | None = None) -> None:
        if widget not in CATALOGUE:
            raise TypeError(f"no widget {widget!r} in the message catalogue "
                            f"(errlens.views.messages): add its requests there")
        requests = CATALOGUE[widget]
        if set(handlers) != set(requests):
            raise TypeError(f"{widget}: handlers {sorted(handlers)} do not match the message "
                            f"catalogue {sorted(requests)} (errlens.views.messages)")
        self.widget = widget
        self._handlers = dict(handlers)
        self._requests = requests
        self._os_error = os_error

    def __call__(self, msg: Any) -> Answer:
        """The reply to ``msg`` and its buffers; never raises."""
        rid = msg.get("rid") if isinstance(msg, dict) else None
        rid = rid if _is_rid(rid) else None
        kind = msg.get("type") if isinstance(msg, dict) else None
        try:
            request = self._check(msg, rid)
            result = self._handlers[request.type](msg)
        except (ValueError, TypeError) as exc:
            return _reply(rid, str(exc)), []
        except KeyError as exc:  # a missing key's repr would show quotes: show the key's text
            return _reply(rid, str(exc.args[0]) if exc.args else "KeyError"), []
        except OSError as exc:  # e.g. a full disk: the front end must hear it, not time out
            text = self._os_error(str(kind), exc) if self._os_error else None
            return _reply(rid, text or f"could not answer {kind!r}: {exc}"), []
        except Exception as exc:  # a bug still gets an answer (and a traceback in the log)
            log.exception("%s failed to answer %r", self.widget, kind)
            return _reply(rid, f"internal error answering {kind!r}, please report it: "
                          f"{type(exc).__name__}: {exc}"), []
        fields, buffers = result if isinstance(result, tuple) else (result or {}, [])
        return {**_reply(rid, None), **fields}, list(buffers)

    def _check(self, msg: Any, rid: int | None) -> Request:
        """The catalogue entry of ``msg``, after checking its envelope and field names."""
        if not isinstance(msg, dict):
            raise ValueError(f"a message must be a JSON object, got {type(msg).__name__}")
        kind = msg.get("type")
        if not isinstance(kind, str) or kind not in self._requests:
            expected = (f"expected one of {', '.join(sorted(self._requests))}" if self._requests
                        else f"the {self.widget} widget takes no messages")
            raise ValueError(f"unknown message type {kind!r}; {expected}")
        if rid is None:
            raise ValueError(f"message {kind!r} needs an integer rid (0..2**53-1), got "
                             f"{msg.get('rid')!r}")
        request = self._requests[kind]
        missing = sorted(request.required.keys() - msg.keys())
        unknown = sorted(msg.keys() - _ENVELOPE - request.required.keys()
                         - request.optional.keys())
        if missing:
            raise ValueError(f"message {kind!r} lacks {', '.join(missing)}")
        if unknown:
            raise ValueError(f"message {kind!r} has unknown field(s) "
                             f"{', '.join(map(str, unknown))}")
        return request


def _is_rid(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_RID


def _reply(rid: int | None, error: str | None) -> dict[str, Any]:
    return {"type": "reply", "rid": rid, "error": error}
