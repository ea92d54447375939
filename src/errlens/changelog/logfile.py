"""The changelog file on disk: create, scan, append durably under a lock, repair a torn tail.

Every append is one ``write`` of whole lines followed by ``fsync``, done while holding a
``filelock`` lock, so several processes can append to one file without losing or
interleaving lines. A crash can only leave an incomplete *last* line (never acknowledged);
it is detected by the missing newline and cut off.

>>> import tempfile, os
>>> p = os.path.join(tempfile.mkdtemp(), "x.jsonl")
>>> log = LogFile(p)
>>> _ = log.create({"type": "header", "schema_version": 1})
>>> scan(open(p, "rb").read(), prev="").problems
[]
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
from filelock import FileLock, Timeout

from errlens.changelog.errors import ChangelogError
from errlens.changelog.events import HASH_SUFFIX, SUFFIX_LEN, canonical, seal

LOCK_TIMEOUT_S = 30.0


@dataclass
class Line:
    """One sealed line: 1-based line number, parsed JSON object, its hash."""

    lineno: int
    obj: Any


@dataclass
class Scan:
    """Result of reading bytes of a log: good lines (as parallel columns), problems, torn
    tail, bytes consumed.

    ``linenos``, ``objs`` and ``offsets`` (where each line starts in the data) describe the
    lines that carry a hash and parse as JSON.
    """

    linenos: list[int] = field(default_factory=list)
    objs: list[Any] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    torn: bytes = b""
    consumed: int = 0
    last_hash: str = ""

    @property
    def lines(self) -> list[Line]:
        """The good lines as :class:`Line` records."""
        return [Line(n, o) for n, o in zip(self.linenos, self.objs, strict=True)]


_NO_HASH = "the line has no hash at its end: it was edited by hand or written by another program"
_BROKEN = ("the hash chain is broken here: this line was edited, or a line just before it was "
           "deleted, inserted or moved")
_CHUNK_BYTES = 1 << 20


def parse_json(data: bytes | memoryview) -> Any:
    """Parse JSON with orjson, falling back to the standard library for what orjson refuses
    (NaN, huge integers), so both accept exactly the same files."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(bytes(data))


def scan(data: bytes, prev: str, first_lineno: int = 1) -> Scan:
    """Check the hash chain of complete lines in ``data``, starting after hash ``prev``.

    A broken link is reported at its line and the stored hash is trusted from there on, so
    one edited line yields one problem and the rest of the file is still checked.
    """
    out = Scan(last_hash=prev)
    for block in scan_blocks(data, prev, first_lineno, size=1 << 62):
        for name in ("linenos", "objs", "offsets", "problems"):
            getattr(out, name).extend(getattr(block, name))
        out.torn, out.consumed, out.last_hash = block.torn, block.consumed, block.last_hash
    return out


def scan_blocks(data: bytes, prev: str, first_lineno: int = 1,
                size: int = 8_000, start: int = 0) -> Iterator[Scan]:
    """:func:`scan` in blocks of about ``size`` lines, so a caller can consume each block's
    parsed lines before the next is built (peak memory stays a fraction of the file's).

    Every block carries the running ``last_hash``; the last one also ``torn`` and
    ``consumed`` (bytes of complete lines, counted from the start of ``data``). Lines are
    hashed and parsed in one pass (orjson; one SHA-256 per line, as the format requires).
    ``start`` is the byte where the first line to read begins (offsets stay those of ``data``).
    """
    end = max(data.rfind(b"\n") + 1, start)
    lineno = first_lineno - 1
    prev_b = prev.encode()
    while True:
        block = Scan(last_hash=prev)
        budget = _CHUNK_BYTES
        while start < end and len(block.linenos) + len(block.problems) < size:
            cut = data.rfind(b"\n", start, start + budget) + 1 or data.index(b"\n", start) + 1
            raws = data[start:cut - 1].split(b"\n")
            if len(raws) > size - len(block.linenos) - len(block.problems):
                raws = raws[: max(1, size - len(block.linenos) - len(block.problems))]
                cut = start + sum(map(len, raws)) + len(raws)
            prev_b = _scan_chunk(raws, start, lineno, prev_b, block)
            lineno += len(raws)
            start = cut
        block.last_hash = prev_b.decode("ascii", "replace")
        prev = block.last_hash
        if start >= end:
            block.torn, block.consumed = data[end:], end
            yield block
            return
        yield block


