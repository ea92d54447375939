"""Events loaded in bulk: compact columns, whole-column checks and a lazy event list.

Opening or verifying a log reads every line once (:func:`~errlens.changelog.lines.scan_blocks`)
and keeps, per event, only what replay needs (codes for op, sample, label, origin; sequence
numbers; parent positions) plus the line's byte span; full :class:`Event` objects are parsed
again from the file bytes only when asked for. Field and state checks run on whole columns and
are *conservative*: they flag every row the event-by-event checks
(:func:`~errlens.changelog.events.event_from_dict`, :meth:`Replay.check`) would refuse, and
possibly a few more; the caller replays flagged rows event by event, which gives the exact
error message and line.

>>> cols = Columns(b"")
>>> cols.first_flagged()
0
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain, repeat
from typing import Any, overload

import numpy as np
import orjson

from errlens.changelog.column_checks import (
    MISSING,
    OP_CODE,
    bad_count,
    bad_id_lists,
    bad_labels,
    bad_number,
    bad_text,
    bad_times,
    operation_codes,
    outside,
    transpose,
    typed,
    unique,
    value_codes,
    wide_ints,
)
from errlens.changelog.errors import CorruptLogError
from errlens.changelog.events import (
    _ALLOWED,
    OPS,
    ROLES,
    SCHEMA_VERSION,
    SUFFIX_LEN,
    Event,
    event_from_dict,
)
from errlens.changelog.jsonline import parse_json
from errlens.changelog.lines import Scan, scan_blocks
from errlens.changelog.progress import reading
from errlens.changelog.schema import LabelSchema

_LABEL_OPS = np.array([op in ("set", "confirm", "adjudicate", "revert") for op in OPS])
_SAMPLE_OPS = np.array([op in ("set", "confirm", "skip", "adjudicate", "comment") for op in OPS])
_NEEDS_LABEL = np.array([op in ("set", "adjudicate") for op in OPS])
#: Operations checked event by event at load (rare, and with op-specific rules).
_EXACT_CODES = np.array([op in ("comment", "revert", "tag", "schema") for op in OPS])


class Columns:
    """Compact columns of the events of one file, in file order (see module docstring)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.event_ids: list[str] = []
        self.by_id: dict[str, int] = {}
        self.linenos = array("q")
        self.offsets = array("q")
        self.op = array("b")
        self.sample = array("q")
        self.label = array("q")
        self.origin = array("q")
        self.author = array("q")
        self.oseq = array("q")
        self.n_parents = array("q")
        self.parent_rows = array("q")
        self.samples: dict[Any, int] = {}
        self.labels: dict[Any, int] = {}
        self.origins: dict[Any, int] = {}
        self.authors: dict[Any, int] = {}
        self.exact: dict[int, Event] = {}
        self.flagged: set[int] = set()
        self._label_types: set[type] = set()

    def __len__(self) -> int:
        return len(self.event_ids)

    # ------------------------------------------------------------------ filling
    def add(self, block: Scan, skip_first: bool = False) -> None:
        """Append the events of one scanned block (``skip_first``: its first line is the
        header), checking each field column at once."""
        first = 1 if skip_first else 0
        objs = block.objs[first:]
        base = len(self.event_ids)
        flag = self.flagged
        if not set(map(type, objs)) <= {dict}:
            flag.update(base + i for i, o in enumerate(objs) if type(o) is not dict)
            objs = [o if type(o) is dict else {} for o in objs]
        keys = set().union(*objs)
        if not keys <= _ALLOWED:
            flag.update(base + i for i, o in enumerate(objs) if not o.keys() <= _ALLOWED)

        table, partial = transpose(objs)

        def col(name: str, default: Any = None) -> list[Any]:
            values = table.get(name)
            if values is None:
                return [default] * len(objs)
            if name in partial:
                values = [default if v is MISSING else v for v in values]
            return values

        def mark(rows: Iterable[int]) -> None:
            flag.update(base + i for i in rows)

        ops = col("op")
        mark(outside(ops, OP_CODE))
        mark(outside(col("type", "event"), {"event"}))
        mark(outside(col("schema_version", SCHEMA_VERSION), {SCHEMA_VERSION}))
        mark(outside(col("role", "annotator"), set(ROLES)))
        origins = col("origin")
        mark(bad_text(origins, 1))
        mark(bad_text(col("label_field", "label"), 0))
        ids = col("event_id")
        mark(bad_text(ids, 1, 64))
        authors = col("author")
        mark(bad_text(authors, 1))
        blank = {a for a in unique(authors) if type(a) is str and not a.strip()}
        if blank:
            mark(i for i, a in enumerate(authors) if a in blank)
        mark(bad_count(col("round", 1)))
        oseqs = col("oseq")
        mark(bad_count(oseqs))
        mark(bad_times(col("timestamp")))
        mark(typed(col("note"), {type(None), str}))
        mark(typed(col("cause"), {type(None), dict}))
        mark(bad_number(col("confidence"), 1.0))
        mark(bad_number(col("time_spent"), math.inf))
        parents, refs = col("parents", []), col("refs", [])
        mark(bad_id_lists(parents))
        mark(bad_id_lists(refs))
        news = col("new_label")
        mark(bad_labels(news))
        mark(bad_labels(col("old_label")))
        samples = col("sample_id")
        op_codes = operation_codes(ops)
        sample_types = set(map(type, samples))
        if sample_types <= {str, int}:
            sample_ok = np.ones(len(samples), dtype=bool)
        else:
            sample_ok = np.array([type(s) is str or type(s) is int for s in samples], dtype=bool)
            if not sample_types <= {str, int, type(None)}:
                mark(i for i, s in enumerate(samples) if not (s is None or sample_ok[i]))
        if int in sample_types:
            mark(wide_ints(samples))
        mark(np.flatnonzero(_SAMPLE_OPS[op_codes] & ~sample_ok).tolist())
        label_codes = value_codes(news, self.labels)
        mark(np.flatnonzero(_NEEDS_LABEL[op_codes] & (label_codes < 0)).tolist())
        for i in np.flatnonzero(_EXACT_CODES[op_codes]).tolist():
            if base + i not in flag:
                try:
                    self.exact[base + i] = event_from_dict(dict(objs[i]))
                except ValueError:
                    flag.add(base + i)
        self._link(ids, parents, refs, base)
        self._label_types |= set(map(type, news))
        self.linenos.extend(block.linenos[first:])
        self.offsets.extend(block.offsets[first:])
        self.op.extend(op_codes.tolist())
        self.sample.extend(np.where(sample_ok, value_codes(samples, self.samples), -1).tolist())
        self.label.extend(label_codes.tolist())
        self.origin.extend(value_codes(origins, self.origins).tolist())
        self.author.extend(value_codes(authors, self.authors).tolist())
        self.oseq.extend([v if type(v) is int and v < 1 << 62 else 0 for v in oseqs])

    def _link(self, ids: list[Any], parents: list[Any], refs: list[Any], base: int) -> None:
        """Register event ids (a repeated id flags its row) and turn parents into row
        numbers (an unknown or later parent or ref flags the row)."""
        by_id, flag, n = self.by_id, self.flagged, len(ids)
        if not set(map(type, ids)) <= {str} or not set(map(type, parents)) <= {list} or \
                not set(map(type, refs)) <= {list}:  # rows already flagged: no links
            bad = {i for i in range(n) if type(ids[i]) is not str
                   or type(parents[i]) is not list or type(refs[i]) is not list}
            flag.update(base + i for i in bad)
            ids = [str(e) for e in ids]
            parents = [[] if i in bad else p for i, p in enumerate(parents)]
            refs = [[] if i in bad else r for i, r in enumerate(refs)]
        before = len(by_id)
        by_id.update(zip(ids, range(base, base + n), strict=True))
        if len(by_id) - before < n:  # a repeated id: the first row keeps it, the rest flagged
            first: dict[str, int] = {}
            for row, eid in enumerate(chain(self.event_ids, ids)):
                if first.setdefault(eid, row) != row:
                    flag.add(row)
            by_id.update((e, first[e]) for e in ids)
        self.event_ids += ids
        for lists, store in ((parents, True), (refs, False)):
            counts = np.fromiter(map(len, lists), np.int64, n)
            flat = list(chain.from_iterable(lists))
            if not set(map(type, flat)) <= {str}:  # rows already flagged: no links
                flat = [p if type(p) is str else "" for p in flat]
            found = np.fromiter(map(by_id.get, flat, repeat(-1)), np.int64, len(flat))
            child = np.repeat(np.arange(base, base + n), counts)
            flag.update(child[(found < 0) | (found >= child)].tolist())
            if store:
                self.n_parents.extend(counts.tolist())
                self.parent_rows.extend(found.tolist())

    # ------------------------------------------------------------------ checks
    def check_state(self, has_sample: Callable[[Any], bool] | None = None) -> None:
        """Flag rows a replay would refuse that one block alone cannot show: sequence numbers
        going backwards, labels on other operations, unknown samples, suspicious reverts
        and repeated tag names."""
        n, flag = len(self), self.flagged
        op, label = np.frombuffer(self.op, dtype=np.int8), np.frombuffer(self.label, np.int64)
        flag.update(np.flatnonzero((label >= 0) & ~_LABEL_OPS[op]).tolist())
        if bool in self._label_types and self._label_types & {int, float}:
            flag.update(np.flatnonzero(label >= 0).tolist())  # 1 == True as dict keys
        self._check_oseq()
        seen: set[tuple[Any, str]] = set()  # a tag name reused by one writer
        for i, ev in sorted(self.exact.items()):
            if ev.op == "revert":
                target = self.by_id.get(ev.refs[0], n)
                if target >= i or self.op[target] in (OP_CODE["tag"], OP_CODE["schema"]) or \
                        self.sample[target] != self.sample[i]:
                    flag.add(i)
            if ev.op == "tag":
                if (ev.tag, ev.origin) in seen:
                    flag.add(i)
                seen.add((ev.tag, ev.origin))
        if has_sample is not None:
            unknown = {c for s, c in self.samples.items() if not has_sample(s)}
            if unknown:
                codes = np.frombuffer(self.sample, dtype=np.int64)
                flag.update(np.flatnonzero(np.isin(codes, list(unknown))).tolist())

    def _check_oseq(self) -> None:
        if not len(self):
            return
        origin = np.frombuffer(self.origin, dtype=np.int64)
        oseq = np.frombuffer(self.oseq, dtype=np.int64)
        order = np.argsort(origin, kind="stable")
        same = origin[order][1:] == origin[order][:-1]
        back = same & (oseq[order][1:] <= oseq[order][:-1])
        self.flagged.update(order[1:][back].tolist())

    def check_labels(self, schema: LabelSchema) -> None:
        """Flag label rows whose class is not in the schema of their time, and schema events
        that do not apply (``schema`` is the header's, not changed)."""
        schema = schema.copy()
        label = np.frombuffer(self.label, dtype=np.int64)
        values = list(self.labels)
        bounds = [i for i, ev in sorted(self.exact.items()) if ev.op == "schema"]
        start = 0
        for stop in [*bounds, len(self)]:
            part = label[start:stop]
            for code in np.unique(part[part >= 0]).tolist():
                try:
                    schema.check_label(schema.resolve(values[code]))
                except ValueError:
                    self.flagged.update((start + np.flatnonzero(part == code)).tolist())
            if stop < len(self):
                change = self.exact[stop].change or {}
                try:
                    schema.apply(change)
                except ValueError:
                    self.flagged.add(stop)
                    return
            start = stop

    def first_old_labels(self, events: Sequence[Event]) -> dict[Any, Any]:
        """Sample -> the old label of the first event on it that carries one (what the log
        knows of the original labels), in file order."""
        sample = np.frombuffer(self.sample, dtype=np.int64)
        rows = np.flatnonzero(sample >= 0)
        order = rows[np.argsort(sample[rows], kind="stable")]
        starts = np.unique(sample[order], return_index=True)[1]
        first = order[starts].tolist()  # each sample's first event usually has an old label
        olds = [r.get("old_label") for r in self.records(first)]
        found = [(row, int(sample[row]), old) for row, old in zip(first, olds, strict=True)
                 if old is not None]
        done = {code for _, code, _ in found}
        if len(done) < len(first):  # the rest: look further down those samples' events
            for row, code in zip(order.tolist(), sample[order].tolist(), strict=True):
                if code not in done:
                    old = events[row].old_label
                    if old is not None:
                        done.add(code)
                        found.append((row, code, old))
        names = list(self.samples)
        return {names[code]: old for _, code, old in sorted(found)}

    def first_flagged(self) -> int:
        """Rows before this one passed every check; replay the rest event by event."""
        return min(self.flagged, default=len(self))

    # ------------------------------------------------------------------ events
    def _body(self, row: int) -> bytes:
        """The JSON of one row's line without its hash member."""
        start = self.offsets[row]
        end = self.data.find(b"\n", start)  # none after a last line that lost its newline
        return self.data[start:(end if end >= 0 else len(self.data)) - SUFFIX_LEN] + b"}"

    def records(self, rows: Sequence[int]) -> list[dict[str, Any]]:
        """The parsed fields of many rows (missing fields absent), one JSON call for all."""
        bodies = [self._body(r) for r in rows]
        try:
            out: list[dict[str, Any]] = orjson.loads(b"[%b]" % b",".join(bodies))
        except orjson.JSONDecodeError:  # e.g. a NaN that only the standard library reads
            out = [parse_json(body) for body in bodies]
        return out

    def event(self, row: int) -> Event:
        """The full, validated event of one row (parsed again from the file bytes)."""
        cached = self.exact.get(row)
        if cached is not None:
            return cached
        return event_from_dict(parse_json(self._body(row)))


