"""The sample itself, per page: feature values as display text, texts, image thumbnails.

Thumbnails are small PNG data URLs made in the kernel for the rows of one page only.

>>> import numpy as np
>>> png_data_url(np.eye(4)).startswith("data:image/png;base64,")
True
"""

from __future__ import annotations

import base64
import io
import math
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

THUMB_PX = 64
DETAIL_PX = 512
_MAX_FILE_BYTES = 50_000_000


def display_values(column: pd.Series, digits: int | None = 4) -> list[str | None]:
    """Values of one feature column as display text, floats to ``digits`` significant digits
    (the grid's short form) or exact (``None``: the detail panel), None for missing.

    >>> display_values(pd.Series([1.0, float("nan"), 0.123456789]))
    ['1', None, '0.1235']
    >>> display_values(pd.Series([0.1, 0.123456789]), digits=None)
    ['0.1', '0.123456789']
    """
    out: list[str | None] = []
    for value in column.tolist():
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
            out.append(None)
        elif isinstance(value, float):
            out.append(repr(value) if digits is None else f"{value:.{digits}g}")
        else:
            out.append(str(value))
    return out


def _png(pixels: np.ndarray) -> bytes:
    """Encode an (h, w) grey or (h, w, 3|4) uint8 array as PNG (zlib only, no imaging library)."""
    height, width = pixels.shape[:2]
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    colour = {1: 0, 3: 2, 4: 6}[channels]
    raw = np.zeros((height, 1 + width * channels), dtype=np.uint8)
    raw[:, 1:] = pixels.reshape(height, width * channels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)) + chunk(b"IEND", b""))


def _to_uint8(image: np.ndarray) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise ValueError(f"an image must be (h, w) or (h, w, 1|3|4), got shape {array.shape}")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.dtype == np.uint8:
        return array
    values = array.astype(np.float64)
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    scale = 255.0 / (high - low) if high > low else 0.0
    return np.nan_to_num((values - low) * scale).clip(0, 255).astype(np.uint8)


def png_data_url(image: np.ndarray, size: int = THUMB_PX) -> str:
    """A PNG data URL of ``image`` fitted into ``size`` × ``size`` (nearest neighbour), with
    values rescaled to 0-255 unless already uint8."""
    pixels = _to_uint8(image)
    height, width = pixels.shape[:2]
    factor = size / max(height, width)
    rows = np.minimum((np.arange(max(1, round(height * factor))) / factor).astype(int), height - 1)
    cols = np.minimum((np.arange(max(1, round(width * factor))) / factor).astype(int), width - 1)
    small = np.ascontiguousarray(pixels[rows][:, cols])
    return "data:image/png;base64," + base64.b64encode(_png(small)).decode("ascii")


def _file_png(source: str | bytes | Path, size: int) -> tuple[str, int, int]:
    """A PNG data URL of an image file fitted into ``size`` px, and the file's own size."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("thumbnails of image files or bytes need Pillow: pip install pillow; "
                          "or pass the images as a numpy array (n, h, w[, c])") from None
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    if len(data) > _MAX_FILE_BYTES:
        raise ValueError(f"image of {len(data):,} bytes is too large for a thumbnail")
    with Image.open(io.BytesIO(data)) as img:
        width, height = img.size
        img.thumbnail((size, size))
        out = io.BytesIO()
        img.convert("RGBA" if "A" in img.getbands() else "RGB").save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii"), \
        width, height


class Images:
    """Images of an analysis' rows: an array (n, h, w[, c]) in row order, or a sequence / Series
    (indexed by sample id) of file paths or encoded bytes.

    >>> imgs = Images(np.zeros((3, 8, 8)), pd.Index(["a", "b", "c"]))
    >>> imgs.thumbnails(np.array([2]))[0][:22]
    'data:image/png;base64,'
    """

    def __init__(self, images: Any, ids: pd.Index, size: int = THUMB_PX) -> None:
        self.size = size
        if isinstance(images, np.ndarray):
            if images.ndim not in (3, 4) or len(images) != len(ids):
                raise ValueError(
                    f"image array must be (n, h, w) or (n, h, w, c) with n = {len(ids)} rows, "
                    f"got shape {images.shape}"
                )
            self._array: np.ndarray | None = images
            self._items: Sequence[Any] = ()
            return
        if isinstance(images, pd.Series):
            missing = ids.difference(images.index)
            if len(missing):
                raise ValueError(f"image Series lacks {len(missing)} sample ids, e.g. "
                                 f"{missing[:3].tolist()}")
            items = images.reindex(ids).tolist()
        else:
            items = list(images)
        if len(items) != len(ids):
            raise ValueError(f"got {len(items)} images for {len(ids)} rows; pass one per row")
        self._array, self._items = None, items

    def thumbnails(self, positions: np.ndarray) -> list[str | None]:
        """PNG data URLs of the rows at ``positions`` (None where an image is missing)."""
        out: list[str | None] = []
        for pos in positions.tolist():
            if self._array is not None:
                out.append(png_data_url(self._array[pos], self.size))
                continue
            item = self._items[pos]
            if item is None or (isinstance(item, float) and math.isnan(item)):
                out.append(None)
            elif isinstance(item, np.ndarray):
                out.append(png_data_url(item, self.size))
            else:
                out.append(_file_png(item, self.size)[0])
        return out

    def large(self, position: int, size: int = DETAIL_PX) -> dict[str, Any] | None:
        """One row's image for the detail panel: ``src`` (a PNG data URL at the image's own
        size, or fitted into ``size`` px when larger) and the image's own ``width`` and
        ``height`` (the browser scales tiny ones up, pixelated); None when it is missing.

        >>> Images(np.zeros((1, 8, 8)), pd.Index(["a"])).large(0)["width"]
        8
        """
        item = self._array[position] if self._array is not None else self._items[position]
        if item is None or (isinstance(item, float) and math.isnan(item)):
            return None
        if isinstance(item, np.ndarray):
            height, width = item.shape[:2]
            src = png_data_url(item, min(size, max(height, width)))
        else:
            src, width, height = _file_png(item, size)
        return {"src": src, "width": int(width), "height": int(height)}
