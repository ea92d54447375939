"""Checkpoints: reopening a log from its checkpoint gives exactly the state of reading it line
by line, and any change to the log's earlier bytes sends the reader back to the full check."""

from __future__ import annotations

import contextlib
import os
import random
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from errlens.changelog import (
    Changelog,
    ChangelogError,
    ChangelogWarning,
    CorruptLogError,
    DatasetMismatchError,
    LabelStore,
)
from errlens.changelog import checkpoint as ckpt
from errlens.changelog.columns import read_columns

CLASSES = ["negative", "neutral", "positive"]
LABELS = pd.Series([CLASSES[i % 3] for i in range(300)], index=[f"tw-{i:04d}" for i in range(300)])


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Checkpoints in a private folder, saved for logs of any size."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("ERRLENS_CACHE_DIR", str(folder))
    monkeypatch.setattr(ckpt, "MIN_EVENTS", 1)
    monkeypatch.setattr(ckpt, "REFRESH_EVENTS", 1)
    return folder


@pytest.fixture
def restores(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Records, for every open, whether a checkpoint was used."""
    seen: list[bool] = []
    original = ckpt.restore

    def spy(path: str, data: bytes) -> Any:
        out = original(path, data)
        seen.append(out is not None)
        return out

    monkeypatch.setattr(ckpt, "restore", spy)
    return seen


def _edit(store: LabelStore, n: int, seed: int) -> None:
    """A realistic mix: relabels with causes, confirms, skips, comments, undos, tags, a new
    class and a rename."""
    rng = random.Random(seed)
    ids = list(LABELS.index)
    for k in range(n):
        sid, roll = rng.choice(ids), rng.random()
        if roll < 0.55:
            store.relabel(sid, rng.choice(CLASSES), cause={"detector": "cleanlab",
                                                           "score": rng.random(), "rank": k})
        elif roll < 0.7:
            store.confirm(sid)
        elif roll < 0.8:
            store.skip(sid, note="unsure")
        elif roll < 0.88:
            store.comment(sid, "sarcasm?")
        elif roll < 0.96:
            with contextlib.suppress(ChangelogError):  # nothing left to undo
                store.undo()
        else:
            store.tag(f"v{seed}-{k}")
    if seed == 0:
        store.add_class("mixed", definition="both positive and negative")
        store.relabel(ids[0], "mixed")
        store.rename_class("neutral", "none")


def _checkpointed(folder: Path, n: int, seed: int) -> Path:
    """A log of ``n`` edits, opened once more so that it has a checkpoint."""
    path = folder / "labels.jsonl"
    _edit(LabelStore(LABELS, path, author="ana"), n, seed=seed)
    LabelStore(LABELS, path, author="ana")
    return path


def _state(store: LabelStore | Changelog) -> dict[str, Any]:
    versions = store.versions()
    out = {"labels": store.labels(), "events": store.events(), "versions": versions,
           "conflicts": store.conflicts(), "history": store.history(LABELS.index[0])}
    for name in versions["version"].tolist()[-2:]:
        out[f"labels@{name}"] = store.labels(name)
    return out


def _assert_same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], pd.Series):
            pd.testing.assert_series_equal(a[key], b[key], obj=key)
        else:
            pd.testing.assert_frame_equal(a[key], b[key], obj=key)


def _cold(path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    with monkeypatch.context() as m:
        m.setenv("ERRLENS_CACHE_DIR", "off")
        return _state(LabelStore(LABELS, path, author="check"))


def test_reopening_from_a_checkpoint_gives_the_state_of_a_full_read(
        tmp_path: Path, cache: Path, restores: list[bool], monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "labels.jsonl"
    _edit(LabelStore(LABELS, path, author="ana"), 400, seed=0)
    ben = tmp_path / "ben.jsonl"
    _edit(LabelStore(LABELS, ben, author="ben"), 150, seed=1)
    LabelStore(LABELS, path, author="ana").merge(str(ben))  # concurrent edits: conflicts
    assert restores[-1] is False  # the merge's own open read the log; it saved a checkpoint
    cold = _cold(path, monkeypatch)
    assert len(cold["conflicts"]) > 0 and len(cold["events"]) > 500

    warm = _state(LabelStore(LABELS, path, author="ana"))
    assert restores[-1] is True
    _assert_same(cold, warm)
    with monkeypatch.context() as m:
        m.setenv("ERRLENS_CACHE_DIR", "off")
        read_only_cold = _state(Changelog(path))
    _assert_same(read_only_cold, _state(Changelog(path)))
    assert restores[-1] is True


def test_restored_columns_equal_the_columns_of_a_full_read(tmp_path: Path, cache: Path):
    path = _checkpointed(tmp_path, 300, seed=2)
    data = path.read_bytes()
    restored = ckpt.restore(str(path), data)
    assert restored is not None
    header, cols, covered, last_hash = restored
    full_header, full, block = read_columns(str(path), data)
    assert (header, covered, last_hash) == (full_header, block.consumed, block.last_hash)
    for name in ("event_ids", "by_id", "samples", "labels", "origins", "authors", "flagged",
                 "_label_types", *ckpt._ARRAYS):
        assert getattr(cols, name) == getattr(full, name), name
    assert {r: e.body() for r, e in cols.exact.items()} == \
        {r: e.body() for r, e in full.exact.items()} != {}


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_events_appended_after_the_checkpoint_are_read_and_checked(
        tmp_path: Path, cache: Path, restores: list[bool], monkeypatch: pytest.MonkeyPatch,
        seed: int):
    path = tmp_path / "labels.jsonl"
    _edit(LabelStore(LABELS, path, author="ana"), 120, seed=seed)
    monkeypatch.setattr(ckpt, "REFRESH_EVENTS", 10**9)  # keep the first checkpoint
    LabelStore(LABELS, path, author="ana")
    _edit(LabelStore(LABELS, path, author="ben"), 80, seed=seed + 10)  # restored + tail
    assert restores[-1] is True
    warm = _state(LabelStore(LABELS, path, author="ana"))
    assert restores[-1] is True
    _assert_same(_cold(path, monkeypatch), warm)


@pytest.mark.parametrize("change", ["edit", "delete", "swap"])
def test_a_changed_earlier_line_is_reported_although_a_checkpoint_exists(
        tmp_path: Path, cache: Path, restores: list[bool], change: str):
    path = _checkpointed(tmp_path, 100, seed=6)
    assert any(cache.rglob("*.npz"))
    lines = path.read_bytes().splitlines(keepends=True)
    if change == "edit":
        k = next(i for i, line in enumerate(lines[20:], 20) if b'"new_label":"positive"' in line)
        lines[k] = lines[k].replace(b'"new_label":"positive"', b'"new_label":"negative"')
    elif change == "delete":
        k = 31
        del lines[k]
    else:
        k = 40
        lines[k], lines[k + 1] = lines[k + 1], lines[k]
    path.write_bytes(b"".join(lines))
    with pytest.raises(CorruptLogError, match=f"line {k + 1}: the hash chain is broken"):
        LabelStore(LABELS, path, author="ana")
    assert restores[-1] is False
    with pytest.raises(CorruptLogError, match=f"line {k + 1}"):
        Changelog(path)


def test_a_torn_last_line_after_the_checkpoint_is_repaired(tmp_path: Path, cache: Path,
                                                            restores: list[bool],
                                                            monkeypatch: pytest.MonkeyPatch):
    path = _checkpointed(tmp_path, 100, seed=7)
    good = path.read_bytes()
    with open(path, "ab") as fh:
        fh.write(good.splitlines(keepends=True)[-1][:57])  # a crash in the middle of a write
    with pytest.warns(ChangelogWarning, match="incomplete last line"):
        store = LabelStore(LABELS, path, author="ana")
    assert restores[-1] is True and path.read_bytes() == good
    _assert_same(_cold(path, monkeypatch), _state(store))


def test_a_damaged_checkpoint_is_ignored_and_replaced(tmp_path: Path, cache: Path,
                                                      restores: list[bool],
                                                      monkeypatch: pytest.MonkeyPatch):
    path = _checkpointed(tmp_path, 100, seed=8)
    (saved,) = cache.rglob("*.npz")
    size = saved.stat().st_size
    saved.write_bytes(b"PK\x03\x04 not a checkpoint" + os.urandom(200))
    store = LabelStore(LABELS, path, author="ana")
    assert restores[-1] is False and saved.stat().st_size == size  # read, then saved again
    _assert_same(_cold(path, monkeypatch), _state(store))
    LabelStore(LABELS, path, author="ana")
    assert restores[-1] is True


def test_a_checkpoint_is_used_only_for_its_own_path_and_dataset(tmp_path: Path, cache: Path,
                                                                restores: list[bool]):
    path = _checkpointed(tmp_path, 60, seed=9)
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(path.read_bytes())
    LabelStore(LABELS, copy, author="ana")
    assert restores[-1] is False  # another file: its own checkpoint
    other = LABELS.copy()
    other.iloc[0] = "positive" if other.iloc[0] != "positive" else "negative"
    with pytest.raises(DatasetMismatchError):
        LabelStore(other, path, author="ana")
    assert restores[-1] is True  # the columns come back, the dataset check still runs


def test_checkpoints_can_be_turned_off_and_small_logs_get_none(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "labels.jsonl"
    monkeypatch.setenv("ERRLENS_CACHE_DIR", str(tmp_path / "cache"))
    _edit(LabelStore(LABELS, path, author="ana"), 50, seed=10)
    LabelStore(LABELS, path, author="ana")
    assert not (tmp_path / "cache").exists()  # 50 events: reading them is instant
    monkeypatch.setattr(ckpt, "MIN_EVENTS", 1)
    monkeypatch.setenv("ERRLENS_CACHE_DIR", "off")
    LabelStore(LABELS, path, author="ana")
    assert ckpt.checkpoint_path(str(path)) is None and not (tmp_path / "cache").exists()


def test_the_default_folder_is_the_users_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv("ERRLENS_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    where = ckpt.checkpoint_path("labels.jsonl")
    assert where is not None and where.startswith(str(tmp_path / "errlens"))
    assert np.all([c in "0123456789abcdef" for c in Path(where).stem])


def test_verify_reads_every_line_even_with_a_checkpoint(tmp_path: Path, cache: Path,
                                                        restores: list[bool]):
    path = tmp_path / "labels.jsonl"
    store = LabelStore(LABELS, path, author="ana")
    _edit(store, 60, seed=11)
    LabelStore(LABELS, path, author="ana")
    n = len(restores)
    assert store.verify().ok and len(restores) == n
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Changelog(path).verify().ok


def test_events_read_back_from_the_file_equal_the_events_as_written(
        tmp_path: Path, cache: Path, restores: list[bool]):
    path = tmp_path / "labels.jsonl"
    store = LabelStore(LABELS, path, author="ana")
    _edit(store, 200, seed=12)
    store.relabel(LABELS.index[3], "positive", note="ünïcode ✓", confidence=0.5, time_spent=3.0)
    written = store.events()  # the events this store appended, as objects
    assert written["note"].map(type).isin([str, type(None)]).all()
    for reopened in (LabelStore(LABELS, path, author="ana"), Changelog(path)):
        pd.testing.assert_frame_equal(reopened.events(), written)  # parsed again from the file
        pd.testing.assert_frame_equal(reopened.history(LABELS.index[3]),
                                      store.history(LABELS.index[3]))
    assert restores[-2:] == [False, True]  # read in full, then from its checkpoint


def test_checkpoints_unused_for_a_month_are_deleted_when_another_is_saved(tmp_path: Path,
                                                                          cache: Path):
    path = _checkpointed(tmp_path, 40, seed=13)
    (kept,) = cache.rglob("*.npz")
    stale = kept.with_name("0" * 32 + ".npz")
    stale.write_bytes(b"a checkpoint of a log deleted long ago")
    old = time.time() - 31 * 86_400
    os.utime(stale, (old, old))
    os.utime(kept, (old, old))
    LabelStore(LABELS, path, author="ana")  # restores `kept`: marks it used
    other = tmp_path / "other"
    other.mkdir()
    _checkpointed(other, 40, seed=14)  # a save sweeps the folder
    assert kept.exists() and not stale.exists() and len(list(cache.rglob("*.npz"))) == 2


def test_the_first_and_last_events_alone_equal_the_ends_of_the_whole_table(tmp_path: Path,
                                                                           cache: Path):
    path = _checkpointed(tmp_path, 80, seed=15)
    store = LabelStore(LABELS, path, author="ana")
    store.relabel(LABELS.index[5], "neutral")  # one written after the reopen
    whole = store.events()
    assert len(whole) > 80
    for k in (1, 7, len(whole), len(whole) + 5):
        # compared as plain values: a few rows of only missing versions are not a text column
        pd.testing.assert_frame_equal(_plain(store.events(first=k)), _plain(whole.head(k)))
        pd.testing.assert_frame_equal(_plain(store.events(last=k)),
                                      _plain(whole.tail(k).reset_index(drop=True)))
    assert store.events(first=0).columns.equals(whole.columns) and store.events(last=0).empty
    ops = store.event_ops()
    assert ops.columns.tolist() == ["sample_id", "op", "author"]
    assert ops.astype(str).equals(whole[["sample_id", "op", "author"]].astype(str))
    with pytest.raises(ValueError, match="not both"):
        store.events(first=1, last=1)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(object).where(frame.notna(), None)
