"""The terms of a text column and the rows containing each: a sparse binary matrix, built once.

Terms are the words and adjacent word pairs of :mod:`~errlens.slicing.text.tokens` found in at
least ``min_df`` rows (default :func:`default_min_df`: 0.1 % of the rows, at least 20), stop
words out. The matrix is ``scipy.sparse`` CSC, rows × terms, ``True`` where the row contains
the term: its memory is one index per (row, term) present, never rows × vocabulary.

Built with Arrow (lowercase, split, dictionary-encode) and NumPy (pairs of adjacent token codes,
document frequencies): faster than scikit-learn's ``CountVectorizer(ngram_range=(1, 2),
binary=True)`` on a million short texts (``benchmarks/text_slices.py``), with the same terms.

>>> voc = build_vocabulary(["the sequel was bad", "a bad sequel", "good film"] * 10, min_df=15)
>>> voc.terms, voc.df.tolist(), voc.rows(voc.index("Sequel"))[:4].tolist()
(['bad', 'sequel'], [20, 20], [0, 1, 3, 4])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from errlens.data.evaldata import EvalData
from errlens.slicing.text.tokens import SEPARATOR, is_kept, normalize, term_mask

MIN_DF_SHARE = 0.001
"""Default document-frequency floor as a share of the rows (0.1 %)..."""
MIN_DF_ROWS = 20
"""...but at least this many rows: a term in fewer rows cannot make a trustworthy slice."""


def default_min_df(n: int) -> int:
    """``max(20, ceil(0.1 % of n))``.

    >>> default_min_df(1000), default_min_df(1_000_000)
    (20, 1000)
    """
    return max(MIN_DF_ROWS, math.ceil(MIN_DF_SHARE * n))


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """The terms of one text column (most frequent first) and the rows containing each."""

    column: str
    terms: list[str]
    matrix: sp.csc_array
    """Rows × terms, boolean, CSC (each term's rows are one contiguous sorted slice)."""
    df: np.ndarray
    """Rows containing each term."""
    min_df: int

    def index(self, term: str) -> int | None:
        """Position of ``term`` (any spelling :func:`normalize` maps to it), None if absent."""
        return self._positions.get(normalize(term))

    def rows(self, position: int) -> np.ndarray:
        """Sorted row positions containing the term at ``position``."""
        start, stop = self.matrix.indptr[position], self.matrix.indptr[position + 1]
        return np.asarray(self.matrix.indices[start:stop])

    @property
    def _positions(self) -> dict[str, int]:
        cached = self.__dict__.get("_lookup")
        if cached is None:
            cached = {term: i for i, term in enumerate(self.terms)}
            object.__setattr__(self, "_lookup", cached)
        return cached


def vocabulary(data: EvalData, column: str, min_df: int | None = None) -> Vocabulary:
    """The vocabulary of the text ``column`` of ``data``, built once per ``min_df`` (kept in
    ``data.cache.terms``)."""
    if column not in data.text_columns:
        raise KeyError(f"{column!r} is not a text column; text columns are {data.text_columns} "
                       "(declare them with text= in from_predictions / from_estimator)")
    floor = default_min_df(data.n) if min_df is None else _check_min_df(min_df)
    key = (column, floor)
    if key not in data.cache.terms:
        assert data.text is not None
        data.cache.terms[key] = build_vocabulary(data.text[column].tolist(), min_df=floor,
                                                 column=column)
    found: Vocabulary = data.cache.terms[key]
    return found


def contains_mask(data: EvalData, column: str, term: str) -> np.ndarray:
    """Rows of ``data`` whose text ``column`` contains ``term``: from a vocabulary already
    built when it holds the term, else by matching the texts (the same rule)."""
    if column not in data.text_columns:
        raise KeyError(f"{column!r} is not a text column; text columns are {data.text_columns} "
                       "(declare them with text= in from_predictions / from_estimator)")
    for (name, _), voc in data.cache.terms.items():
        position = voc.index(term) if name == column else None
        if position is not None:
            mask = np.zeros(data.n, dtype=bool)
            mask[voc.rows(position)] = True
            return mask
    assert data.text is not None
    return term_mask(data.text[column].tolist(), term)


def build_vocabulary(texts: Sequence[str], *, min_df: int, column: str = "text") -> Vocabulary:
    """Terms of ``texts`` in at least ``min_df`` rows and their sparse row matrix."""
    n = len(texts)
    lists = pc.split_pattern_regex(pc.utf8_lower(pa.array(texts, pa.string())),
                                   pattern=SEPARATOR)
    words = pc.list_flatten(lists)
    keep = pc.greater_equal(pc.utf8_length(words), 2)
    rows = np.asarray(pc.list_parent_indices(lists).filter(keep), dtype=np.int64)
    encoded = pc.dictionary_encode(words.filter(keep))
    codes = np.asarray(encoded.indices, dtype=np.int64)
    names = encoded.dictionary.to_pylist()
    # a token (hence a pair) in fewer than min_df rows occurs in fewer than min_df rows
    frequent = np.bincount(codes, minlength=len(names)) >= min_df
    same_row = rows[:-1] == rows[1:]
    pair = same_row & frequent[codes[:-1]] & frequent[codes[1:]]
    pair_keys = codes[:-1][pair] * len(names) + codes[1:][pair]
    pair_codes, distinct = pd.factorize(pair_keys)  # hashing: ~6x faster than np.unique
    pair_counts = np.bincount(pair_codes, minlength=len(distinct))
    often = pair_counts >= min_df
    columns = np.concatenate([np.flatnonzero(frequent), len(names) + np.flatnonzero(often)])
    # one column per candidate term: tokens first, then pairs
    where = np.full(len(names) + len(distinct), -1, dtype=np.int64)
    where[columns] = np.arange(len(columns))
    entry_rows = np.concatenate([rows, rows[:-1][pair]])
    entry_cols = where[np.concatenate([codes, len(names) + pair_codes])]
    present = entry_cols >= 0
    matrix = sp.csc_array(
        (np.ones(int(present.sum()), dtype=bool), (entry_rows[present], entry_cols[present])),
        shape=(n, len(columns)),
    )
    matrix.sum_duplicates()  # a term twice in a row is one True
    labels = [names[c] if c < len(names) else _pair_name(names, distinct[c - len(names)])
              for c in columns.tolist()]
    df = np.diff(matrix.indptr)
    chosen = [j for j, term in enumerate(labels) if df[j] >= min_df and is_kept(term.split())]
    chosen.sort(key=lambda j: (-int(df[j]), labels[j]))
    picked = matrix[:, chosen] if chosen else sp.csc_array((n, 0), dtype=bool)
    return Vocabulary(column=column, terms=[labels[j] for j in chosen], matrix=sp.csc_array(
        picked), df=np.asarray(df[chosen], dtype=np.int64), min_df=min_df)


def _pair_name(names: list[str], key: int) -> str:
    first, second = divmod(int(key), len(names))
    return f"{names[first]} {names[second]}"


def _check_min_df(min_df: int) -> int:
    if isinstance(min_df, bool) or not isinstance(min_df, (int, np.integer)) or min_df < 1:
        raise ValueError(f"min_df must be a row count >= 1, got {min_df!r}")
    return int(min_df)
