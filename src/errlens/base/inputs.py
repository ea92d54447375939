"""Turn user inputs (pandas / polars / pyarrow / numpy) into validated pandas and numpy objects.

Every check raises ``ValueError`` or ``TypeError`` with a message that names the argument, the
column and the counts, so a user can fix the input without reading errlens' source.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Any

import narwhals.stable.v1 as nw
import numpy as np
import pandas as pd

#: Rows of ``proba`` must sum to 1 within this absolute tolerance.
PROBA_SUM_TOLERANCE = 1e-3


def to_pandas_frame(data: Any, feature_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Return ``data`` as a pandas DataFrame with a fresh RangeIndex.

    >>> to_pandas_frame({"a": [1, 2]}).shape
    (2, 1)
    """
    if data is None:
        raise TypeError("data is None: pass a DataFrame (pandas, polars, pyarrow) or a 2-D array")
    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, dict):
        frame = pd.DataFrame(data)
    elif isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise ValueError(f"data is a {data.ndim}-D array: pass a 2-D array (rows × features)")
        names = list(feature_names) if feature_names is not None else [
            f"x{i}" for i in range(data.shape[1])
        ]
        if len(names) != data.shape[1]:
            raise ValueError(
                f"features names {len(names)} columns but data has {data.shape[1]} columns"
            )
        frame = pd.DataFrame(data, columns=names)
    else:
        try:
            frame = nw.from_native(data, eager_only=True).to_pandas()
        except TypeError as exc:
            if _is_lazy(data):
                raise TypeError(
                    f"data is a lazy {type(data).__name__} (its rows stay in the engine): use "
                    "errlens.engines.LazyAnalysis.from_duckdb / from_spark(data, ...) to count "
                    "in the engine, or collect a cohort that fits in memory to pandas first"
                ) from exc
            raise TypeError(
                f"data of type {type(data).__name__} is not supported: pass a pandas, polars or "
                "pyarrow table, a dict of columns or a 2-D numpy array"
            ) from exc
    frame = frame.reset_index(drop=True)
    if len(frame) == 0:
        raise ValueError("data is empty: an analysis needs at least one row")
    return frame


def names(value: Any, *, arg: str) -> list[Any]:
    """A list of column names given as ``arg``: a string is refused (it is not split into
    characters), and so are repeated names.

    >>> names(("age", "sex"), arg="features")
    ['age', 'sex']
    """
    if isinstance(value, str):
        raise TypeError(f"{arg} must be a list of names, got the string {value!r}: "
                        f"write {arg}=[{value!r}]")
    out = list(value)
    repeated = sorted(str(v) for v, times in Counter(out).items() if times > 1)
    if repeated:
        raise ValueError(f"{arg} names {repeated} more than once")
    return out


def row_index(data: Any) -> pd.Index | None:
    """The row labels of ``data`` when it is a pandas DataFrame (else None): pandas Series
    given beside it are matched on them, and they are the default sample ids.

    >>> row_index(pd.DataFrame({"a": [1, 2]}, index=[10, 20])).tolist()
    [10, 20]
    """
    return data.index if isinstance(data, pd.DataFrame) else None


def resolve_column(
    frame: pd.DataFrame, value: Any, *, arg: str, n: int,
    keys: Sequence[pd.Index | None] = (),
) -> tuple[pd.Series, str | None]:
    """Resolve ``value`` (a column name or an array-like) into a Series of length ``n``.

    A pandas Series is matched on its index, as pandas would: on the data's row labels or the
    sample ids (``keys``), else it must carry a plain 0..n-1 index (then it is taken in row
    order). Returns the series and the column name it came from (None for arrays).
    """
    if isinstance(value, str):
        if value not in frame.columns:
            raise KeyError(
                f"{arg}={value!r} is not a column of data; columns are: {preview(frame.columns)}"
            )
        return frame[value].reset_index(drop=True), value
    if isinstance(value, pd.Series) and len(value) == n:
        value = _aligned(value, arg=arg, keys=keys)
    series = _as_series(value, arg=arg)
    if len(series) != n:
        raise ValueError(f"{arg} has {len(series)} rows but data has {n} rows")
    return series, None


def _aligned(series: pd.Series, *, arg: str, keys: Sequence[pd.Index | None]) -> pd.Series:
    """``series`` in row order, matched on the first of ``keys`` (the data's row labels, then
    the sample ids) whose labels it carries."""
    for key in keys:
        if key is None:
            continue
        if series.index.equals(key):
            return series
        if key.is_unique and series.index.is_unique and series.index.isin(key).all():
            return series.reindex(key)
    rows = keys[0] if keys else None
    if rows is None or series.index.equals(pd.RangeIndex(len(series))):
        return series  # data without row labels (a dict, numpy, polars), or a plain index
    raise ValueError(
        f"{arg} is a pandas Series whose index matches neither the data's rows nor the sample "
        f"ids (e.g. {preview(series.index, 3)}): align it first, or pass {arg}.to_numpy() to "
        f"take it in row order")


def by_id(series: pd.Series, ids: pd.Index, *, arg: str, fill: Any) -> np.ndarray:
    """The values of a pandas Series in sample-id order (``fill`` for ids it lacks); refuses
    one whose index names none of the ids, rather than silently matching nothing.

    >>> by_id(pd.Series([True], index=["b"]), pd.Index(["a", "b"]), arg="mask", fill=False)
    array([False,  True])
    """
    if series.index.equals(ids):
        return series.to_numpy()
    if not series.index.is_unique:
        raise ValueError(f"{arg} has repeated index labels; sample ids are unique")
    if len(series) and not series.index.isin(ids).any():
        raise KeyError(
            f"{arg}'s index names none of the sample ids (its index: "
            f"{preview(series.index, 3)}; ids: {preview(ids, 3)}): build it from the "
            f"analysis' rows (ev.frame()), or pass a plain array in row order")
    return series.reindex(ids, fill_value=fill).to_numpy()


