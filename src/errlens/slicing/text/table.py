"""Per-term error statistics (``Analysis.slices`` with text) and the screening of candidates.

Each term of a text column is a slice ``column contains "term"``: its rows, errors, error rate
with Wilson CI, lift over the cohort's error rate, share of the cohort's errors and, with
``fdr``, the one-sided Fisher test and Benjamini-Hochberg adjustment of the segment tables.
Counting is two sparse products (``mask @ matrix``), never a dense matrix.

>>> import errlens as el
>>> texts = ["the sequel was dull", "a great film", "sequel again", "great cast"] * 10
>>> ev = el.Analysis.from_predictions({"review": texts}, y_true=[0, 1, 0, 1] * 10,
...                                   y_pred=[1, 1, 1, 1] * 10, text="review")
>>> term_table(ev)[["segment", "n", "errors", "lift"]].head(2).values.tolist()
[['sequel', 20, 20, 2.0], ['great', 20, 0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from errlens.base.stats import wilson_interval
from errlens.data.evaldata import EvalData
from errlens.slicing import masks
from errlens.slicing.discovery.lattice import score
from errlens.slicing.tables import add_tests
from errlens.slicing.text.vocabulary import Vocabulary, vocabulary

MAX_TERMS = 50
"""Terms kept for discovery by :func:`screen` (per search, over every text column)."""
SCREEN_P = 0.05
"""A term enters discovery only when its one-sided Fisher p-value, Benjamini-Hochberg
adjusted over all terms, is at most this."""


def text_columns(data: EvalData, text: str | Sequence[str] | None) -> list[str]:
    """The text columns asked for (None: every declared one), each checked."""
    names = data.text_columns if text is None else (
        [text] if isinstance(text, str) else list(text))
    for name in names:
        if name not in data.text_columns:
            raise KeyError(f"{name!r} is not a text column; text columns are "
                           f"{data.text_columns} (declare them with text=)")
    return names


def term_table(
    data: EvalData, text: str | Sequence[str] | None = None, *, cohort: Any = None,
    min_df: int | None = None, min_size: int = 1, fdr: float | None = None,
    confidence: float = 0.95, sort: str | None = "lift",
) -> pd.DataFrame:
    """One row per term of the text columns ``text`` (all by default), as the segment rows of
    ``Analysis.slices``: ``feature`` is the text column, ``segment`` the term and ``code`` its
    position in the vocabulary; statistics are within ``cohort``."""
    mask = masks.mask(data, cohort)
    parts = [_column_table(data, vocabulary(data, name, min_df), mask, confidence)
             for name in text_columns(data, text)]
    table = pd.concat(parts, ignore_index=True) if parts else _column_table(
        data, None, mask, confidence)
    table = table[table["n"] >= min_size].drop(columns="error_sum").reset_index(drop=True)
    if fdr is not None:
        add_tests(table, int(mask.sum()), int(data.is_error[mask].sum()), fdr)
    return _sorted(table, sort)


def _sorted(table: pd.DataFrame, sort: str | None) -> pd.DataFrame:
    if sort is not None:
        if sort not in table.columns:
            raise ValueError(f"cannot sort by {sort!r}; columns are {list(table.columns)}")
        table = table.sort_values([sort, "n"], ascending=[sort in ("p_value", "p_adjusted"),
                                                          False], kind="stable",
                                  na_position="last")
    return table.reset_index(drop=True)


def with_terms(data: EvalData, table: pd.DataFrame, *, cohort: Any, min_size: int,
               confidence: float, sort: str | None, fdr: float | None) -> pd.DataFrame:
    """A segment table (untested, unsorted) and the :func:`term_table` of every text column
    as one table: tested together with ``fdr``, then sorted as ``Analysis.slices`` sorts."""
    terms = term_table(data, cohort=cohort, min_size=min_size, confidence=confidence, sort=None)
    mask = masks.mask(data, cohort) if fdr is not None else None
    rows, total = (0, 0) if mask is None else (int(mask.sum()), int(data.is_error[mask].sum()))
    return merge_terms(table, terms, rows=rows, total=total, sort=sort, fdr=fdr)


def merge_terms(table: pd.DataFrame, terms: pd.DataFrame, *, rows: int, total: int,
                sort: str | None, fdr: float | None) -> pd.DataFrame:
    """Segment rows and term rows (``rows`` searched, ``total`` errors) as one table, tested
    together with ``fdr`` and sorted (the engines build their term rows with
    :func:`counts_table`)."""
    # an analysis of text alone has no segment rows: its empty table's columns are objects
    both = (terms.reset_index(drop=True) if table.empty else
            pd.concat([table, terms], ignore_index=True) if len(terms) else table)
    if fdr is not None:
        add_tests(both, rows, total, fdr)
    return _sorted(both, sort)


def screen(
    data: EvalData, mask: np.ndarray, *, text: str | Sequence[str] | None, min_df: int | None,
    min_support: int, alpha: float, max_terms: int = MAX_TERMS,
) -> list[tuple[str, str, np.ndarray]]:
    """The candidate terms of a search over the rows of ``mask``: ``(column, term, rows)``
    with ``rows`` sorted positions among those rows. Kept: terms in at least ``min_support``
    of the rows, with an error rate significantly above the searched rows' (one-sided Fisher
    test, Benjamini-Hochberg adjusted p ≤ :data:`SCREEN_P`) and a positive SliceLine score at
    level 1; the ``max_terms`` best by that score."""
    names = text_columns(data, text)
    rows_total, errors = int(mask.sum()), data.error[mask]
    vocabularies = {name: vocabulary(data, name, min_df) for name in names}
    tables = []
    for voc in vocabularies.values():
        table = _column_table(data, voc, mask, 0.95)
        tables.append(table[table["n"] >= min_support])
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    if table.empty or rows_total == 0 or errors.sum() == 0:
        return []
    add_tests(table, rows_total, int(data.is_error[mask].sum()), SCREEN_P)
    found = pick_terms(table, rows=rows_total, average=float(errors.mean()), alpha=alpha,
                       max_terms=max_terms)
    positions = np.full(len(mask), -1, dtype=np.int64)
    positions[mask] = np.arange(rows_total)
    out = []
    for name, term, code in found:
        rows = vocabularies[name].rows(code)
        out.append((name, term, positions[rows[mask[rows]]]))
    return out


def pick_terms(table: pd.DataFrame, *, rows: int, average: float, alpha: float,
               max_terms: int) -> list[tuple[str, str, int]]:
    """``(column, term, code)`` of the ``max_terms`` best rows of a tested term table
    (``significant`` and a positive level-1 SliceLine score, best score first): the screening
    rule of :func:`screen`, shared with the engines."""
    scores = score(table["n"].to_numpy(), table["error_sum"].to_numpy(), n=rows,
                   average=average, alpha=alpha)
    keep = table["significant"].to_numpy() & (scores > 0)
    found = [(float(scores[i]), str(table["feature"][i]), str(table["segment"][i]),
              int(table["code"][i])) for i in np.flatnonzero(keep)]
    found.sort(key=lambda item: (-item[0], item[1], item[3]))
    return [(name, term, code) for _, name, term, code in found[:max_terms]]


def _column_table(data: EvalData, voc: Vocabulary | None, mask: np.ndarray,
                  confidence: float) -> pd.DataFrame:
    if voc is None or not voc.terms:
        empty = np.zeros(0, dtype=np.int64)
        n = errors = empty
        error_sum = empty.astype(np.float64)
        name, terms = "", []
    else:
        transposed = voc.matrix.T
        n = np.asarray(transposed @ mask.astype(np.int64), dtype=np.int64)
        errors = np.asarray(transposed @ (data.is_error & mask).astype(np.int64), dtype=np.int64)
        error_sum = transposed @ np.where(mask, data.error, 0.0)
        name, terms = voc.column, voc.terms
    return counts_table(name, terms, n, errors, error_sum, rows=int(mask.sum()),
                        total=int((data.is_error & mask).sum()), confidence=confidence)


def counts_table(column: str, terms: Sequence[str], n: np.ndarray, errors: np.ndarray,
                 error_sum: np.ndarray, *, rows: int, total: int, confidence: float
                 ) -> pd.DataFrame:
    """The term rows of one text column from each term's rows ``n``, ``errors`` and
    ``error_sum`` among ``rows`` rows holding ``total`` errors (unsorted, with ``error_sum``)."""
    overall = total / rows if rows else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, errors / np.maximum(n, 1), np.nan)
        low, high = wilson_interval(errors, n, confidence=confidence)
        return pd.DataFrame({
            "feature": np.full(len(terms), column, dtype=object),
            "segment": np.asarray(terms, dtype=object),
            "code": np.arange(len(terms)),
            "n": n, "errors": errors, "error_rate": rate, "ci_low": low, "ci_high": high,
            "lift": rate / overall if overall else np.full(len(terms), np.nan),
            "error_share": errors / total if total else np.full(len(terms), np.nan),
            "error_sum": error_sum,
        })
