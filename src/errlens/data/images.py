"""One image per row, declared beside the features (``from_predictions(..., images=...)``).

Images are kept out of the tabular features: the suspect browser shows them as thumbnails and
``with_clusters`` derives embeddings from their pixels. They come as the suspect browser takes
them: an (n, h, w[, c]) array in row order, or one item per row (an array, a file path or
encoded bytes), given as a column name of the data, a sequence, or a Series by sample id.

>>> import numpy as np, pandas as pd
>>> resolve_images(np.zeros((2, 4, 4)), pd.DataFrame({"x": [1, 2]}), pd.Index(["a", "b"])).shape
(2, 4, 4)
>>> resolve_images("img", pd.DataFrame({"img": ["a.png", "b.png"]}),
...                pd.Index(["a", "b"])).tolist()
['a.png', 'b.png']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from errlens.base.inputs import preview


def resolve_images(images: Any, frame: pd.DataFrame, ids: pd.Index) -> np.ndarray | pd.Series:
    """``images`` checked: an (n, h, w[, c]) array, or a Series by sample id with one array,
    path or bytes (or None) per row. A string names a column of ``frame`` (positionally aligned
    with ``ids``)."""
    n = len(ids)
    if isinstance(images, str):
        if images not in frame.columns:
            raise KeyError(f"images={images!r} is not a column of data; columns are: "
                           f"{preview(frame.columns)}")
        return pd.Series(frame[images].to_numpy(dtype=object), index=ids, name="images")
    if isinstance(images, np.ndarray) and images.dtype != object:
        if images.ndim not in (3, 4) or len(images) != n:
            raise ValueError(f"images must be an (n, h, w) or (n, h, w, c) array with n = {n} "
                             f"rows, got shape {images.shape}; or one path / bytes per row")
        if images.ndim == 4 and images.shape[3] not in (1, 3, 4):
            raise ValueError(f"images has {images.shape[3]} channels; use 1, 3 or 4 "
                             f"(shape (n, h, w, c))")
        return images
    if isinstance(images, pd.Series):
        if images.index.isin(ids).all() and len(images) == n:
            return images.reindex(ids).rename("images")
        if len(images) != n:
            raise ValueError(f"got {len(images)} images for {n} rows; pass one per row")
        return pd.Series(images.to_numpy(dtype=object), index=ids, name="images")
    try:
        items = list(images)
    except TypeError:
        raise TypeError(f"images must be a column name, an (n, h, w[, c]) array or a sequence "
                        f"of arrays / paths / bytes, got {type(images).__name__}") from None
    if len(items) != n:
        raise ValueError(f"got {len(items)} images for {n} rows; pass one per row")
    values = np.empty(n, dtype=object)
    for i, item in enumerate(items):  # one by one: arrays stay whole, never stacked
        values[i] = item
    return pd.Series(values, index=ids, name="images")
