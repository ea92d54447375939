"""Safe file access for everything errlens reads or writes besides appending to a changelog.

Three rules, one place:

- **Only regular files** are read or written (:func:`require_regular_file`): a named pipe
  would block forever, ``/dev/zero`` never ends, a folder is a typo.
- **Nothing lands on a changelog** (:func:`is_changelog`, recognised by its header line):
  a report, an export, a merge or a checkpoint refuses a target that is a changelog, also
  through a symlink, with or without ``overwrite``.
- **Other files are written atomically** (:func:`atomic_write`): a temporary file in the
  target's folder, fsync'd (unless it is a cache), then ``os.replace``; readers see the old
  file or the new one, never half of it, and a failed write leaves the old file and no
  temporary file behind.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "report.html")
>>> _ = atomic_write(path, b"<p>hello</p>", overwrite=False)
>>> open(path, "rb").read(), is_changelog(path)
(b'<p>hello</p>', False)
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import stat
from collections.abc import Callable
from typing import IO, TYPE_CHECKING

import orjson

from errlens.changelog.errors import ChangelogError
from errlens.changelog.events import MAX_LINE_BYTES
from errlens.changelog.header import FORMAT

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

#: What :func:`atomic_write` accepts: the bytes, or a function writing them to a binary file.
Content = bytes | Callable[[IO[bytes]], object]

#: Most bytes of a file read to find its header line: the longest line a changelog holds.
HEADER_BYTES = MAX_LINE_BYTES
_BLANK = b" \t\r\xef\xbb\xbf"  # spaces and a UTF-8 BOM an editor may have put first
_HEADER_MARK = re.compile(rb'"format"\s*:\s*"' + re.escape(FORMAT.encode()) + rb'"')
_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def require_regular_file(path: str | os.PathLike[str], *, missing_ok: bool = False) -> str:
    """Refuse a path that is not a regular file (a folder, FIFO, device or socket, also
    through a symlink) before it is opened; returns the path as a string.

    A missing file is refused too unless ``missing_ok`` (a log about to be created).

    >>> try:
    ...     require_regular_file("/dev/null")
    ... except ChangelogError as exc:
    ...     print(str(exc).split(";")[0])
    /dev/null is a character device, not a regular file
    """
    path = os.fspath(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if missing_ok:
            return path
        raise ChangelogError(f"{path} does not exist; check the path") from None
    except OSError as exc:  # e.g. a symlink loop, a path too long, no permission
        raise ChangelogError(f"{path} cannot be read ({exc.strerror}); check the path") from None
    if stat.S_ISREG(mode):
        return path
    if stat.S_ISDIR(mode):
        raise ChangelogError(f"{path} is a folder; give the path of a file inside it")
    raise ChangelogError(f"{path} is {_kind(mode)}, not a regular file; errlens only reads "
                         f"and writes regular files: give the path of a file")


def is_changelog(path: str | os.PathLike[str]) -> bool:
    """True if ``path`` (followed through symlinks) is a regular file whose first line is an
    errlens changelog header (any schema version, even if the rest is damaged).

    A file whose first line does not start with ``{`` is ruled out after a few bytes;
    otherwise that line is read, at most :data:`HEADER_BYTES` of it. One that does not parse
    (torn, longer than that, damaged) counts as a header if it names the changelog format, so
    doubt keeps a file safe.
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        with open(path, "rb") as fh:
            if not fh.read(64).lstrip(_BLANK).startswith(b"{"):
                return False
            fh.seek(0)
            first = fh.readline(HEADER_BYTES).lstrip(_BLANK).rstrip()
    except OSError:
        return False
    try:  # orjson: bounded nesting, so a hostile first line cannot recurse
        obj = orjson.loads(first)
    except orjson.JSONDecodeError:
        # a torn, oversized or damaged first line: the format's name decides
        return _HEADER_MARK.search(first) is not None
    return isinstance(obj, dict) and obj.get("type") == "header" and obj.get("format") == FORMAT


def output_target(path: str | os.PathLike[str], *, overwrite: bool,
                  how: str = "pass overwrite=True") -> str:
    """The real file to write for ``path``, after refusing a folder, a missing folder, a
    changelog (also through a symlink), a non-regular file, a dangling symlink, and (unless
    ``overwrite``) an existing file; ``how`` says how to overwrite (e.g. ``"add --force"``).
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ChangelogError(f"{path} is a folder; give a file name inside it")
    real = os.path.realpath(path)
    via = f" (a symlink to {real})" if os.path.islink(path) else ""
    if os.path.islink(path) and not os.path.lexists(real):
        raise ChangelogError(f"{path} is a symlink to {real}, which does not exist; remove the "
                             f"link or choose another file name")
    folder = os.path.dirname(real)
    if not os.path.isdir(folder):
        raise ChangelogError(f"the folder {folder} does not exist; create it first")
    if not os.path.lexists(real):
        return real
    if is_changelog(real):
        raise ChangelogError(f"{path}{via} is an errlens changelog; errlens never writes over a "
                             f"changelog: choose another file name")
    require_regular_file(real)
    if not overwrite:
        raise ChangelogError(f"{path} already exists; choose a new file name, or {how} to "
                             f"replace it")
    return real


def atomic_write(path: str | os.PathLike[str], content: Content, *, overwrite: bool,
                 how: str = "pass overwrite=True", durable: bool = True) -> str:
    """Write ``content`` (bytes, or a function writing to a binary file) to ``path`` as one
    atomic step, after the checks of :func:`output_target`; returns the file written (a
    symlink's target is replaced, the link kept).

    The old file stays whole until the new one is complete (and, if ``durable``, fsync'd:
    only a cache whose reader checks what it reads may skip that); on any failure the
    temporary file is removed and the error raised.
    """
    target = output_target(path, overwrite=overwrite, how=how)
    fd, tmp = _temp_beside(target)
    try:
        with io.BufferedWriter(_TempFile(fd), buffer_size=1 << 20) as fh:
            if callable(content):
                content(fh)
            else:
                fh.write(content)
            fh.flush()
            if durable:
                os.fsync(fd)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable:
        fsync_dir(target)
    return target


def _temp_beside(target: str) -> tuple[int, str]:
    """A new, hidden temporary file in ``target``'s folder (so ``os.replace`` is a rename
    within one file system), with the mode of the file it replaces if there is one."""
    folder, name = os.path.split(target)
    while True:
        tmp = os.path.join(folder, f".{name[:180]}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        except FileExistsError:  # pragma: no cover - 48 random bits
            continue
        with contextlib.suppress(FileNotFoundError):
            os.fchmod(fd, stat.S_IMODE(os.stat(target).st_mode))
        return fd, tmp


class _TempFile(io.RawIOBase):
    """The temporary file's descriptor as a raw stream whose ``write`` writes everything
    (tests make it fail midway to check that nothing is left behind)."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self.fd = fd

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.fd

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return os.lseek(self.fd, offset, whence)

    def tell(self) -> int:
        return os.lseek(self.fd, 0, os.SEEK_CUR)

    def truncate(self, size: int | None = None) -> int:
        size = self.tell() if size is None else size
        os.ftruncate(self.fd, size)
        return size

    def write(self, data: ReadableBuffer, /) -> int:
        view, done = memoryview(data), 0
        while done < len(view):
            done += os.write(self.fd, view[done:])
        return done

    def close(self) -> None:
        if not self.closed:
            try:
                os.close(self.fd)
            finally:
                super().close()


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


__all__ = ["atomic_write", "fsync_dir", "is_changelog", "output_target", "require_regular_file"]
