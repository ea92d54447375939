"""Malformed input: every case fails with a clear message and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from errlens.changelog import ChangelogError, CorruptLogError, LabelStore, verify_file
from errlens.changelog.dataset import Dataset
from errlens.changelog.events import canonical, seal

LABELS = pd.Series(["spam", "ham", "ham", "spam"], index=[101, 102, 103, 104])


def _log(tmp_path: Path) -> tuple[Path, LabelStore, dict[str, Any]]:
    path = tmp_path / "mail.jsonl"
    store = LabelStore(LABELS, path, author="ana")
    store.relabel(101, "ham", note="newsletter")
    good = json.loads(path.read_text().splitlines()[-1])
    good.pop("hash")
    good.update(event_id="ffff0000", oseq=2)
    return path, store, good


def _append(path: Path, body: Any) -> None:
    """Append a correctly chained line (what a buggy but hash-aware tool would write)."""
    last = json.loads(path.read_text().splitlines()[-1])["hash"]
    line, _ = seal(body if isinstance(body, str) else canonical(body), last)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def _with(good: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = dict(good)
    for key, value in changes.items():
        if value is _DROP:
            out.pop(key)
        else:
            out[key] = value
    return out


_DROP = object()
FILE_CASES = {
    "bad JSON": ("{not json}", "not valid JSON"),
    "unknown event schema version": ({"schema_version": 2}, "schema version 2"),
    "unknown sample id": ({"sample_id": 999}, "sample id 999 is not in this dataset"),
    "unknown class": ({"new_label": "phishing"}, "'phishing' is not one of the classes"),
    "duplicate event id": ({"event_id": "__first__"}, "duplicate event id"),
    "oseq as text": ({"oseq": "2"}, "oseq must be a positive integer"),
    "confidence above 1": ({"confidence": 1.5}, "confidence must be a number between 0 and 1"),
    "negative time spent": ({"time_spent": -3}, "time_spent must be a finite number of seconds"),
    "parents not a list": ({"parents": "abc"}, "parents must be a list"),
    "unknown operation": ({"op": "delete"}, "unknown operation 'delete'"),
    "unknown field": ({"colour": "red"}, "unknown field(s) ['colour']"),
    "missing author": ({"author": _DROP}, "missing field(s) ['author']"),
    "empty author": ({"author": " "}, "author must be a non-empty name"),
    "local timestamp": ({"timestamp": "2026-01-01 10:00"}, "must be ISO 8601 UTC"),
    "unknown role": ({"role": "boss"}, "role 'boss' is unknown"),
    "unknown parent": ({"parents": ["nope"]}, "unknown event(s) ['nope']"),
    "revert of unknown event": ({"op": "revert", "refs": ["nope"]}, "unknown event(s)"),
    "cause not an object": ({"cause": "cleanlab"}, "cause must be a JSON object"),
    "sample id as bool": ({"sample_id": True}, "needs a sample_id"),
    "set without label": ({"new_label": _DROP}, "needs new_label"),
    "second header": ({"type": "header"}, "only the first line may be a header"),
    "label as list": ({"new_label": ["ham"]}, "must be a class name"),
    "round zero": ({"round": 0}, "round must be a positive integer"),
}


@pytest.mark.parametrize("case", FILE_CASES, ids=list(FILE_CASES))
def test_malformed_line_is_refused_with_its_line_number(tmp_path, case):
    path, store, good = _log(tmp_path)
    body, message = FILE_CASES[case]
    if isinstance(body, dict):
        changes = {k: (store.events()["event_id"].iloc[0] if v == "__first__" else v)
                   for k, v in body.items()}
        body = _with(good, **changes)
    _append(path, body)
    before = path.read_bytes()
    with pytest.raises(CorruptLogError) as info:
        LabelStore(LABELS, path, author="ana")
    assert "line 3" in str(info.value) and message in str(info.value), str(info.value)
    assert path.read_bytes() == before
    report = verify_file(path, dataset=Dataset.from_source(LABELS))
    assert not report.ok and report.problems[0].line == 3


WHOLE_FILE_CASES = {
    "empty file": (b"", "is empty (0 bytes)"),
    "not a changelog": (b"id,label\n101,ham\n", "no hash at its end"),
    "header missing": (None, "line 1: the hash chain is broken"),
    "unknown file schema version": ("version", "schema version 9 is not supported"),
    "different dataset": ("fingerprint", "written for another dataset"),
    "edited line in the middle": ("edit", "line 2: the hash chain is broken"),
}


@pytest.mark.parametrize("case", WHOLE_FILE_CASES, ids=list(WHOLE_FILE_CASES))
def test_malformed_file_is_refused(tmp_path, case):
    path, _, _ = _log(tmp_path)
    content, message = WHOLE_FILE_CASES[case]
    lines = path.read_text().splitlines()
    header = json.loads(lines[0])
    header.pop("hash")
    if content is None:
        path.write_text("\n".join(lines[1:]) + "\n")
    elif content == "version":
        header["schema_version"] = 9
        path.write_text(seal(canonical(header), "")[0] + "\n")
    elif content == "fingerprint":
        header["dataset"]["fingerprint"] = "sha256:" + "0" * 64
        path.write_text(seal(canonical(header), "")[0] + "\n")
    elif content == "edit":
        path.write_text("\n".join([lines[0], lines[1].replace("newsletter", "spam!"),
                                   *lines[2:]]) + "\n")
    else:
        path.write_bytes(content)
    before = path.read_bytes()
    with pytest.raises(ChangelogError, match=message.replace("(", r"\(").replace(")", r"\)")):
        LabelStore(LABELS, path, author="ana")
    assert path.read_bytes() == before


API_CASES = {
    "unknown class": (lambda s: s.relabel(102, "phishing"), "not one of the classes"),
    "unknown sample": (lambda s: s.relabel(999, "ham"), "sample id 999 is not in this dataset"),
    "confidence": (lambda s: s.relabel(102, "spam", confidence=2), "between 0 and 1"),
    "bad batch entry": (lambda s: s.record_many([{"op": "set", "id": 102, "label": "spam"},
                                                 {"op": "set", "id": 103, "label": "eggs"}]),
                        "entry 1 of the batch"),
    "unknown op": (lambda s: s.record("delete", 102), "unknown operation"),
    "empty comment": (lambda s: s.comment(102, ""), "a comment needs text"),
    "confirm another label": (lambda s: s.record("confirm", 102, "spam"), "cannot confirm"),
    "cause not JSON": (lambda s: s.relabel(102, "spam", cause={"x": {1, 2}}), "not JSON"),
    "naive garbage time": (lambda s: s.record("set", 102, "spam", timestamp="yesterday"),
                           "is not a date and time"),
    "tag via record": (lambda s: s.record("tag", None), "store.tag"),
    "rename onto existing": (lambda s: s.rename_class("ham", "spam"), "the new name exists"),
    "undo unknown": (lambda s: s.undo("nope"), "not in this log"),
    "unknown key": (lambda s: s.record_many([{"op": "set", "id": 102, "lable": "x"}]),
                    "unknown key"),
    # given values are refused as given, never replaced by defaults
    "round zero": (lambda s: s.record("set", 102, "spam", round=0),
                   "round must be a positive integer up to 9223372036854775807, got 0"),
    "round 2**64": (lambda s: s.record("set", 102, "spam", round=2**64),
                    "round must be a positive integer"),
    "round 10**30": (lambda s: s.record("set", 102, "spam", round=10**30),
                     "round must be a positive integer"),
    "empty author": (lambda s: s.record("set", 102, "spam", author=""),
                     "author must be a non-empty name"),
    "empty role": (lambda s: s.record("set", 102, "spam", role=""), "role '' is unknown"),
    "parents a number": (lambda s: s.record("set", 102, "spam", parents=5),
                         "parents must be a list of event ids, got 5"),
    "parents as text": (lambda s: s.record("set", 102, "spam", parents="abc"),
                        "parents must be a list of event ids, got 'abc'"),
    "refs a number": (lambda s: s.record("revert", 102, refs=7), "refs must be a list"),
    "lone surrogate in note": (lambda s: s.relabel(102, "spam", note="caf\udce9"),
                               "note must be text \\(valid Unicode\\)"),
    "lone surrogate in author": (lambda s: s.record("set", 102, "spam", author="an\ud800"),
                                 "non-empty name in valid Unicode"),
    "lone surrogate in a class": (lambda s: s.add_class("x\ud800"), "not valid Unicode"),
    "cause 40 levels deep": (lambda s: s.relabel(102, "spam", cause=_nested(40)),
                             "more than 32 levels deep"),
    "cause integer beyond 64 bits": (lambda s: s.relabel(102, "spam", cause={"id": 2**64}),
                                     "beyond 64 bits"),
    "cause with a number key": (lambda s: s.relabel(102, "spam", cause={1: "a"}),
                                "keys must be text"),
    "note of 17 MB": (lambda s: s.relabel(102, "spam", note="x" * (17 << 20)), "too long"),
    "year 0": (lambda s: s.record("set", 102, "spam", timestamp="0000-01-01T00:00:00Z"),
               "is not a date and time"),
}


def _nested(depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {"score": 1}
    for _ in range(depth):
        out = {"inner": out}
    return out


@pytest.mark.parametrize("case", API_CASES, ids=list(API_CASES))
def test_invalid_calls_write_nothing(tmp_path, case):
    path, store, _ = _log(tmp_path)
    before = path.read_bytes()
    call, message = API_CASES[case]
    with pytest.raises(ChangelogError, match=message):
        call(store)
    assert path.read_bytes() == before
    assert len(store.events()) == 1 and store.verify().ok