def _as_series(value: Any, *, arg: str) -> pd.Series:
    if isinstance(value, pd.Series):
        return value.reset_index(drop=True)
    try:
        native = nw.from_native(value, series_only=True)
        return native.to_pandas().reset_index(drop=True)
    except TypeError:
        pass
    if _looks_ragged(value):
        array = np.empty(len(value), dtype=object)
        array[:] = value
    else:
        array = np.asarray(value)
        if array.dtype.kind == "U" and isinstance(value, (list, tuple)) and \
                not all(isinstance(v, str) for v in value):  # [1, "a"]: keep 1 a number
            array = np.empty(len(value), dtype=object)
            array[:] = value
    if array.ndim != 1:
        raise ValueError(f"{arg} must be one-dimensional, got shape {array.shape}")
    return pd.Series(array)


def _looks_ragged(value: Any) -> bool:
    return isinstance(value, list) and any(isinstance(v, (list, tuple, dict, set))
                                           for v in value[:50])


def check_no_missing(series: pd.Series, *, arg: str) -> None:
    """Raise when ``series`` holds missing values, naming how many and the first positions."""
    missing = series.isna().to_numpy()
    if missing.any():
        where = np.flatnonzero(missing)[:5].tolist()
        raise ValueError(
            f"{arg} has {int(missing.sum())} missing values (first at rows {where}); "
            "drop or fill those rows first"
        )


def resolve_ids(frame: pd.DataFrame, id: Any, n: int, rows: pd.Index | None = None) -> pd.Index:
    """Unique, hashable sample ids: the user's column / array; when absent, the data's own
    row labels if it is a pandas DataFrame with unique ones (``rows``), else ``0..n-1``."""
    if id is None:
        if rows is not None and rows.is_unique and not isinstance(rows, pd.MultiIndex):
            return pd.Index(rows.to_numpy(), name="id")
        return pd.Index(np.arange(n), name="id")
    series, _ = resolve_column(frame, id, arg="id", n=n, keys=(rows,))
    check_no_missing(series, arg="id")
    bad = [v for v in series.iloc[: min(n, 10_000)] if not isinstance(v, Hashable)]
    if bad:
        raise TypeError(f"id values must be hashable; found {type(bad[0]).__name__} values")
    index = pd.Index(series.to_numpy(), name="id")
    if not index.is_unique:
        dupes = index[index.duplicated()].unique()
        raise ValueError(
            f"id has {int(index.duplicated().sum())} duplicated values "
            f"(e.g. {preview(dupes)}); sample ids must be unique"
        )
    return index


def resolve_proba(frame: pd.DataFrame, proba: Any, n: int) -> tuple[np.ndarray, list[str] | None]:
    """Validate predicted probabilities as an (n, k) float array; return it and its column names."""
    names: list[str] | None = None
    if isinstance(proba, (list, tuple)) and proba and all(isinstance(p, str) for p in proba):
        unknown = [p for p in proba if p not in frame.columns]
        if unknown:
            raise KeyError(f"proba columns {unknown} are not columns of data")
        names = list(proba)
        values = frame[names]
    elif isinstance(proba, str):
        raise TypeError("proba must be an (n, k) array or a list of column names, not one name")
    else:
        values = proba
    try:
        array = np.asarray(
            values.to_numpy() if hasattr(values, "to_numpy") else values, dtype=np.float64
        )
    except (TypeError, ValueError) as exc:
        raise TypeError(f"proba must be numeric: {exc}") from exc
    if array.ndim != 2:
        raise ValueError(f"proba must be 2-D (rows × classes), got shape {array.shape}")
    if array.shape[0] != n:
        raise ValueError(f"proba has {array.shape[0]} rows but data has {n} rows")
    if array.shape[1] < 2:
        raise ValueError(f"proba has {array.shape[1]} column; it needs one column per class (≥ 2)")
    if not np.isfinite(array).all():
        bad = np.flatnonzero(~np.isfinite(array).all(axis=1))
        raise ValueError(f"proba has {bad.size} rows with NaN or infinite values (first {bad[:5]})")
    if (array < 0).any() or (array > 1).any():
        bad = np.flatnonzero(((array < 0) | (array > 1)).any(axis=1))
        raise ValueError(
            f"proba has {bad.size} rows with values outside [0, 1] (first at rows {bad[:5]})"
        )
    sums = array.sum(axis=1)
    off = np.abs(sums - 1) > PROBA_SUM_TOLERANCE
    if off.any():
        first = int(np.flatnonzero(off)[0])
        raise ValueError(
            f"proba rows must sum to 1 (tolerance {PROBA_SUM_TOLERANCE}); {int(off.sum())} rows "
            f"do not, e.g. row {first} sums to {sums[first]:.4f}"
        )
    return array, names


def preview(values: Any, k: int = 8) -> str:
    """The first ``k`` values as text for an error message, with how many there are in all.

    >>> preview(["a", "b", "c"], 2)
    "'a', 'b', … (3 in all)"
    """
    items = list(values)[:k]
    more = "" if len(values) <= k else f", … ({len(values)} in all)"
    shown = (v.item() if isinstance(v, np.generic) else v for v in items)
    return ", ".join(repr(v) for v in shown) + more


def _is_lazy(data: Any) -> bool:
    """Whether ``data`` is a lazy frame (DuckDB relation, Spark / polars lazy frame…); narwhals'
    main namespace, since its stable v1 API reads a DuckDB relation as eager."""
    import narwhals

    return isinstance(narwhals.from_native(data, pass_through=True), narwhals.LazyFrame)
