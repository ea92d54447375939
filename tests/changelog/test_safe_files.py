"""Nothing errlens writes lands on a changelog, and every other write is atomic.

The module's own checks first, then every writer (the HTML report, the CSV and Label Studio
exports, ``diff --csv``, the CLI ``export``, ``merge_logs`` and checkpoints) against the same
table of targets: a changelog, a symlink to one, a symlink elsewhere, a relative path, a
folder, a FIFO, a missing folder, and a disk that fills up halfway through the write.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import errlens as el
from errlens.annotators.exchange import export_csv
from errlens.annotators.labelstudio import export_labelstudio
from errlens.changelog import LabelStore, checkpoint, merge_logs, safe_files
from errlens.changelog.columns import read_columns
from errlens.changelog.errors import ChangelogError
from errlens.changelog.safe_files import (
    atomic_write,
    is_changelog,
    output_target,
    require_regular_file,
)
from errlens.cli import main
from errlens.report import to_html

LABELS = pd.Series(["cat", "dog", "dog", "cat", "fox"],
                   index=pd.Index([f"img-{i}" for i in range(5)], name="id"))


class Hang(BaseException):
    """Raised by the alarm: a BaseException, so no ``except`` of errlens can swallow it."""


@pytest.fixture(autouse=True)
def no_hang() -> Iterator[None]:
    """A test that blocks (e.g. opening a FIFO) fails after 20 s instead of hanging CI."""
    def timeout(signum: int, frame: object) -> None:
        raise Hang("blocked for 20 s: a FIFO or device was opened")

    before = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, before)


@pytest.fixture
def log(tmp_path: Path) -> Path:
    store = LabelStore(LABELS, tmp_path / "labels.jsonl", author="ana")
    store.relabel("img-1", "cat", note="pointy ears")
    return Path(store.path)


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp") or ".tmp-" in p.name]


# ------------------------------------------------------------------ the module's own checks
def test_is_changelog_reads_the_header_line_only(log, tmp_path):
    assert is_changelog(log)
    torn = tmp_path / "torn.jsonl"  # a header cut short by a crash is still a changelog's
    torn.write_bytes(log.read_bytes().split(b"\n")[0][:-40])
    assert is_changelog(torn)
    header = json.loads(log.read_bytes().split(b"\n")[0])  # 2 MB of class guidelines
    header["classes"][0]["guidelines"] = {"definition": "x" * (2 << 20)}
    big = tmp_path / "big-header.jsonl"
    big.write_bytes(b"\xef\xbb\xbf" + json.dumps(header, sort_keys=True).encode() + b"\n")
    assert is_changelog(big)
    other = tmp_path / "other.json"
    other.write_text('{"type": "header", "format": "something-else"}\n')
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000 + "\n")
    csv = tmp_path / "batch.csv"
    csv.write_text("sample_id,label\nimg-0,cat\n")
    os.mkfifo(tmp_path / "pipe")
    for path in (other, deep, csv, tmp_path / "missing", tmp_path, tmp_path / "pipe",
                 Path("/dev/zero")):
        assert not is_changelog(path), path


def test_require_regular_file_names_what_the_path_is(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "link").symlink_to(tmp_path / "pipe")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "ok.csv").write_text("x\n")
    assert require_regular_file(tmp_path / "ok.csv") == str(tmp_path / "ok.csv")
    assert require_regular_file(tmp_path / "new.jsonl", missing_ok=True)
    for path, needle in ((tmp_path / "pipe", "is a named pipe (FIFO), not a regular file"),
                         (tmp_path / "link", "is a named pipe (FIFO)"),
                         ("/dev/zero", "is a character device"),
                         (tmp_path, "is a folder; give the path of a file inside it"),
                         (tmp_path / "new.jsonl", "does not exist; check the path"),
                         (tmp_path / "loop", "cannot be read")):
        with pytest.raises(ChangelogError, match=needle.replace("(", r"\(").replace(")", r"\)")):
            require_regular_file(path)


def test_atomic_write_replaces_whole_files_and_keeps_their_mode(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("old")
    target.chmod(0o640)
    with pytest.raises(ChangelogError, match="already exists; choose a new file name, or "
                                             "add --force to replace it"):
        atomic_write(target, b"new", overwrite=False, how="add --force")
    assert atomic_write(target, b"new", overwrite=True) == str(target)
    assert target.read_text() == "new" and oct(target.stat().st_mode & 0o777) == "0o640"
    atomic_write(tmp_path / "arrays.npz", lambda fh: np.savez(fh, a=np.arange(3)),
                 overwrite=False)
    assert np.load(tmp_path / "arrays.npz")["a"].tolist() == [0, 1, 2]
    (tmp_path / "dangling").symlink_to(tmp_path / "gone" / "x")
    with pytest.raises(ChangelogError, match="which does not exist; remove the link"):
        output_target(tmp_path / "dangling", overwrite=True)
    assert _leftovers(tmp_path) == []


def test_a_writer_that_fails_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "out.bin"

    def half_then_fail(fh):
        fh.write(b"x" * 10)
        raise RuntimeError("the writer broke")

    with pytest.raises(RuntimeError, match="the writer broke"):
        atomic_write(target, half_then_fail, overwrite=True)
    assert not target.exists() and list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------- every writer
@dataclass
class Writer:
    """One way errlens writes a file the user names; ``write(target)`` raises on refusal
    (``quiet``: refusals are silent, e.g. a checkpoint is only a cache)."""

    name: str
    suffix: str
    write: Callable[[Path], None]
    quiet: bool = False
    makes_folders: bool = False


def _cli(*argv: str) -> None:
    if main(["changelog", *argv]) != 0:
        raise ChangelogError("the command line refused")


@pytest.fixture(params=["report", "export_csv", "export_labelstudio", "cli diff --csv",
                        "cli export", "merge_logs", "checkpoint"])
def writer(request, log, tmp_path, monkeypatch) -> Writer:
    data = tmp_path / "data.csv"
    LABELS.rename("label").reset_index().to_csv(data, index=False)
    store = LabelStore(LABELS, log, author="lead")
    other = tmp_path / "ben.jsonl"
    shutil.copy(log, other)
    LabelStore(LABELS, other, author="ben").confirm("img-2")
    name = request.param
    if name == "report":
        ev = el.Analysis.from_predictions({"x": [1, 2, 3, 4]}, y_true=[0, 1, 1, 0],
                                          proba=[[.8, .2], [.3, .7], [.6, .4], [.1, .9]],
                                          proba_out_of_fold=True)
        return Writer(name, ".html", lambda t: to_html(ev, t))
    if name == "export_csv":
        return Writer(name, ".csv", lambda t: export_csv(store, t))
    if name == "export_labelstudio":
        return Writer(name, ".json", lambda t: export_labelstudio(store, t))
    if name == "cli diff --csv":
        return Writer(name, ".csv", lambda t: _cli("diff", str(log), "--csv", str(t), "--force"))
    if name == "cli export":
        return Writer(name, ".csv", lambda t: _cli("export", str(log), str(t), "--data",
                                                   str(data), "--force"))
    if name == "merge_logs":
        return Writer(name, ".jsonl", lambda t: merge_logs([log, other], t, overwrite=True))
    raw = log.read_bytes()
    header, cols, block = read_columns(str(log), raw)

    def save(target: Path) -> None:
        monkeypatch.setattr(checkpoint, "checkpoint_path", lambda _: str(target))
        checkpoint.save(str(log), header, cols, block.consumed, block.last_hash)

    return Writer(name, ".npz", save, quiet=True, makes_folders=True)


def _refused(writer: Writer, target: Path, needle: str, capsys) -> None:
    if writer.quiet:
        writer.write(target)
        return
    with pytest.raises((ChangelogError, OSError)) as info:
        writer.write(target)
    said = str(info.value) + capsys.readouterr().err
    assert needle in said, said


def test_a_changelog_is_never_written_over(writer, log, tmp_path, capsys):
    before = log.read_bytes()
    target = tmp_path / f"changelog-named{writer.suffix}"  # a log under any name
    shutil.copy(log, target)
    link = tmp_path / f"link{writer.suffix}"
    link.symlink_to(target)
    _refused(writer, target, "is an errlens changelog; errlens never writes over", capsys)
    _refused(writer, link, f"(a symlink to {target}) is an errlens changelog", capsys)
    assert target.read_bytes() == log.read_bytes() == before and link.is_symlink()
    assert _leftovers(tmp_path) == []


def test_a_symlink_elsewhere_is_followed_and_kept(writer, tmp_path, capsys):
    real = tmp_path / "elsewhere" / f"old{writer.suffix}"
    real.parent.mkdir()
    real.write_text("old contents")
    link = tmp_path / f"link{writer.suffix}"
    link.symlink_to(real)
    writer.write(link)
    assert link.is_symlink() and real.read_bytes() not in (b"", b"old contents")
    assert _leftovers(tmp_path) == _leftovers(real.parent) == []


def test_a_relative_path_is_written_in_the_working_folder(writer, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    writer.write(Path(f"out{writer.suffix}"))
    assert (work / f"out{writer.suffix}").stat().st_size > 0 and _leftovers(work) == []


def test_a_folder_a_fifo_and_a_missing_folder_are_refused(writer, tmp_path, capsys):
    folder = tmp_path / f"folder{writer.suffix}"
    folder.mkdir()
    _refused(writer, folder, "is a folder; give a file name inside it", capsys)
    pipe = tmp_path / f"pipe{writer.suffix}"
    os.mkfifo(pipe)  # opening it to write would block until a reader came: never opened
    _refused(writer, pipe, "is a named pipe (FIFO), not a regular file", capsys)
    missing = tmp_path / "nowhere" / f"out{writer.suffix}"
    if writer.makes_folders:  # the checkpoint folder is errlens' own cache
        writer.write(missing)
        assert missing.exists()
    else:
        _refused(writer, missing, "does not exist; create it first", capsys)
        assert not missing.parent.exists()
    assert folder.is_dir() and list(folder.iterdir()) == [] and _leftovers(tmp_path) == []


def test_a_disk_full_midway_keeps_the_old_file(writer, tmp_path, monkeypatch, capsys):
    target = tmp_path / f"previous{writer.suffix}"
    target.write_text("the previous version")
    real_write = safe_files._TempFile.write

    def disk_full(self, data):
        real_write(self, bytes(memoryview(data)[: max(1, len(data) // 2)]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(safe_files._TempFile, "write", disk_full)
    _refused(writer, target, "No space left on device", capsys)
    assert target.read_text() == "the previous version"
    assert _leftovers(tmp_path) == []


def test_a_torn_checkpoint_is_ignored(tmp_path, monkeypatch):
    """Checkpoints skip fsync (a cache): one a crash left with zeroed bytes is not used."""
    store = LabelStore(LABELS, tmp_path / "labels.jsonl", author="ana")
    store.relabel("img-1", "cat")
    raw = Path(store.path).read_bytes()
    header, cols, block = read_columns(store.path, raw)
    where = tmp_path / "cache" / "x.npz"
    monkeypatch.setattr(checkpoint, "checkpoint_path", lambda _: str(where))
    checkpoint.save(store.path, header, cols, block.consumed, block.last_hash)
    assert checkpoint.restore(store.path, raw) is not None
    data = bytearray(where.read_bytes())
    data[len(data) // 3: len(data) // 2] = bytes(len(data) // 2 - len(data) // 3)
    where.write_bytes(bytes(data))
    assert checkpoint.restore(store.path, raw) is None
