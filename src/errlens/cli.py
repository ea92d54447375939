"""The ``errlens`` command line. Today: ``errlens changelog <verb>`` for label changelogs.

Exit codes: 0 success; 1 ``verify`` found damage; 2 bad usage or invalid input (the message
says what to fix). Whatever the input (a pipe, a device, binary garbage, JSON nested 100,000
deep), the answer is one line on stderr, never a traceback and never a hang.

>>> main(["changelog", "verify", "/nonexistent.jsonl"])
2
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import pandas as pd

OK, DAMAGED, USAGE = 0, 1, 2
_DATA_HELP = ("the dataset as CSV or Parquet, with --id and --label naming its sample-id and "
              "original-label columns")


def _add_data_args(p: argparse.ArgumentParser, required: bool) -> None:
    p.add_argument("--data", required=required, help=_DATA_HELP)
    p.add_argument("--id", default="id", help="sample-id column of --data (default: id)")
    p.add_argument("--label", default="label",
                   help="original-label column of --data (default: label)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="errlens", description="errlens: ML error analysis and relabeling.",
        epilog="Exit codes: 0 success, 1 damage found by verify, 2 bad usage or invalid input.")
    tools = parser.add_subparsers(dest="tool", required=True, metavar="TOOL")
    cl = tools.add_parser("changelog", help="inspect, check, merge and exchange label changelogs",
                          description="Work with errlens label changelogs (.jsonl files): "
                                      "every label edit with who, when and why.")
    verbs = cl.add_subparsers(dest="verb", required=True, metavar="VERB")

    p = verbs.add_parser("verify", help="check a changelog for damage or tampering",
                         description="Check every line's hash link, the header and every "
                                     "event. Exits 1 if anything is wrong.")
    p.add_argument("log", help="the changelog file (.jsonl)")
    p.add_argument("--head", help="the head hash a previous verify printed; also detects lines "
                                  "removed from the end")
    p.add_argument("--repair", action="store_true",
                   help="remove an incomplete last line left by a crash (nothing else is ever "
                        "changed)")
    _add_data_args(p, required=False)

    p = verbs.add_parser("show", help="summary and recent history of a changelog",
                         description="Print who changed what: counts per author and operation, "
                                     "versions, open conflicts and the latest events.")
    p.add_argument("log")
    p.add_argument("--sample", help="show the full history of this sample id instead")
    p.add_argument("--last", type=int, default=15, help="how many recent events to list")
    _add_data_args(p, required=False)

    p = verbs.add_parser("diff", help="which samples changed between two versions",
                         description="List samples whose label differs between two versions "
                                     "(tag names, 'original' or 'current').")
    p.add_argument("log")
    p.add_argument("old", nargs="?", default="original", help="default: original")
    p.add_argument("new", nargs="?", default="current", help="default: current")
    p.add_argument("--csv", help="also write the differences to this new CSV file")
    p.add_argument("--force", action="store_true", help="overwrite the --csv file if it exists")
    _add_data_args(p, required=False)

    p = verbs.add_parser("merge", help="combine the changelogs of several annotators",
                         description="Union of the events of several changelogs of one "
                                     "dataset. Disagreements are listed as conflicts, never "
                                     "settled silently.")
    p.add_argument("logs", nargs="+", help="two or more changelog files")
    p.add_argument("-o", "--output", required=True, help="the merged file to write")
    p.add_argument("--force", action="store_true", help="overwrite --output if it exists")

    p = verbs.add_parser("tag", help="name the current state as a version",
                         description="Append a version tag, e.g. 'v2', to the changelog.")
    p.add_argument("log")
    p.add_argument("name")
    p.add_argument("--author", default=os.environ.get("USER") or "cli")
    p.add_argument("--note")

    p = verbs.add_parser("resolve", help="settle open conflicts by a named policy",
                         description="Write an adjudication for each conflicted sample the "
                                     "policy settles: majority (each annotator's latest vote), "
                                     "role (adjudicator > reviewer > annotator) or reviewer "
                                     "(one named author's label). Ties stay open and are listed.")
    p.add_argument("log")
    p.add_argument("--policy", choices=("majority", "role", "reviewer"), default="majority")
    p.add_argument("--reviewer", help="with --policy reviewer: whose labels settle conflicts")
    p.add_argument("--author", default=os.environ.get("USER") or "cli",
                   help="who settles (recorded as the adjudicator)")
    _add_data_args(p, required=False)

    _exchange_verbs(verbs)
    return parser


def _exchange_verbs(verbs: Any) -> None:
    p = verbs.add_parser("export", help="write samples to review as CSV or Label Studio JSON",
                         description="Export samples for annotators: a CSV (.csv) or Label "
                                     "Studio tasks (.json).")
    p.add_argument("log")
    p.add_argument("output", help="a new out.csv, or out.json for Label Studio")
    p.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    p.add_argument("--ids", help="comma-separated sample ids (default: every sample)")
    _add_data_args(p, required=True)

    p = verbs.add_parser("import", help="record annotators' answers from CSV or Label Studio",
                         description="Import a returned review CSV (.csv) or a Label Studio "
                                     "export (.json) as events, with cause import:<format>.")
    p.add_argument("log")
    p.add_argument("answers", help="the returned .csv or Label Studio export .json")
    p.add_argument("--author", help="annotator name for CSV rows without one")
    _add_data_args(p, required=True)


# ------------------------------------------------------------------------ helpers
def _open(args: argparse.Namespace, author: str = "cli", role: str = "annotator") -> Any:
    from errlens.changelog import LabelStore

    if getattr(args, "data", None):
        new = not os.path.exists(args.log)
        store = LabelStore(_read_data(args.data, args.id, args.label), args.log, author=author,
                           role=role)
        if new:
            print(f"note: created a new changelog {args.log} (no file was at that path)",
                  file=sys.stderr)
        return store
    if not os.path.exists(args.log):
        raise FileNotFoundError(f"{args.log} does not exist; check the path")
    return LabelStore.from_log(args.log, author=author, role=role)


def _read(args: argparse.Namespace) -> Any:
    """A read-only Changelog of the log alone (no lock, nothing written), or with --data a
    LabelStore on the dataset (labels relative to every original label)."""
    from errlens.changelog import Changelog

    return _open(args) if getattr(args, "data", None) else Changelog(args.log)


def _read_data(path: str, id_col: str, label_col: str) -> pd.Series:
    from errlens.changelog.safe_files import require_regular_file

    require_regular_file(path)
    frame = pd.read_parquet(path) if path.endswith((".parquet", ".pq")) else pd.read_csv(path)
    missing = [c for c in (id_col, label_col) if c not in frame.columns]
    if missing:
        raise ValueError(f"{path} has no column(s) {missing}; its columns are "
                         f"{list(frame.columns)[:12]}. Name them with --id and --label")
    return pd.Series(frame[label_col].to_numpy(), index=frame[id_col].to_numpy())


def _kind(path: str, what: str) -> str:
    """'csv' or 'json' from a file name's extension (any case); anything else is refused."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".csv", ".json"):
        raise ValueError(f"{path}: {what} must be a .csv file or a Label Studio .json file")
    return ext[1:]


