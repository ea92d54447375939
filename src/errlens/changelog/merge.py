"""Merging logs of several annotators (a union of events) and resolving conflicts by policy.

The merged file holds every event of every input once, in a canonical order (parents before
children, then by timestamp and id), so merging is commutative, associative and idempotent:
the same inputs in any order or grouping give a byte-identical file. Concurrent edits that
disagree become conflicts (``store.conflicts()``); they are never settled silently.

Nothing here appends to a store's log: :func:`missing_events` and :func:`resolution` return
the events, and ``LabelStore.merge`` / ``LabelStore.resolve`` append them through the store's
one writer path (so this module never imports the store). :func:`merge_logs` writes a new file.

>>> # merge_logs(["ana.jsonl", "ben.jsonl"], "merged.jsonl").n_events
"""

from __future__ import annotations

import heapq
import itertools
import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from errlens.changelog.columns import describe_problems
from errlens.changelog.errors import ChangelogError, ChangelogWarning, CorruptLogError
from errlens.changelog.events import Event, canonical, event_from_dict, seal
from errlens.changelog.lines import scan, without_cut_short
from errlens.changelog.logfile import gc_paused
from errlens.changelog.replay import Replay
from errlens.changelog.safe_files import atomic_write, output_target, require_regular_file
from errlens.changelog.schema import LabelSchema

POLICIES = ("majority", "role", "reviewer")
ROLE_RANK = {"adjudicator": 3, "reviewer": 2, "annotator": 1}


@dataclass
class MergeReport:
    """What :func:`merge_logs` wrote."""

    path: str
    n_events: int
    n_inputs: int
    conflicts: list[Any] = field(default_factory=list)


def read_log(path: str | os.PathLike[str]) -> tuple[dict[str, Any], list[Event]]:
    """Header and events of a log, refusing any damage (a torn last line is skipped)."""
    with gc_paused():
        return _read_log(os.fspath(path))


def _read_log(path: str) -> tuple[dict[str, Any], list[Event]]:
    with open(require_regular_file(path), "rb") as fh:
        data = fh.read()
    if not data:
        raise CorruptLogError(f"{path} is empty (0 bytes), so it is not a changelog")
    kept = without_cut_short(data)
    if len(kept) < len(data):
        warnings.warn(f"{path}: ignoring {len(data) - len(kept)} bytes of a write cut short "
                      f"(interrupted, never acknowledged)", ChangelogWarning, stacklevel=3)
        data = kept
    result = scan(data, prev="")
    if result.problems:
        raise CorruptLogError(describe_problems(path, result.problems))
    if result.torn:
        warnings.warn(f"{path}: ignoring an incomplete last line (interrupted write)",
                      ChangelogWarning, stacklevel=2)
    if not result.lines or not isinstance(result.lines[0].obj, dict) or \
            result.lines[0].obj.get("type") != "header":
        raise CorruptLogError(f"{path} line 1 is not an errlens changelog header")
    events = []
    for line in result.lines[1:]:
        try:
            events.append(event_from_dict(line.obj))
        except ChangelogError as exc:
            raise CorruptLogError(f"{path} line {line.lineno}: {exc}") from None
    return result.lines[0].obj, events


def same_start(headers: Sequence[tuple[str, dict[str, Any]]]) -> None:
    (first_path, first), *rest = headers
    for path, h in rest:
        if (h.get("dataset") or {}).get("fingerprint") != (first.get("dataset") or {}).get(
                "fingerprint"):
            raise ChangelogError(f"{path} and {first_path} belong to different datasets "
                                 f"(their fingerprints differ); only logs of one dataset merge")
        if canonical(h.get("classes")) != canonical(first.get("classes")):
            raise ChangelogError(f"{path} and {first_path} start from different label schemas; "
                                 f"record schema changes as events in one log, then copy it")


def union(sources: Iterable[tuple[str, list[Event]]]) -> list[Event]:
    """All distinct events (same id must mean same content), in canonical causal order."""
    by_id: dict[str, Event] = {}
    where: dict[str, str] = {}
    for path, events in sources:
        for ev in events:
            seen = by_id.get(ev.event_id)
            if seen is None:
                by_id[ev.event_id], where[ev.event_id] = ev, path
            elif seen.body() != ev.body():
                raise ChangelogError(f"event {ev.event_id} differs between {where[ev.event_id]} "
                                     f"and {path}; one of the files was edited. Run verify")
    return canonical_order(list(by_id.values()))