def read_columns(path: str, data: bytes,
                 resume: tuple[Any, Columns, int, str] | None = None) -> tuple[Any, Columns, Scan]:
    """Scan a whole log, refusing any line with a broken hash link or bad JSON: returns the
    header object, the event columns and the last block (its ``torn`` tail, ``consumed``
    bytes and ``last_hash``). ``resume`` is the header, columns, bytes covered and last hash
    of a checked read of the log's first bytes: only the lines after those are read."""
    if not data:
        raise CorruptLogError(f"{path} is empty (0 bytes), so it is not a changelog: delete "
                              f"it to start a new log, or open the right file")
    header, cols, start, prev = resume or (None, Columns(data), 0, "")
    block = Scan(last_hash=prev, consumed=start)
    with reading(path, len(data) - start) as advance:
        for block in scan_blocks(data, prev=prev, first_lineno=len(cols) + 2 if resume else 1,
                                 start=start):
            if block.problems:
                raise CorruptLogError(describe_problems(path, block.problems))
            first = header is None
            if first:
                if not block.linenos:
                    raise CorruptLogError(f"{path} has no complete line; it is not a changelog")
                header = block.objs[0]
            cols.add(block, skip_first=first)
            advance((block.consumed or (block.offsets or [start])[-1]) - start)
    return header, cols, block


