"""Text slices of a :class:`~errlens.engines.LazyAnalysis`, counted in DuckDB.

The texts never leave the engine. The vocabulary is built there with the in-memory rule
(:mod:`errlens.slicing.text.tokens`): lowercase, ``regexp_split_to_array`` on the same RE2
separator, tokens of two characters or more, words and adjacent pairs, document frequency
``≥ min_df`` (:func:`~errlens.slicing.text.vocabulary.default_min_df` of all rows by default),
stop words out, most frequent first: the terms, their order and their codes are those of
:func:`~errlens.slicing.text.vocabulary.build_vocabulary`. Each row's vocabulary terms are kept
as a temporary *postings* table ``(id, code)``, so ``column contains "term"`` is a join, not a
regular expression per term and row (the two agree: the tokens are the same).

- per-term rows and errors of any cohort: one ``GROUP BY code`` query per text column (with
  the cohort's own totals in the same query), giving the term rows of ``lazy.slices()``;
- discovery: those counts screen the candidate terms (the in-memory screening rule,
  :func:`~errlens.slicing.text.table.pick_terms`), then the screened terms become 0/1 columns
  next to the segment codes (one temporary table) and every level's term × segment and term ×
  term counts come from one ``GROUPING SETS`` query (:class:`TermLevelCounts`).

>>> import duckdb
>>> rel = duckdb.sql("SELECT i AS id, CASE WHEN i % 4 = 0 THEN 'the sequel was dull' "
...                  "ELSE 'a great film' END AS review FROM range(40) t(i)")
>>> class Owner: ...
>>> voc = engine_vocabulary(rel, "id", "review", min_df=5, owner=Owner())
>>> voc.terms
['film', 'great', 'great film', 'dull', 'sequel', 'sequel was', 'the sequel', 'was dull']
>>> voc.df.tolist() == [30] * 3 + [10] * 5
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from errlens.base.facade import ScaleOutError
from errlens.engines.coded import temp_table
from errlens.engines.counts import count_keys, flat_key
from errlens.engines.sql import query
from errlens.slicing.discovery.search import Progress, SliceSearch, resolve_min_support
from errlens.slicing.discovery.search import search_counts as run_search
from errlens.slicing.tables import add_tests
from errlens.slicing.text.table import SCREEN_P, counts_table, pick_terms
from errlens.slicing.text.tokens import SEPARATOR, is_kept
from errlens.slicing.text.vocabulary import default_min_df

Term = tuple[str, str, np.ndarray]
"""``(text column, term, rows)`` as :func:`errlens.slicing.discovery.result.build` takes it
(rows are unused for 0/1 errors and left empty here)."""


@dataclass(frozen=True)
class EngineVocabulary:
    """The terms of one text column (most frequent first) and their postings table."""

    column: str
    terms: list[str]
    df: np.ndarray
    min_df: int
    postings: str
    """Temporary table ``(__id, code)``: one row per row id and vocabulary term it contains."""


def _name(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _terms_sql(id: str, column: str) -> str:
    """Every row's distinct terms (words and adjacent pairs) as one list: ``(__id, terms)``."""
    words = (f"list_filter(regexp_split_to_array(lower(CAST({_name(column)} AS VARCHAR)), "
             f"'{SEPARATOR}'), lambda w: length(w) >= 2)")
    pairs = "list_transform(range(1, len(w)), lambda i: w[i] || ' ' || w[i + 1])"
    return (f"SELECT __id, list_distinct(list_concat(w, {pairs})) AS terms FROM "
            f"(SELECT {_name(id)} AS __id, {words} AS w FROM {{t}})")


class _Scratch:
    """Owns a temporary table for the length of one function call."""


