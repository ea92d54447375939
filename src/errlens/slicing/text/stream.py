"""The tokens of many texts as integer arrays, split once per distinct piece of text.

Texts are cut on ASCII whitespace into **pieces** (Arrow, in chunks of rows on a thread pool:
the kernels release the GIL, so converting one chunk overlaps splitting another). Pieces repeat
far more than texts do (a million tweets-like texts hold ~85,000 distinct pieces), so only the
distinct pieces are lowercased and split into tokens by :data:`~errlens.slicing.text.tokens.
SEPARATOR`; a text's tokens are its pieces' tokens in order. Whitespace separates tokens under
that rule too, so the tokens are those of :func:`~errlens.slicing.text.tokens.tokens`.

>>> stream = token_stream(["Sequel, sequel!", "", "a let-down"], chunk=2)
>>> stream.words, stream.counts().tolist()
(['sequel', 'let', 'down'], [2, 1, 1])
>>> rows, values = stream.expand(np.array([10, 11, 12]))
>>> rows.tolist(), values.tolist()
([0, 0, 2, 2], [10, 10, 11, 12])
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from errlens.slicing.text.tokens import SEPARATOR

CHUNK_ROWS = 1 << 17
"""Rows per chunk handed to the thread pool."""


@dataclass(frozen=True)
class TokenStream:
    """Texts as pieces, and the distinct pieces as tokens (codes into :attr:`words`)."""

    piece_rows: np.ndarray
    """Row of each piece, in reading order (int32)."""
    piece_codes: np.ndarray
    """Which distinct piece each piece is (int32)."""
    offsets: np.ndarray
    """Distinct piece ``p``'s tokens are ``tokens[offsets[p]:offsets[p + 1]]``."""
    tokens: np.ndarray
    """Word codes of the distinct pieces' tokens (int32)."""
    words: list[str]
    """Distinct tokens (lowercased words of two characters or more)."""

    def counts(self) -> np.ndarray:
        """Occurrences of each word over all texts (at least the rows containing it)."""
        per_piece = np.bincount(self.piece_codes, minlength=len(self.offsets) - 1)
        owner = np.repeat(np.arange(len(self.offsets) - 1), np.diff(self.offsets))
        return np.bincount(self.tokens, weights=per_piece[owner],
                           minlength=len(self.words)).astype(np.int64)

    def expand(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every token of every text in reading order: its row and ``values[word code]``."""
        per_piece = pa.LargeListArray.from_arrays(pa.array(self.offsets),
                                                  pa.array(values[self.tokens]))
        taken = per_piece.take(pa.array(self.piece_codes)).flatten()  # Arrow: no index array
        sizes = np.diff(self.offsets).astype(np.int32)
        rows = np.repeat(self.piece_rows, sizes[self.piece_codes])
        return rows, np.asarray(taken)


def token_stream(texts: Sequence[str], *, chunk: int | None = None,
                 threads: int | None = None) -> TokenStream:
    """The :class:`TokenStream` of ``texts``, ``chunk`` rows at a time (default
    :data:`CHUNK_ROWS`) on ``threads`` threads (default one per core, at most 2)."""
    chunk = chunk or CHUNK_ROWS
    starts = range(0, len(texts), chunk)
    workers = threads or min(2, os.cpu_count() or 1)
    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(lambda s: _pieces(texts[s:s + chunk], s), starts))
    if not parts:
        empty = np.zeros(0, dtype=np.int32)
        return TokenStream(empty, empty, np.zeros(1, dtype=np.int64), empty, [])
    unified = pa.chunked_array([encoded for _, encoded in parts]).unify_dictionaries()
    distinct = unified.chunk(0).dictionary
    lists = pc.split_pattern_regex(pc.utf8_lower(distinct), pattern=SEPARATOR)
    flat = pc.list_flatten(lists)
    keep = pc.greater_equal(pc.utf8_length(flat), 2)
    owner = np.asarray(pc.list_parent_indices(lists).filter(keep))
    words = pc.dictionary_encode(flat.filter(keep))
    offsets = np.zeros(len(distinct) + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=len(distinct)), out=offsets[1:])
    return TokenStream(
        piece_rows=np.concatenate([rows for rows, _ in parts]),
        piece_codes=np.concatenate([np.asarray(c.indices) for c in unified.chunks]),
        offsets=offsets, tokens=np.asarray(words.indices, dtype=np.int32),
        words=words.dictionary.to_pylist(),
    )


def _pieces(texts: Sequence[str], start: int) -> tuple[np.ndarray, pa.DictionaryArray]:
    lists = pc.ascii_split_whitespace(pa.array(texts, pa.string()))
    rows = np.asarray(pc.list_parent_indices(lists), dtype=np.int32) + np.int32(start)
    return rows, pc.dictionary_encode(pc.list_flatten(lists))
