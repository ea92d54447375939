"""The line format at its edges: every byte of a line is checked, malformed lines (deep,
long, repeated keys, NaN, lone surrogates, numbers beyond 64 bits) are refused with a clear
error naming their line, a last line whose newline an editor removed is kept, and whatever
``record`` accepts is read back (and whatever a reader refuses, ``record`` refuses).

``MALFORMED`` holds 27 hash-correct but malformed logs; each must be refused by
``LabelStore``, ``Changelog`` and ``verify`` alike, as a ChangelogError naming its line
(never a RecursionError, MemoryError or UnicodeError).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from errlens.changelog import (
    Changelog,
    ChangelogError,
    ChangelogWarning,
    LabelStore,
    verify_file,
)
from errlens.changelog.events import MAX_LINE_BYTES, Event, canonical, seal, validate
from errlens.changelog.lines import seal_write

LABELS = pd.Series(["spam", "ham", "ham", "spam"], index=[101, 102, 103, 104])


def _log(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A log with one event, and that event's fields (a template for the next line)."""
    path = tmp_path / "mail.jsonl"
    store = LabelStore(LABELS, path, author="ana")
    store.relabel(101, "ham", note="newsletter", cause={"detector": "rules", "score": 0.5})
    good = json.loads(path.read_text().splitlines()[-1])
    good.pop("hash")
    good.update(event_id="ffff0000", oseq=2, parents=[good["event_id"]], old_label="ham",
                new_label="spam")
    return path, good


def _last_hash(path: Path) -> str:
    return path.read_bytes().rstrip(b"\n").rsplit(b"\n", 1)[-1][-66:-2].decode()


def _append_body(path: Path, body: str) -> None:
    """Append a line sealed the way errlens seals (what a hash-aware tool would write), even
    one errlens would refuse to write (too long, invalid UTF-8)."""
    data = body.encode("utf-8", "surrogatepass")
    digest = hashlib.sha256(_last_hash(path).encode() + b"\n" + data).hexdigest()
    with open(path, "ab") as fh:
        fh.write(data[:-1] + b',"hash":"%b"}\n' % digest.encode())


def _with_text(good: dict[str, Any], key: str, text: str) -> str:
    """The canonical body of ``good`` with ``"key":<text>`` (raw JSON) in place of its value."""
    marker = "\x00MARK\x00"
    return canonical({**good, key: marker}).replace(json.dumps(marker), text)


def _replace_closing(path: Path, closing: bytes) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:-3] + closing + b"\n")


def _deep(n: int) -> str:
    return '{"a":' * n + "1" + "}" * n