def engine_vocabulary(source: Any, id: str, column: str, *, min_df: int, owner: object
                      ) -> EngineVocabulary:
    """The vocabulary of ``column`` of the DuckDB relation ``source``: the texts are split
    once into a temporary table of term lists, read twice (document frequencies, then the
    postings of the kept terms, kept until ``owner`` is collected)."""
    scratch = _Scratch()
    _, lists = temp_table(source, scratch, _terms_sql(id, column))
    rows = "(SELECT __id, unnest(terms) AS term FROM {t})"
    df = query(lists, f"SELECT term, count(*) AS df FROM {rows} GROUP BY term "
                      f"HAVING count(*) >= {int(min_df)}").df()
    kept = [(-int(n), str(term)) for term, n in zip(df["term"], df["df"], strict=True)
            if is_kept(str(term).split())]
    kept.sort()
    terms = [term for _, term in kept]
    values = ", ".join(f"('{term.replace(chr(39), chr(39) * 2)}', {code})"
                       for code, term in enumerate(terms))
    codes = f"(VALUES {values}) v(term, code)" if terms else "(SELECT '' AS term, 0 AS code " \
                                                             "WHERE false) v"
    name, _ = temp_table(lists, owner, f"SELECT __id, CAST(code AS INTEGER) AS code FROM "
                                       f"{rows} JOIN {codes} USING (term)")
    del scratch  # the term lists are dropped now
    return EngineVocabulary(column, terms, np.array([-n for n, _ in kept], dtype=np.int64),
                            int(min_df), name)


