"""The changelog file on disk: create, append durably under a lock, repair a torn tail (the
lines themselves are checked and sealed by :mod:`~errlens.changelog.lines`).

Every append is one ``write`` of whole lines followed by ``fsync``, done while holding an
exclusive ``flock`` on the log file itself (one lock per file, however its path is spelled),
so several processes can append to one file without losing or interleaving lines. A write
is all or nothing: a failed one is cut back before the error is raised, and the lines of a
write cut short by a crash (a torn last line, or the first ``k`` lines of a write of ``n``,
each marked ``"batch": [k, n]``) are never acknowledged, left out by readers and cut off
by the next writer.

>>> import tempfile, os
>>> p = os.path.join(tempfile.mkdtemp(), "x.jsonl")
>>> log = LogFile(p)
>>> _ = log.create({"type": "header", "schema_version": 1})
>>> log.exists(), open(p, "rb").read().count(b"\\n")
(True, 1)
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from filelock import lock_descriptor, unlock_descriptor

from errlens.changelog.errors import ChangelogError
from errlens.changelog.events import canonical, seal
from errlens.changelog.lines import finished, without_cut_short
from errlens.changelog.safe_files import fsync_dir, require_regular_file

#: Seconds a writer waits for another process's write before giving up.
LOCK_TIMEOUT_S = 30.0


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


class LogFile:
    """Low-level access to one changelog file: the writer lock, appends that are all or
    nothing, and reads that leave out what no write finished (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = require_regular_file(path, missing_ok=True)  # a FIFO would block reads
        self._fd: int | None = None  # the locked descriptor, while locked() is held
        self._thread_lock = threading.RLock()  # flock does not exclude threads of one process

    def exists(self) -> bool:
        """True if the file exists (an empty file counts: it is reported as damaged)."""
        return os.path.exists(self.path)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the writer lock (re-entrant within this object).

        The lock is a ``flock`` on the log file itself, so every way of reaching the file
        (a symlink, a relative path, ``..``, a hard link, a bind mount) takes the same lock.
        """
        with self._thread_lock:
            if self._fd is not None:
                yield
                return
            self._fd = _lock(self.path)
            try:
                yield
            finally:
                fd, self._fd = self._fd, None
                try:
                    unlock_descriptor(fd)
                finally:
                    os.close(fd)

    def create(self, header: dict[str, Any]) -> str:
        """Write the header as the first line of a new file; returns the header hash."""
        line, digest = seal(canonical(header), prev="")
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

    def read(self, offset: int = 0, prev: str | None = None) -> bytes:
        """Bytes of the file from ``offset`` (where a write starts; ``prev``: the hash before
        it, if known) to its end, leaving out the lines of a write cut short (see
        :func:`finished`). A torn last line is kept: readers report it."""
        with open(self.path, "rb") as fh:
            fh.seek(offset)
            return without_cut_short(fh.read(), prev)

    def size(self) -> int:
        """Current file size in bytes."""
        if self._fd is not None:
            return os.fstat(self._fd).st_size
        return os.path.getsize(self.path)

    def truncate(self, size: int) -> None:
        """Cut the file at ``size`` (only ever to drop what no call acknowledged)."""
        with self.locked():
            assert self._fd is not None
            os.ftruncate(self._fd, size)
            os.fsync(self._fd)

    def cut_unfinished(self, offset: int, prev: str) -> bytes:
        """Under the lock, cut what follows ``offset`` (where a write starts; ``prev``: the
        hash before it) if no finished write is there: a torn line, or the first lines of a
        write cut short by a crash. Returns the bytes cut (empty if none)."""
        with self.locked():
            with open(self.path, "rb") as fh:
                fh.seek(offset)
                tail = fh.read()
            if not tail or finished(tail, prev):
                return b""
            self.truncate(offset)
            return tail

    def append(self, lines: list[str]) -> int:
        """Append whole lines as one write and fsync them, under the lock; returns the new
        file size.

        All or nothing: if writing or syncing fails (a full disk, a file size limit, an I/O
        error, an interrupt), the file is cut back to its size before the call and the error
        raised, so nothing of the call is left for any reader.
        """
        data = memoryview("".join(line + "\n" for line in lines).encode())
        with self.locked():
            fd = self._fd
            assert fd is not None
            start = os.fstat(fd).st_size
            if start and os.pread(fd, 1, start - 1) != b"\n":  # a whole last line whose
                data = memoryview(b"\n" + data)  # newline an editor removed (see scan_blocks)
            try:
                while data:
                    data = data[os.write(fd, data):]
                os.fsync(fd)
            except BaseException as exc:
                self._roll_back(fd, start, exc)
                raise
            return os.fstat(fd).st_size

    def _roll_back(self, fd: int, size: int, cause: BaseException) -> None:
        try:
            os.ftruncate(fd, size)
            os.fsync(fd)
        except OSError as exc:
            raise ChangelogError(
                f"writing {self.path} failed ({cause}) and the partial write could not be "
                f"removed ({exc.strerror}); nothing was acknowledged. The next errlens writer "
                f"removes a write cut short; run `errlens changelog verify` on the file"
            ) from cause


def _lock(path: str) -> int:
    """Open ``path`` and lock it exclusively; returns the locked descriptor.

    The lock (``flock`` on POSIX, through filelock's :func:`~filelock.lock_descriptor`)
    belongs to the open file, i.e. the inode, whatever path reached it; the kernel releases
    it when the descriptor closes, also when the process dies (no stale lock). If the path
    was replaced by another file while waiting, the new file is locked instead.
    """
    deadline, pause = time.monotonic() + LOCK_TIMEOUT_S, 0.001
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND)
        except FileNotFoundError:
            raise ChangelogError(f"{path} does not exist (moved or deleted while open); "
                                 f"check the path") from None
        except PermissionError:
            raise ChangelogError(f"{path} is not writable; open it read-only with "
                                 f"Changelog(path), or ask for write access") from None
        try:
            while not lock_descriptor(fd, blocking=False):
                if time.monotonic() > deadline:
                    raise ChangelogError(f"{path} is locked by another process for more than "
                                         f"{LOCK_TIMEOUT_S:.0f} s; close the other program "
                                         f"writing it")
                time.sleep(pause)
                pause = min(pause * 2, 0.02)  # a write takes about a millisecond
            locked, now = os.fstat(fd), os.stat(path)
        except BaseException:
            os.close(fd)
            raise
        if (locked.st_dev, locked.st_ino) == (now.st_dev, now.st_ino):
            return fd
        os.close(fd)  # the path now names another file: lock that one
