"""Checks of whole columns of parsed event fields, used by :mod:`errlens.changelog.columns`.

Each check returns the row positions that fail (an empty list in the common case, found with
C-level passes such as ``set(map(type, values))``); only then does it look row by row, with
the very predicates writers validate with (:mod:`errlens.changelog.events`), so a reader
refuses exactly what a writer refuses.

>>> bad_times(["2026-01-31T12:00:00.000000Z", "2026-02-30T00:00:00.000000Z", "yesterday"])
[1, 2]
"""

from __future__ import annotations

from itertools import chain, repeat
from operator import itemgetter, methodcaller
from typing import Any

import numpy as np

from errlens.changelog.events import (
    MAX_INT,
    MIN_INT,
    OPS,
    is_count,
    is_label_value,
    is_number,
    is_text,
    is_time,
)

OP_CODE = {op: i for i, op in enumerate(OPS)}
LABEL_TYPES = {type(None), str, int, bool, float}
_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
class _Missing:
    def __repr__(self) -> str:
        return "<MISSING>"


MISSING: Any = _Missing()


def transpose(objs: list[dict[str, Any]]) -> tuple[dict[str, list[Any]], set[str]]:
    """Column lists of a list of dicts, and the names some dicts lack (``MISSING`` there):
    one C-level ``map`` per field, with ``itemgetter`` while every dict has the field.

    >>> transpose([{"a": 1, "b": 2}, {"a": 3}])
    ({'a': [1, 3], 'b': [2, <MISSING>]}, {'b'})
    """
    out, partial = {}, set()
    for name in sorted(set().union(*objs)):
        try:
            out[name] = list(map(itemgetter(name), objs))
        except KeyError:
            out[name] = list(map(methodcaller("get", name, MISSING), objs))
            partial.add(name)
    return out, partial


def operation_codes(ops: list[Any]) -> np.ndarray:
    """Operation codes (0 for what is not an operation name: the op check flags those)."""
    try:
        return np.fromiter(map(OP_CODE.get, ops, repeat(0)), np.int8, len(ops))
    except TypeError:  # an unhashable op
        return np.array([OP_CODE.get(o, 0) if type(o) is str else 0 for o in ops], np.int8)


def unique(values: list[Any]) -> set[Any]:
    try:
        return set(values)
    except TypeError:
        return {v for v in values if type(v) is str}


def value_codes(values: list[Any], table: dict[Any, int]) -> np.ndarray:
    """Codes of ``values`` in ``table`` (new values added; -1 for None and for values that
    cannot be codes, which the column checks flag)."""
    try:
        codes = np.fromiter(map(table.get, values, repeat(-1)), np.int64, len(values))
    except TypeError:  # unhashable values: the column checks flag their rows
        return np.array([table.setdefault(v, len(table)) if _codable(v) else -1
                         for v in values], dtype=np.int64)
    for i in np.flatnonzero(codes < 0).tolist():  # values not seen before (and None)
        if _codable(values[i]):
            codes[i] = table.setdefault(values[i], len(table))
    return codes


def _codable(value: Any) -> bool:
    return type(value) in LABEL_TYPES and value is not None and value == value  # not NaN


def outside(values: list[Any], allowed: Any) -> list[int]:
    try:
        if set(values) <= set(allowed):
            return []
    except TypeError:
        pass
    return [i for i, v in enumerate(values) if not _member(v, allowed)]


def _member(value: Any, allowed: Any) -> bool:
    try:
        return value in allowed
    except TypeError:
        return False


def bad_text(values: list[Any], low: int, high: int | None = None) -> list[int]:
    # parse_json never returns a lone surrogate, so lengths are all the fast path checks
    if set(map(type, values)) <= {str}:
        lengths = list(map(len, values))
        if not lengths or (min(lengths) >= low and (high is None or max(lengths) <= high)):
            return []
    return [i for i, v in enumerate(values) if not is_text(v, low, high)]


def bad_count(values: list[Any]) -> list[int]:
    if set(map(type, values)) <= {int} and (not values or (min(values) >= 1 and
                                                            max(values) <= MAX_INT)):
        return []
    return [i for i, v in enumerate(values) if not is_count(v)]


def wide_ints(values: list[Any]) -> list[int]:
    """Rows holding an integer beyond 64 bits (orjson reads those up to 2**64 - 1)."""
    ints = list(filter(int.__instancecheck__, values))  # C-level; booleans are harmless
    if not ints or (min(ints) >= MIN_INT and max(ints) <= MAX_INT):
        return []
    return [i for i, v in enumerate(values) if type(v) is int and not MIN_INT <= v <= MAX_INT]


def typed(values: list[Any], types: set[type]) -> list[int]:
    if set(map(type, values)) <= types:
        return []
    return [i for i, v in enumerate(values) if type(v) not in types]


def bad_number(values: list[Any], high: float) -> list[int]:
    if set(map(type, values)) <= {type(None)}:
        return []
    return [i for i, v in enumerate(values) if v is not None and not is_number(v, high)]


def bad_labels(values: list[Any]) -> list[int]:
    types = set(map(type, values))
    if types <= LABEL_TYPES - {float} and (int not in types or not wide_ints(values)):
        return []
    return [i for i, v in enumerate(values) if v is not None and not is_label_value(v)]


def bad_id_lists(values: list[Any]) -> list[int]:
    if set(map(type, values)) <= {list} and \
            set(map(type, chain.from_iterable(values))) <= {str}:
        return []
    return [i for i, v in enumerate(values) if type(v) is not list
            or not all(is_text(p) for p in v)]


def bad_times(values: list[Any]) -> list[int]:
    """Rows whose timestamp is not valid ISO 8601 UTC text: the usual
    ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` form is checked on the whole column at once, any other
    form one by one."""
    if set(map(type, values)) <= {str} and set(map(len, values)) <= {27}:
        fixed = list(range(len(values)))
    else:
        fixed = [i for i, v in enumerate(values) if type(v) is str and len(v) == 27]
    bad: list[int] = []
    if fixed:
        text = "".join(values if len(fixed) == len(values) else [values[i] for i in fixed])
        raw = np.frombuffer(text.encode("utf-8", "replace"), dtype=np.uint8)
        ok = np.zeros(len(fixed), dtype=bool)
        if len(raw) == 27 * len(fixed):
            ok = _fixed_time_ok(raw.reshape(-1, 27))
        bad = [fixed[k] for k in np.flatnonzero(~ok).tolist() if not is_time(values[fixed[k]])]
    if len(fixed) < len(values):
        lookup = set(fixed)
        bad += [i for i, v in enumerate(values) if i not in lookup and not is_time(v)]
    return bad


def _fixed_time_ok(t: np.ndarray) -> np.ndarray:
    digit = (t >= 48) & (t <= 57)
    places = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, *range(20, 26)]
    ok = digit[:, places].all(axis=1)
    for pos, char in ((4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":"), (19, "."),
                      (26, "Z")):
        ok &= t[:, pos] == ord(char)
    d = t.astype(np.int64) - 48

    def num(a: int, b: int) -> np.ndarray:
        out = np.zeros(len(t), dtype=np.int64)
        for k in range(a, b):
            out = out * 10 + d[:, k]
        return out

    year, month, day = num(0, 4), num(5, 7), num(8, 10)
    month_ok = (month >= 1) & (month <= 12)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    days = _DAYS[np.clip(month - 1, 0, 11)] + ((month == 2) & leap)
    ok &= (year >= 1) & month_ok & (day >= 1) & (day <= days)
    ok &= (num(11, 13) < 24) & (num(14, 16) < 60) & (num(17, 19) < 60)
    return ok
