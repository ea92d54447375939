"""Deliver a front-end message to a view as the browser does (shared by the dashboard tests)."""

from __future__ import annotations

from typing import Any

from errlens.views.messages import CATALOGUE


def click(view: Any, msg: dict[str, Any]) -> dict[str, Any]:
    """Deliver ``msg`` as the browser does (a rid; the view's version where the request has
    one) and return the kernel's one reply."""
    replies: list[dict[str, Any]] = []
    view.send = lambda content, buffers=None: replies.append(content)
    version = "version" in CATALOGUE[view._messages][msg["type"]].required
    view._on_msg(view, {"rid": 1, **({"version": view.version} if version else {}), **msg}, [])
    assert len(replies) == 1 and replies[0]["rid"] == 1
    return replies[0]
