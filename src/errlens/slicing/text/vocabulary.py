"""The terms of a text column and the rows containing each: a sparse binary matrix, built once.

Terms are the words and adjacent word pairs of :mod:`~errlens.slicing.text.tokens` found in at
least ``min_df`` rows (default :func:`default_min_df`: 0.1 % of the rows, at least 20), stop
words out. The matrix is ``scipy.sparse`` CSC, rows × terms, ``True`` where the row contains
the term: its memory is one index per (row, term) present, never rows × vocabulary.

Built from the :mod:`~errlens.slicing.text.stream` of the texts (each distinct piece of text
split once) with NumPy: words are counted on the distinct pieces, pairs are formed only of the
words occurring at least ``min_df`` times (a pair is in no more rows than either word) and
not both stop words, and the matrix comes from (row, term) integer arrays. Several times
faster than scikit-learn's ``CountVectorizer(ngram_range=(1, 2), binary=True)`` on a million
short texts (``benchmarks/text_slices.py``), with the same terms.

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
import scipy.sparse as sp

from errlens.data.evaldata import EvalData
from errlens.slicing.text.stream import token_stream
from errlens.slicing.text.tokens import STOP_WORDS, normalize, term_mask

MIN_DF_SHARE = 0.001
"""Default document-frequency floor as a share of the rows (0.1 %)..."""
MIN_DF_ROWS = 20
"""...but at least this many rows: a term in fewer rows cannot make a trustworthy slice."""
DIRECT_KEYS = 1 << 24
"""Pairs of frequent words are told apart by direct indexing up to this many possible pairs
(16 MB of flags), by hashing above."""


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
    stream = token_stream(texts)
    # a word (hence a pair) in fewer than min_df texts occurs fewer than min_df times
    frequent = stream.counts() >= min_df
    n_frequent = int(frequent.sum())
    compact = np.where(frequent, np.cumsum(frequent) - 1, -1).astype(np.int32)
    rows, codes = stream.expand(compact)  # every token in reading order; -1: a rare word
    names = [word for word, keep in zip(stream.words, frequent.tolist(), strict=True) if keep]
    stop = np.array([name in STOP_WORDS for name in names], dtype=bool)
    first, second = codes[:-1], codes[1:]
    pair = (rows[:-1] == rows[1:]) & (first >= 0) & (second >= 0)
    pair[pair] = ~(stop[first[pair]] & stop[second[pair]])  # two stop words: never a term
    pair_keys = first[pair].astype(np.int64) * n_frequent + second[pair]
    pair_ids, distinct = _distinct_keys(pair_keys, n_frequent * n_frequent)
    often = np.bincount(pair_ids, minlength=len(distinct)) >= min_df
    # one column per candidate term: words that are no stop word, then pairs
    words = np.flatnonzero(~stop)
    n_columns = len(words) + int(often.sum())
    word_column = np.full(n_frequent + 1, -1, dtype=np.int32)  # the last one: a rare word
    word_column[words] = np.arange(len(words), dtype=np.int32)
    pair_column = np.full(len(distinct), -1, dtype=np.int32)
    pair_column[often] = np.arange(len(words), n_columns, dtype=np.int32)
    entry_cols = np.concatenate([word_column[codes], pair_column[pair_ids]])
    present = entry_cols >= 0
    entry_rows = np.concatenate([rows, rows[:-1][pair]])[present]
    matrix = sp.csc_array((np.ones(len(entry_rows), dtype=bool),
                           (entry_rows, entry_cols[present])), shape=(n, n_columns))
    matrix.sum_duplicates()  # a term twice in a row is one True
    labels = [names[j] for j in words.tolist()] + [
        f"{names[key // n_frequent]} {names[key % n_frequent]}"
        for key in distinct[often].tolist()]
    df = np.diff(matrix.indptr)
    chosen = [j for j in range(n_columns) if df[j] >= min_df]
    chosen.sort(key=lambda j: (-int(df[j]), labels[j]))
    picked = matrix[:, chosen] if chosen else sp.csc_array((n, 0), dtype=bool)
    return Vocabulary(column=column, terms=[labels[j] for j in chosen], matrix=sp.csc_array(
        picked), df=np.asarray(df[chosen], dtype=np.int64), min_df=min_df)


def _distinct_keys(keys: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """``keys`` (each below ``bound``) as ids of their distinct values: by direct
    indexing when ``bound`` is at most :data:`DIRECT_KEYS`, else by hashing."""
    if bound <= DIRECT_KEYS:
        seen = np.zeros(bound, dtype=bool)
        seen[keys] = True
        distinct = np.flatnonzero(seen)
        ids = np.zeros(bound, dtype=np.int32)
        ids[distinct] = np.arange(len(distinct), dtype=np.int32)
        return ids[keys], distinct
    hashed, found = pd.factorize(keys)  # hashing: ~6x faster than np.unique
    return hashed, found


def _check_min_df(min_df: int) -> int:
    if isinstance(min_df, bool) or not isinstance(min_df, (int, np.integer)) or min_df < 1:
        raise ValueError(f"min_df must be a row count >= 1, got {min_df!r}")
    return int(min_df)