# name -> (how to damage the log after its 2 good lines, words the error must contain)
MALFORMED: dict[str, tuple[Callable[[Path, dict[str, Any]], None], str]] = {
    "closing bytes replaced": (lambda p, g: _replace_closing(p, b'"]'), "exact bytes"),
    "closing brace doubled": (lambda p, g: _replace_closing(p, b'"}}'), "exact bytes"),
    "space before the closing brace": (lambda p, g: _replace_closing(p, b'" }'), "exact bytes"),
    "repeated top-level key": (
        lambda p, g: _append_body(p, canonical(g)[:-1] + ',"author":"eve"}'),
        "the key 'author' appears twice"),
    "repeated key inside cause": (
        lambda p, g: _append_body(p, _with_text(g, "cause", '{"score":0.1,"score":0.9}')),
        "the key 'score' appears twice"),
    "cause nested 2,000 deep": (
        lambda p, g: _append_body(p, _with_text(g, "cause", _deep(2000))),
        "nest more than 1024 levels"),
    "repeated key, colons in the note": (
        lambda p, g: _append_body(p, canonical({**g, "note": 'he said "x": y'})[:-1]
                                  + ',"round":2}'), "the key 'round' appears twice"),
    "label nested 5,000 deep": (
        lambda p, g: _append_body(p, _with_text(g, "new_label", "[" * 5000 + "]" * 5000)),
        "nest more than 1024 levels"),
    "NaN in cause": (lambda p, g: _append_body(p, _with_text(g, "cause", '{"score":NaN}')),
                     "NaN is not a JSON number"),
    "Infinity confidence": (lambda p, g: _append_body(p, _with_text(g, "confidence",
                                                                    "Infinity")),
                            "Infinity is not a JSON number"),
    "1e400 time spent": (lambda p, g: _append_body(p, _with_text(g, "time_spent", "1e400")),
                         "too large for a JSON number"),
    "lone surrogate in note": (lambda p, g: _append_body(p, _with_text(g, "note", '"\\ud800"')),
                               "lone surrogate"),
    "lone surrogate in author": (
        lambda p, g: _append_body(p, _with_text(g, "author", '"an\\udfffa"')), "lone surrogate"),
    "round 2**64": (lambda p, g: _append_body(p, _with_text(g, "round", str(2**64))),
                    "round must be a positive integer"),
    "round 2**63": (lambda p, g: _append_body(p, _with_text(g, "round", str(2**63))),
                    "round must be a positive integer"),
    "round 10**30": (lambda p, g: _append_body(p, _with_text(g, "round", str(10**30))),
                     "round must be a positive integer"),
    "oseq 2**63": (lambda p, g: _append_body(p, _with_text(g, "oseq", str(2**63))),
                   "oseq must be a positive integer"),
    "sample id 2**63": (lambda p, g: _append_body(p, _with_text(g, "sample_id", str(2**63))),
                        "needs a sample_id"),
    "label integer 2**63": (lambda p, g: _append_body(p, _with_text(g, "new_label",
                                                                     str(2**63))),
                            "must be a class name"),
    "line of 16 MiB": (
        lambda p, g: _append_body(p, _with_text(g, "note", json.dumps("x" * MAX_LINE_BYTES))),
        f"longer than {MAX_LINE_BYTES:,} bytes"),
    "NUL bytes": (lambda p, g: p.open("ab").write(b"\x00" * 300 + b"\n"), "no hash"),
    "blank line": (lambda p, g: p.open("ab").write(b"\n"), "no hash"),
    "an object of no event": (lambda p, g: _append_body(p, '{"type":"event"}'),
                              "missing field(s)"),
    "year 0 timestamp": (lambda p, g: _append_body(p, _with_text(
        g, "timestamp", '"0000-01-01T00:00:00.000000Z"')), "must be ISO 8601"),
    "hash in upper case": (lambda p, g: p.write_bytes(
        p.read_bytes()[:-67] + p.read_bytes()[-67:-3].upper() + b'"}\n'), "hash chain"),
    "not UTF-8": (lambda p, g: _append_body(p, _with_text(g, "note", '"caf\udce9"')),
                  "not valid JSON"),
    "edited, own hash recomputed": (lambda p, g: _edit_and_rehash(p), "line 2 was edited"),
}


def _edit_and_rehash(path: Path) -> None:
    """Edit line 2 and recompute its hash (not the next line's): the break shows on line 3."""
    lines = path.read_bytes().split(b"\n")[:-1]
    header_hash = lines[0][-66:-2].decode()
    obj = json.loads(lines[1])
    obj.pop("hash")
    obj["note"] = "a forged note"
    lines[1] = seal(canonical(obj), header_hash)[0].encode()
    path.write_bytes(b"\n".join(lines) + b"\n")


def _add_line_3(path: Path, good: dict[str, Any]) -> None:
    _append_body(path, canonical(good))


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_malformed_line_is_refused_clearly_on_its_line(tmp_path: Path, case: str) -> None:
    path, good = _log(tmp_path)
    damage, words = MALFORMED[case]
    if case == "edited, own hash recomputed":
        _add_line_3(path, good)
    line = 2 if case.startswith(("closing", "space", "hash in")) else 3
    head = _last_hash(path) if line == 2 else None  # noted before the damage (verify --head)
    damage(path, good)
    before = path.read_bytes()
    for opener in (lambda: LabelStore(LABELS, path, author="ana"), lambda: Changelog(path)):
        with pytest.raises(ChangelogError) as info:
            opener()
        assert f"line {line}" in str(info.value) and words in str(info.value), str(info.value)
    report = verify_file(path, expect_head=head)
    assert not report.ok and report.problems[0].line == line, str(report)
    assert words in report.problems[0].message, str(report)
    assert path.read_bytes() == before  # nothing repaired or cut


