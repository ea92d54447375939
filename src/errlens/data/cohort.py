"""Cohort: the one selection model, a JSON-serialisable predicate tree over an analysis.

Leaves select rows by a feature comparison, a segment, a list of sample ids or a confusion cell;
``&``, ``|`` and ``~`` combine them. Missing values: ordering comparisons (``<``, ``between``…) and
``==`` / ``in`` are false on them, while ``!=`` / ``not in`` are their exact negations (so they
include missing rows); select missing rows with ``"is missing"`` (and the others with
``"not missing"``).

>>> c = Cohort.where("age", ">=", 52) & Cohort.where("education", "==", "Masters")
>>> c.describe()
'age ≥ 52 and education = Masters'
>>> Cohort.from_json(c.to_json()) == c
True

A cohort is pure data: evaluating it is the analysis' job (``analysis.mask(cohort)``; in memory
:func:`errlens.slicing.masks.mask`, in an engine a filter expression), so this module imports
nothing above the base layer.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from errlens.base.facade import Operation, ScaleOutError
from errlens.base.jsonvalue import plain


class HasFeatures(Protocol):
    """What :meth:`Cohort.validate` checks a cohort against: the analysis' features."""

    @property
    def features(self) -> Any: ...


class Selectable(HasFeatures, Protocol):
    """What a cohort needs of the analysis it selects rows of (an in-memory ``Analysis`` or an
    engine's ``LazyAnalysis``)."""

    def unavailable(self, operation: Operation) -> str | None: ...

    def mask(self, cohort: Any = None) -> np.ndarray: ...

    def frame(self, cohort: Any = None) -> pd.DataFrame: ...

OPS = ("==", "!=", "<", "<=", ">", ">=", "in", "not in", "is missing", "not missing", "between")
KINDS = ("all", "where", "segment", "ids", "confusion_cell", "contains", "and", "or", "not")
_SYMBOLS = {"==": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥"}


class Cohort:
    """A selection of rows, built with the class methods below and combined with ``& | ~``."""

    __slots__ = ("_node",)

    def __init__(self, node: dict[str, Any]) -> None:
        _validate(node)
        self._node = node

    # ------------------------------------------------------------------ constructors
    @classmethod
    def all(cls) -> Cohort:
        """Every row."""
        return cls({"kind": "all"})

    @classmethod
    def where(cls, feature: str, op: str, value: Any = None) -> Cohort:
        """Rows whose ``feature`` satisfies ``op value``; ``between`` takes ``[low, high]``
        (both inclusive), ``in`` / ``not in`` a list, ``is missing`` / ``not missing`` no value.

        >>> Cohort.where("age", "between", [25, 40]).describe()
        '25 ≤ age ≤ 40'
        """
        return cls({"kind": "where", "feature": feature, "op": op, "value": plain(value)})

    @classmethod
    def segment(
        cls, feature: str, label: str | Sequence[str], *, bins: int = 5, top_k: int = 10
    ) -> Cohort:
        """Rows in the segment(s) named ``label`` of ``feature`` (as in ``analysis.segments``,
        or ``analysis.segment(bins=..., top_k=...)`` for other settings).

        >>> Cohort.segment("workclass", "(missing)").describe()
        'workclass is missing'
        """
        labels = [label] if isinstance(label, str) else list(label)
        return cls({"kind": "segment", "feature": feature, "labels": labels,
                    "bins": bins, "top_k": top_k})

    @classmethod
    def contains(cls, column: str, term: str) -> Cohort:
        """Rows whose text ``column`` (declared with ``text=``) contains ``term``: a word or
        a phrase, matched on whole words, case-insensitively (``errlens.slicing.text.tokens``
        says exactly how; the term is kept lowercased).

        >>> Cohort.contains("review", "Sequel").describe()
        'review contains "sequel"'
        """
        if not isinstance(term, str) or not term.strip():
            raise ValueError(f"contains needs a non-empty word or phrase, got {term!r}")
        return cls({"kind": "contains", "column": column, "term": " ".join(term.lower().split())})

    @classmethod
    def ids(cls, ids: Sequence[Any]) -> Cohort:
        """Rows with these sample ids."""
        return cls({"kind": "ids", "ids": [plain(i) for i in ids]})

    @classmethod
    def confusion_cell(cls, true_label: Any, predicted_label: Any) -> Cohort:
        """Rows whose given label is ``true_label`` and predicted label is ``predicted_label``."""
        return cls({"kind": "confusion_cell", "true": plain(true_label),
                    "predicted": plain(predicted_label)})

    @classmethod
    def from_json(cls, data: dict[str, Any], *, analysis: HasFeatures | None = None) -> Cohort:
        """Rebuild a cohort from :meth:`to_json`; with ``analysis``, also check its features."""
        _validate(data)  # depth-limited: before a copy recurses into what it was given
        cohort = cls(copy.deepcopy(data))
        if analysis is not None:
            cohort.validate(analysis)
        return cohort

    # ------------------------------------------------------------------ combinators
    def __and__(self, other: object) -> Cohort:
        if not isinstance(other, Cohort):
            return NotImplemented
        return Cohort({"kind": "and", "args": _flatten("and", self, other)})

    def __or__(self, other: object) -> Cohort:
        if not isinstance(other, Cohort):
            return NotImplemented
        return Cohort({"kind": "or", "args": _flatten("or", self, other)})

    def __invert__(self) -> Cohort:
        if self._node["kind"] == "not":
            return Cohort(copy.deepcopy(self._node["arg"]))
        return Cohort({"kind": "not", "arg": self.to_json()})

    # ------------------------------------------------------------------ outputs
    @property
    def node(self) -> dict[str, Any]:
        """The predicate tree itself, not a copy (for evaluators: read it, never change it)."""
        return self._node

    def to_json(self) -> dict[str, Any]:
        """The predicate tree as plain JSON data (a deep copy)."""
        return copy.deepcopy(self._node)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Cohort) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Cohort({self.describe()!r})"

    def _key(self) -> str:
        return json.dumps(self._node, sort_keys=True, ensure_ascii=False)

    def describe(self) -> str:
        """Readable text, e.g. ``"age ≥ 52 and education = Masters"``."""
        return _describe(self._node, top=True)

    def validate(self, analysis: HasFeatures) -> None:
        """Raise a KeyError naming the first feature (or text column) this cohort uses that
        ``analysis`` lacks."""
        names = list(getattr(analysis.features, "columns", analysis.features))
        for node in _leaves(self._node):
            if node["kind"] == "contains":
                texts = list(getattr(analysis, "text_columns", ()))
                if node["column"] not in texts and node["column"] not in names:
                    raise KeyError(f"cohort uses unknown text column {node['column']!r}; text "
                                   f"columns are: {texts} (declare them with text=)")
                continue
            feature = node.get("feature")
            if feature is not None and feature not in names:
                raise KeyError(f"cohort uses unknown feature {feature!r}; features are: {names}")

    def mask(self, analysis: Selectable) -> np.ndarray:
        """Boolean mask over the rows of ``analysis``: the analysis evaluates it (an engine's
        analysis, which keeps no row positions, says what to use instead)."""
        return analysis.mask(self)

    def frame(self, analysis: Selectable) -> pd.DataFrame:
        """The rows of this cohort as a DataFrame (see ``Analysis.frame``; on an engine's
        analysis, page them with ``rows(cohort, limit=...)``)."""
        reason = analysis.unavailable("frame")
        if reason:
            raise ScaleOutError(reason)
        return analysis.frame(self)


