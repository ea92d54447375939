"""Validation of the messages a widget front end sends: nothing reaches the data unchecked.

Each parser takes the raw JSON object and returns plain values, or raises ``ProtocolError``
whose text the front end shows.

>>> fields(
...     {"type": "page", "rid": 1, "page": 2}, required={"type", "rid"}, optional={"page"}
... )["page"]
2
>>> label_value("cat", ["cat", "dog"]), label_value(1, [0, 1])
('cat', 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

MAX_TEXT = 2000


class ProtocolError(ValueError):
    """A front-end message that is malformed, refers to unknown data, or is stale."""


def fields(msg: Any, *, required: set[str],
           optional: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
    """``msg`` as a dict with exactly the ``required`` keys and some ``optional`` ones."""
    if not isinstance(msg, dict):
        raise ProtocolError(f"a message must be a JSON object, got {type(msg).__name__}")
    missing = sorted(required - msg.keys())
    unknown = sorted(msg.keys() - required - optional)
    if missing:
        raise ProtocolError(f"message {msg.get('type')!r} lacks {', '.join(missing)}")
    if unknown:
        raise ProtocolError(f"message {msg.get('type')!r} has unknown field(s) "
                            f"{', '.join(map(str, unknown))}")
    return msg


def integer(value: Any, name: str, *, low: int = 0, high: int | None = None) -> int:
    """An int in [low, high] (bools are not ints here)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProtocolError(f"{name} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        limit = f"{low}..{high}" if high is not None else f">= {low}"
        raise ProtocolError(f"{name} {value} is out of range ({limit})")
    return value


def boolean(value: Any, name: str) -> bool:
    """A JSON boolean."""
    if not isinstance(value, bool):
        raise ProtocolError(f"{name} must be true or false, got {value!r}")
    return value


def text(value: Any, name: str, *, limit: int = MAX_TEXT, allow_none: bool = True) -> str | None:
    """A string of at most ``limit`` characters (or None when allowed)."""
    if value is None and allow_none:
        return None
    if not isinstance(value, str):
        raise ProtocolError(f"{name} must be text, got {type(value).__name__}")
    if len(value) > limit:
        raise ProtocolError(f"{name} is {len(value):,} characters; the limit is {limit:,}")
    return value


def choice(value: Any, name: str, options: Sequence[str]) -> str:
    """One of ``options``."""
    if value not in options or not isinstance(value, str):
        raise ProtocolError(f"{name} must be one of {', '.join(options)}, got {value!r}")
    return value


def label_value(value: Any, classes: Sequence[Any]) -> Any:
    """``value`` if it is one of ``classes`` with the same JSON type (``1`` is not ``True``)."""
    for c in classes:
        if type(c) is type(value) and c == value:
            return c
    raise ProtocolError(f"label {value!r} is not one of the classes {list(classes)!r}")


def sample_id(value: Any, ids: pd.Index) -> int:
    """Row position of sample id ``value``; ids are text or integers."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ProtocolError(f"a sample id must be text or an integer, got {value!r}")
    try:
        position = ids.get_loc(value)
    except (KeyError, TypeError):
        raise ProtocolError(f"unknown sample id {value!r}") from None
    if not isinstance(position, int):  # a slice or mask: the index is not unique
        raise ProtocolError(f"sample id {value!r} is not unique in the analysis")
    return position


def sample_ids(value: Any, ids: pd.Index, *, limit: int) -> list[int]:
    """Row positions of a non-empty list of distinct sample ids, at most ``limit`` of them."""
    if not isinstance(value, list) or not value:
        raise ProtocolError("ids must be a non-empty list of sample ids")
    if len(value) > limit:
        raise ProtocolError(f"{len(value):,} ids in one message; the limit is {limit:,}")
    positions = [sample_id(v, ids) for v in value]
    if len(set(positions)) != len(positions):
        raise ProtocolError("ids contain duplicates")
    return positions
