"""Neighbours without a model: an encoded feature space (or user embeddings), a cached neighbour
index, and the neighbours' label vote as pseudo-probabilities for confident learning.

Dense embeddings are searched by Euclidean distance; a SciPy sparse matrix (a bag of words,
TF-IDF) by cosine distance, which is what compares documents of different lengths.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.neighbors import NearestNeighbors

from errlens.suspects.table import fingerprint

#: A representation of the rows: dense (n, d) floats, or a CSR matrix of them.
Matrix: TypeAlias = "np.ndarray | sparse.csr_matrix"

TOP_CATEGORIES = 30


def encode_features(features: pd.DataFrame) -> np.ndarray:
    """Numeric columns median-imputed and standardised; other columns one-hot over their
    ``TOP_CATEGORIES`` most frequent values plus "other" and "missing".

    >>> encode_features(pd.DataFrame({"a": [1.0, 3.0], "b": ["x", "y"]})).tolist()
    [[-1.0, 1.0, 0.0], [1.0, 0.0, 1.0]]
    """
    if features.shape[1] == 0:
        raise ValueError(
            "the analysis has no feature columns to find neighbours in: pass embeddings= "
            "(an (n, d) array, one row per sample in ev.ids order)"
        )
    blocks: list[np.ndarray] = []
    for name in features.columns:
        column = features[name]
        if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
            values = column.to_numpy(dtype=np.float64, na_value=np.nan)
            finite = np.isfinite(values)
            fill = float(np.median(values[finite])) if finite.any() else 0.0
            values = np.where(finite, values, fill)
            std = values.std()
            blocks.append(((values - values.mean()) / (std if std > 0 else 1.0))[:, None])
        else:
            text = column.astype(object)
            top = text.value_counts().index[:TOP_CATEGORIES]
            kept = text.where(text.isin(top), "__other__").where(text.notna(), "__missing__")
            blocks.append(pd.get_dummies(kept).to_numpy(dtype=np.float64))
    return np.hstack(blocks)


def check_embeddings(embeddings: Any, n: int) -> Matrix:
    """Validate user embeddings as an (n, d) finite float array, or a CSR float matrix when
    they are SciPy sparse (e.g. ``TfidfVectorizer().fit_transform(texts)``).

    >>> from scipy import sparse
    >>> check_embeddings(sparse.coo_matrix(np.eye(3)), 3).format
    'csr'
    """
    if sparse.issparse(embeddings):
        return _check_sparse(embeddings, n)
    try:
        array = np.asarray(embeddings, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"embeddings must be an (n, d) array of numbers or a SciPy sparse "
                         f"matrix, one row per sample in ev.ids order; got "
                         f"{type(embeddings).__name__} ({exc})") from None
    if array.ndim != 2:
        raise ValueError(f"embeddings must be 2-D (samples × dimensions), got shape {array.shape}")
    if array.shape[0] != n:
        raise ValueError(
            f"embeddings has {array.shape[0]} rows but the analysis has {n}: pass one row per "
            "sample, in ev.ids order"
        )
    if not np.isfinite(array).all():
        bad = np.flatnonzero(~np.isfinite(array).all(axis=1))
        raise ValueError(f"embeddings has {bad.size} rows with NaN or infinite values: {bad[:5]}")
    return array


def _check_sparse(embeddings: Any, n: int) -> sparse.csr_matrix:
    if embeddings.ndim != 2:
        raise ValueError(f"embeddings must be 2-D (samples × dimensions), got shape "
                         f"{embeddings.shape}")
    matrix = sparse.csr_matrix(embeddings, dtype=np.float64, copy=True)  # sorted below
    if matrix.shape[0] != n:
        raise ValueError(
            f"embeddings has {matrix.shape[0]} rows but the analysis has {n}: pass one row per "
            "sample, in ev.ids order"
        )
    matrix.sum_duplicates()  # one canonical form, so equal matrices share one fingerprint
    matrix.sort_indices()
    if not np.isfinite(matrix.data).all():
        bad = np.unique(np.repeat(np.arange(n), np.diff(matrix.indptr))[
            ~np.isfinite(matrix.data)])
        raise ValueError(f"embeddings has {bad.size} rows with NaN or infinite values: {bad[:5]}")
    return matrix


def space_fingerprint(matrix: Matrix) -> str:
    """Short content hash of a dense or CSR matrix (what a cached index was fitted on).

    >>> space_fingerprint(sparse.csr_matrix(np.eye(2))) == space_fingerprint(np.eye(2))
    False
    """
    if isinstance(matrix, np.ndarray):
        return fingerprint(matrix)
    digest = hashlib.sha256(f"csr{matrix.shape}".encode())
    for part in (matrix.data, matrix.indices, matrix.indptr):
        digest.update(fingerprint(part).encode())
    return "sha256:" + digest.hexdigest()[:16]


@dataclass
class NeighbourIndex:
    """A fitted nearest-neighbour index over one representation of the rows: Euclidean for
    a dense matrix, cosine (brute force, as scikit-learn needs for sparse input) for CSR."""

    source: str
    fingerprint: str
    matrix: Matrix
    model: NearestNeighbors

    @classmethod
    def fit(cls, matrix: Matrix, source: str) -> NeighbourIndex:
        if sparse.issparse(matrix):
            model = NearestNeighbors(metric="cosine", algorithm="brute").fit(matrix)
            source = f"{source} (sparse, cosine)"
        else:
            model = NearestNeighbors().fit(matrix)
        return cls(source, space_fingerprint(matrix), matrix, model)

    @property
    def n(self) -> int:
        return int(self.matrix.shape[0])

    def check_k(self, k: int) -> None:
        if not isinstance(k, (int, np.integer)) or not 1 <= k < self.n:
            raise ValueError(f"k must be an integer in [1, {self.n - 1}] (rows - 1), got {k!r}")

    def neighbours_of_all(self, k: int) -> np.ndarray:
        """(n, k) positions of each row's k nearest other rows (the row itself excluded)."""
        self.check_k(k)
        return self.model.kneighbors(n_neighbors=k, return_distance=False)

    def neighbours_of(self, row: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Positions and distances of the k nearest rows to ``row``, the row itself excluded."""
        self.check_k(k)
        point = self.matrix[row : row + 1]
        distance, position = self.model.kneighbors(point, n_neighbors=k + 1)
        distance, position = distance[0], position[0]
        drop = np.flatnonzero(position == row)
        keep = np.delete(np.arange(k + 1), drop[0] if drop.size else k)
        return position[keep], distance[keep]


def vote_proba(neighbours: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Pseudo-probabilities from the neighbours' given labels: votes plus one pseudo-vote spread
    by the class prior, so every row sums to one and no class gets exactly zero.

    >>> vote_proba(np.array([[1, 2], [0, 2], [0, 1]]), np.array([0, 0, 1]), 2).round(3).tolist()
    [[0.556, 0.444], [0.556, 0.444], [0.889, 0.111]]
    """
    n, k = neighbours.shape
    flat = (np.arange(n)[:, None] * n_classes + labels[neighbours]).ravel()
    votes = np.bincount(flat, minlength=n * n_classes).reshape(n, n_classes)
    prior = np.bincount(labels, minlength=n_classes) / n
    return (votes + prior) / (k + 1)