# ---------------------------------------------------------------------------- validation
#: Deepest nesting of and / or / not accepted (a person's cohort is a few levels deep).
MAX_DEPTH = 64


def _validate(node: Any, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise ValueError(f"the cohort is nested more than {MAX_DEPTH} levels deep")
    if not isinstance(node, dict) or node.get("kind") not in KINDS:
        kind = node.get("kind") if isinstance(node, dict) else type(node).__name__
        raise ValueError(f"unknown cohort node kind {kind!r}; expected one of {KINDS}")
    kind = node["kind"]
    if kind in ("and", "or"):
        if not isinstance(node.get("args"), list) or len(node["args"]) < 2:
            raise ValueError(f"an {kind!r} node needs a list of at least two cohorts in 'args'")
        for arg in node["args"]:
            _validate(arg, depth + 1)
    elif kind == "not":
        _validate(node.get("arg"), depth + 1)
    elif kind == "where":
        _validate_where(node)
    elif kind == "segment":
        labels = node.get("labels")
        if not isinstance(node.get("feature"), str) or not labels or not all(
            isinstance(x, str) for x in labels
        ):
            raise ValueError("a segment node needs a 'feature' name and a list of 'labels'")
    elif kind == "contains" and not (
        isinstance(node.get("column"), str) and isinstance(node.get("term"), str)
        and node["term"].strip()
    ):
        raise ValueError("a contains node needs a text 'column' name and a non-empty 'term'")
    elif kind == "ids" and not isinstance(node.get("ids"), list):
        raise ValueError("an ids node needs a list of sample ids in 'ids'")
    elif kind == "confusion_cell" and not {"true", "predicted"} <= node.keys():
        raise ValueError("a confusion_cell node needs 'true' and 'predicted' labels")


def _validate_where(node: dict[str, Any]) -> None:
    op, value = node.get("op"), node.get("value")
    if not isinstance(node.get("feature"), str):
        raise ValueError(f"a where node needs a feature name, got {node.get('feature')!r}")
    if op not in OPS:
        raise ValueError(f"unknown cohort op {op!r}; expected one of {OPS}")
    values = value if isinstance(value, list) else [value]
    if not all(v is None or isinstance(v, (str, int, float, bool)) for v in values):
        raise ValueError(f"a where node's value must be text, a number or a list of them, "
                         f"got {value!r}")
    if op in ("is missing", "not missing"):
        if value is not None:
            raise ValueError(f"{op!r} takes no value")
    elif op in ("in", "not in"):
        if not isinstance(value, list):
            raise ValueError(f"{op!r} needs a list of values, got {value!r}")
    elif op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise ValueError(f"'between' needs [low, high], got {value!r}")
    elif value is None or (isinstance(value, float) and math.isnan(value)):
        raise ValueError(f"{op!r} needs a value; select missing values with 'is missing'")


def _flatten(kind: str, *cohorts: Cohort) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for c in cohorts:
        node = c.to_json()
        out.extend(node["args"] if node["kind"] == kind else [node])
    return out


def _leaves(node: dict[str, Any]) -> list[dict[str, Any]]:
    if node["kind"] in ("and", "or"):
        return [leaf for arg in node["args"] for leaf in _leaves(arg)]
    if node["kind"] == "not":
        return _leaves(node["arg"])
    return [node]


# ---------------------------------------------------------------------------- text
def _describe(node: dict[str, Any], *, top: bool = False) -> str:
    kind = node["kind"]
    args = node.get("args", [])
    if kind == "or" and all(a["kind"] == "contains" for a in args) and len(
            {a["column"] for a in args}) == 1:  # a concept (errlens.slicing.concepts)
        text = f'{args[0]["column"]} mentions {", ".join(a["term"] for a in args)}'
        return text if top else f"({text})"
    if kind in ("and", "or"):
        text = f" {kind} ".join(_describe(arg) for arg in args)
        return text if top else f"({text})"
    if kind == "not":
        arg = node["arg"]
        if arg["kind"] == "contains":
            return f'{arg["column"]} does not contain "{arg["term"]}"'
        if arg["kind"] == "segment" and all(map(_is_set_label, arg["labels"])):
            labels = arg["labels"]
            if labels == ["(missing)"]:
                return f"{arg['feature']} is not missing"
            if len(labels) == 1:
                return f"{arg['feature']} ≠ {labels[0]}"
            return f"{arg['feature']} not in {{{', '.join(labels)}}}"
        return f"not {_describe(arg)}"
    if kind == "all":
        return "all rows"
    if kind == "ids":
        ids = node["ids"]
        return f"id in {{{', '.join(map(str, ids))}}}" if len(ids) <= 3 else f"{len(ids)} ids"
    if kind == "confusion_cell":
        return f"true = {node['true']} and predicted = {node['predicted']}"
    if kind == "contains":
        return f'{node["column"]} contains "{node["term"]}"'
    if kind == "segment":
        labels = node["labels"]
        if len(labels) > 1 and all(map(_is_set_label, labels)):
            return f"{node['feature']} in {{{', '.join(labels)}}}"
        text = " or ".join(_describe_segment(node["feature"], label) for label in labels)
        return text if top or len(labels) == 1 else f"({text})"
    feature, op, value = node["feature"], node["op"], node["value"]
    if op in ("is missing", "not missing"):
        return f"{feature} {op.replace('not', 'is not')}"
    if op == "between":
        return f"{_text(value[0])} ≤ {feature} ≤ {_text(value[1])}"
    if op in ("in", "not in"):
        return f"{feature} {op} {{{', '.join(_text(v) for v in value)}}}"
    return f"{feature} {_SYMBOLS[op]} {_text(value)}"


def _is_set_label(label: str) -> bool:
    """A label that reads well inside ``{…}``: anything but an interval or a single number."""
    return not label.startswith(("[", "< ", "≥ ", "= "))


def _is_value_label(label: str) -> bool:
    """A category's own name, not an interval, a single number or the missing segment."""
    return label != "(missing)" and not label.startswith(("[", "< ", "≥ ", "= "))


def _describe_segment(feature: str, label: str) -> str:
    if label == "(missing)":
        return f"{feature} is missing"
    if label.startswith("["):
        return f"{feature} in {label}"
    if not _is_value_label(label):
        return f"{feature} {label}"
    return f"{feature} = {label}"


def _text(value: Any) -> str:
    return format(value, "g") if isinstance(value, float) else str(value)
