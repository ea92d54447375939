"""The space clusters are found in: the user's embeddings, or ones derived from the analysis.

Without embeddings, errlens derives them from what it has, and says how in ``note``: declared
images → their pixels (16 × 16 grey levels for files / bytes); a text column named by
``embeddings="review"``, or else the first column declared with ``text=`` → TF-IDF (words and
word pairs, English stop words out); else the encoded features. Every space is then
reduced to at most :data:`DIMENSIONS` dimensions (PCA, or TruncatedSVD for sparse matrices),
fitted on at most :data:`FIT_ROWS` sampled rows and applied in chunks, so 1M rows cost
O(n · d) memory.

>>> import errlens as el
>>> ev = el.Analysis.from_predictions({"a": [0., 1, 2, 3], "b": [1., 0, 1, 0]},
...                                   y_true=[0, 1, 0, 1], y_pred=[0, 0, 0, 1])
>>> space = embed(ev, None, seed=0)
>>> space.vectors.shape, space.note[:60]
((4, 2), 'embeddings derived from the 2 encoded features (PCA to 2 dim')
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

from errlens.data.evaldata import EvalData
from errlens.suspects.knn import check_embeddings, encode_features

DIMENSIONS = 32
FIT_ROWS = 100_000
CHUNK = 100_000
SIDE = 16  # images given as files / bytes / arrays of mixed sizes: SIDE × SIDE grey levels
MAX_PIXELS = 4096  # larger arrays are subsampled on a grid to at most this many pixels
VOCABULARY = 50_000


@dataclass(frozen=True)
class Space:
    """Rows as ``vectors`` (n, ≤ DIMENSIONS) float32; ``note`` says where they came from;
    ``terms`` / ``weights`` (the TF-IDF vocabulary and its (n, V) CSR matrix) when they came
    from text."""

    vectors: np.ndarray
    note: str
    terms: np.ndarray | None = None
    weights: sparse.csr_matrix | None = None


def embed(data: EvalData, embeddings: Any, *, seed: int) -> Space:
    """The space of ``data``'s rows: ``embeddings`` ((n, d) array or SciPy sparse, one row per
    sample in ``data.ids`` order), a text column's name, or None (images, else the first
    declared text column, else features)."""
    rng = np.random.default_rng(seed)
    if isinstance(embeddings, str):
        return _text_space(data, embeddings, rng)
    if embeddings is not None:
        matrix = check_embeddings(embeddings, data.n)
        vectors, how = _reduce(matrix, rng)
        kind = "sparse" if sparse.issparse(matrix) else "dense"
        return Space(vectors, f"your {kind} embeddings of {matrix.shape[1]} dimensions ({how})")
    if data.images is not None:
        pixels, shape = _pixels(data.images, data.ids)
        vectors, how = _reduce(pixels, rng)
        return Space(vectors, f"embeddings derived from the images' pixels ({shape} → "
                              f"{pixels.shape[1]} values, {how}); pass embeddings= from your "
                              "model or an image encoder for clusters of meaning")
    if data.text is not None and len(data.text.columns):
        return _text_space(data, str(data.text.columns[0]), rng)  # the first declared text
    encoded = encode_features(data.features)
    vectors, how = _reduce(encoded, rng)
    return Space(vectors, f"embeddings derived from the {data.features.shape[1]} encoded "
                          f"features ({how}); pass embeddings= from your model or an encoder "
                          "for clusters of meaning")


def _text_space(data: EvalData, column: str, rng: np.random.Generator) -> Space:
    declared = data.text is not None and column in data.text.columns  # text= (i17text)
    if not declared and column not in data.features.columns:
        raise KeyError(f"embeddings={column!r} names no feature column (a text column to embed "
                       f"with TF-IDF); columns are {list(data.features.columns)[:20]}")
    texts = data.text[column] if declared and data.text is not None else data.features[column]
    if pd.api.types.is_numeric_dtype(texts) or pd.api.types.is_bool_dtype(texts):
        raise TypeError(f"embeddings={column!r} is a {texts.dtype} column, not text: pass an "
                        f"(n, d) array, or the name of a text column")
    vectorizer = TfidfVectorizer(stop_words="english", ngram_range=(1, 2), min_df=2,
                                 max_features=VOCABULARY, sublinear_tf=True, dtype=np.float32)
    try:
        weights = vectorizer.fit_transform(texts.fillna("").astype(str).to_numpy())
    except ValueError as exc:  # an empty vocabulary
        raise ValueError(f"column {column!r} has no term in two or more rows to embed "
                         f"({exc}); pass embeddings=") from None
    vectors, how = _reduce(weights.tocsr(), rng)
    return Space(vectors, f"embeddings derived from the text of {column!r} (TF-IDF over "
                          f"{weights.shape[1]:,} terms, {how}); pass embeddings= from a text "
                          "encoder for clusters of meaning",
                 np.asarray(vectorizer.get_feature_names_out()), weights.tocsr())


def _reduce(matrix: np.ndarray | sparse.csr_matrix, rng: np.random.Generator
            ) -> tuple[np.ndarray, str]:
    """At most DIMENSIONS components, fitted on at most FIT_ROWS sampled rows."""
    n, d = matrix.shape
    dims = min(DIMENSIONS, d, n)
    fit_rows = np.sort(rng.choice(n, FIT_ROWS, replace=False)) if n > FIT_ROWS else slice(None)
    seed = int(rng.integers(2**31))
    if sparse.issparse(matrix):
        dims = min(dims, d - 1) if d > 1 else 1
        model: PCA | TruncatedSVD = TruncatedSVD(dims, random_state=seed)
        name = "TruncatedSVD"
    else:
        model = PCA(dims, svd_solver="randomized" if dims < min(n, d) else "full",
                    random_state=seed)
        name = "PCA"
    model.fit(matrix[fit_rows])
    out = np.empty((n, dims), dtype=np.float32)
    for start in range(0, n, CHUNK):
        out[start:start + CHUNK] = model.transform(matrix[start:start + CHUNK])
    sampled = f", fitted on {FIT_ROWS:,} sampled rows" if n > FIT_ROWS else ""
    return out, f"{name} to {dims} dimensions{sampled}"


def _pixels(images: np.ndarray | pd.Series, ids: pd.Index) -> tuple[np.ndarray, str]:
    """One row of pixel values per image (floats, the images' own scale), and a word on how."""
    if isinstance(images, np.ndarray):
        step = 1
        while np.prod(images.shape[1:3]) // step**2 * _channels(images) > MAX_PIXELS:
            step += 1
        grid = images[:, ::step, ::step]
        shape = "×".join(str(s) for s in images.shape[1:])
        return grid.reshape(len(images), -1).astype(np.float32), shape
    rows = np.empty((len(images), SIDE * SIDE), dtype=np.float32)
    for i, item in enumerate(images.tolist()):
        rows[i] = _grey(item, ids[i])
    return rows, f"{SIDE}×{SIDE} grey levels"


def _channels(images: np.ndarray) -> int:
    return int(images.shape[3]) if images.ndim == 4 else 1


def _grey(item: Any, sample: Any) -> np.ndarray:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib / most installs
        raise ImportError("embedding image files or bytes needs Pillow: pip install pillow; "
                          "or pass embeddings=") from None
    if item is None or (isinstance(item, float) and np.isnan(item)):
        raise ValueError(f"sample {sample!r} has no image: pass embeddings= (one row per "
                         "sample) to cluster rows without images")
    if isinstance(item, np.ndarray):
        array = np.asarray(item, dtype=np.float64)
        span = float(array.max() - array.min()) or 1.0
        image = Image.fromarray(((array - array.min()) / span * 255).astype(np.uint8))
    else:
        source = io.BytesIO(item) if isinstance(item, bytes) else Path(item)
        image = Image.open(source)
    grey = image.convert("L").resize((SIDE, SIDE), Image.Resampling.BILINEAR)
    return np.asarray(grey, dtype=np.float32).reshape(-1) / 255.0
