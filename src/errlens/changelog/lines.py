"""Sealed lines of a changelog: bytes scanned into checked lines, a write sealed, and where
the finished writes end (the first lines of a write cut short by a crash are not finished).

Pure functions over bytes; :mod:`~errlens.changelog.logfile` does the file I/O with them.

>>> lines, _ = seal_write([{"type": "event", "a": 1}, {"type": "event", "a": 2}], "")
>>> data = "".join(line + "\\n" for line in lines).encode()
>>> [line.obj["a"] for line in scan(data, prev="").lines], finished(data[:-2], prev="")
([1, 2], 0)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from errlens.changelog.events import (
    CLOSING,
    HASH_SUFFIX,
    MAX_LINE_BYTES,
    SUFFIX_LEN,
    canonical,
    seal,
    split_line,
)
from errlens.changelog.jsonline import duplicate_key, expected_colons, n_keys, strict_loads

#: Key of a line's place ``[k, n]`` in a write of ``n > 1`` lines (format section 5).
BATCH_KEY = "batch"


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
    torn: bytes | memoryview = b""
    consumed: int = 0
    last_hash: str = ""

    @property
    def lines(self) -> list[Line]:
        """The good lines as :class:`Line` records."""
        return [Line(n, o) for n, o in zip(self.linenos, self.objs, strict=True)]


_NO_HASH = "the line has no hash at its end: it was edited by hand or written by another program"
_BAD_END = ('the line does not end with the exact bytes \'"}\' after its hash: it was edited '
            'by hand or written by another program')
_BROKEN = "the hash chain is broken here"


def _broken(lineno: int) -> str:
    """Why a link breaks at ``lineno``; the hashes alone cannot tell this line edited from
    the line before it edited with its own hash recomputed, so both are named."""
    if lineno == 1:
        return f"{_BROKEN}: the first line was edited, or lines before it were deleted"
    return (f"{_BROKEN}: this line was edited, or line {lineno - 1} was edited and its hash "
            f"recomputed, or a line between them was deleted, inserted or moved")
_TOO_LONG = (f"the line is longer than {MAX_LINE_BYTES:,} bytes, the most a changelog line "
             f"holds: this is not a changelog, or the line was damaged")
_CHUNK_BYTES = 1 << 20


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

    The last line may lack its newline (an editor removed it): if its hash link holds it is
    a complete line and read as one (the next writer adds the newline first); otherwise it
    is ``torn``, an interrupted write. A newline that starts the data read after earlier
    lines ends the last of them, added since by a writer (it is skipped).
    """
    if data[start:start + 1] == b"\n" and (data[start - 1:start] != b"\n" if start else
                                           first_lineno > 1):
        start += 1
    end = max(data.rfind(b"\n") + 1, start)
    lineno = first_lineno - 1
    prev_b = prev.encode()
    while True:
        block = Scan(last_hash=prev)
        budget = _CHUNK_BYTES
        while start < end and len(block.linenos) + len(block.problems) < size:
            cut = data.rfind(b"\n", start, start + budget) + 1
            if not cut:  # a line longer than a chunk
                cut = data.index(b"\n", start) + 1
                if cut - start > MAX_LINE_BYTES:  # refused unread: no copy, no parse
                    lineno += 1
                    block.problems.append((lineno, _TOO_LONG))
                    prev_b = _stored_hash(data, cut - 1) or prev_b
                    start = cut
                    continue
            text = data[start:cut - 1]
            raws = text.split(b"\n")
            if len(raws) > size - len(block.linenos) - len(block.problems):
                raws = raws[: max(1, size - len(block.linenos) - len(block.problems))]
                cut = start + sum(map(len, raws)) + len(raws)
                text = data[start:cut - 1]
            prev_b = _scan_chunk(raws, text.count(b":"), start, lineno, prev_b, block)
            lineno += len(raws)
            start = cut
        block.last_hash = prev_b.decode("ascii", "replace")
        prev = block.last_hash
        if start >= end:
            block.torn, block.consumed = memoryview(data)[end:], end  # no copy of a huge tail
            if block.torn and _whole_line(block.torn, prev_b):
                last = bytes(block.torn)
                _scan_chunk([last], last.count(b":"), end, lineno, prev_b, block)
                block.last_hash = last[-66:-2].decode("ascii")
                block.torn, block.consumed = b"", len(data)
            yield block
            return
        yield block


