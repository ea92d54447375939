"""One JSON value encoder: what errlens puts in a message, a report, a cause or a log line.

NumPy and pandas scalars become Python values, missing values (None, NaN, NA, NaT) and
infinities become None, timestamps ISO 8601 text, sequences lists (sets sorted, so the output
is deterministic). Anything else is returned as it is, for the caller's own JSON encoder to
accept or refuse.

>>> import numpy as np, pandas as pd
>>> plain([np.int64(3), np.float32(0.5), float("nan"), pd.NA, pd.Timestamp("2024-01-02")])
[3, 0.5, None, None, '2024-01-02T00:00:00']
>>> plain({"b", "a"}), plain(np.array([1, 2])), plain(np.datetime64("2024-01-02T03:04"))
(['a', 'b'], [1, 2], '2024-01-02T03:04:00')
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd


def plain(value: Any) -> Any:
    """``value`` as a plain JSON-ready Python value (see the module docstring)."""
    if isinstance(value, np.datetime64):  # before .item(): nanoseconds would become an int
        return None if np.isnat(value) else pd.Timestamp(value).isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted((plain(v) for v in value), key=repr)
    if isinstance(value, (list, tuple, np.ndarray, pd.Index)):
        return [plain(v) for v in value]
    return value


def plain_number(value: Any) -> int | float | None:
    """A count or rate as a JSON number: integers stay integers, NaN and infinities are None.

    >>> plain_number(np.int32(4)), plain_number(np.float64("inf")), plain_number(0.25)
    (4, None, 0.25)
    """
    number = plain(value)
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        return None if number is None else float(number)
    return number
