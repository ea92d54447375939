"""One line's JSON: parsed strictly, and checked for repeated keys.

orjson parses every line; what it refuses but JSON allows (an integer too long for a double)
goes to the standard library under the same rules, so both read exactly the same files and
nothing deeply nested reaches Python's recursion. orjson keeps the last of repeated keys
silently, so :func:`~errlens.changelog.lines.scan` counts the ':' of each chunk of lines
against the keys read (:func:`expected_colons`) and parses again, with
:func:`duplicate_key`, only the lines that have more.

>>> parse_json(b'{"score":1' + b"0" * 400 + b'}') == {"score": 10**400}
True
>>> duplicate_key(b'{"author":"ana","author":"eve"}')[:37]
"the key 'author' appears twice in one"
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from itertools import repeat
from typing import Any

import orjson


def parse_json(data: bytes | memoryview) -> Any:
    """Parse one line's JSON with orjson, or the standard library for what orjson refuses
    but JSON allows (an integer too long for a double, written by older errlens versions).

    Refused with ValueError: NaN and Infinity, a lone surrogate, nesting deeper than
    orjson's 1024 levels (which would exhaust Python's recursion). Repeated keys are found
    by :func:`~errlens.changelog.lines.scan`.

    >>> parse_json(b'{"a":[1,{"b":NaN}]}')
    Traceback (most recent call last):
    ValueError: NaN is not a JSON number
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return strict_loads(bytes(data), exc)


def strict_loads(data: bytes, exc: orjson.JSONDecodeError) -> Any:
    """The standard library's reading of what orjson refused (``exc``), within the rules."""
    if "depth" in str(exc) or "recursion" in str(exc):
        raise ValueError("lists or objects nest more than 1024 levels deep") from None
    try:
        text = data.decode()  # json.loads(bytes) would let invalid UTF-8 through
    except UnicodeDecodeError as err:
        raise ValueError(f"byte {err.start} is not UTF-8 text") from None
    try:
        obj = json.loads(text, parse_constant=_no_constant, parse_float=_finite,
                         object_pairs_hook=_unique_keys)
    except RecursionError:
        raise ValueError("lists or objects nest too deeply") from None
    if _ESCAPED_SURROGATE.search(data):  # orjson refuses them; json.loads lets them through
        try:
            json.dumps(obj, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            raise ValueError("a text holds a lone surrogate (not valid Unicode)") from None
    return obj


_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large for a JSON number")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) < len(pairs):
        keys = [k for k, _ in pairs]
        twice = next(k for i, k in enumerate(keys) if k in keys[:i])
        raise ValueError(f"the key {twice!r} appears twice in one object")
    return out


def duplicate_key(body: bytes | memoryview) -> str | None:
    """The message for a JSON object with a repeated key, or None."""
    try:
        json.loads(bytes(body), object_pairs_hook=_unique_keys)
    except ValueError as exc:
        if "appears twice" in str(exc):
            return (f"{exc}: JSON readers disagree on its value (orjson keeps the last, others "
                    f"the first), so it was not written by errlens")
    except RecursionError:  # too deep to check: the depth rule refuses such lines anyway
        pass
    return None


def expected_colons(objs: list[dict[str, Any]]) -> int:
    """The ':' the text of these parsed lines has if no key repeats and no text other than
    the timestamps holds one: one per key of a line or its cause, one after ``"hash"``, two
    in each timestamp (C-level passes; -1 if a line is not an object)."""
    causes: Iterator[Any] = map(dict.get, objs, repeat("cause"))
    try:
        return sum(map(len, objs)) + sum(map(len, filter(None, causes))) + 3 * len(objs)
    except TypeError:
        return -1


def n_keys(obj: Any) -> int:
    """Keys of every object in a parsed JSON value, without recursion."""
    n, todo = 0, [obj]
    while todo:
        item = todo.pop()
        if type(item) is dict:
            n += len(item)
            todo += [v for v in item.values() if type(v) in (dict, list)]
        elif type(item) is list:
            todo += [v for v in item if type(v) in (dict, list)]
    return n
