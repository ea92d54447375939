"""The annotator-health panel's view model: per declared annotator / source the estimated label
noise (the core's :meth:`errlens.Analysis.label_health` tables, or a LazyAnalysis' counted in
its engine) as the dashboard draws it, and the cohort a click on one of its rows selects.

Only aggregates leave the kernel: one row per annotator (the noisiest :data:`MAX_GROUPS`), its
noise rate with the 95 % interval, rows, suspects, top confusion and how many of its rows the
current selection holds (in memory from each row's group; on an engine one GROUP BY over the
selection's cohort, :func:`errlens.engines.health.value_counts`). A click names the row by its
index in the drawn table; the kernel builds the cohort (``column == value``, or ``column is
missing`` for the missing group), so no value from the data travels back from the browser.

>>> import errlens as el
>>> from errlens.views.source import source_of
>>> ev = el.Analysis.from_predictions(
...     {"who": ["a", "a", "b", "b"]}, y_true=[0, 1, 1, 0], annotator="who",
...     proba=[[.9, .1], [.8, .2], [.2, .8], [.1, .9]], proba_out_of_fold=True)
>>> groups = health_groups(ev)
>>> [(g.kind, g.column, list(g.table.index)) for g in groups]
[('annotator', 'who', ['a', 'b'])]
>>> source = source_of(ev)
>>> cohort = group_cohort(groups, "annotator", 1)
>>> cohort.describe()
'who = b'
>>> payload = health_payload(groups, source.select(cohort))
>>> [(r["label"], r["selected"], r["active"]) for r in payload["groups"][0]["rows"]]
[('a', 0, False), ('b', 2, True)]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from errlens.base.jsonvalue import plain_number
from errlens.slicing.cohort import Cohort
from errlens.suspects.rates import MISSING  # the core's group of rows without a value
from errlens.views.store import plain

if TYPE_CHECKING:
    from errlens.views.source import Selected

KINDS = ("annotator", "source")
"""The label sources an analysis can declare, in the order the panel lists them."""
MAX_GROUPS = 100
"""Rows drawn per table (the noisiest first); the panel says how many it left out."""


class HealthError(ValueError):
    """A click the panel cannot apply (the reply's ``error``)."""


@dataclass(frozen=True)
class HealthGroup:
    """One declared label source: its ``kind`` ("annotator" or "source"), the feature
    ``column`` holding it, the core's noise ``table`` (noisiest first, at most
    :data:`MAX_GROUPS` rows), how many groups there are in all (``total``), and, to count a
    selection's rows per drawn group, in memory each row's position in ``table`` (``codes``: -1
    for a group not drawn), on an engine ``count`` (a cohort -> its rows per drawn group, one
    engine query; ``codes`` None)."""

    kind: str
    column: str
    table: pd.DataFrame
    total: int
    codes: np.ndarray | None
    overall: float | None
    count: Callable[[Cohort], np.ndarray] | None = None

    def selected(self, picked: Selected) -> np.ndarray:
        """How many rows of each drawn group the selection ``picked`` holds."""
        if picked.cohort is None and picked.positions is None:  # every row
            return self.table["n"].to_numpy(np.int64)
        if self.codes is None:
            assert self.count is not None and picked.cohort is not None
            return self.count(picked.cohort)
        codes = self.codes if picked.positions is None else self.codes[picked.positions]
        return np.bincount(codes[codes >= 0], minlength=len(self.table))

    def cohort(self, index: int) -> Cohort:
        """The rows of the group drawn at ``index``."""
        value = plain(self.table.index[index])
        if value == MISSING and self.missing_is_null:
            return Cohort.where(self.column, "is missing")
        return Cohort.where(self.column, "==", value)

    @property
    def missing_is_null(self) -> bool:
        """Whether the ``(missing)`` row stands for null values of the column (not a value)."""
        return bool(self.table.attrs.get("missing_is_null", True))


def health_groups(analysis: Any, run: Callable[[Callable[[], Any], str], Any] | None = None
                  ) -> list[HealthGroup]:
    """The declared annotator / source tables of ``analysis`` (an Analysis or a LazyAnalysis;
    none declared: an empty list). On an engine each selection's counts are one query, made
    through ``run(call, what)`` (the view source's, which waits while the engine is busy)."""
    columns = declared(analysis)
    if not columns:
        return []
    health = analysis.label_health()
    memory = isinstance(analysis.features, pd.DataFrame)
    out = []
    for kind, column in columns.items():
        table = getattr(health, f"{kind}s", None)
        if table is None or not len(table):
            continue
        if memory:
            values = analysis.features[column]
            out.append(_group(kind, column, table, values.isna().any(), values))
        else:
            out.append(_engine_group(kind, column, table, analysis, run))
    return out


def declared(analysis: Any) -> dict[str, str]:
    """kind -> feature column of the label sources ``analysis`` declares (none for an engine's
    analysis without one probability column per class: it has no label health)."""
    found = getattr(analysis, "label_sources", None)
    if not found or not hasattr(analysis, "label_health"):
        return {}
    if not isinstance(analysis.features, pd.DataFrame) and (
            len(analysis.proba) != len(analysis.classes)):
        return {}
    return {k: str(found[k]) for k in KINDS if found.get(k) is not None}


def _group(kind: str, column: str, table: pd.DataFrame, has_null: bool,
           values: pd.Series | None = None) -> HealthGroup:
    """The group of ``table``; with the column's ``values`` (in memory) each row's code."""
    ordered = table.sort_values("noise_rate", ascending=False, kind="stable")
    shown = ordered.iloc[:MAX_GROUPS].copy()
    shown.attrs["missing_is_null"] = bool(has_null)
    codes = None
    if values is not None:
        keys = values.astype(object).where(values.notna(), MISSING)
        codes = pd.Index(shown.index).get_indexer(pd.Index(keys)).astype(np.int64)
    errors = float(table["estimated_errors"].sum()) if "estimated_errors" in table else None
    rows = float(table["n"].sum())
    overall = errors / rows if errors is not None and rows else None
    return HealthGroup(kind, column, shown, len(table), codes, overall)


def _engine_group(kind: str, column: str, table: pd.DataFrame, lazy: Any,
                  run: Callable[[Callable[[], Any], str], Any] | None) -> HealthGroup:
    """The group of an engine's ``table``: a selection's rows per group counted in the engine."""
    from errlens.engines.health import value_counts

    def call(what: str, cohort: Cohort | None) -> pd.Series:
        def count() -> pd.Series:
            return value_counts(lazy, column, cohort)

        found: pd.Series = count() if run is None else run(count, what)
        return found

    every = call(f"count the rows of each {kind}", None)
    group = _group(kind, column, table, bool(every.index.isna().any()))
    drawn = pd.Index(group.table.index)

    def selected(cohort: Cohort) -> np.ndarray:
        found = call(f"count the selection's rows of each {kind}", cohort)
        keys = pd.Index([MISSING if pd.isna(v) else v for v in found.index], dtype=object)
        at = drawn.get_indexer(keys)
        return np.bincount(at[at >= 0], weights=found.to_numpy()[at >= 0],
                           minlength=len(drawn)).astype(np.int64)

    return replace(group, count=selected)


def group_cohort(groups: list[HealthGroup], kind: Any, index: Any) -> Cohort:
    """The cohort of row ``index`` of the ``kind`` table; HealthError on a bad click."""
    found = {g.kind: g for g in groups}
    if not isinstance(kind, str) or kind not in found:
        raise HealthError(f"no {kind!r} table in the annotator-health panel; it lists "
                          f"{', '.join(found) or 'none (declare annotator= or source=)'}")
    group = found[kind]
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(group.table):
        raise HealthError(f"no row {index!r} in the {kind} table: it has rows 0.."
                          f"{len(group.table) - 1}")
    return group.cohort(index)


def health_payload(groups: list[HealthGroup], picked: Selected) -> dict[str, Any]:
    """The ``health`` trait: per group its rows (figures as numbers, names as text), how many of
    each group's rows the selection ``picked`` holds, and which row is the selection itself."""
    current = None if picked.cohort is None else picked.cohort.to_json()
    out = []
    for group in groups:
        selected = group.selected(picked)
        rows = [_row(group, i, label, record, int(selected[i]), current)
                for i, (label, record) in enumerate(group.table.iterrows())]
        out.append({"kind": group.kind, "column": group.column,
                    "overall": plain_number(group.overall), "total": group.total,
                    "rows": rows})
    return {"groups": out}


def _row(group: HealthGroup, i: int, label: Any, record: pd.Series, selected: int,
         current: Any) -> dict[str, Any]:
    given, likely = record.get("given"), record.get("likely_true")
    return {
        "label": str(label),
        **{k: plain_number(record.get(k)) for k in ("noise_rate", "ci_low", "ci_high", "prior")},
        "n": int(record["n"]), "suspects": int(record.get("suspects", 0)),
        "given": None if _missing(given) else str(given),
        "likely_true": None if _missing(likely) else str(likely),
        "confusion_count": int(record.get("confusion_count", 0) or 0),
        "selected": selected,
        "active": current is not None and current == group.cohort(i).to_json(),
    }


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))
