"""UTC timestamps as the log stores them.

>>> to_utc_text("2026-03-01T10:00:00+01:00")
'2026-03-01T09:00:00.000000Z'
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pandas as pd

from errlens.changelog.errors import ChangelogError


def to_utc_text(value: Any) -> str:
    """A datetime, pandas Timestamp or ISO text as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` UTC.

    Naive times are taken as UTC (document your exporter's time zone otherwise).
    """
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ChangelogError(f"timestamp {value!r} is not a date and time; use ISO 8601 "
                             f"text like '2026-01-31T12:00:00Z'") from None
    if pd.isna(stamp):
        raise ChangelogError("timestamp is missing (NaT); leave it out to use the current time")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    try:
        moment: datetime = stamp.to_pydatetime().astimezone(timezone.utc)
    except (ValueError, OverflowError):  # e.g. year 0, which pandas reads
        raise ChangelogError(f"timestamp {value!r} is not a date and time of the years 0001 "
                             f"to 9999") from None
    return moment.isoformat(timespec="microseconds")[:26] + "Z"  # strftime: year 1 -> "1"


def parse_utc(values: list[str]) -> pd.Series:
    """Stored timestamps as a tz-aware (UTC) datetime Series."""
    return pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
