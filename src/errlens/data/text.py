"""Declared text columns (``text=``): checked and turned into one ``str`` per row.

A text column is kept apart from the tabular features: its words become "contains" features
(:mod:`errlens.slicing.text`), never categories. Missing cells (None, NaN, NA) become ``""``
(no words); any other non-string cell (a number, bytes...) its ``str()``.

>>> import pandas as pd
>>> frame = pd.DataFrame({"review": ["Great film", None, 3], "x": [1, 2, 3]})
>>> text_frame(frame, "review")["review"].tolist()
['Great film', '', '3']
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from errlens.base.inputs import preview


def text_names(text: str | Sequence[str] | None) -> list[str]:
    """``text=`` as a list of column names (None: none).

    >>> text_names("review"), text_names(["title", "body"]), text_names(None)
    (['review'], ['title', 'body'], [])
    """
    if text is None:
        return []
    names = [text] if isinstance(text, str) else list(text) if isinstance(
        text, (list, tuple)) else []
    if not names or not all(isinstance(name, str) for name in names):
        raise TypeError(f"text= takes a column name or a list of column names, got {text!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"text= names a column twice: {names}")
    return names


def text_frame(frame: pd.DataFrame, text: str | Sequence[str] | None) -> pd.DataFrame | None:
    """The columns ``text`` of ``frame`` as strings (None when no text is declared); a name
    that is not a column is a KeyError naming the columns."""
    names = text_names(text)
    if not names:
        return None
    unknown = [name for name in names if name not in frame.columns]
    if unknown:
        raise KeyError(f"text columns {unknown} are not columns of data; columns are: "
                       f"{preview(list(frame.columns))}")
    return pd.DataFrame({name: _as_text(frame[name]) for name in names})


def _as_text(column: pd.Series) -> pd.Series:
    values = column.astype(object)
    missing = values.isna().to_numpy()
    out = [
        "" if gone else value if isinstance(value, str) else str(value)
        for value, gone in zip(values.tolist(), missing.tolist(), strict=True)
    ]
    return pd.Series(out, index=column.index, dtype=object)
