"""The dataset a log belongs to: original labels by sample id, classes, a fingerprint, and
the dtype labels are given back in (``y_true``'s, as the user gave it).

>>> import pandas as pd
>>> ds = Dataset.from_source(pd.Series([1, 0], index=[10, 11], dtype="int32"))
>>> ds.classes, ds.fingerprint[:7], ds.typed(ds.original, LabelSchema.from_classes([0, 1])).dtype
([0, 1], 'sha256:', dtype('int32'))
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from errlens.changelog.errors import ChangelogError
from errlens.changelog.events import is_label_value
from errlens.changelog.schema import LabelSchema


def to_plain(value: Any) -> Any:
    """NumPy / pandas scalars as plain Python values (what JSON stores)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass
class Dataset:
    """Original labels (Series of plain values indexed by sample id), their classes and
    fingerprint; ``dtype`` is ``y_true``'s, the one :meth:`labels_at` and :meth:`typed` give
    labels back in (both through :func:`label_dtype` and one conversion, ``_take``)."""

    original: pd.Series
    classes: list[Any]
    fingerprint: str
    partial: bool = False
    lookup: dict[Any, Any] = field(default_factory=dict, repr=False)
    dtype: Any = field(default=np.dtype(object))

    def __post_init__(self) -> None:
        if not self.lookup:
            self.lookup = dict(zip(self.original.index.tolist(), self.original.tolist(),
                                   strict=True))

    @classmethod
    def from_source(cls, source: Any, classes: list[Any] | None = None) -> Dataset:
        """From an errlens Analysis or a Series of original labels indexed by sample id."""
        if hasattr(source, "y_true") and hasattr(source, "ids"):
            if getattr(source, "task", None) == "regression":
                raise ChangelogError("a label changelog needs class labels; this Analysis is a "
                                     "regression task")
            series = source.y_true  # indexed by the ids, in the dtype the user gave
            classes = list(source.classes) if classes is None else classes
        elif isinstance(source, pd.Series):
            series = source
        else:
            raise ChangelogError(f"LabelStore needs an errlens Analysis or a pandas Series of "
                                 f"original labels indexed by sample id, got "
                                 f"{type(source).__name__}")
        if not series.index.is_unique:
            dup = series.index[series.index.duplicated()][:3].tolist()
            raise ChangelogError(f"sample ids must be unique; repeated: {dup}")
        ids = [to_plain(i) for i in series.index.tolist()]
        id_types = {type(i) for i in ids}
        bad_ids = [] if id_types <= {str, int} else [
            i for i in ids if not isinstance(i, (str, int)) or isinstance(i, bool)]
        if bad_ids:
            raise ChangelogError(f"sample ids must be integers or text, got {bad_ids[:3]}; "
                                 f"convert the id column, e.g. df['id'].astype(str)")
        labels = [to_plain(v) for v in series.tolist()]
        bad = [] if {type(v) for v in labels} <= {str, int, bool} else [
            v for v in labels if not is_label_value(v)]
        if bad:
            raise ChangelogError(f"original labels must be class values, got {bad[:3]}; fill "
                                 f"or drop missing labels before opening a LabelStore")
        if classes is None:
            classes = sorted(set(labels), key=lambda v: (type(v).__name__, v))
        classes = [to_plain(c) for c in classes]
        if not classes:
            raise ChangelogError("the dataset has no labels and no classes were given: a "
                                 "changelog needs at least one class (pass classes=[...] to "
                                 "LabelStore, or the original labels)")
        outside = sorted({repr(v) for v in set(labels)} - {repr(c) for c in classes})
        if outside:
            raise ChangelogError(f"original labels {outside[:5]} are not in classes {classes}")
        original = pd.Series(labels, index=pd.Index(ids, name=series.index.name or "id"),
                             name="label", dtype=object)
        return cls(original, classes, fingerprint(ids, labels),
                   lookup=dict(zip(ids, labels, strict=True)), dtype=series.dtype)

    @classmethod
    def from_log(cls, header: dict[str, Any], first_seen: dict[Any, Any]) -> Dataset:
        """A partial dataset known only from a log: its fingerprint and the original labels
        of the samples the log touched (``first_seen``: sample -> first event's old label).
        Their dtype is the one pandas gives the header's classes (``pd.Series(classes)``):
        ``int64``, ``bool``, ``float64``, text as ``str`` (pandas 3; ``object`` before), else
        ``object``; a log does not record whether the labels were a ``category``."""
        ds = header.get("dataset") or {}
        classes = [c.get("name") for c in header.get("classes") or [] if isinstance(c, dict)]
        original = pd.Series(list(first_seen.values()),
                             index=pd.Index(list(first_seen), name="id"), name="label",
                             dtype=object)
        return cls(original, classes, str(ds.get("fingerprint")), partial=True,
                   dtype=pd.Series(classes).dtype)

    def typed(self, labels: pd.Series, schema: LabelSchema) -> pd.Series:
        """``labels`` (plain values, classes of ``schema``) in the dataset's label dtype: for
        the label columns of small frames (``diff``, ``conflicts``); object if one is missing.

        >>> ds = Dataset.from_source(pd.Series(["lo", "hi"], dtype="category"))
        >>> schema = LabelSchema.from_classes(["hi", "lo"])
        >>> _ = schema.apply({"action": "add_class", "class": "mid"})
        >>> ds.typed(pd.Series(["mid", "lo"]), schema).cat.categories.tolist()
        ['hi', 'lo', 'mid']
        """
        dtype = label_dtype(self.dtype, schema)
        if not pd.api.types.is_object_dtype(dtype) and not labels.isna().any():
            codes, values = pd.factorize(labels.astype(object))
            out = _take(values.tolist(), codes, dtype, labels.index)
            if out is not None:
                out.name = labels.name
                return out
        return labels.astype(object)

    def labels_at(self, schema: LabelSchema, changed: dict[Any, Any], *, renamed: bool,
                  plain: bool = False) -> pd.Series:
        """The original labels, each class under its name in ``schema`` if ``renamed``, with
        the ``changed`` samples' labels, in the dtype ``y_true`` had (see :func:`label_dtype`),
        so ``fit(X, store.labels())`` works as on ``y_true``. ``plain``: as plain values
        (object dtype), for comparisons.

        >>> ds = Dataset.from_source(pd.Series([0, 1, 1], index=["a", "b", "c"]))
        >>> ds.labels_at(LabelSchema.from_classes([0, 1]), {"c": 0}, renamed=False).tolist()
        [0, 1, 0]
        """
        dtype = np.dtype(object) if plain else label_dtype(self.dtype, schema)
        if not pd.api.types.is_object_dtype(dtype):
            # Take from the few distinct values in the dtype, not a per-row conversion
            # (1M labels: 2-6 ms instead of 50-300 ms).
            codes, values = self._factorized
            values = [schema.current_name(v) for v in values] if renamed else list(values)
            if changed:
                rows = self.original.index.get_indexer(pd.Index(list(changed)))
                if (rows < 0).any():
                    self.label(list(changed)[int(np.argmax(rows < 0))])  # raises, naming it
                codes = codes.copy()
                codes[rows] = len(values) + np.arange(len(changed))
                values += list(changed.values())
            out = _take(values, codes, dtype, self.original.index)
            if out is not None:
                return out
        out = self.original.copy()  # plain values, so True stays apart from class 1
        if renamed:  # as objects: map() would infer a dtype from the values
            out = out.map(schema.current_name).astype(object)
        if changed:
            out.loc[list(changed)] = list(changed.values())
        return out

    @cached_property
    def _factorized(self) -> tuple[np.ndarray, list[Any]]:
        codes, values = pd.factorize(self.original)
        return codes, values.tolist()

    def has(self, sample_id: Any) -> bool:
        """True if the sample id is part of the dataset (always, for a partial dataset)."""
        return self.partial or sample_id in self.lookup

    def label(self, sample_id: Any) -> Any:
        """Original label of one sample."""
        try:
            return self.lookup[sample_id]
        except KeyError:
            raise ChangelogError(f"the original label of sample {sample_id!r} is unknown: this "
                                 f"store was opened from the log alone; open it with the "
                                 f"dataset to edit samples the log has not touched") from None