class EngineText:
    """The declared text columns of a lazy analysis: vocabularies built once per ``min_df``,
    term counts of any coded-rows frame (``id`` and ``__e`` columns)."""

    def __init__(self, source: nw.LazyFrame[Any], id: str, columns: list[str], n: int) -> None:
        if columns and not source.implementation.is_duckdb():
            raise ScaleOutError(
                f"text slices in an engine are counted in DuckDB only, not "
                f"{source.implementation}: read the data with LazyAnalysis.from_duckdb (a "
                "Parquet path works out of core), or build errlens.Analysis on a sample")
        self.source, self.id, self.columns, self.n = source, id, columns, n
        self._vocabularies: dict[tuple[str, int], EngineVocabulary] = {}

    def names(self, text: bool | str | Sequence[str]) -> list[str]:
        """The text columns asked for (True: all, False: none), each checked."""
        names = self.columns if text is True else [] if text is False else (
            [text] if isinstance(text, str) else list(text))
        for name in names:
            if name not in self.columns:
                raise KeyError(f"{name!r} is not a text column; text columns are "
                               f"{self.columns} (declare them with text=)")
        return names

    def vocabulary(self, column: str, min_df: int | None = None) -> EngineVocabulary:
        """The vocabulary of ``column`` (default floor: ``default_min_df`` of all rows)."""
        floor = default_min_df(self.n) if min_df is None else int(min_df)
        if isinstance(min_df, bool) or floor < 1:
            raise ValueError(f"min_df must be a row count >= 1, got {min_df!r}")
        key = (self.names(column)[0], floor)
        if key not in self._vocabularies:
            self._vocabularies[key] = engine_vocabulary(self.source.to_native(), self.id, column,
                                                        min_df=floor, owner=self)
        return self._vocabularies[key]

    def term_counts(self, rows: nw.LazyFrame[Any], voc: EngineVocabulary
                    ) -> tuple[int, int, np.ndarray, np.ndarray]:
        """Rows and errors of ``rows`` in total and per term of ``voc``, one query."""
        sql = (f"SELECT -1 AS code, count(*) AS n, CAST(sum(__e) AS BIGINT) AS e FROM {{t}} "
               f"UNION ALL SELECT p.code, count(*), CAST(sum(f.__e) AS BIGINT) FROM {{t}} f "
               f"JOIN {voc.postings} p ON f.{_name(self.id)} = p.__id GROUP BY p.code")
        table = query(rows.select(self.id, "__e").to_native(), sql).df()
        code = table["code"].to_numpy(np.int64)
        n = np.zeros(len(voc.terms), np.int64)
        e = np.zeros(len(voc.terms), np.int64)
        inside = code >= 0
        n[code[inside]] = table["n"].to_numpy()[inside]
        e[code[inside]] = table["e"].fillna(0).to_numpy()[inside]
        total = table[~inside].iloc[0]
        return int(total["n"]), int(0 if pd.isna(total["e"]) else total["e"]), n, e

    def table(self, rows: nw.LazyFrame[Any], names: Sequence[str], *, min_df: int | None,
              confidence: float) -> tuple[pd.DataFrame, int, int]:
        """The term rows of ``names`` over ``rows`` (as ``Analysis.slices`` gives them, with
        ``error_sum``), and the rows' count and errors."""
        parts, n_rows, errors = [], 0, 0
        for name in names:
            voc = self.vocabulary(name, min_df)
            n_rows, errors, n, e = self.term_counts(rows, voc)
            parts.append(counts_table(name, voc.terms, n, e, e.astype(np.float64), rows=n_rows,
                                      total=errors, confidence=confidence))
        if not names:
            n_rows, errors = _totals(rows)
        table = pd.concat(parts, ignore_index=True) if parts else counts_table(
            "", [], np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), rows=n_rows,
            total=errors, confidence=confidence)
        return table, n_rows, errors

    def screen(self, rows: nw.LazyFrame[Any], names: Sequence[str], *, min_df: int | None,
               min_support: int, alpha: float, max_terms: int) -> list[tuple[str, str, int]]:
        """The candidate terms over ``rows``: the rule of
        :func:`errlens.slicing.text.table.screen`, from engine counts."""
        table, n_rows, errors = self.table(rows, names, min_df=min_df, confidence=0.95)
        table = table[table["n"] >= min_support].reset_index(drop=True)
        if table.empty or n_rows == 0 or errors == 0:
            return []
        add_tests(table, n_rows, errors, SCREEN_P)
        return pick_terms(table, rows=n_rows, average=errors / n_rows, alpha=alpha,
                          max_terms=max_terms)

    def search(
        self, rows: nw.LazyFrame[Any], codes: list[str], cards: list[int], *, n: int,
        errors: int, names: Sequence[str], min_df: int | None, max_terms: int, k: int,
        max_level: int, min_support: int | float | None, alpha: float,
        progress: Callable[[Progress], None] | None,
    ) -> tuple[SliceSearch, list[Term], dict[str, Any]]:
        """SliceLine over the segment ``codes`` of ``rows`` and their screened terms."""
        support = resolve_min_support(min_support, n)
        picked = self.screen(rows, names, min_df=min_df, min_support=support, alpha=alpha,
                             max_terms=max_terms)
        counts = TermLevelCounts(codes, cards, len(picked), errors=errors)
        counts.frame = self._flagged(rows, codes, picked, min_df=min_df, owner=counts)
        search = run_search(counts, n=n, error_sum=errors, k=k, max_level=max_level,
                            min_support=min_support, alpha=alpha, progress=progress)
        floor = default_min_df(self.n) if min_df is None else min_df
        params: dict[str, Any] = {
            "terms": [f'{column} contains "{term}"' for column, term, _ in picked],
            "min_df": floor}
        if not picked:
            params["note"] = (
                f"no term of {list(names)} was searched: none is in at least min_df={floor} "
                f"rows and min_support={support} rows with an error rate significantly above "
                "the rest (pass a lower min_df / min_support on small data)")
        empty = np.zeros(0, np.int64)
        return search, [(column, term, empty) for column, term, _ in picked], params

    def _flagged(self, rows: nw.LazyFrame[Any], codes: list[str],
                 picked: list[tuple[str, str, int]], *, min_df: int | None, owner: object
                 ) -> nw.LazyFrame[Any]:
        """``rows``' codes, ``__e`` and one 0/1 column ``__m<i>`` per picked term, written to
        a temporary table (dropped when ``owner`` is garbage-collected)."""
        joins, flags = [], []
        for j, name in enumerate(dict.fromkeys(column for column, _, _ in picked)):
            mine = [(i, code) for i, (column, _, code) in enumerate(picked) if column == name]
            cases = ", ".join(f"max(CAST(code = {code} AS TINYINT)) AS __m{i}"
                              for i, code in mine)
            within = ", ".join(str(code) for _, code in mine)
            joins.append(f"LEFT JOIN (SELECT __id, {cases} FROM "
                         f"{self.vocabulary(name, min_df).postings} WHERE code IN ({within}) "
                         f"GROUP BY __id) m{j} ON f.{_name(self.id)} = m{j}.__id")
            flags += [f"CAST(coalesce(m{j}.__m{i}, 0) AS TINYINT) AS __m{i}" for i, _ in mine]
        select = ", ".join([*(f"f.{_name(c)}" for c in [*codes, "__e"]), *flags])
        sql = f"SELECT {select} FROM {{t}} f {' '.join(joins)}"
        native = rows.select(self.id, *codes, "__e").to_native()
        return nw.from_native(temp_table(native, owner, sql)[1])