def test_colons_and_quotes_in_text_are_not_taken_for_keys(tmp_path: Path) -> None:
    """Notes and causes full of ':' and '":' (the slow path of the repeated-key check) read
    as usual, and so does a cause nested a few levels deep."""
    path = tmp_path / "mail.jsonl"
    store = LabelStore(LABELS, path, author="ana")
    store.relabel(101, "ham", note='he said "x": y, at 10:30', cause={"url": "https://a.b/c"})
    store.relabel(102, "spam", cause={"rule": {"when": ['"a":', {"b": 1}]}, "n": 2**64 - 1})
    store.comment(103, '{"author":"eve"}')
    assert verify_file(path).ok
    assert len(LabelStore(LABELS, path, author="ana").events()) == 3


def test_every_byte_of_a_line_is_covered(tmp_path: Path) -> None:
    """Changing any single byte of an event line (its newline aside) is reported by verify,
    even the closing '"}' after the hash that the hash itself does not cover."""
    path, _ = _log(tmp_path)
    data = path.read_bytes()
    start = data.index(b"\n") + 1
    head = _last_hash(path)
    missed = []
    for pos in range(start, len(data) - 1):
        for new in (b" ", b"}"):
            if data[pos:pos + 1] == new:
                continue
            path.write_bytes(data[:pos] + new + data[pos + 1:])
            if verify_file(path, expect_head=head).ok:
                missed.append((pos - start, new))
    assert missed == []


def test_a_last_line_without_its_newline_is_kept(tmp_path: Path) -> None:
    """An editor that strips the final newline loses no event; the next write adds it."""
    path, _ = _log(tmp_path)
    path.write_bytes(path.read_bytes()[:-1])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ChangelogWarning)
        assert len(Changelog(path).events()) == 1
        store = LabelStore(LABELS, path, author="ana")
    report = verify_file(path)
    assert report.ok and report.n_events == 1 and report.n_lines == 2, str(report)
    assert store.labels()[101] == "ham"
    store.relabel(102, "spam")
    text = path.read_text()
    assert text.endswith("\n") and len(text.splitlines()) == 3
    assert verify_file(path).ok
    assert LabelStore(LABELS, path, author="ben").labels().tolist() == ["ham", "spam", "ham",
                                                                         "spam"]


def test_two_stores_open_on_a_log_without_its_final_newline(tmp_path: Path) -> None:
    path, _ = _log(tmp_path)
    path.write_bytes(path.read_bytes()[:-1])
    first = LabelStore(LABELS, path, author="ana")
    second = LabelStore(LABELS, path, author="ben")
    second.relabel(103, "spam")  # adds the newline, then its line
    first.relabel(104, "ham")  # reads ben's line after the added newline
    assert verify_file(path).ok and len(first.events()) == 3


def test_an_incomplete_last_line_is_still_cut(tmp_path: Path) -> None:
    path, good = _log(tmp_path)
    line, _ = seal(canonical(good), _last_hash(path))
    path.write_bytes(path.read_bytes() + line.encode()[:-1])  # the hash's closing cut off
    with pytest.warns(ChangelogWarning, match="incomplete last line"):
        store = LabelStore(LABELS, path, author="ana")
    assert len(store.events()) == 1 and verify_file(path).ok


def test_the_first_line_of_a_batch_without_newline_is_a_write_cut_short(tmp_path: Path) -> None:
    path, good = _log(tmp_path)
    second = {**good, "event_id": "ffff0001", "oseq": 3, "sample_id": 102}
    lines, _ = seal_write([good, second], _last_hash(path))
    path.write_bytes(path.read_bytes() + lines[0].encode())  # crash before its newline
    with pytest.warns(ChangelogWarning):
        store = LabelStore(LABELS, path, author="ana")
    assert len(store.events()) == 1 and verify_file(path).ok


def test_a_file_without_any_newline_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "zeros.jsonl"
    path.write_bytes(b"\x00" * (40 << 20))
    with pytest.raises(ChangelogError, match="no complete line"):
        Changelog(path)
    report = verify_file(path)
    assert not report.ok


# ---------------------------------------------------------------------------- properties
_TEXT = st.text(st.characters(codec="utf-8") | st.sampled_from(["\ud800", "\udfff"]),
                max_size=6)
_INTS = st.integers(min_value=-(2**70), max_value=2**70) | st.sampled_from(
    [0, 1, 2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1])
_NUMBERS = _INTS | st.floats(allow_nan=True, allow_infinity=True) | st.none()
_JSONISH = st.recursive(st.none() | st.booleans() | _NUMBERS | _TEXT,
                        lambda inner: st.lists(inner, max_size=3) |
                        st.dictionaries(_TEXT, inner, max_size=3), max_leaves=8)
