"""Hostile inputs: every ``errlens changelog`` verb answers in one line with exit code 1 or 2,
never a traceback, never a hang, whatever file it is given in any place it reads one.

The table: a FIFO, ``/dev/zero`` and ``/dev/null`` (through symlinks with the expected
extension), a folder, JSON nested 100,000 deep, a 50 MB line without a newline, binary
garbage, the valid file encoded in UTF-16, and an empty file; each given as the changelog,
the ``--data`` file, the answers to import (CSV and Label Studio JSON) or the output.
A SIGALRM guard turns a hang into a failure after a few seconds, and a cap on the address
space turns reading ``/dev/zero`` to its end into a MemoryError (instead of the OOM killer).
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from errlens.annotators.exchange import MAX_JSON_DEPTH, import_csv
from errlens.annotators.labelstudio import import_labelstudio
from errlens.changelog import Changelog, LabelStore, merge_logs, verify_file
from errlens.changelog.errors import ChangelogError
from errlens.changelog.events import seal
from errlens.cli import main

LABELS = pd.Series(["cat", "dog", "dog", "cat", "fox"],
                   index=pd.Index([f"img-{i}" for i in range(5)], name="id"))
DEEP = "[" * 100_000 + "]" * 100_000
KINDS = ("fifo", "zero", "null", "folder", "nested", "long", "binary", "utf16", "empty")
#: Hostile only in name: JSON in UTF-16 is still JSON, and is imported.
ACCEPTED = {("import json", "utf16")}
HANG_S = 10


class Hang(BaseException):
    """Raised by the alarm: a BaseException, so no ``except Exception`` can swallow it."""


@pytest.fixture(autouse=True)
def hang_guard() -> Iterator[Callable[[], None]]:
    """Call the returned function before each case: the case fails after HANG_S seconds."""
    def raise_hang(signum: int, frame: object) -> None:
        raise Hang(f"blocked for {HANG_S} s")

    before = signal.signal(signal.SIGALRM, raise_hang)
    yield lambda: signal.alarm(HANG_S)
    signal.alarm(0)
    signal.signal(signal.SIGALRM, before)


@pytest.fixture(autouse=True)
def memory_cap() -> Iterator[None]:
    """At most 4 GB more address space while a test runs: a reader that regresses into
    reading /dev/zero fails with MemoryError here instead of exhausting a shared machine."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as fh:
        used = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    cap = used + (4 << 30)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    yield
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """A valid changelog (two, for merge), its dataset, and valid answers in CSV and JSON."""
    good = LabelStore(LABELS, tmp_path / "good.jsonl", author="ana")
    good.relabel("img-1", "cat", note="pointy ears")
    shutil.copy(good.path, tmp_path / "other.jsonl")
    LabelStore(LABELS, tmp_path / "other.jsonl", author="ben").confirm("img-2")
    LABELS.rename("label").reset_index().to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "answers.csv").write_text("sample_id,label,annotator\nimg-0,dog,ivy\n")
    (tmp_path / "answers.json").write_text(json.dumps([{
        "id": 1, "data": {"sample_id": "img-0"},
        "annotations": [{"id": 1, "completed_by": 1,
                         "result": [{"type": "choices", "value": {"choices": ["dog"]}}]}]}]))
    return {name: tmp_path / name for name in ("good.jsonl", "other.jsonl", "data.csv",
                                               "answers.csv", "answers.json")}


def _nested(valid: Path) -> bytes:
    """Deeply nested JSON where this kind of file holds JSON or text."""
    if valid.suffix == ".jsonl":  # a correctly sealed line: the hash chain lets it through
        header = valid.read_bytes().split(b"\n")[0]
        line, _ = seal('{"cause":' + DEEP + "}", json.loads(header)["hash"])
        return header + b"\n" + line.encode() + b"\n"
    if valid.suffix == ".json":
        return ('[{"id": 1, "data": {"sample_id": "img-0", "cause": ' + DEEP + '}}]').encode()
    if valid.name == "answers.csv":
        return f'sample_id,label,annotator,cause\nimg-0,dog,ivy,"{DEEP}"\n'.encode()
    return f"id,label\nimg-0,{DEEP}\n".encode()


