"""Full integrity check of a changelog file, reporting every problem with its line number.

>>> import pandas as pd, tempfile, os
>>> from errlens.changelog import LabelStore
>>> s = LabelStore(pd.Series(["a", "b"], index=[1, 2]), os.path.join(tempfile.mkdtemp(), "l.jsonl"),
...                author="ana")
>>> _ = s.relabel(1, "b")
>>> report = verify_file(s.path); report.ok, report.n_events
(True, 1)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from errlens.changelog.columns import Columns
from errlens.changelog.errors import ChangelogError
from errlens.changelog.events import Event
from errlens.changelog.header import header_problem
from errlens.changelog.lines import scan_blocks, without_cut_short
from errlens.changelog.logfile import gc_paused
from errlens.changelog.progress import reading
from errlens.changelog.replay import load
from errlens.changelog.safe_files import require_regular_file
from errlens.changelog.schema import LabelSchema

if TYPE_CHECKING:
    from errlens.changelog.dataset import Dataset


OTHER_DATASET = ("the log was written for another dataset (its fingerprint differs from the "
                 "original labels given)")


@dataclass
class Problem:
    """One finding: 1-based line number (0 = the whole file) and what is wrong."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass
class VerifyReport:
    """Outcome of :func:`verify_file`; ``ok`` is False on any problem."""

    path: str
    n_lines: int = 0
    n_events: int = 0
    head: str = ""
    problems: list[Problem] = field(default_factory=list)
    torn_bytes: int = 0

    @property
    def ok(self) -> bool:
        """True when no damage was found (a torn last line counts as damage)."""
        return not self.problems

    def __str__(self) -> str:
        if self.ok:
            return (f"OK: {self.path} has {self.n_events} events in {self.n_lines} lines, every "
                    f"hash link intact (head {self.head[:16]})")
        lines = [f"DAMAGED: {self.path}: {len(self.problems)} problem(s)"]
        lines += [f"  {p}" for p in self.problems[:50]]
        if len(self.problems) > 50:
            lines.append(f"  ... and {len(self.problems) - 50} more")
        return "\n".join(lines)


def verify_file(path: str | os.PathLike[str], *, dataset: Dataset | None = None,
                expect_head: str | None = None) -> VerifyReport:
    """Check structure, hash chain, header, every event and (optionally) the dataset.

    ``expect_head`` is a head hash noted earlier (printed by ``errlens changelog verify``;
    its first 16 hex digits are enough); giving it also detects lines removed from the end,
    which a hash chain alone cannot.
    """
    if expect_head is not None:
        expect_head = expect_head.strip().lower()
        if not 16 <= len(expect_head) <= 64 or set(expect_head) - set("0123456789abcdef"):
            raise ChangelogError(f"{expect_head!r} is not a head hash: give the 64 hex digits "
                                 f"that verify printed (or at least their first 16)")
    with gc_paused():
        return _verify(os.fspath(path), dataset, expect_head)


def _verify(path: str, dataset: Dataset | None, expect_head: str | None) -> VerifyReport:
    report = VerifyReport(path)
    if not os.path.exists(path):
        report.problems.append(Problem(0, f"{path} does not exist"))
        return report
    with open(require_regular_file(path), "rb") as fh:  # a FIFO or /dev/zero: refused
        whole = fh.read()
    data = without_cut_short(whole)  # a write cut short by a crash: reported at the end
    if not data:
        report.problems.append(Problem(0, "the file is empty (0 bytes): it is not a changelog"))
        return report
    cols, header, consumed = Columns(data), None, 0
    torn: bytes | memoryview = b""
    with reading(path, len(data)) as advance:
        for block in scan_blocks(data, prev=""):
            report.problems += [Problem(n, m) for n, m in block.problems]
            skip = header is None and bool(block.linenos) and block.linenos[0] == 1
            if header is None:
                if not skip:
                    report.problems.append(Problem(1, "the first line is not a readable header"))
                    return report
                header = block.objs[0]
            cols.add(block, skip_first=skip)
            report.head, torn, consumed = block.last_hash, block.torn, block.consumed
            advance(block.consumed or (block.offsets or [0])[-1])
    report.n_lines = data.count(b"\n", 0, consumed) + (data[consumed - 1:consumed] == b"}")
    schema = _check_header(header, dataset, report)
    if schema is None:
        return report

    def problem(lineno: int, message: str) -> None:
        report.problems.append(Problem(lineno, message))

    check = None if dataset is None else _sample_check(dataset)
    state = load(cols, schema, problem, check, None if dataset is None else dataset.has)
    report.n_events = len(state.events)
    report.problems.sort(key=lambda p: p.line)
    if torn:
        report.torn_bytes = len(torn)
        report.problems.append(Problem(
            report.n_lines + 1, "the last line is incomplete (a write was interrupted, e.g. a "
            "crash); it was never acknowledged. Opening the log with errlens removes it, or run "
            "`errlens changelog verify --repair`"))
    if len(whole) > len(data):
        report.torn_bytes, lines = len(whole) - len(data), whole.count(b"\n", len(data))
        report.problems.append(Problem(
            report.n_lines + 1, f"the last {lines} line(s) are the start "
            f"of a write cut short (e.g. a crash); it was never acknowledged. Opening the log "
            f"with errlens removes them, or run `errlens changelog verify --repair`"))
    if expect_head is not None and not report.head.startswith(expect_head):
        report.problems.append(Problem(0, f"the last line's hash {report.head} is not the "
                                          f"expected {expect_head}: lines were removed from "
                                          f"or added at the end"))
    return report


def _sample_check(dataset: Dataset) -> Callable[[Event], None]:
    def check(ev: Event) -> None:
        if ev.sample_id is not None and not dataset.has(ev.sample_id):
            raise ChangelogError(f"sample id {ev.sample_id!r} is not in the dataset")
    return check


def _check_header(obj: Any, dataset: Dataset | None, report: VerifyReport) -> LabelSchema | None:
    problem = header_problem(obj)
    if problem is not None:
        report.problems.append(Problem(1, problem))
        return None
    if dataset is not None and obj["dataset"]["fingerprint"] != dataset.fingerprint:
        report.problems.append(Problem(1, OTHER_DATASET))
    return LabelSchema.from_json(obj["classes"])
