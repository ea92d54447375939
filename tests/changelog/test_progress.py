"""The progress bar of long reads: it follows the bytes read to the end of the file, for
opening a log and for ``verify``, and small reads show none."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pytest
import tqdm.auto

from errlens.changelog import Changelog, LabelStore, progress, verify_file

LABELS = pd.Series(["cat", "dog"] * 2_000, index=[f"img-{i:05d}" for i in range(4_000)])


class RecordingBar:
    """Stands in for tqdm: keeps every bar made and how far it went."""

    made: ClassVar[list[RecordingBar]] = []

    def __init__(self, total: int, **kwargs: Any) -> None:
        self.total, self.n, self.closed, self.kwargs = total, 0, False, kwargs
        RecordingBar.made.append(self)

    def update(self, k: int) -> None:
        assert k >= 0, "a bar never goes back"
        self.n += k

    def __enter__(self) -> RecordingBar:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.closed = True


@pytest.fixture
def bars(monkeypatch: pytest.MonkeyPatch) -> list[RecordingBar]:
    RecordingBar.made = []
    monkeypatch.setattr(tqdm.auto, "tqdm", RecordingBar)
    monkeypatch.setenv("ERRLENS_CACHE_DIR", "off")
    return RecordingBar.made


def _log(tmp_path: Path) -> Path:
    path = tmp_path / "labels.jsonl"
    store = LabelStore(LABELS, path, author="ana")
    for k in range(0, 4_000, 400):
        store.relabel_many(list(LABELS.index[k:k + 400]), "dog" if k % 800 else "cat")
    return path


def test_reading_a_big_log_shows_a_bar_to_its_last_line(tmp_path: Path, bars: list[RecordingBar],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    path = _log(tmp_path)
    size = path.stat().st_size
    monkeypatch.setattr(progress, "MIN_BYTES", 1_000)
    for open_it in (lambda: LabelStore(LABELS, path, author="ben"), lambda: Changelog(path),
                    lambda: verify_file(path)):
        before = len(bars)
        open_it()
        assert len(bars) == before + 1
        bar = bars[-1]
        assert bar.total == size and bar.closed and bar.kwargs["disable"] is None
        assert bar.n == size  # every byte, counted as it was read
        assert bar.kwargs["desc"] == "reading labels.jsonl"


def test_small_reads_show_no_bar(tmp_path: Path, bars: list[RecordingBar]) -> None:
    path = _log(tmp_path)
    assert path.stat().st_size < progress.MIN_BYTES
    LabelStore(LABELS, path, author="ben")
    assert verify_file(path).ok
    assert bars == []