def _take(values: list[Any], codes: np.ndarray, dtype: Any, index: pd.Index) -> pd.Series | None:
    """``values[codes]`` as a Series of ``dtype``; None if a value is not among its categories."""
    if isinstance(dtype, pd.CategoricalDtype):
        positions = dtype.categories.get_indexer(pd.Index(values, dtype=object))
        if (positions < 0).any():
            return None  # never lose a label to NaN
        array: Any = pd.Categorical.from_codes(positions[codes], dtype=dtype)
    else:
        array = pd.array(values, dtype=dtype).take(codes)
    return pd.Series(array, index=index, name="label", copy=False)


def label_dtype(dtype: Any, schema: LabelSchema) -> Any:
    """The dtype for labels under ``schema`` when ``y_true`` had ``dtype``: a category keeps
    its categories and order (renamed or merged ones under their new name, where the first
    of them was) and gains classes added since; other dtypes are kept when every class fits
    them (an ``int32`` class in range, a ``bool``, a ``str``), else labels are ``object``.

    >>> schema = LabelSchema.from_classes([0, 1])
    >>> label_dtype(np.dtype("int8"), schema), label_dtype(np.dtype(bool), schema)
    (dtype('int8'), dtype('O'))
    """
    classes = schema.classes
    if isinstance(dtype, pd.CategoricalDtype):
        named = [schema.current_name(c) for c in dtype.categories.tolist()]
        categories = list(dict.fromkeys([*named, *classes]))
        if categories == dtype.categories.tolist():
            return dtype  # unchanged: the very dtype, its categories' own dtype included
        return pd.CategoricalDtype(categories, ordered=dtype.ordered)
    kinds = {type(c) for c in classes}
    types = pd.api.types
    if types.is_object_dtype(dtype):
        fits = False
    elif types.is_bool_dtype(dtype):
        fits = kinds == {bool}
    elif types.is_integer_dtype(dtype):
        bounds = np.iinfo(getattr(dtype, "numpy_dtype", dtype))
        fits = kinds == {int} and all(bounds.min <= c <= bounds.max for c in classes)
    elif types.is_float_dtype(dtype):
        fits = kinds == {float}
    else:
        fits = types.is_string_dtype(dtype) and kinds == {str}
    return dtype if fits else np.dtype(object)


def fingerprint(ids: list[Any], labels: list[Any]) -> str:
    """``sha256:`` of the JSON list of ``[id, label]`` pairs sorted by id (row order free).

    >>> fingerprint([2, 1], ["b", "a"]) == fingerprint([1, 2], ["a", "b"])
    True
    """
    pairs = sorted(zip(ids, labels, strict=True),
                   key=None if len({type(i) for i in ids}) <= 1 else _mixed_key)
    text = json.dumps(pairs, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _mixed_key(pair: tuple[Any, Any]) -> tuple[str, Any]:
    return (type(pair[0]).__name__, pair[0])
