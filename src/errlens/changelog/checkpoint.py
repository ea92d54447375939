"""Checkpoints: a local memo of reading a big log, so reopening it skips the per-line work.

Reading a log checks every line (one SHA-256 and one JSON parse each, then column checks);
at a million events that is seconds. After such a read errlens saves the resulting
:class:`~errlens.changelog.columns.Columns` (codes, sequence numbers, parent rows, event ids)
in the user's cache folder, together with the SHA-256 of the exact bytes they were read from.
The next open hashes the file's first bytes in one call and, only if they are byte for byte
those bytes, restores the columns and reads just the lines appended since. Any change to an
earlier byte (an edited, deleted or reordered line) changes the digest, so the file is read
and checked line by line again and the damage reported as always.

Why this keeps the log tamper-evident: a checkpoint is a memo of *this user's* earlier full
check of *these exact bytes*. It lives in the cache folder (``$ERRLENS_CACHE_DIR``, else
``$XDG_CACHE_HOME/errlens``, else ``~/.cache/errlens``), never beside the log, so a log
received by email or git never brings one; ``verify`` never uses one. Set
``ERRLENS_CACHE_DIR=off`` to disable checkpoints.

>>> where = checkpoint_path("labels.jsonl")  # None if ERRLENS_CACHE_DIR=off
>>> where is None or where.endswith(".npz")
True
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import orjson

from errlens.changelog import column_checks, columns, events, jsonline, logfile
from errlens.changelog.columns import Columns, read_columns
from errlens.changelog.errors import ChangelogError
from errlens.changelog.lines import Scan
from errlens.changelog.safe_files import atomic_write

#: Logs with fewer events read fast enough without a checkpoint.
MIN_EVENTS = 50_000
#: A checkpoint is rewritten once this many events were appended after it.
REFRESH_EVENTS = 50_000
#: A checkpoint not saved or used for this many days is deleted when another is saved.
UNUSED_DAYS = 30
#: Fewer bytes than this per event are rare (errlens' own lines are 250-500 bytes).
_BYTES_PER_EVENT = 150
_ARRAYS = ("linenos", "offsets", "op", "sample", "label", "origin", "author", "oseq",
           "n_parents", "parent_rows")
_TABLES = ("samples", "labels", "origins", "authors")
_TYPES: dict[str, type] = {t.__name__: t for t in (type(None), str, int, float, bool)}


@functools.cache
def reader_version() -> str:
    """Digest of the code that builds columns: a checkpoint made by other code is ignored."""
    digest = hashlib.sha256()
    for source in (column_checks.__file__, columns.__file__, events.__file__, jsonline.__file__,
                   logfile.__file__, __file__):
        with open(source or "", "rb") as fh:
            digest.update(fh.read())
    return "errlens-checkpoint-1/" + digest.hexdigest()[:16]


def checkpoint_path(log_path: str) -> str | None:
    """Where the checkpoint of a log lives (one per log path), or None if disabled."""
    folder = os.environ.get("ERRLENS_CACHE_DIR")
    if folder is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = os.path.join(base, "errlens")
    elif folder.strip().lower() in ("", "off", "0", "none"):
        return None
    key = hashlib.sha256(os.path.realpath(log_path).encode()).hexdigest()[:32]
    return os.path.join(folder, "changelog-checkpoints", key + ".npz")


def open_columns(path: str, data: bytes) -> tuple[Any, Columns, Scan]:
    """:func:`~errlens.changelog.columns.read_columns` that starts from the log's checkpoint
    when it still matches, and saves a new one after reading many events."""
    resume = restore(path, data)
    known, start = (len(resume[1]), resume[2]) if resume else (0, 0)
    end = data.rfind(b"\n") + 1  # what a successful read covers
    with ThreadPoolExecutor(1) as pool:
        # a big read may end in a save: hash the bytes meanwhile, on another core
        digest = pool.submit(_digest, data, end) if checkpoint_path(path) is not None and \
            end - start >= _BYTES_PER_EVENT * min(MIN_EVENTS, REFRESH_EVENTS) else None
        header, cols, block = read_columns(path, data, resume)
        if len(cols) >= MIN_EVENTS and (resume is None or len(cols) - known >= REFRESH_EVENTS):
            save(path, header, cols, block.consumed, block.last_hash,
                 digest.result() if digest is not None and block.consumed == end else None)
    return header, cols, block


def restore(log_path: str, data: bytes) -> tuple[Any, Columns, int, str] | None:
    """The header, columns, bytes covered and last hash saved for ``log_path``, if its
    checkpoint exists and ``data`` starts with exactly the bytes it was read from."""
    where = checkpoint_path(log_path)
    if where is None or not os.path.exists(where):
        return None
    try:
        with np.load(where, allow_pickle=False) as saved, ThreadPoolExecutor(1) as pool:
            meta = orjson.loads(saved["meta"].tobytes())
            covered = meta["covered"]
            if meta["format"] != reader_version() or covered > len(data) or \
                    meta["path"] != os.path.realpath(log_path):
                return None
            # hashlib lets go of the GIL on big buffers: hash while the columns are rebuilt
            digest = pool.submit(_digest, data, covered)
            cols = _columns(data, saved, meta)
            if digest.result() != meta["digest"]:
                return None
    except Exception:  # a checkpoint only saves time: if it is unusable, read the log
        return None
    with contextlib.suppress(OSError):
        os.utime(where)  # in use: see forget_unused
    return meta["header"], cols, covered, meta["last_hash"]


def _digest(data: bytes, size: int) -> str:
    return hashlib.sha256(memoryview(data)[:size]).hexdigest()


def _columns(data: bytes, saved: Any, meta: dict[str, Any]) -> Columns:
    cols = Columns(data)
    for name in _ARRAYS:
        column = getattr(cols, name)
        column.frombytes(saved[name].astype(np.dtype(column.typecode), copy=False).tobytes())
    cols.event_ids = orjson.loads(saved["event_ids"].tobytes())
    cols.by_id = dict(zip(cols.event_ids, range(len(cols.event_ids)), strict=True))
    for name in _TABLES:
        values = meta[name]
        setattr(cols, name, dict(zip(values, range(len(values)), strict=True)))
    cols._label_types = {_TYPES[t] for t in meta["label_types"]}
    cols.flagged = set(saved["flagged"].tolist())
    cols.exact = {row: cols.event(row) for row in saved["exact"].tolist()}
    if len(cols.by_id) != len(cols) or any(len(getattr(cols, a)) != len(cols)
                                           for a in _ARRAYS if a != "parent_rows"):
        raise ValueError("inconsistent checkpoint")
    return cols


def save(log_path: str, header: Any, cols: Columns, covered: int, last_hash: str,
         digest: str | None = None) -> None:
    """Save the columns read from the first ``covered`` bytes of ``cols.data`` (``digest``:
    their SHA-256, if already known); quietly does nothing if checkpoints are disabled, the
    folder is not writable or a value cannot be stored exactly (e.g. a NaN label)."""
    where = checkpoint_path(log_path)
    if where is None:
        return
    tables = {name: list(getattr(cols, name)) for name in _TABLES}
    try:
        meta = orjson.dumps({
            "format": reader_version(), "path": os.path.realpath(log_path), "covered": covered,
            "digest": digest or _digest(cols.data, covered),
            "last_hash": last_hash, "header": header,
            "label_types": sorted(t.__name__ for t in cols._label_types), **tables})
        ids = orjson.dumps(cols.event_ids)
    except (TypeError, orjson.JSONEncodeError):
        return
    back = orjson.loads(meta)
    if any(back[name] != values or list(map(type, back[name])) != list(map(type, values))
           for name, values in tables.items()):
        return  # e.g. NaN, which JSON cannot carry
    arrays = {name: np.frombuffer(getattr(cols, name), dtype=getattr(cols, name).typecode)
              for name in _ARRAYS}
    arrays.update(meta=np.frombuffer(meta, np.uint8), event_ids=np.frombuffer(ids, np.uint8),
                  flagged=np.array(sorted(cols.flagged), np.int64),
                  exact=np.array(sorted(cols.exact), np.int64))
    folder = os.path.dirname(os.path.abspath(where))
    try:
        os.makedirs(folder, exist_ok=True)
        # readers see the old checkpoint or the new one, never half; no fsync (0.2 s at 1M
        # events): a checkpoint a crash left torn fails its zip CRCs in restore(), which
        # then reads the log
        atomic_write(where, lambda fh: np.savez(fh, allow_pickle=False, **arrays),
                     overwrite=True, durable=False)
    except (OSError, ChangelogError):  # e.g. a full disk, or a changelog at that path
        return
    forget_unused(folder)


def forget_unused(folder: str, days: float = UNUSED_DAYS) -> list[str]:
    """Delete the checkpoints in ``folder`` not saved or used for ``days`` (logs moved or
    deleted leave theirs behind); returns their paths."""
    cutoff, gone = time.time() - days * 86_400, []
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if entry.name.endswith((".npz", ".tmp")) and entry.stat().st_mtime < cutoff:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    gone.append(entry.path)
    return gone


__all__ = [
    "MIN_EVENTS",
    "REFRESH_EVENTS",
    "UNUSED_DAYS",
    "checkpoint_path",
    "forget_unused",
    "open_columns",
    "restore",
    "save",
]
