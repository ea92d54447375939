"""Suspect browser paging at 1M rows: kernel time from a page message to the reply bytes.

Measures ``SuspectBrowser.handle`` (validation, cohort / filter / sort, page rows, store columns,
Arrow IPC) for the requests a user makes, against two ways a widget could do without kernel
paging, measured in the same run: pandas ``sort_values`` + ``iloc`` + ``to_json`` per request
(no cached order) and shipping every row as JSON (no paging at all).

    .venv/bin/python benchmarks/browser_paging.py           # 1,000,000 rows
    .venv/bin/python benchmarks/browser_paging.py --quick   # 100,000 rows
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

import errlens as el
from errlens.changelog import LabelStore
from errlens.slicing.cohort import Cohort
from errlens.widgets.suspect_browser import SuspectBrowser

from timing import preload, timed

TARGET_MS = 150.0


def synthetic(n: int, seed: int = 0) -> el.Analysis:
    """Adult-like rows: 6 numbers, 4 categoricals, a binary label with 8 % flipped."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "age": rng.integers(17, 90, n), "hours": rng.integers(1, 99, n),
        "gain": rng.exponential(1000, n).round(), "loss": rng.exponential(100, n).round(),
        "score_a": rng.normal(size=n), "score_b": rng.normal(size=n),
        "education": pd.Categorical(rng.choice(["HS-grad", "Bachelors", "Masters", "Doctorate",
                                                "Some-college"], n)),
        "occupation": pd.Categorical(rng.choice([f"occ-{i}" for i in range(14)], n)),
        "region": pd.Categorical(rng.choice(["north", "south", "east", "west"], n)),
        "sector": pd.Categorical(rng.choice(["private", "public", "self"], n)),
    })
    logit = 0.04 * (frame["age"] - 40) + 0.03 * (frame["hours"] - 40) + frame["score_a"]
    p = 1 / (1 + np.exp(-logit.to_numpy()))
    y = (rng.uniform(size=n) < p).astype(int)
    flip = rng.uniform(size=n) < 0.08
    y[flip] = 1 - y[flip]
    proba = np.c_[1 - p, p]
    return el.Analysis.from_predictions(frame, y_true=np.where(y == 1, ">50K", "<=50K"),
                                        proba=proba, id=[f"r{i:07d}" for i in range(n)],
                                        proba_out_of_fold=True)


def once(fn: Callable[[], object]) -> float:
    return timed(fn, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows instead of 1,000,000")
    args = parser.parse_args()
    n = 100_000 if args.quick else 1_000_000
    imports = preload()  # what the first calls would import (cleanlab, SciPy): outside timers
    print(f"imports of every errlens module and their dependencies: {imports:.1f} s")
    t0 = time.perf_counter()
    ev = synthetic(n)
    store = LabelStore(ev, Path(tempfile.mkdtemp()) / "labels.jsonl", author="bench")
    browser = SuspectBrowser(ev, store)
    print(f"{n:,} rows; analysis + store built in {time.perf_counter() - t0:.1f} s")

    rid = iter(range(1, 10**9))

    def page(**fields: object) -> Callable[[], object]:
        def run() -> object:
            reply, buffers = browser.handle({"type": "page", "rid": next(rid), "mode": "all",
                                             "page": 0, **fields})
            assert reply["error"] is None, reply["error"]
            return buffers
        return run

    rows: list[tuple[str, float, str]] = []
    cold = once(page(mode="suspects"))
    rows.append(("first suspects page (cold: confident learning on all rows)", cold, "once"))
    rows.append(("suspects page turn", timed(page(mode="suspects", page=7)), "median of 5"))
    rows.append(("all rows, page turn", timed(page(page=1234)), "median of 5"))
    rows.append(("sort by a feature (first request)", once(page(sort="feature:gain",
                                                                 descending=True)), "once"))
    rows.append(("sorted, page turn", timed(page(sort="feature:gain", descending=True, page=9)),
                 "median of 5"))
    rows.append(("filter given label (first request)", once(page(given=">50K")), "once"))
    rows.append(("search 'doctor' (first request)", once(page(search="doctor")), "once"))
    browser.cohort = (Cohort.where("age", ">=", 60) & Cohort.where("region", "==", "north")
                      ).to_json()
    rows.append(("new cohort, first page", once(page()), "once"))
    sample = browser.handle({"type": "page", "rid": 1, "mode": "all", "page": 0})
    import pyarrow as pa

    first = pa.ipc.open_stream(sample[1][0]).read_all()
    targets = iter(range(first.num_rows))

    def relabel() -> object:
        i = next(targets)
        sid, seen = first["id"][i].as_py(), first["current"][i].as_py()
        reply, _ = browser.handle({
            "type": "action", "rid": 2, "action": "relabel", "id": sid,
            "label": ">50K" if seen == "<=50K" else "<=50K", "token": browser.version,
            "mode": "all", "source": "grid", "seen": seen})
        assert reply["error"] is None, reply["error"]
        return reply

    rows.append(("first relabel (the store indexes its ids once)", once(relabel), "once"))
    rows.append(("relabel (validated, fsync'd to the log)", timed(relabel), "median of 5"))
    rows.append(("page after relabels", once(page()), "once"))
    page_bytes = len(sample[1][0])

    frame = ev.frame()
    naive = timed(lambda: frame.sort_values("gain", ascending=False).iloc[25 * 9:25 * 10]
                  .to_json(orient="records"), repeat=3)
    ship_all = once(lambda: frame.to_json(orient="records"))
    ours = next(ms for name, ms, _ in rows if name == "sorted, page turn")
    sort_first = next(ms for name, ms, _ in rows if name.startswith("sort by"))

    print(f"\n{'request':<58} {'kernel ms':>10}  {'':<12} target < {TARGET_MS:.0f} ms")
    for name, ms, how in rows:
        flag = "ok" if ms < TARGET_MS else "over"
        print(f"{name:<58} {ms:>10.1f}  {how:<12} {flag}")
    print(f"\npage reply size: {page_bytes:,} bytes (Arrow IPC, 25 rows)")
    print(f"\n{'peer (same run)':<58} {'ms':>10}  ratio vs errlens")
    print(f"{'pandas sort_values + iloc + to_json per request':<58} {naive:>10.1f}  "
          f"{naive / ours:,.0f}x slower than a sorted page turn, "
          f"{naive / sort_first:.1f}x vs errlens' first sorted request")
    print(f"{'ship every row as JSON (no paging)':<58} {ship_all:>10.1f}  "
          f"{ship_all / ours:,.0f}x slower than a page turn")


if __name__ == "__main__":
    main()