def _stored_hash(data: bytes, stop: int) -> bytes | None:
    """The hash a line ending at ``stop`` carries (to go on checking after it), if any."""
    tail = data[max(0, stop - SUFFIX_LEN):stop]
    return tail[-66:-2] if tail[:-66] == HASH_SUFFIX and tail[-2:] == CLOSING else None


def _unsealed(raw: bytes) -> str:
    """Why a line is not sealed: a hash followed by other bytes than ``"}``, or no hash."""
    at = raw.rfind(HASH_SUFFIX) + len(HASH_SUFFIX)
    quote = at + 64
    return _BAD_END if at >= len(HASH_SUFFIX) and raw[quote:quote + 1] == b'"' else _NO_HASH


def _whole_line(tail: bytes | memoryview, prev_b: bytes) -> bool:
    """True if ``tail`` (the bytes after the last newline) is a complete line whose hash link
    holds and that ends its write: only its newline is missing."""
    parts = split_line(bytes(tail)) if len(tail) <= MAX_LINE_BYTES else None
    if parts is None or hashlib.sha256(b"%b\n%b" % (prev_b, parts[0])).hexdigest().encode() \
            != parts[1]:
        return False
    place = _place(bytes(tail))
    return place is None or place[0] == place[1]  # not the first line(s) of a write cut short


def _scan_chunk(raws: list[bytes], colons: int, start: int, lineno: int,
                prev_b: bytes, block: Scan) -> bytes:
    """Hash-check and parse consecutive lines (``start``: byte offset of the first, ``lineno``:
    number of the line before it, ``prev_b``: the hash before it) into ``block``; returns the
    last stored hash. ``colons`` counts the ':' in the lines, to rule out repeated keys."""
    sha, loads, suffix, least = hashlib.sha256, orjson.loads, HASH_SUFFIX, SUFFIX_LEN + 2
    objs: list[Any] = []
    digests, stored, hashed, failed = [], [], [], []
    for k, raw in enumerate(raws):
        if len(raw) < least or raw[-SUFFIX_LEN:-66] != suffix or raw[-2:] != CLOSING:
            block.problems.append((lineno + k + 1, _unsealed(raw)))
            continue
        joined = b"%b\n%b}" % (prev_b, raw[:-SUFFIX_LEN])
        body = memoryview(joined)[len(prev_b) + 1:]
        prev_b = raw[-66:-2]
        digests.append(sha(joined).digest())
        stored.append(prev_b)
        hashed.append(k)
        try:
            objs.append(loads(body))
        except orjson.JSONDecodeError as exc:
            try:
                objs.append(strict_loads(bytes(body), exc))
            except ValueError as err:
                block.problems.append((lineno + k + 1, f"not valid JSON ({err})"))
                failed.append(len(objs))
                objs.append(None)
    if b"".join(digests).hex().encode() != b"".join(stored):
        block.problems += [(lineno + k + 1, _broken(lineno + k + 1))
                           for k, d, h in zip(hashed, digests, stored, strict=True)
                           if d.hex().encode() != h]
    # orjson keeps the last of repeated keys silently. A chunk with no more ':' than its
    # keys read and its timestamps need has none (a line whose timestamp lacks them is
    # refused anyway); otherwise each line with more '":' than keys is parsed again
    if colons != expected_colons(objs) or len(hashed) < len(raws):
        for i, k in enumerate(hashed):
            raw = raws[k]
            if objs[i] is not None and raw.count(b'":') > n_keys(objs[i]) + 1:
                message = duplicate_key(raw[:-SUFFIX_LEN] + b"}")
                if message is not None:
                    block.problems.append((lineno + k + 1, message))
                    failed.append(i)
    if block.problems:
        block.problems.sort(key=lambda p: (p[0], not p[1].startswith(_BROKEN)))
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