def _new_file(path: str, log: str, force: bool) -> None:
    """Refuse to write over the changelog (even one not created yet), any other changelog, a
    folder, a FIFO or device, or (without --force) any existing file."""
    from errlens.changelog.safe_files import output_target

    if os.path.realpath(path) == os.path.realpath(log):
        raise ValueError(f"{path} is the changelog itself; write to another file")
    output_target(path, overwrite=force, how="add --force")


def _sample(store: Any, text: str) -> Any:
    for sid in store.event_ops()["sample_id"].dropna().unique():
        if str(sid) == text:
            return sid
    raise ValueError(f"sample {text!r} has no events in {store.path}")


def _table(frame: pd.DataFrame) -> str:
    if not len(frame):
        return "  (none)"
    shown = frame.astype(object).where(frame.notna(), "")
    if "timestamp" in frame:
        shown["timestamp"] = frame["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")
    return shown.to_string(index=False, max_colwidth=40)


# ------------------------------------------------------------------------ verbs
def _verify(args: argparse.Namespace) -> int:
    from errlens.changelog import verify_file
    from errlens.changelog.dataset import Dataset
    from errlens.changelog.logfile import LogFile
    from errlens.changelog.verify import OTHER_DATASET

    if not os.path.exists(args.log):
        raise FileNotFoundError(f"{args.log} does not exist; check the path")
    dataset = (Dataset.from_source(_read_data(args.data, args.id, args.label))
               if args.data else None)
    report = verify_file(args.log, dataset=dataset, expect_head=args.head)
    if any(p.message == OTHER_DATASET for p in report.problems):
        raise ValueError(f"{args.log} belongs to another dataset than {args.data} (its "
                         f"original labels differ): check --data, --id and --label; the log "
                         f"itself was not judged")
    if args.repair and report.torn_bytes and len(report.problems) == 1:
        LogFile(args.log).truncate(os.path.getsize(args.log) - report.torn_bytes)
        print(f"Removed an incomplete last line ({report.torn_bytes} bytes).")
        report = verify_file(args.log, dataset=dataset, expect_head=args.head)
    print(report)
    if report.ok:
        print(f"Head hash: {report.head}  (keep it; `verify --head` checks nothing was cut off)")
        return OK
    if report.torn_bytes and len(report.problems) == 1:
        print(f"What to do: run `errlens changelog verify {args.log} --repair` (or open the "
              f"log with errlens) to remove the incomplete line; no saved edit is lost.")
    else:
        print("What to do: restore the file from a backup or from git (`git checkout -- FILE`), "
              "or ask whoever sent it for a fresh copy. Do not edit changelog files by hand.")
    return DAMAGED