def hostile(kind: str, valid: Path) -> Path:
    """A file of ``kind`` with ``valid``'s extension, beside it."""
    path = valid.with_name(f"{kind}-{valid.name}")
    if kind == "fifo":
        os.mkfifo(path)
    elif kind in ("zero", "null"):
        path.symlink_to(f"/dev/{kind}")
    elif kind == "folder":
        path.mkdir()
    else:
        path.write_bytes({
            "nested": lambda: _nested(valid),
            "long": lambda: b"x" * (50 << 20),
            "binary": lambda: random.Random(kind).randbytes(1 << 16),
            "utf16": lambda: valid.read_text().encode("utf-16"),
            "empty": lambda: b""}[kind]())
    return path


# Each verb with the place a hostile file goes: {X} is the hostile file (made from the valid
# file named by the role), the other names are the valid files.
CASES = {
    "verify log": ("good.jsonl", ["verify", "{X}"]),
    "show log": ("good.jsonl", ["show", "{X}"]),
    "diff log": ("good.jsonl", ["diff", "{X}"]),
    "merge log": ("good.jsonl", ["merge", "{X}", "{other.jsonl}", "-o", "{out}.jsonl"]),
    "tag log": ("good.jsonl", ["tag", "{X}", "v9"]),
    "resolve log": ("good.jsonl", ["resolve", "{X}"]),
    "export log": ("good.jsonl", ["export", "{X}", "{out}.csv", "--data", "{data.csv}"]),
    "import log": ("good.jsonl", ["import", "{X}", "{answers.csv}", "--data", "{data.csv}"]),
    "verify --data": ("data.csv", ["verify", "{good.jsonl}", "--data", "{X}"]),
    "show --data": ("data.csv", ["show", "{good.jsonl}", "--data", "{X}"]),
    "diff --data": ("data.csv", ["diff", "{good.jsonl}", "--data", "{X}"]),
    "resolve --data": ("data.csv", ["resolve", "{good.jsonl}", "--data", "{X}"]),
    "export --data": ("data.csv", ["export", "{good.jsonl}", "{out}.csv", "--data", "{X}"]),
    "import --data": ("data.csv", ["import", "{good.jsonl}", "{answers.csv}", "--data", "{X}"]),
    "import csv": ("answers.csv", ["import", "{good.jsonl}", "{X}", "--data", "{data.csv}"]),
    "import json": ("answers.json", ["import", "{good.jsonl}", "{X}", "--data", "{data.csv}"]),
}
OUTPUTS = {  # hostile outputs (--force: even then)
    "diff --csv": ("out.csv", ["diff", "{good.jsonl}", "--csv", "{X}", "--force"]),
    "export output": ("out.csv", ["export", "{good.jsonl}", "{X}", "--data", "{data.csv}",
                                  "--force"]),
    "merge -o": ("out.jsonl", ["merge", "{good.jsonl}", "{other.jsonl}", "-o", "{X}",
                               "--force"]),
}


def _argv(template: list[str], files: dict[str, Path], target: Path) -> list[str]:
    subs = {f"{{{name}}}": str(path) for name, path in files.items()}
    subs["{X}"], out = str(target), str(target.parent / "out")
    return ["changelog", *(subs.get(a, a.replace("{out}", out)) for a in template)]