def describe_problems(path: str, problems: list[tuple[int, str]], limit: int = 5) -> str:
    """A readable message for hash-chain / parse problems, with line numbers."""
    shown = "; ".join(f"line {n}: {msg}" for n, msg in problems[:limit])
    more = f" (and {len(problems) - limit} more)" if len(problems) > limit else ""
    return (f"{path} is damaged: {shown}{more}. Nothing was changed. Run `errlens changelog "
            f"verify {path}` for the full report and restore the file from a backup or git")


class EventList(Sequence[Event]):
    """Events in file order: the first ``n_loaded`` parsed on access from :class:`Columns`,
    the rest (appended later) kept as objects."""

    def __init__(self, columns: Columns | None = None, n_loaded: int = 0) -> None:
        self._columns = columns
        self._n = n_loaded
        self._extra: list[Event] = []

    def __len__(self) -> int:
        return self._n + len(self._extra)

    @overload
    def __getitem__(self, i: int) -> Event: ...
    @overload
    def __getitem__(self, i: slice) -> list[Event]: ...
    def __getitem__(self, i: int | slice) -> Event | list[Event]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        if i < self._n:
            assert self._columns is not None
            return self._columns.event(i)
        return self._extra[i - self._n]

    def __iter__(self) -> Iterator[Event]:
        for i in range(self._n):
            yield self[i]
        yield from self._extra

    def append(self, ev: Event) -> None:
        """Add an event after the loaded ones."""
        self._extra.append(ev)

    def copy(self) -> EventList:
        """A list that can grow apart from this one (the events themselves are shared)."""
        out = EventList(self._columns, self._n)
        out._extra = list(self._extra)
        return out

    def parts(self) -> tuple[Columns | None, int, list[Event]]:
        """The columns, how many rows of them are loaded, and the events appended after."""
        return self._columns, self._n, self._extra

    def by_author(self, author: str) -> list[int]:
        """Positions of the events written by one author (without parsing the others)."""
        found: list[int] = []
        if self._columns is not None and self._n:
            code = self._columns.authors.get(author)
            if code is not None:
                codes = np.frombuffer(self._columns.author, dtype=np.int64)[: self._n]
                found = np.flatnonzero(codes == code).tolist()
        return found + [self._n + k for k, e in enumerate(self._extra) if e.author == author]

    def on_sample(self, sample: Any) -> list[int]:
        """Positions of the events on one sample (without parsing the others)."""
        return self.on_samples([sample])

    def on_samples(self, samples: Iterable[Any]) -> list[int]:
        """Positions of the events on any of ``samples``, in file order (without parsing the
        others)."""
        wanted, found = set(samples), []
        if self._columns is not None and self._n:
            known = self._columns.samples
            codes = [known[s] for s in wanted if s in known]
            if codes:
                column = np.frombuffer(self._columns.sample, dtype=np.int64)[: self._n]
                found = np.flatnonzero(np.isin(column, codes)).tolist()
        return found + [self._n + k for k, e in enumerate(self._extra) if e.sample_id in wanted]