def _show(args: argparse.Namespace) -> int:
    store = _read(args)
    cols = ["seq", "timestamp", "op", "sample_id", "old_label", "new_label", "author", "note"]
    if args.sample is not None:
        hist = store.history(_sample(store, args.sample))
        print(f"History of sample {args.sample} ({len(hist)} events):")
        print(_table(hist[cols]))
        return OK
    ops = store.event_ops()  # from the log's columns: no event is parsed
    print(f"{store.path}: {len(ops)} events; classes {store.classes}")
    if len(ops):
        first, last = store.events(first=1), store.events(last=1)
        print(f"First event {first['timestamp'].iloc[0]:%Y-%m-%d %H:%M}, last "
              f"{last['timestamp'].iloc[0]:%Y-%m-%d %H:%M} UTC")
        per = ops.groupby(["author", "op"]).size().unstack(fill_value=0)
        print("\nEvents per author and operation:")
        print(per.to_string())
    print("\nVersions:")
    print(_table(store.versions()[["version", "author", "timestamp", "n_changed", "note"]]))
    conflicts = store.conflicts()
    print(f"\nOpen conflicts: {len(conflicts)}")
    if len(conflicts):
        print(_table(conflicts[["sample_id", "labels", "authors"]].head(20)))
        print(f"Settle them with `errlens changelog resolve {args.log} --policy majority` "
              f"(or role, or reviewer), or one by one in Python with store.adjudicate.")
    latest = store.events(last=args.last)
    print(f"\nLatest {len(latest)} events:")
    print(_table(latest[cols]))
    return OK


def _diff(args: argparse.Namespace) -> int:
    store = _read(args)
    diff = store.diff(args.old, args.new)
    print(f"{len(diff)} sample(s) changed from {args.old} to {args.new}:")
    print(_table(diff[["sample_id", "from", "to", "author", "note"]]))
    if args.csv:
        from errlens.annotators.exchange import csv_bytes
        from errlens.changelog.safe_files import atomic_write

        _new_file(args.csv, args.log, args.force)
        atomic_write(args.csv, csv_bytes(diff, text=("sample_id", "from", "to")),
                     overwrite=args.force, how="add --force")
        print(f"Written to {args.csv}")
    return OK


def _merge(args: argparse.Namespace) -> int:
    from errlens.changelog import merge_logs

    report = merge_logs(args.logs, args.output, overwrite=args.force)
    print(f"Merged {report.n_inputs} logs into {report.path}: {report.n_events} events.")
    if report.conflicts:
        shown = ", ".join(map(str, report.conflicts[:10]))
        print(f"{len(report.conflicts)} sample(s) have conflicting labels: {shown}"
              f"{' ...' if len(report.conflicts) > 10 else ''}. See `errlens changelog show "
              f"{report.path}`; settle them with `errlens changelog resolve {report.path}`.")
    return OK


def _tag(args: argparse.Namespace) -> int:
    store = _open(args, author=args.author)
    ev = store.tag(args.name, note=args.note)
    print(f"Tagged version {ev.tag!r} in {store.path}.")
    return OK