def canonical_order(events: list[Event]) -> list[Event]:
    """Topological order (parents, refs, earlier events of the same origin first), ties broken
    by (timestamp, event id): a function of the set of events only.

    That is the order by (timestamp, event id) whenever it already puts every event after
    what it depends on (clocks that agree: the usual case), so that order is checked first;
    otherwise the events are placed one by one, always the earliest whose dependencies are
    placed."""
    ids = {e.event_id for e in events}
    by_time = sorted(events, key=lambda e: (e.timestamp, e.event_id))
    return by_time if _causal(by_time, ids) else _place_one_by_one(events, ids)


def _place_one_by_one(events: list[Event], ids: set[str]) -> list[Event]:
    """:func:`canonical_order` by Kahn's algorithm: always the earliest (timestamp, event
    id) of the events whose dependencies are placed."""
    by_origin: dict[str, list[Event]] = {}
    for e in events:
        by_origin.setdefault(e.origin, []).append(e)
    deps: dict[str, set[str]] = {e.event_id: {p for p in (*e.parents, *e.refs) if p in ids}
                                 for e in events}
    for chain in by_origin.values():
        chain.sort(key=lambda e: e.oseq)
        for before, after in itertools.pairwise(chain):
            deps[after.event_id].add(before.event_id)
    children: dict[str, list[str]] = {}
    for eid, ds in deps.items():
        for d in ds:
            children.setdefault(d, []).append(eid)
    by_id = {e.event_id: e for e in events}
    waiting = {eid: len(ds) for eid, ds in deps.items()}
    heap = [(by_id[eid].timestamp, eid) for eid, n in waiting.items() if n == 0]
    heapq.heapify(heap)
    out: list[Event] = []
    while heap:
        _, eid = heapq.heappop(heap)
        out.append(by_id[eid])
        for child in children.get(eid, ()):
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(heap, (by_id[child].timestamp, child))
    if len(out) != len(events):
        raise ChangelogError("the events' parents form a cycle; a file was edited by hand")
    return out


def _causal(ordered: list[Event], ids: set[str]) -> bool:
    """True if every event comes after its parents and refs (among ``ids``) and after the
    events of its origin with lower ``oseq``."""
    placed: set[str] = set()
    last: dict[str, int] = {}
    for e in ordered:
        if any(d in ids and d not in placed for d in (*e.parents, *e.refs)) or \
                last.get(e.origin, 0) >= e.oseq:
            return False
        placed.add(e.event_id)
        last[e.origin] = e.oseq
    return True


def merge_logs(paths_or_stores: Sequence[Any], out_path: str | os.PathLike[str], *,
               overwrite: bool = False) -> MergeReport:
    """Write the union of several logs of one dataset to ``out_path`` (atomically)."""
    if not paths_or_stores:
        raise ChangelogError("give at least one log to merge")
    out_path = os.fspath(out_path)
    how = "pass overwrite=True (--force on the command line)"
    output_target(out_path, overwrite=overwrite, how=how)  # fail before reading the inputs
    loaded = []
    for item in paths_or_stores:
        path = item.path if hasattr(item, "path") else os.fspath(item)
        loaded.append((path, *read_log(path)))
    same_start([(p, h) for p, h, _ in loaded])
    events = union((p, evs) for p, _, evs in loaded)
    header = dict(loaded[0][1])
    header.pop("hash", None)
    header["created"] = min(h.get("created", "") for _, h, _ in loaded)
    where = {ev.event_id: path for path, _, evs in reversed(loaded) for ev in evs}
    state = Replay(LabelSchema.from_json(header["classes"]))
    for ev in events:
        try:
            state.apply(ev)
        except ChangelogError as exc:
            raise ChangelogError(f"these logs cannot be merged: {_describe(ev)} from "
                                 f"{where[ev.event_id]} does not apply after the events before "
                                 f"it: {exc}. Nothing was written") from None
    line, digest = seal(canonical(header), "")
    lines = [line]
    for ev in events:
        line, digest = seal(ev.body(), digest)
        lines.append(line)
    atomic_write(out_path, "".join(x + "\n" for x in lines).encode(), overwrite=overwrite,
                 how=how)
    return MergeReport(out_path, len(events), len(loaded), state.conflicted())


def read_header(path: str) -> dict[str, Any]:
    """The header line of a log, as written (the first line only is read)."""
    with open(path, "rb") as fh:
        return scan(fh.readline(), prev="").lines[0].obj


