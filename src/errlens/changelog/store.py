"""LabelStore: the original labels replayed with an append-only, hash-chained event log.

>>> import pandas as pd, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "labels.jsonl")
>>> store = LabelStore(pd.Series(["cat", "dog"], index=["a", "b"]), path, author="ana")
>>> _ = store.relabel("a", "dog", note="whiskers are a dog's")
>>> store.labels().tolist()
['dog', 'dog']
>>> _ = store.undo(); store.labels().tolist()
['cat', 'dog']
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from errlens.changelog import frames, merge
from errlens.changelog.checkpoint import open_columns
from errlens.changelog.columns import describe_problems
from errlens.changelog.dataset import Dataset, to_plain
from errlens.changelog.errors import (
    ChangelogError,
    ChangelogWarning,
    CorruptLogError,
)
from errlens.changelog.events import (
    SCHEMA_VERSION,
    Event,
    canonical,
    event_from_dict,
    id_list,
    new_event_id,
    utc_now,
    validate,
)
from errlens.changelog.header import FORMAT, header_schema
from errlens.changelog.lines import scan, seal_write
from errlens.changelog.logfile import LogFile, gc_paused
from errlens.changelog.replay import Replay, load
from errlens.changelog.schema import LabelSchema
from errlens.changelog.schema_verbs import SchemaVerbs
from errlens.changelog.timeutil import to_utc_text

_SPEC_KEYS = {"op", "id", "sample_id", "label", "author", "role", "note", "cause", "confidence",
              "time_spent", "timestamp", "round", "parents", "refs", "event_id"}


class LabelStore(SchemaVerbs, frames.ViewsMixin):
    """Labels of one dataset with every edit kept in a crash-safe, tamper-evident log.

    ``source`` is an errlens Analysis or a Series of original labels indexed by sample id;
    ``path`` is the JSON Lines log (created if missing, replayed if present).
    """

    def __init__(self, source: Any, path: str | os.PathLike[str], *, author: str,
                 role: str = "annotator", classes: list[Any] | None = None) -> None:
        self.dataset = Dataset.from_source(source, classes)
        self._setup(path, author, role)

    @classmethod
    def from_log(cls, path: str | os.PathLike[str], *, author: str,
                 role: str = "annotator") -> LabelStore:
        """Open a log without its dataset (for the command line and quick looks).

        ``labels()`` then covers only the samples the log touched, and only those can be
        edited; tags, versions, diffs, history, conflicts and merges work as usual.
        """
        store = cls.__new__(cls)
        store.dataset = None  # type: ignore[assignment]  # set from the log by _load
        store._setup(path, author, role)
        return store

    def _setup(self, path: str | os.PathLike[str], author: str, role: str) -> None:
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise ChangelogError(f"the folder {folder} does not exist; create it first, or "
                                 f"choose another path for the log")
        self.author, self.role, self.round = author, role, 1
        validate(Event("check", "comment", author, utc_now(), "check", 1, sample_id=0,
                       role=role, note="x"))
        self._log = LogFile(path)
        self._origin = os.urandom(6).hex()
        self._oseq = 0
        if self._log.exists():
            self._open()
        else:
            self._create()

    # ------------------------------------------------------------------ opening
    @property
    def path(self) -> str:
        """Path of the log file."""
        return self._log.path

    def _header(self) -> dict[str, Any]:
        return {"type": "header", "format": FORMAT, "schema_version": SCHEMA_VERSION,
                "created": utc_now(),
                "dataset": {"fingerprint": self.dataset.fingerprint,
                            "n_samples": len(self.dataset.original), "label_field": "label"},
                "classes": LabelSchema.from_classes(self.dataset.classes).to_json()}

    def _create(self) -> None:
        self._hash = self._log.create(self._header())
        self._offset, self._lines = self._log.size(), 1
        self._base_schema = LabelSchema.from_classes(self.dataset.classes)
        self._state = Replay(self._base_schema.copy())

    def _open(self) -> None:
        with gc_paused():
            self._load()

    def _load(self) -> None:
        header, cols, block = open_columns(self.path, self._log.read())

        def refuse(lineno: int, message: str) -> None:
            raise CorruptLogError(f"{self.path} line {lineno}: {message}")

        if self.dataset is None:  # from_log: what the log knows of the original labels
            self._base_schema = header_schema(self.path, header)
            self._state = load(cols, self._base_schema, refuse)
            self.dataset = Dataset.from_log(header, cols.first_old_labels(self._state.events))
        else:
            self._base_schema = header_schema(self.path, header, self.dataset)
            self._state = load(cols, self._base_schema, refuse, self._check_sample,
                               self.dataset.has)
        self._lines = 1 + len(cols)
        self._hash, self._offset = block.last_hash, block.consumed
        if self._log.size() > block.consumed:  # a torn line, a write cut short, or new lines
            self._cut_unfinished(stacklevel=5)

    def _ingest(self, lines: list[Any]) -> None:
        for line in lines:
            try:
                ev = event_from_dict(line.obj)
                self._check_sample(ev)
                self._state.apply(ev)
            except ChangelogError as exc:
                raise CorruptLogError(f"{self.path} line {line.lineno}: {exc}") from None
        self._lines += len(lines)

    def _cut_unfinished(self, stacklevel: int) -> None:
        """Cut what a crashed writer left after the last finished write (a torn line, the
        first lines of a write cut short); lines other writers appended meanwhile stay."""
        cut = self._log.cut_unfinished(self._offset, self._hash)
        if not cut:
            return
        lines = cut.count(b"\n")
        what = (f"{lines} line(s) of a write cut short" if lines else
                "an incomplete last line") + f" ({len(cut)} bytes) left by a crashed writer"
        warnings.warn(f"{self.path}: removed {what}; it was never acknowledged, and every "
                      f"earlier event is intact", ChangelogWarning, stacklevel=stacklevel)

    def _catch_up(self) -> None:
        """Read lines other processes appended since we last looked (call under the lock)."""
        size = self._log.size()
        if size == self._offset:
            return
        if size < self._offset:
            raise CorruptLogError(f"{self.path} shrank while open: another program truncated "
                                  f"or replaced it; reopen the store and run verify")
        data = self._log.read(self._offset, prev=self._hash)
        result = scan(data, prev=self._hash, first_lineno=self._lines + 1)
        if result.problems:
            raise CorruptLogError(describe_problems(self.path, result.problems))
        self._ingest(result.lines)
        self._hash, self._offset = result.last_hash, self._offset + result.consumed
        if size > self._offset:  # under the lock, so left by a crashed writer
            self._cut_unfinished(stacklevel=5)

    def _check_sample(self, ev: Event) -> None:
        if ev.sample_id is not None and not self.dataset.has(ev.sample_id):
            raise ChangelogError(f"sample id {ev.sample_id!r} is not in this dataset; the log "
                                 f"belongs to another dataset or the id is mistyped")

    # ------------------------------------------------------------------ writing
    def record(self, op: str, id: Any = None, label: Any = None, *, author: str | None = None,
               role: str | None = None, note: str | None = None,
               cause: Mapping[str, Any] | None = None, confidence: float | None = None,
               time_spent: float | None = None, timestamp: Any = None, round: int | None = None,
               parents: Iterable[str] | None = None, refs: Iterable[str] | None = None) -> Event:
        """Append one event of any operation; returns it once it is on disk.

        >>> # store.record("set", "id-17", "dog", author="ben", cause={"format": "csv"})
        """
        spec = {"op": op, "id": id, "label": label, "author": author, "role": role,
                "note": note, "cause": cause, "confidence": confidence,
                "time_spent": time_spent, "timestamp": timestamp, "round": round,
                "parents": parents, "refs": refs}
        return self.record_many([spec])[0]

    def record_many(self, specs: Iterable[Mapping[str, Any]]) -> list[Event]:
        """Append several events atomically: all are validated first, then one write + fsync.

        Each dict takes the keyword names of :meth:`record` (``id`` or ``sample_id``).
        Entries on one sample by different authors are concurrent (a conflict if they
        disagree); by the same author, later ones supersede earlier ones.
        """
        specs = list(specs)
        if not specs:
            return []
        with self._log.locked():
            self._catch_up()
            events = self._build(specs)
            self._oseq += len(events)  # spent even if the write fails: never reused
            self._append_events(events)
            for ev in events:
                self._state.apply(ev, check=False)
        return events

    def _append_events(self, events: list[Event]) -> None:
        """Write finished events as one write, all or nothing (the one path every event
        takes to disk); call holding the lock, after :meth:`_catch_up`. The caller updates
        the state once this returns.

        Several events form a batch: each line carries its place ``"batch": [k, n]``, so a
        write cut short by a crash is recognised and never replayed. If the write fails, the
        file is cut back and the error raised, and this store keeps working.
        """
        lines, digest = seal_write([ev.to_dict() for ev in events], self._hash)
        self._offset = self._log.append(lines)
        self._hash, self._lines = digest, self._lines + len(lines)

    def _build(self, specs: list[Mapping[str, Any]]) -> list[Event]:
        events: list[Event] = []
        ids: set[str] = set()
        batch_last: dict[tuple[Any, str], Event] = {}
        for i, spec in enumerate(specs):
            try:
                ev = self._make(spec, self._oseq + i + 1, batch_last)
                if len(specs) > 1 and ev.op in ("tag", "schema"):
                    raise ChangelogError(f"{ev.op} events are written on their own")
                if ev.event_id in ids:
                    raise ChangelogError(f"duplicate event id {ev.event_id!r} in the batch")
                self._state.check(ev, pending=ids)
            except ChangelogError as exc:
                where = f"entry {i} of the batch: " if len(specs) > 1 else ""
                raise ChangelogError(f"{where}{exc}; nothing was written") from None
            ids.add(ev.event_id)
            events.append(ev)
            if ev.sample_id is not None:
                batch_last[(ev.sample_id, ev.author)] = ev
        return events

    def _make(self, spec: Mapping[str, Any], oseq: int,
              batch_last: dict[tuple[Any, str], Event]) -> Event:
        if not isinstance(spec, Mapping):
            raise ChangelogError(f"each entry must be a dict, got {type(spec).__name__}")
        unknown = set(spec) - _SPEC_KEYS
        if unknown:
            raise ChangelogError(f"unknown key(s) {sorted(unknown)}")
        op = spec.get("op")
        sample = to_plain(spec.get("id", spec.get("sample_id")))
        author = self.author if spec.get("author") is None else spec["author"]
        label = to_plain(spec.get("label"))
        refs = () if spec.get("refs") is None else id_list(spec["refs"], "refs")
        if sample is not None:
            if type(sample) not in (str, int):
                raise ChangelogError(f"sample id {sample!r} must be text or an integer (the "
                                     f"dataset's ids), got {type(sample).__name__}")
            self._check_sample(Event("x", "skip", "x", utc_now(), "x", 1, sample_id=sample))
        if op in ("tag", "schema"):
            raise ChangelogError(f"write {op} events with store.tag(name) or the schema methods "
                                 f"(add_class, rename_class, merge_classes, set_guideline)")
        prev = batch_last.get((sample, author))
        current = prev.new_label if prev is not None and prev.new_label is not None else (
            self._current(sample) if sample is not None else None)
        if prev is not None and prev.new_label is not None:
            parents: tuple[str, ...] = (prev.event_id,)
        else:
            parents = self._seen_heads(sample, author, op) if sample is not None else ()
        if spec.get("parents") is not None:
            parents = id_list(spec["parents"], "parents")
        new_label = label
        if op in ("set", "adjudicate", "confirm") and label is not None:
            self._state.schema.check_label(label)
        if op == "confirm":
            new_label = current if label is None else label
            if new_label != current:
                raise ChangelogError(f"cannot confirm {label!r}: sample {sample!r} is labeled "
                                     f"{current!r}; use relabel to change it")
        elif op == "revert":
            refs = refs or (self._last_undoable(author, sample),)
            target = self._state.get(refs[0]) if refs[0] in self._state.by_id else None
            if target is None:
                raise ChangelogError(f"cannot undo: event {refs[0]!r} is not in this log")
            if self._state.is_reverted(target.event_id):
                raise ChangelogError(f"event {target.event_id} is already undone")
            sample = target.sample_id
            # undoing an adjudication retracts it (no label): its conflict reopens
            new_label = target.old_label if target.new_label is not None and \
                target.op != "adjudicate" else None
            current = self._current(sample) if sample is not None else None
            parents = self._seen_heads(sample, author, op) if new_label is not None else ()
        elif op in ("skip", "comment", "tag", "schema") and label is not None:
            raise ChangelogError(f"a {op} event takes no label")
        ts = to_utc_text(spec.get("timestamp")) if spec.get("timestamp") is not None else utc_now()
        cause = spec.get("cause")
        cause_value = None if cause is None else (dict(cause) if isinstance(cause, Mapping)
                                                  else cause)
        if cause_value is not None:
            try:
                canonical(cause_value)
            except (TypeError, ValueError) as exc:
                raise ChangelogError(f"cause is not JSON ({exc}); use text, numbers, lists and "
                                     f"dicts only") from None
        ev = Event(
            event_id=spec.get("event_id") or new_event_id(), op=op, author=author,  # type: ignore[arg-type]
            timestamp=ts, origin=self._origin, oseq=oseq, sample_id=sample,
            old_label=current, new_label=new_label,
            role=self.role if spec.get("role") is None else spec["role"],
            round=self.round if spec.get("round") is None else spec["round"],
            note=spec.get("note"), confidence=_num(spec.get("confidence")),
            time_spent=_num(spec.get("time_spent")), cause=cause_value, parents=parents,
            refs=refs)
        return validate(ev)

    def _seen_heads(self, sample: Any, author: str, op: Any) -> tuple[str, ...]:
        """Parents of a new event: every head, except that on a conflicted sample only an
        adjudication supersedes the others (an ordinary edit replaces the author's own)."""
        heads = self._state.heads.get(sample, [])
        if op == "adjudicate" or len({repr(h.label) for h in heads}) <= 1:
            return tuple(h.event_id for h in heads)
        return tuple(h.event_id for h in heads if self._state.get(h.event_id).author == author)

    def _current(self, sample: Any) -> Any:
        return self._state.label(sample, self.dataset.label(sample))

    def _last_undoable(self, author: str, sample: Any = None) -> str:
        events = self._state.events
        for ev in map(events.__getitem__, reversed(events.by_author(author))):
            if (ev.op in ("set", "confirm", "skip", "adjudicate", "comment")
                    and (sample is None or ev.sample_id == sample)
                    and not self._state.is_reverted(ev.event_id)):
                return ev.event_id
        raise ChangelogError(f"nothing to undo: {author} has no event left to revert")

    def _write_special(self, op: str, **fields: Any) -> Event:
        with self._log.locked():
            self._catch_up()
            ev = Event(event_id=new_event_id(), op=op, author=self.author, timestamp=utc_now(),
                       origin=self._origin, oseq=self._oseq + 1, role=self.role,
                       round=self.round, **fields)
            try:
                self._state.check(validate(ev))
            except ChangelogError as exc:
                raise ChangelogError(f"{exc}; nothing was written") from None
            self._oseq += 1
            self._append_events([ev])
            self._state.apply(ev, check=False)
        return ev

    # ------------------------------------------------------------------ verbs
    def relabel(self, id: Any, label: Any, *, note: str | None = None,
                cause: Mapping[str, Any] | None = None, confidence: float | None = None,
                time_spent: float | None = None) -> Event:
        """Set a new label for one sample."""
        return self.record("set", id, label, note=note, cause=cause, confidence=confidence,
                           time_spent=time_spent)

    def relabel_many(self, ids: Iterable[Any], label: Any, *, note: str | None = None,
                     cause: Mapping[str, Any] | None = None, confidence: float | None = None,
                     time_spent: float | None = None) -> list[Event]:
        """Set one label for many samples in one durable write (all or nothing)."""
        return self.record_many([{"op": "set", "id": i, "label": label, "note": note,
                                  "cause": cause, "confidence": confidence,
                                  "time_spent": time_spent} for i in ids])

    def confirm(self, id: Any, *, note: str | None = None,
                cause: Mapping[str, Any] | None = None, confidence: float | None = None,
                time_spent: float | None = None) -> Event:
        """Record that the current label of ``id`` is correct."""
        return self.record("confirm", id, note=note, cause=cause, confidence=confidence,
                           time_spent=time_spent)

    def skip(self, id: Any, *, note: str | None = None, cause: Mapping[str, Any] | None = None,
             time_spent: float | None = None) -> Event:
        """Mark ``id`` as unsure / skipped (the label does not change)."""
        return self.record("skip", id, note=note, cause=cause, time_spent=time_spent)

    def comment(self, id: Any, text: str) -> Event:
        """Attach a comment to a sample."""
        return self.record("comment", id, note=text)

    def undo(self, event_id: str | None = None) -> Event:
        """Revert ``event_id``, or this author's last event not yet undone."""
        target = event_id or self._last_undoable(self.author)
        return self.record("revert", refs=[target])

    def adjudicate(self, id: Any, label: Any, *, resolves: Iterable[str] | None = None,
                   note: str | None = None, cause: Mapping[str, Any] | None = None) -> Event:
        """Settle a sample's label; supersedes every current head (resolves its conflict),
        including heads other processes appended since this store last looked."""
        with self._log.locked():
            self._catch_up()
            heads = self._state.head_ids(to_plain(id))
            refs = tuple(resolves) if resolves is not None else heads
            events = self._state.events
            on_sample = {events[i].event_id for i in events.on_sample(to_plain(id))}
            foreign = [r for r in refs if r not in on_sample]
            if foreign:
                raise ChangelogError(f"events {foreign} are not edits of sample {id!r}; "
                                     f"nothing was written")
            return self.record("adjudicate", id, label, note=note, cause=cause, refs=refs,
                               parents=heads)

    def tag(self, name: str, *, note: str | None = None) -> Event:
        """Name the current state as a version (``labels(version=name)`` replays it), with
        every event in the file so far, other processes' included."""
        if name in (frames.CURRENT, frames.ORIGINAL):
            raise ChangelogError(f"{name!r} is a reserved version name (labels({name!r}) "
                                 f"means the {name} labels); pick another; nothing was written")
        with self._log.locked():
            self._catch_up()
            if name in self._state.tags or name in self._state.ambiguous:
                raise ChangelogError(f"version tag {name!r} already exists; pick a new name; "
                                     f"nothing was written")
            return self._write_special("tag", tag=name, note=note,
                                       clock=dict(self._state.clock))

    # Merge and resolve decide in errlens.changelog.merge (pure functions over logs and the
    # replay state, which return events); the store appends them through its one writer path.
    def merge(self, other: Any) -> int:
        """Append the events of another log of this dataset (a path or store) that this one
        lacks; returns how many were added. Conflicts show up in :meth:`conflicts`."""
        path = other.path if hasattr(other, "path") else os.fspath(other)
        header, events = merge.read_log(path)
        merge.same_start([(self.path, merge.read_header(self.path)), (path, header)])
        with self._log.locked():
            self._catch_up()
            new, trial = merge.missing_events(self._state, events, self._check_sample,
                                              self.path)
            if new:
                self._append_events(new)  # all or nothing
                self._state = trial
        return len(new)

    def resolve(self, policy: str = "majority", *, reviewer: str | None = None) -> pd.DataFrame:
        """Settle open conflicts by a named policy ('majority', 'role' or 'reviewer'),
        writing one adjudicate event per settled sample. Ties are left open and listed."""
        with self._log.locked():  # decided and written on the same state
            self._catch_up()
            table, events = merge.resolution(self._state, policy, reviewer)
            self.record_many(events)
        return table

    def refresh(self) -> None:
        """Read events other processes appended since this store last looked."""
        with self._log.locked():
            self._catch_up()


def _num(value: Any) -> Any:
    return to_plain(value)
