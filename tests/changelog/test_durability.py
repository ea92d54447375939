"""Crash safety and concurrency: SIGKILL during appends, several writer processes, torn
tails, tampering. Children are forked so each trial costs milliseconds, not an interpreter."""

from __future__ import annotations

import json
import os
import random
import signal
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest

from errlens.changelog import ChangelogWarning, CorruptLogError, LabelStore, verify_file

CLASSES = ["negative", "neutral", "positive"]


def small_labels(n: int = 40) -> pd.Series:
    """Tweet-like ids with three sentiment classes."""
    return pd.Series([CLASSES[(i * 7) % 3] for i in range(n)],
                     index=pd.Index([f"tw-{i:04d}" for i in range(n)], name="id"))


def _writer(path: Path, labels: pd.Series, seed: int, fd: int, n: int) -> None:
    """Child process: append ``n`` edits, writing each acknowledged event id to ``fd``."""
    try:
        store = LabelStore(labels, path, author=f"w{seed}")
        rng = random.Random(seed)
        ids = list(labels.index)
        for _ in range(n):
            if rng.random() < 0.3:
                events = store.relabel_many(rng.sample(ids, 5), rng.choice(CLASSES))
            else:
                events = [store.relabel(rng.choice(ids), rng.choice(CLASSES),
                                        cause={"detector": "test", "score": rng.random()})]
            os.write(fd, "".join(e.event_id + "\n" for e in events).encode())
    finally:
        os._exit(0)


def _spawn(path: Path, labels: pd.Series, seed: int, n: int) -> tuple[int, int]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.close(read_fd)
        _writer(path, labels, seed, write_fd, n)
    os.close(write_fd)
    return pid, read_fd


def _acks(read_fd: int) -> list[str]:
    chunks = []
    while chunk := os.read(read_fd, 65536):
        chunks.append(chunk)
    os.close(read_fd)
    text = b"".join(chunks).decode()
    return text.split("\n")[:-1]  # a partly written ack line is not an acknowledgement


def _open_quietly(labels: pd.Series, path: Path) -> LabelStore:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChangelogWarning)
        return LabelStore(labels, path, author="checker")


def test_sigkill_at_random_moments_loses_no_acknowledged_event(tmp_path):
    labels = small_labels(300)
    path = tmp_path / "crash.jsonl"
    LabelStore(labels, path, author="setup")
    rng = random.Random(20261128)
    acked: set[str] = set()
    trials, started = 0, time.monotonic()
    while trials < 40 and time.monotonic() - started < 22:
        pid, fd = _spawn(path, labels, seed=trials, n=100_000)
        time.sleep(rng.uniform(0.02, 0.5))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        acked.update(_acks(fd))
        trials += 1
        store = _open_quietly(labels, path)
        present = set(store.events()["event_id"])
        assert acked <= present, f"trial {trials}: lost {len(acked - present)} events"
    report = verify_file(path)
    assert report.ok, str(report)
    assert trials >= 10 and len(acked) >= 1000, (trials, len(acked))


def test_several_processes_appending_at_once_lose_and_interleave_nothing(tmp_path):
    labels = small_labels(200)
    path = tmp_path / "shared.jsonl"
    LabelStore(labels, path, author="setup")
    children = [_spawn(path, labels, seed=100 + k, n=60) for k in range(4)]
    acked: list[str] = []
    for pid, fd in children:
        acked += _acks(fd)
        _, status = os.waitpid(pid, 0)
        assert status == 0
    store = LabelStore(labels, path, author="checker")
    events = store.events()
    assert len(acked) >= 240 and sorted(events["event_id"]) == sorted(acked)
    assert events["author"].nunique() == 4
    assert verify_file(path).ok
    for line in path.read_text().splitlines():
        json.loads(line)  # whole lines only, never two writes mixed


def test_torn_last_line_is_reported_and_repaired_without_touching_events(tmp_path):
    labels = small_labels()
    path = tmp_path / "torn.jsonl"
    store = LabelStore(labels, path, author="ana")
    for sid in labels.index[:5]:
        store.relabel(sid, "positive")
    good = path.read_bytes()
    with open(path, "ab") as fh:
        fh.write(b'{"author":"ana","event_id":"01a2')
    report = verify_file(path)
    assert not report.ok and report.torn_bytes == 32 and "incomplete" in str(report)
    with pytest.warns(ChangelogWarning, match="incomplete last line"):
        reopened = LabelStore(labels, path, author="ana")
    assert path.read_bytes() == good
    assert reopened.labels().equals(store.labels()) and verify_file(path).ok
    reopened.relabel(labels.index[6], "neutral")
    assert verify_file(path).ok