def missing_events(state: Replay, events: Iterable[Event],
                   check_sample: Callable[[Event], None], path: str) -> tuple[list[Event], Replay]:
    """The events ``state`` lacks, in canonical order, and the state once they apply.

    Pure: nothing is written; the store appends what this returns through its one writer
    path. Raises (naming the event) if an event with a known id differs, names a sample
    ``check_sample`` refuses, or does not apply after the others.

    >>> # new, trial = missing_events(store_state, read_log("ben.jsonl")[1], check, path)
    """
    new = []
    for ev in events:
        if ev.event_id in state.by_id:
            if state.get(ev.event_id).body() != ev.body():
                raise ChangelogError(f"event {ev.event_id} differs between the two logs; "
                                     f"one was edited. Run verify on both")
            continue
        check_sample(ev)
        new.append(ev)
    new = canonical_order(new)
    trial = state.fork()
    for ev in new:  # each checked against the state so far: raises before anything is written
        try:
            trial.apply(ev)
        except ChangelogError as exc:
            raise ChangelogError(f"cannot merge: {_describe(ev)} does not apply to "
                                 f"{path}: {exc}. Nothing was written") from None
    return new, trial


def _describe(ev: Event) -> str:
    what = f"{ev.op} {ev.change.get('action')}" if ev.op == "schema" and ev.change else ev.op
    return f"the {what} event {ev.event_id} by {ev.author}"


def _opinions(state: Replay, samples: list[Any]) -> dict[Any, list[Event]]:
    """For each sample, each author's latest judgement on it that is not undone, as in
    :func:`~errlens.annotators.agreement.label_matrix`: a ``set`` or ``confirm``; a later
    ``skip`` withdraws it; undos and adjudications are not votes (one pass over the events on
    these samples, found in the log's columns)."""
    latest: dict[Any, dict[str, Event]] = {s: {} for s in samples}
    for position in state.events.on_samples(samples):
        ev = state.events[position]
        if ev.op in ("set", "confirm", "skip") and not state.is_reverted(ev.event_id):
            latest[ev.sample_id][ev.author] = ev
    return {s: [e for e in by_author.values() if e.op != "skip"]
            for s, by_author in latest.items()}


def resolution(state: Replay, policy: str,
               reviewer: str | None = None) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """How a named policy settles the open conflicts of ``state``: one row per conflicted
    sample (``sample_id``, ``label`` or None for a tie, ``reason``) and the adjudicate
    events to record, as :meth:`LabelStore.record_many` entries.

    Pure: the store records the returned events (``store.resolve`` does both).

    >>> # table, events = resolution(store_state, "majority"); store.record_many(events)
    """
    if policy not in POLICIES:
        raise ChangelogError(f"unknown policy {policy!r}; use one of {', '.join(POLICIES)}")
    if policy == "reviewer" and not reviewer:
        raise ChangelogError("policy='reviewer' needs reviewer='<author name>'")
    rows, specs = [], []
    conflicted = state.conflicted()
    opinions = _opinions(state, conflicted) if policy != "role" else {}
    for sample in conflicted:
        heads = state.heads[sample]
        label, reason = None, ""
        if policy == "majority":
            votes = pd.Series([state.schema.resolve(e.new_label)
                               for e in opinions[sample]]).value_counts()
            if len(votes) == 1 or votes.iloc[0] > votes.iloc[1]:
                label, reason = votes.index[0], f"{votes.iloc[0]} of {votes.sum()} votes"
            else:
                reason = "tie between " + ", ".join(map(repr, votes.index[votes == votes.iloc[0]]))
        elif policy == "role":
            edits = [state.get(h.event_id) for h in heads]
            top = max(ROLE_RANK[e.role] for e in edits)
            winners = {h.label for h, e in zip(heads, edits, strict=True)
                       if ROLE_RANK[e.role] == top}
            if len(winners) == 1:
                role = next(r for r, k in ROLE_RANK.items() if k == top)
                label, reason = winners.pop(), f"the {role} edits agree"
            else:
                reason = "edits of the same highest role disagree"
        else:
            mine = [e for e in opinions[sample] if e.author == reviewer]
            if mine:
                label = state.schema.resolve(mine[0].new_label)
                reason = f"{reviewer}'s label"
            else:
                reason = f"{reviewer} has no label on this sample"
        rows.append({"sample_id": sample, "label": label, "reason": reason})
        if label is not None:
            ids = [h.event_id for h in heads]
            specs.append({"op": "adjudicate", "id": sample, "label": label, "refs": ids,
                          "parents": ids, "role": "adjudicator",
                          "note": f"resolved by policy '{policy}': {reason}",
                          "cause": {"policy": policy, **({"reviewer": reviewer}
                                                         if reviewer else {})}})
    return pd.DataFrame(rows, columns=["sample_id", "label", "reason"]), specs