def _run(argv: list[str], guard: Callable[[], None], capsys) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one command (exit code -1: it hung; an exception out
    of main is the traceback a user would see)."""
    capsys.readouterr()
    guard()
    raised = ""
    try:
        code = main(argv)
    except Hang:
        code = -1
    except Exception as exc:
        code, raised = -2, f"Traceback: {type(exc).__name__}"
    finally:
        signal.alarm(0)
    out, err = capsys.readouterr()
    return code, out, err + raised


def _problem(code: int, out: str, err: str, case: str, kind: str) -> str | None:
    """What is wrong with an answer to a hostile input (None: handled)."""
    # one line, but an import lists each problem of the file on a line of its own
    said = [line for line in err.splitlines()
            if not line.startswith(("note:", "  - ", "  ... and "))]
    if code == -1:
        return f"hung for {HANG_S} s"
    if "Traceback" in out + err:
        return "a traceback"
    if (case, kind) in ACCEPTED:
        return None if code == 0 and "Recorded 1 events" in out else f"exit code {code}"
    if code == 1 and case.startswith("verify") and out.startswith("DAMAGED"):
        return None  # verify judged the file: damage, with its lines
    if code != 2:
        return f"exit code {code}"
    if len(said) != 1 or not said[0].startswith("error: ") or "bug in errlens" in said[0]:
        return f"not one clear line: {err!r}"
    return None


@pytest.mark.parametrize("case", [*CASES, *OUTPUTS])
def test_every_verb_refuses_hostile_files_in_one_line(case, files, hang_guard, capsys):
    valid, template = CASES.get(case) or OUTPUTS[case]
    kinds = KINDS if case in CASES else ("fifo", "zero", "null", "folder")
    before = files["good.jsonl"].read_bytes()
    failures = []
    for kind in kinds:
        base = files.get(valid, files["good.jsonl"].with_name(valid))
        target = hostile(kind, base)
        code, out, err = _run(_argv(template, files, target), hang_guard, capsys)
        problem = _problem(code, out, err, case, kind)
        if problem:
            failures.append(f"{kind}: {problem}")
        if (case, kind) in ACCEPTED:
            files["good.jsonl"].write_bytes(before)  # what it recorded is not the point here
        elif files["good.jsonl"].read_bytes() != before:
            failures.append(f"{kind}: the changelog changed")
        if target.is_file() and not target.is_symlink():
            target.unlink()  # 50 MB each: do not keep them
    assert not failures, f"{case}: {len(kinds) - len(failures)} of {len(kinds)} handled; " \
                         f"{failures}"


def test_a_log_at_a_fifo_or_device_is_refused_in_python_too(files, hang_guard):
    """LabelStore, Changelog, verify_file and merge_logs: a clear ChangelogError, no hang."""
    good = files["good.jsonl"]
    openers = {"LabelStore": lambda p: LabelStore(LABELS, p, author="x"),
               "Changelog": Changelog, "verify_file": verify_file,
               "merge_logs": lambda p: merge_logs([p, good], good.with_name("m.jsonl"))}
    tried = 0
    for kind in ("fifo", "zero", "null", "folder"):
        path = hostile(kind, good)
        for opener in openers.values():
            tried += 1
            hang_guard()
            with pytest.raises(ChangelogError, match=r"not a regular file|is a folder"):
                opener(path)
            signal.alarm(0)
    assert tried == 16 and not good.with_name("m.jsonl").exists()


def test_imports_refuse_hostile_answers_with_a_changelog_error(files, hang_guard):
    """import_csv / import_labelstudio: every hostile answers file is a ChangelogError (deep
    JSON in a cause cell or a Label Studio export is refused, not a RecursionError) and
    nothing is written."""
    store = LabelStore(LABELS, files["good.jsonl"], author="lead")
    before = files["good.jsonl"].read_bytes()
    for importer, valid in ((import_csv, files["answers.csv"]),
                            (import_labelstudio, files["answers.json"])):
        for kind in KINDS:
            if (f"import {valid.suffix[1:]}", kind) in ACCEPTED:
                continue
            path = hostile(kind, valid)
            hang_guard()
            with pytest.raises(ChangelogError) as info:
                importer(store, path)
            signal.alarm(0)
            if kind == "nested":
                assert f"nested more than {MAX_JSON_DEPTH} levels deep" in str(info.value)
    assert files["good.jsonl"].read_bytes() == before


def test_memory_error_and_unexpected_errors_are_one_line(files, monkeypatch, capsys):
    from errlens import cli

    for exc, needle in ((MemoryError(), "not enough memory to read the input"),
                        (RecursionError("maximum recursion depth"), "nested too deeply"),
                        (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
                         "can't decode byte 0xff"),
                        (KeyError("x"), "unexpected KeyError: 'x'. This is a bug")):
        def broken(args, exc=exc):
            raise exc

        monkeypatch.setitem(cli.VERBS, "show", broken)
        assert main(["changelog", "show", str(files["good.jsonl"])]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("error: ") and needle in err, err

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.VERBS, "show", interrupted)  # Ctrl-C: no traceback either
    assert main(["changelog", "show", str(files["good.jsonl"])]) == 130
    assert capsys.readouterr().err == "error: interrupted\n"