def test_a_writer_repairs_a_tail_torn_by_another_crashed_process(tmp_path):
    labels = small_labels()
    path = tmp_path / "live.jsonl"
    store = LabelStore(labels, path, author="ana")
    store.relabel(labels.index[0], "positive")
    with open(path, "ab") as fh:
        fh.write(b'{"half a line')
    with pytest.warns(ChangelogWarning, match="crashed writer"):
        store.relabel(labels.index[1], "positive")
    assert verify_file(path).ok and len(_open_quietly(labels, path).events()) == 2


def _sample_log(tmp_path: Path) -> tuple[Path, pd.Series, list[bytes]]:
    labels = small_labels()
    path = tmp_path / "t.jsonl"
    store = LabelStore(labels, path, author="ana")
    for k, sid in enumerate(labels.index[:8]):
        store.relabel(sid, CLASSES[k % 3], note=f"edit {k}")
    store.tag("v1")
    store.comment(labels.index[0], "done")
    return path, labels, path.read_bytes().splitlines(keepends=True)


def test_any_changed_line_is_reported_at_its_line(tmp_path):
    path, labels, lines = _sample_log(tmp_path)
    for i, line in enumerate(lines):
        for old, new in ((b'"ana"', b'"eve"'), (b"edit", b"EDIT"), (b"v1", b"v2"),
                         (b"sha256:", b"sha256;")):
            if old in line:
                path.write_bytes(b"".join([*lines[:i], line.replace(old, new, 1), *lines[i + 1:]]))
                report = verify_file(path)
                assert not report.ok and report.problems[0].line == i + 1, (i, old)
                with pytest.raises(CorruptLogError, match=f"line {i + 1}"):
                    LabelStore(labels, path, author="x")
                break


def test_any_deleted_or_swapped_line_is_reported(tmp_path):
    path, _, lines = _sample_log(tmp_path)
    head = verify_file(path).head
    for i in range(len(lines)):
        path.write_bytes(b"".join(lines[:i] + lines[i + 1:]))
        assert not verify_file(path, expect_head=head).ok, f"deleting line {i + 1}"
        if i + 1 < len(lines):
            swapped = [*lines[:i], lines[i + 1], lines[i], *lines[i + 2:]]
            path.write_bytes(b"".join(swapped))
            assert not verify_file(path).ok, f"swapping lines {i + 1} and {i + 2}"
    # without the expected head only the final line can go unnoticed (documented limit)
    path.write_bytes(b"".join(lines[:-1]))
    assert verify_file(path).ok


def test_an_open_store_notices_lines_cut_from_the_end(tmp_path):
    labels = small_labels()
    path = tmp_path / "cut.jsonl"
    store = LabelStore(labels, path, author="ana")
    store.relabel(labels.index[0], "positive")
    store.relabel(labels.index[1], "positive")
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))
    report = store.verify()
    assert not report.ok and "removed from the end" in str(report)
    with pytest.raises(CorruptLogError, match="shrank"):
        store.relabel(labels.index[2], "positive")


def test_block_scanning_matches_one_pass(tmp_path):
    from errlens.changelog.lines import scan_blocks

    _, _, lines = _sample_log(tmp_path)
    lines[4] = lines[4].replace(b"edit", b"EDIT")
    data = b"".join(lines) + b'{"torn'
    whole = next(scan_blocks(data, "", size=10_000))
    parts = list(scan_blocks(data, "", size=3))
    assert len(parts) == 4
    assert [x.lineno for p in parts for x in p.lines] == [x.lineno for x in whole.lines]
    assert [q for p in parts for q in p.problems] == whole.problems == [
        (5, whole.problems[0][1])]
    assert (parts[-1].last_hash, parts[-1].torn, parts[-1].consumed) == (
        whole.last_hash, b'{"torn', len(data) - 6)