def _totals(rows: nw.LazyFrame[Any]) -> tuple[int, int]:
    row = rows.select(nw.len().cast(nw.Int64).alias("n"),
                      nw.col("__e").sum().cast(nw.Int64).alias("e")).collect("pandas")
    found = row.to_native().iloc[0]
    return int(found["n"]), int(0 if pd.isna(found["e"]) else found["e"])


class TermLevelCounts:
    """:class:`~errlens.slicing.discovery.search.CellCounts` of segment code columns followed
    by one-code term features (0/1 columns ``__m<i>``), a level per DuckDB query.

    A set with terms is counted on the key ``Π flags × (flat segment key + 1)``: cell 0 holds
    the rows lacking a term and is dropped, so one GROUPING SETS query counts every set.
    """

    batched = True

    frame: nw.LazyFrame[Any]
    """The searched rows: code columns, ``__e`` and the term columns (set by the caller)."""

    def __init__(self, columns: list[str], cards: list[int], n_terms: int, *, errors: int
                 ) -> None:
        self.n_tabular = len(columns)
        self.columns = [*columns, *(f"__m{i}" for i in range(n_terms))]
        self.cards = [*cards, *([1] * n_terms)]
        self.max_error = 1.0 if errors else 0.0
        self._counts: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = {}

    def prefetch(self, sets: list[tuple[int, ...]]) -> None:
        """Count every set of ``sets`` in one query (the previous level's are dropped)."""
        keys, sizes = {}, {}
        for s in sets:
            tabular = [f for f in s if f < self.n_tabular]
            terms = [f for f in s if f >= self.n_tabular]
            cells = math.prod(self.cards[f] for f in tabular)
            key = flat_key([self.columns[f] for f in tabular],
                           [self.cards[f] for f in tabular]) if tabular else None
            if terms:
                flag = nw.col(self.columns[terms[0]]).cast(nw.Int64)
                for f in terms[1:]:
                    flag = flag * nw.col(self.columns[f]).cast(nw.Int64)
                key, cells = (flag if key is None else flag * (key + 1)), cells + 1
            assert key is not None
            keys[s], sizes[s] = key, cells
        counted = count_keys(self.frame, keys, sizes, weight="__e")
        self._counts = {}
        for s, (n, w) in counted.items():
            drop = int(any(f >= self.n_tabular for f in s))
            assert w is not None
            self._counts[s] = (n[drop:], np.asarray(w[drop:], dtype=np.float64))

    def count(self, features: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Rows and errors per cell of ``features``, from the level's query."""
        return self._counts[features]

    def level_one_max(self, feature: int) -> np.ndarray:
        """0/1 errors: a code's largest error is 1 exactly when it has an error."""
        return (self._counts[(feature,)][1] > 0).astype(np.float64)