def _scan_chunk(raws: list[bytes], start: int, lineno: int, prev_b: bytes,
                block: Scan) -> bytes:
    """Hash-check and parse consecutive lines (``start``: byte offset of the first, ``lineno``:
    number of the line before it, ``prev_b``: the hash before it) into ``block``; returns the
    last stored hash."""
    sha, loads, suffix, least = hashlib.sha256, orjson.loads, HASH_SUFFIX, SUFFIX_LEN + 2
    objs: list[Any] = []
    digests, stored, hashed, failed = [], [], [], []
    for k, raw in enumerate(raws):
        if len(raw) < least or raw[-SUFFIX_LEN:-66] != suffix:
            block.problems.append((lineno + k + 1, _NO_HASH))
            continue
        joined = b"%b\n%b}" % (prev_b, raw[:-SUFFIX_LEN])
        body = memoryview(joined)[len(prev_b) + 1:]
        prev_b = raw[-66:-2]
        digests.append(sha(joined).digest())
        stored.append(prev_b)
        hashed.append(k)
        try:
            objs.append(loads(body))
        except orjson.JSONDecodeError:
            try:
                objs.append(json.loads(bytes(body)))
            except ValueError as exc:
                block.problems.append((lineno + k + 1, f"not valid JSON ({exc})"))
                failed.append(len(objs))
                objs.append(None)
    if b"".join(digests).hex().encode() != b"".join(stored):
        block.problems += [(lineno + k + 1, _BROKEN) for k, d, h in zip(hashed, digests, stored,
                                                                       strict=True)
                           if d.hex().encode() != h]
    if block.problems:
        block.problems.sort(key=lambda p: (p[0], p[1] != _BROKEN))
    lengths = np.fromiter(map(len, raws), np.int64, len(raws)) + 1
    offsets = (start + np.cumsum(lengths) - lengths).tolist()
    if failed:
        gone = set(failed)
        hashed = [k for i, k in enumerate(hashed) if i not in gone]
        objs = [o for i, o in enumerate(objs) if i not in gone]
    block.linenos += [lineno + k + 1 for k in hashed] if len(hashed) < len(raws) else \
        list(range(lineno + 1, lineno + len(raws) + 1))
    block.objs += objs
    block.offsets += [offsets[k] for k in hashed] if len(hashed) < len(raws) else offsets
    return prev_b


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while loading many acyclic objects.

    Replaying a log allocates millions of small objects and no cycles; the collector's
    repeated full scans would otherwise make loading quadratic in practice.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def check_new_file(path: str, *, overwrite: bool, how: str) -> None:
    """Refuse an output path that is a folder, sits in a missing folder, or (unless
    ``overwrite``) exists; ``how`` says how to overwrite (e.g. ``"add --force"``)."""
    if os.path.isdir(path):
        raise ChangelogError(f"{path} is a folder; give a file name inside it")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ChangelogError(f"the folder {folder} does not exist; create it first")
    if os.path.exists(path) and not overwrite:
        raise ChangelogError(f"{path} already exists; choose a new file name, or {how} to "
                             f"replace it")


def fsync_dir(path: str) -> None:
    """Make a new directory entry durable (POSIX; a no-op where directories can't be opened)."""
    try:
        fd = os.open(os.path.dirname(os.path.abspath(path)) or ".", os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LogFile:
    """Low-level access to one changelog file (see :func:`scan` and :meth:`append`)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._lock = FileLock(self.path + ".lock", timeout=LOCK_TIMEOUT_S)

    def exists(self) -> bool:
        """True if the file exists (an empty file counts: it is reported as damaged)."""
        return os.path.exists(self.path)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the writer lock (re-entrant within this object)."""
        try:
            with self._lock:
                yield
        except Timeout:
            raise ChangelogError(
                f"{self.path} is locked by another process for more than {LOCK_TIMEOUT_S:.0f} s; "
                f"close the other program writing it (or delete {self.path}.lock if none is "
                f"running)") from None

    def create(self, header: dict[str, Any]) -> str:
        """Write the header as the first line of a new file; returns the header hash."""
        line, digest = seal(canonical(header), prev="")
        with self.locked():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                raise ChangelogError(f"{self.path} already exists") from None
            try:
                os.write(fd, (line + "\n").encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            fsync_dir(self.path)
        return digest

    def read(self, offset: int = 0) -> bytes:
        """Bytes of the file from ``offset`` to its current end."""
        with open(self.path, "rb") as fh:
            fh.seek(offset)
            return fh.read()

    def size(self) -> int:
        """Current file size in bytes."""
        return os.path.getsize(self.path)

    def truncate(self, size: int) -> None:
        """Cut the file at ``size`` (only ever used to drop a torn, unacknowledged tail)."""
        with self.locked():
            fd = os.open(self.path, os.O_WRONLY)
            try:
                os.ftruncate(fd, size)
                os.fsync(fd)
            finally:
                os.close(fd)

    def append(self, lines: list[str]) -> int:
        """Append whole lines in one write and fsync; call while holding :meth:`locked`.

        Returns the new file size. Raises (without acknowledging) if the disk write fails.
        """
        data = "".join(line + "\n" for line in lines).encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
            os.fsync(fd)
            return os.fstat(fd).st_size
        finally:
            os.close(fd)