def _export(args: argparse.Namespace) -> int:
    kind = _kind(args.output, "the output")
    side = ".config.xml" if kind == "json" else ".instructions.md"  # written beside it
    for path in (args.output, os.path.splitext(args.output)[0] + side):
        _new_file(path, args.log, args.force)
    store = _open(args)
    ids = None
    if args.ids:
        lookup = {str(i): i for i in store.original.index}
        wanted = list(dict.fromkeys(x.strip() for x in args.ids.split(",") if x.strip()))
        unknown = [x for x in wanted if x not in lookup]
        if unknown:
            raise ValueError(f"unknown sample id(s) {unknown[:5]} in --ids")
        ids = [lookup[x] for x in wanted]
    if kind == "json":
        from errlens.annotators.labelstudio import export_labelstudio

        n = len(export_labelstudio(store, args.output, ids))
        print(f"Wrote {n} Label Studio tasks to {args.output} (and its .config.xml).")
    else:
        from errlens.annotators.exchange import export_csv

        path = export_csv(store, args.output, ids)
        print(f"Wrote {path}; annotators fill the 'label' column (and optionally 'note').")
    return OK


def _import(args: argparse.Namespace) -> int:
    kind = _kind(args.answers, "the answers file")
    if not os.path.exists(args.answers):
        raise FileNotFoundError(f"{args.answers} does not exist; check the path")
    store = _open(args, author=args.author or "cli")
    if kind == "json":
        from errlens.annotators.labelstudio import import_labelstudio

        events = import_labelstudio(store, args.answers)
    else:
        from errlens.annotators.exchange import import_csv

        events = import_csv(store, args.answers, author=args.author)
    if not events:
        print(f"Nothing new in {args.answers}: every answer in it was recorded before "
              f"(or it has no answers); {store.path} is unchanged.")
        return OK
    print(f"Recorded {len(events)} events from {args.answers} in {store.path}.")
    if len(store.conflicts()):
        print(f"{len(store.conflicts())} sample(s) now have conflicting labels; see "
              f"`errlens changelog show {store.path}`.")
    return OK


def _resolve(args: argparse.Namespace) -> int:
    if args.policy == "reviewer" and not args.reviewer:
        raise ValueError("--policy reviewer needs --reviewer NAME (whose labels settle)")
    store = _open(args, author=args.author, role="adjudicator")
    if store.conflicts().empty:
        print(f"No open conflicts in {store.path}; nothing was written.")
        return OK
    outcome = store.resolve(args.policy, reviewer=args.reviewer)
    settled = outcome["label"].notna()
    print(f"Settled {int(settled.sum())} of {len(outcome)} conflict(s) in {store.path} by "
          f"policy {args.policy!r} (one adjudicate event each, by {args.author}):")
    print(_table(outcome))
    if not settled.all():
        print(f"{int((~settled).sum())} stay open (see the reason); settle them with another "
              f"policy or one by one.")
    return OK


VERBS = {"verify": _verify, "show": _show, "diff": _diff, "merge": _merge, "tag": _tag,
         "export": _export, "import": _import, "resolve": _resolve}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``errlens`` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code = VERBS[args.verb](args)
        _notes(caught)
        return code
    except Exception as exc:  # the command line answers in one line, whatever the input
        _notes(caught)
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        if os.environ.get("ERRLENS_DEBUG"):
            raise
        return USAGE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


def _notes(caught: list[warnings.WarningMessage]) -> None:
    for w in caught:
        print(f"note: {w.message}", file=sys.stderr)


def _one_line(exc: BaseException) -> str:
    """What went wrong, for a person: errlens' own message, or what kind of input broke a
    reader (ValueError and OSError messages of pandas, pyarrow and the OS name the file)."""
    if isinstance(exc, RecursionError):
        return "the input is nested too deeply to be an errlens file (RecursionError)"
    if isinstance(exc, MemoryError):
        return "not enough memory to read the input: is it really the file you meant?"
    if isinstance(exc, (ValueError, OSError)):  # ChangelogError is a ValueError
        return str(exc) or type(exc).__name__
    return (f"unexpected {type(exc).__name__}: {exc}. This is a bug in errlens: please "
            f"report it with the command you ran (ERRLENS_DEBUG=1 shows the traceback)")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