_CALLS = st.fixed_dictionaries({}, optional={
    "author": _TEXT, "role": st.sampled_from(["annotator", "reviewer", "boss", ""]),
    "note": _TEXT | st.none(), "round": _INTS | st.none(), "confidence": _NUMBERS,
    "time_spent": _NUMBERS, "cause": st.dictionaries(_TEXT, _JSONISH, max_size=3) | _INTS,
    "timestamp": st.sampled_from(["2026-01-31T12:00:00Z", "0001-01-01T00:00:00Z",
                                  "9999-12-31T23:59:59.999999Z", "yesterday"]),
    "parents": st.lists(_TEXT, max_size=2) | _INTS,
})


def _read_back(path: Path) -> list[str]:
    """Problems any reader has with the log (empty if all of them read it)."""
    found = []
    for name, read in (("store", lambda: LabelStore(LABELS, path, author="ana").labels()),
                       ("changelog", lambda: Changelog(path).events()),
                       ("verify", lambda: verify_file(path).problems or None)):
        try:
            result = read()
        except ChangelogError as exc:
            found.append(f"{name}: {exc}")
        else:
            if name == "verify" and result:
                found.append(f"{name}: {result}")
    return found


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(kwargs=_CALLS, label=st.sampled_from(["ham", "spam"]))
def test_what_record_accepts_every_reader_reads(tmp_path_factory: pytest.TempPathFactory,
                                                kwargs: dict[str, Any], label: str) -> None:
    path = tmp_path_factory.mktemp("prop") / "log.jsonl"
    store = LabelStore(LABELS, path, author="ana")
    size = path.stat().st_size
    try:
        store.record("set", 102, label, **kwargs)
    except ChangelogError:
        assert path.stat().st_size == size  # refused: nothing written
        return
    assert _read_back(path) == []


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(field=st.sampled_from(["author", "note", "round", "confidence", "time_spent", "cause",
                              "sample_id", "new_label", "oseq", "event_id", "role",
                              "timestamp", "parents"]),
       value=_JSONISH | _TEXT.map(lambda t: "2026-01-31T12:00:00." + t + "Z"))
def test_what_a_reader_refuses_record_refuses(tmp_path_factory: pytest.TempPathFactory,
                                              field: str, value: Any) -> None:
    """A line with ``value`` in ``field`` that some reader refuses is an event a store
    refuses to write (the store's checks: fields, then the state of the log)."""
    path, good = _log(tmp_path_factory.mktemp("prop"))
    store = LabelStore(LABELS, path, author="ana")
    obj = {**good, field: value}
    fields = {k: v for k, v in obj.items() if k != "type"}
    if isinstance(fields.get("parents"), list):
        fields["parents"] = tuple(fields["parents"])
    try:
        ev = validate(Event(**fields))
        store._check_sample(ev)
        store._state.check(ev)
        seal(ev.body(), "")
        writer_refuses = False
    except ChangelogError:
        writer_refuses = True
    try:
        body = canonical(obj)
    except ValueError:  # NaN or infinity: not JSON, no reader ever sees it
        assert writer_refuses
        return
    _append_body(path, body)
    refused = _read_back(path)
    if refused:
        assert writer_refuses, (field, value, refused)
    # (a reader may accept what the writer refuses: orjson reads the integer 2**64 as a
    # float, which it cannot tell from one written as such)


def test_a_checkpoint_of_a_log_without_its_final_newline_still_matches(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkpoint saved while the last line lacked its newline is used after a writer
    added it (the newline right after the checkpoint's bytes ends their last line)."""
    from errlens.changelog import checkpoint as ckpt

    monkeypatch.setenv("ERRLENS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(ckpt, "MIN_EVENTS", 1)
    monkeypatch.setattr(ckpt, "REFRESH_EVENTS", 10**9)  # keep the first checkpoint
    path, _ = _log(tmp_path)
    path.write_bytes(path.read_bytes()[:-1])
    LabelStore(LABELS, path, author="ana").relabel(102, "spam")  # saves it, then appends
    used = []
    restore = ckpt.restore
    monkeypatch.setattr(ckpt, "restore", lambda *a: used.append(restore(*a)) or used[-1])
    store = LabelStore(LABELS, path, author="ben")
    assert used[0] is not None and len(store.events()) == 2 and verify_file(path).ok
    assert store.labels().tolist() == ["ham", "spam", "ham", "spam"]
