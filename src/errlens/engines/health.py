"""Label health of a :class:`~errlens.engines.LazyAnalysis`, counted in the engine.

:meth:`errlens.Analysis.label_health` summarises confident learning's calibrated joint of
(given, guessed true) labels per class; the joint before calibration is a count of the confident
rows by (given class, guessed class), which is one GROUP BY of the row expressions
:func:`~errlens.engines.suspects.row_terms` already builds (thresholds from one aggregate). The
k x k counts come back, are calibrated as cleanlab calibrates them
(:func:`~errlens.suspects.confident.calibrated_joint`) and summarised by the in-memory
:func:`~errlens.suspects.health.joint_health`: the same tables, with no row leaving the engine.
The declared annotators' and sources' tables are :func:`~errlens.engines.priors.noise_by_role`'s.

The annotator-health panel counts how many rows of a selection each annotator holds with
:func:`value_counts`: one GROUP BY over the cohort's rows (in memory it gathers each row's group).

>>> import duckdb
>>> from errlens.engines import LazyAnalysis
>>> rel = duckdb.sql("SELECT i AS id, CASE WHEN i % 3 = 0 THEN 'b' ELSE 'a' END AS y, "
...     "'a' AS p, 0.7 AS pa, 0.3 AS pb, CASE WHEN i < 50 THEN 'ann1' ELSE 'ann2' END AS who "
...     "FROM range(100) t(i)")
>>> lazy = LazyAnalysis.from_duckdb(rel, y_true="y", y_pred="p", id="id", proba=["pa", "pb"],
...                                 annotator="who")
>>> health = engine_health(lazy)
>>> health.classes["support"].tolist(), health.annotators["n"].tolist()
([66, 34], [50, 50])
>>> from errlens.slicing.cohort import Cohort
>>> value_counts(lazy, "who", Cohort.ids(list(range(60)))).sort_index().to_dict()
{'ann1': 50, 'ann2': 10}
"""

from __future__ import annotations

import weakref
from dataclasses import replace
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from errlens.engines.priors import noise_by_role
from errlens.engines.suspects import (
    ENGINE_FILTERS,
    CodedAnalysis,
    require_proba_per_class,
    row_terms,
)
from errlens.suspects.confident import calibrated_joint, check_label_counts
from errlens.suspects.health import LabelHealth, joint_health

_JOINTS: weakref.WeakKeyDictionary[Any, tuple[np.ndarray, np.ndarray]] = (
    weakref.WeakKeyDictionary())
"""Per analysis: the uncalibrated confident joint and the label counts (one query each)."""


def engine_health(lazy: Any, method: str = "confident_learning") -> LabelHealth:
    """:meth:`errlens.Analysis.label_health` of ``lazy``: per-class noise from the engine's
    confident joint, and the declared sources' tables (their ``suspects`` count ``method``'s
    flags: ``confident_learning`` or ``predicted_neq_given``)."""
    if method not in ENGINE_FILTERS:
        raise ValueError(f"method must be one of {ENGINE_FILTERS} on an engine, got {method!r}")
    require_proba_per_class(lazy, "label health needs")
    joint, label_counts = confident_counts(lazy)
    check_label_counts(label_counts)
    health = joint_health(calibrated_joint(joint, label_counts), label_counts,
                          list(lazy.classes))
    by_role = noise_by_role(lazy, method) if lazy.label_sources else {}
    return replace(health, annotators=by_role.get("annotator"), sources=by_role.get("source"))


def confident_counts(lazy: CodedAnalysis) -> tuple[np.ndarray, np.ndarray]:
    """(confident rows counted by guessed true x given class, laid out as confident learning
    lays it out in memory; rows given each class), from one GROUP BY, once per analysis."""
    if lazy not in _JOINTS:
        terms = row_terms(lazy, "confident_learning", "self_confidence")
        guess = nw.when(terms.confident).then(terms.guess).otherwise(nw.lit(-1))
        cells = (lazy.source.select(terms.label.alias("given"), guess.alias("guess"))
                 .group_by("given", "guess").agg(nw.len().cast(nw.Int64).alias("n"))
                 .collect("pandas").to_native())
        k = len(lazy.classes)
        given = cells["given"].to_numpy(np.int64)
        guessed = cells["guess"].to_numpy(np.int64)
        rows = cells["n"].to_numpy(np.int64)
        label_counts = np.bincount(given, weights=rows, minlength=k).astype(np.int64)
        confident = guessed >= 0
        flat = np.zeros(k * k, dtype=np.int64)
        np.add.at(flat, guessed[confident] * k + given[confident], rows[confident])
        _JOINTS[lazy] = flat.reshape(k, k).T, label_counts  # (given, true), as in memory
    return _JOINTS[lazy]


def value_counts(lazy: Any, column: str, cohort: Any) -> pd.Series:
    """The rows of ``cohort`` (None: every row) per value of ``column`` (missing values under
    None), from one GROUP BY in the engine."""
    if cohort is None:
        rows = lazy.source
    elif lazy.source is lazy.frame:  # Spark keeps the given columns beside the codes
        rows = lazy.counting.rows(cohort)
    else:
        rows = lazy.source.join(lazy.counting.rows(cohort).select(lazy.id), on=lazy.id,
                                how="inner")
    counts = (rows.group_by(column).agg(nw.len().cast(nw.Int64).alias("n"))
              .collect("pandas").to_native())
    values = counts[column].astype(object).where(counts[column].notna(), None)
    return pd.Series(counts["n"].to_numpy(np.int64), index=pd.Index(values, dtype=object),
                     name="n")