def seal_write(objs: list[dict[str, Any]], prev: str) -> tuple[list[str], str]:
    """Sealed lines of one write, and the last hash. In a write of several lines each line
    carries its place as ``"batch": [k, n]``, so readers can tell a write cut short.

    >>> lines, _ = seal_write([{"type": "event", "a": 1}, {"type": "event", "a": 2}], "")
    >>> [orjson.loads(line)["batch"] for line in lines]
    [[1, 2], [2, 2]]
    """
    n, lines = len(objs), []
    for k, obj in enumerate(objs, 1):
        line, prev = seal(canonical({**obj, BATCH_KEY: [k, n]} if n > 1 else obj), prev)
        lines.append(line)
    return lines, prev


def without_cut_short(data: bytes, prev: str | None = None) -> bytes:
    """``data`` without the lines of a write cut short (see :func:`finished`); a torn last
    line after finished writes is kept, for the reader to report."""
    cut = finished(data, prev)
    return data if cut >= data.rfind(b"\n") + 1 else data[:cut]


def finished(data: bytes, prev: str | None = None) -> int:
    """How many leading bytes of ``data`` are finished writes: all complete lines, except
    the first ``k`` lines of a write of ``n > k`` (a crash cut it short; it was never
    acknowledged). ``data`` starts where a write starts, after hash ``prev`` (None: unknown).

    Only the last line is looked at (also one whose newline an editor removed), unless it
    says it is not the last of its write; those lines count as cut short only if their hash
    links hold, so an edited line is reported as damage by the readers, never dropped.

    >>> lines, _ = seal_write([{"a": 1}, {"a": 2}, {"a": 3}], "")
    >>> data = "".join(line + "\\n" for line in lines).encode()
    >>> finished(data) == len(data), finished(data[:-2], prev=""), finished(b"{")
    (True, 0, 0)
    """
    end = data.rfind(b"\n") + 1
    place = _place(data[end:]) if end < len(data) else None
    if place is not None:  # a last line without its newline, that says its place
        if place[0] == place[1]:
            return len(data)
        start, last = end, len(data)
    elif not end:
        return 0
    else:
        start, last = data.rfind(b"\n", 0, end - 1) + 1, end - 1
        place = _place(data[start:last])
        if place is None or place[0] == place[1]:
            return end
    for _ in range(place[0] - 1):
        if start == 0:
            return end  # the write began before data: not ours to judge
        start = data.rfind(b"\n", 0, start - 1) + 1
    lines = data[start:last].split(b"\n")
    if [_place(line) for line in lines] != [(k, place[1]) for k in range(1, place[0] + 1)]:
        return end
    if start:
        before = split_line(data[data.rfind(b"\n", 0, start - 1) + 1:start - 1])
        prev = None if before is None else before[1].decode("ascii", "replace")
    if prev is None:  # the first line's own link cannot be checked: check the others
        checked = scan(data[start:end], prev="", first_lineno=1)
        ok = not [p for p in checked.problems if p[0] > 1]
    else:
        ok = not scan(data[start:end], prev=prev).problems
    return start if ok else end


def _place(line: bytes) -> tuple[int, int] | None:
    """``(k, n)`` if ``line`` is the k-th of a write of n lines, else None."""
    if b'"batch":[' not in line:
        return None
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    place = obj.get(BATCH_KEY) if isinstance(obj, dict) else None
    if isinstance(place, list) and len(place) == 2 and all(type(v) is int for v in place) \
            and 1 <= place[0] <= place[1]:
        return place[0], place[1]
    return None
