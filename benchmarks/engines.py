"""In memory vs DuckDB vs PySpark local: the same analysis steps, time and peak memory per step.

    .venv/bin/python benchmarks/engines.py              # 1M and 10M rows (Spark at 1M only)
    .venv/bin/python benchmarks/engines.py --quick      # 1M rows
    .venv/bin/python benchmarks/engines.py --spark-10m  # also Spark at 10M (many minutes)
    .venv/bin/python benchmarks/engines.py --only spark --n 10000000 --timeout 3600
    .venv/bin/python benchmarks/engines.py --report     # tables from the saved measurements

Synthetic data: 20 features (8 numbers: integers, floats with 5 % missing, a zero-heavy amount;
8 categories of 3 to 200 values, some missing; 4 flags), a binary label and predictions with
probabilities whose errors concentrate in a few slices. Each engine runs in its own process.
Per step: wall seconds, CPU seconds of the Python process (DuckDB's threads included; Spark's
JVM not) and the peak resident memory during the step (Linux ``VmHWM``, reset before each step)
of the Python process plus, for Spark, its JVM. Every measurement is saved to
``benchmarks/.data/engines_results.json`` as it finishes (a run cut by ``--timeout`` keeps the
steps it finished), so heavy runs can go one at a time and be reported together.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from timing import preload

DATA = Path(__file__).parent / ".data"
N_FEATURES = 20
RESULTS = DATA / "engines_results.json"
DISCOVER = "discover (10 features, level ≤ 2)"
SUSPECTS = "confident_learning"  # cleanlab's filter that engines also run (the same flags)
# Every errlens module and what it imports (scikit-learn, SciPy, cleanlab, narwhals) is loaded
# first, so no step's timer holds the imports of its first call.
IMPORTS = "imports: every errlens module and its dependencies"
ENGINES = {"memory": "in memory", "duckdb": "DuckDB", "spark": "Spark local[2]"}
ORDER = [
    IMPORTS, "start Spark", "read Parquet", "build: Analysis.from_predictions",
    "segment definition + codes",
    "segment definition (edges, vocabularies)", "codes kept + checks + per-feature counts",
    "slices, all features", "slices in a segment cohort", "slices in a value cohort", "heatmap",
    "confusion of a cohort", DISCOVER, "rows page (100 of a cohort)", "error tree (depth 3)",
    "suspects (confident learning)",
]


def synthetic(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cols: dict[str, Any] = {"id": np.arange(n, dtype=np.int64)}
    for i in range(8):
        if i % 3 == 0:
            cols[f"num{i}"] = rng.integers(18, 90, n)
        elif i % 3 == 1:
            x = rng.normal(50, 15, n)
            x[rng.random(n) < 0.05] = np.nan
            cols[f"num{i}"] = x
        else:
            cols[f"num{i}"] = np.where(rng.random(n) < 0.8, 0.0, rng.lognormal(8, 1, n))
    for i, size in enumerate([3, 5, 8, 12, 20, 40, 80, 200]):
        weights = 1 / np.arange(1, size + 1)
        codes = rng.choice(size, n, p=weights / weights.sum())
        values = pd.Categorical.from_codes(codes, [f"c{i}_{v:03d}" for v in range(size)])
        series = pd.Series(values)
        if i % 2:
            series[rng.random(n) < 0.03] = None
        cols[f"cat{i}"] = series
    for i in range(4):
        cols[f"flag{i}"] = rng.random(n) < 0.3 + 0.1 * i
    frame = pd.DataFrame(cols)
    truth = rng.random(n) < 0.3
    hard = (frame["cat0"] == "c0_001").to_numpy() & (frame["num0"].to_numpy() > 60)
    flip = rng.random(n) < np.where(hard, 0.45, 0.08)
    pred = truth ^ flip
    p1 = np.clip(np.where(pred, 0.75, 0.25) + rng.normal(0, 0.1, n), 0.01, 0.99)
    frame["label"] = np.where(truth, "yes", "no")
    frame["pred"] = np.where(pred, "yes", "no")
    frame["p_no"], frame["p_yes"] = 1 - p1, p1
    return frame


def cached_parquet(name: str, n: int, make: Callable[[int], pd.DataFrame]) -> Path:
    """``make(n)`` written once to ``.data/{name}_{n}.parquet`` (kept between runs)."""
    path = DATA / f"{name}_{n}.parquet"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        make(n).to_parquet(path, row_group_size=1_000_000)
    return path


def parquet(n: int) -> Path:
    return cached_parquet("engines", n, synthetic)


def _family() -> list[int]:
    """This process and its descendants (Spark's JVM), by walking /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    family = [os.getpid()]
    for pid in family:
        family += [child for child, parent in parents.items() if parent == pid]
    return family


def _reset_peaks() -> None:
    for pid in _family():
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # restart the VmHWM mark


def _peak_mb() -> float:
    total = 0.0
    for pid in _family():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) / 1024
    return total


def start_spark() -> Any:
    """A local[2] Spark session (UI off, 2 shuffle partitions, 3 GB driver, on 127.0.0.1)."""
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", "2").config("spark.driver.memory", "3g")
             .config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.driver.host", "127.0.0.1").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def step(results: list[dict[str, Any]], name: str, fn: Any) -> Any:
    _reset_peaks()
    start, cpu = time.perf_counter(), time.process_time()
    out = fn()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    results.append({"step": name, "s": seconds, "cpu": cpu, "peak_mb": _peak_mb()})
    print(json.dumps(results[-1]), file=sys.stderr, flush=True)  # progress, kept if cut short
    return out


def features(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    return [c for c in names if c.startswith(("num", "cat", "flag"))]


def run_memory(path: Path) -> list[dict[str, Any]]:
    import errlens as el
    from errlens.slicing.cohort import Cohort

    res: list[dict[str, Any]] = []
    step(res, IMPORTS, preload)
    frame = step(res, "read Parquet", lambda: pd.read_parquet(path))
    proba = frame[["p_no", "p_yes"]].to_numpy()
    ev = step(res, "build: Analysis.from_predictions", lambda f=frame: el.Analysis.from_predictions(
        f, y_true="label", y_pred="pred", proba=proba, id="id", features=features(path),
        classes=["no", "yes"]))
    del frame
    step(res, "segment definition + codes", lambda: ev.segments)
    cohort = ev.segments.cohort("cat3", 1)
    step(res, "slices, all features", lambda: ev.slices())
    step(res, "slices in a segment cohort", lambda: ev.slices(cohort=cohort))
    step(res, "slices in a value cohort", lambda: ev.slices(cohort=Cohort.where("num0", ">=", 60)))
    step(res, "heatmap", lambda: ev.heatmap("num0", "cat0"))
    step(res, "confusion of a cohort", lambda: ev.confusion(cohort))
    step(res, DISCOVER, lambda: ev.discover(max_level=2, features=features(path)[::2]))
    step(res, "rows page (100 of a cohort)", lambda: ev.frame(cohort).sort_index().head(100))
    step(res, "error tree (depth 3)", lambda: ev.error_tree(max_depth=3))
    step(res, "suspects (confident learning)", lambda: ev.suspects(SUSPECTS, top=1000))
    return res


def run_lazy(path: Path, engine: str) -> list[dict[str, Any]]:
    import narwhals as nw

    from errlens.engines import LazyAnalysis
    from errlens.engines.counts import nan_as_null
    from errlens.engines.edges import define_lazy
    from errlens.slicing.cohort import Cohort

    res: list[dict[str, Any]] = []
    step(res, IMPORTS, preload)
    names = features(path)
    options = {"y_true": "label", "y_pred": "pred", "id": "id", "features": names,
               "classes": ["no", "yes"], "proba": ["p_no", "p_yes"]}
    if engine == "duckdb":
        import duckdb

        source = duckdb.read_parquet(str(path))
        build = LazyAnalysis.from_duckdb
    else:
        import pyspark.sql  # noqa: F401  (imported before the timer)

        spark = step(res, "start Spark", start_spark)
        source = spark.read.parquet(str(path))
        build = LazyAnalysis.from_spark
    definition = step(res, "segment definition (edges, vocabularies)", lambda: define_lazy(
        nan_as_null(nw.from_native(source), names), names))
    lazy = step(res, "codes kept + checks + per-feature counts",
                lambda: build(source, definition=definition, **options))
    cohort = lazy.segments.cohort("cat3", 1)
    step(res, "slices, all features", lambda: lazy.slices())
    step(res, "slices in a segment cohort", lambda: lazy.slices(cohort=cohort))
    step(res, "slices in a value cohort",
         lambda: lazy.slices(cohort=Cohort.where("num0", ">=", 60)))
    step(res, "heatmap", lambda: lazy.heatmap("num0", "cat0"))
    step(res, "confusion of a cohort", lambda: lazy.confusion(cohort))
    step(res, DISCOVER, lambda: lazy.discover(max_level=2, features=names[::2]))
    step(res, "rows page (100 of a cohort)", lambda: lazy.rows(cohort, limit=100))
    step(res, "suspects (confident learning)", lambda: lazy.suspects(SUSPECTS, top=1000))
    return res


def child(engine: str, n: int) -> None:
    path = parquet(n)
    res = run_memory(path) if engine == "memory" else run_lazy(path, engine)
    print(json.dumps({"steps": res}))


def measure(engine: str, n: int, timeout: float | None) -> dict[str, Any]:
    """One engine at one size in a fresh process; saved to RESULTS (partial if cut short)."""
    parquet(n)
    print(f"{engine} at {n:,} rows…", file=sys.stderr, flush=True)
    command = [sys.executable, __file__, "--child", engine, "--n", str(n)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
        finished = process.returncode == 0
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)  # the child and its JVM
        out, err = process.communicate()
        finished = False
    if finished:
        run = json.loads(out.strip().splitlines()[-1])
    else:
        steps = [json.loads(line) for line in err.splitlines() if line.startswith('{"step"')]
        run = {"steps": steps, "unfinished": f"stopped after {timeout} s" if process.returncode
               in (-9, None) else err.strip().splitlines()[-1][:300]}
    run["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    run["load"] = os.getloadavg()[0]
    saved = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    saved[f"{engine}/{n}"] = run
    RESULTS.write_text(json.dumps(saved, indent=1))
    return run


def report(n: int, runs: dict[str, dict[str, Any]]) -> None:
    print(f"\n### {n:,} rows × {N_FEATURES} features\n")
    engines = list(runs)
    names: list[str] = []
    for run in runs.values():
        names += [s["step"] for s in run["steps"] if s["step"] not in names]
    names.sort(key=lambda name: ORDER.index(name) if name in ORDER else len(ORDER))
    head = " | ".join(f"{ENGINES[e]} s (CPU) | peak MB" for e in engines)
    ratios = [e for e in engines if e != "memory"]
    print(f"| step | {head} |" + "".join(f" {ENGINES[e]} / memory |" for e in ratios))
    print("|---|" + "---:|" * (2 * len(engines) + len(ratios)))
    for name in names:
        found = {e: next((s for s in runs[e]["steps"] if s["step"] == name), None)
                 for e in engines}
        cells = []
        for e in engines:
            s = found[e]
            cells += (["–", "–"] if s is None else
                      [f"{s['s']:.2f} ({s['cpu']:.2f})", f"{s['peak_mb']:,.0f}"])
        base = found.get("memory")
        for e in ratios:
            s = found[e]
            cells.append("–" if s is None or base is None else _ratio(s["s"] / base["s"]))
        print(f"| {name} | {' | '.join(cells)} |")
    # imports and Spark's session not counted
    setup = ORDER[ORDER.index("read Parquet"):ORDER.index("slices, all features") + 1]
    totals = {}
    for e in engines:
        done = {s["step"]: s["s"] for s in runs[e]["steps"]}
        if "slices, all features" in done:
            totals[e] = sum(done.get(name, 0.0) for name in setup)
    cells = [item for e in engines for item in (f"**{totals[e]:.2f}**" if e in totals else "–", "")]
    cells += [_ratio(totals[e] / totals["memory"]) if e in totals and "memory" in totals
              else "–" for e in ratios]
    print(f"| **from Parquet to the first slice table** | {' | '.join(cells)} |")
    for e in engines:
        if "unfinished" in runs[e]:
            print(f"\n{ENGINES[e]}: {runs[e]['unfinished']}")
    print("\n" + "; ".join(f"{ENGINES[e]}: {runs[e]['date']}, load {runs[e]['load']:.1f}"
                           for e in engines))


def _ratio(x: float) -> str:
    return f"{x:.2f}×" if x < 1 else f"{x:.1f}×" if x < 10 else f"{x:.0f}×"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1M rows only")
    parser.add_argument("--spark-10m", action="store_true", help="also Spark at 10M rows")
    parser.add_argument("--only", choices=list(ENGINES), help="measure one engine (with --n)")
    parser.add_argument("--report", action="store_true", help="print the saved measurements")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per engine run")
    parser.add_argument("--child")
    parser.add_argument("--n", type=int)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.n)
        return
    if args.only:
        measure(args.only, args.n or 1_000_000, args.timeout)
        return
    if not args.report:
        for n in [1_000_000] if args.quick else [1_000_000, 10_000_000]:
            for e in ENGINES:
                if e != "spark" or n <= 1_000_000 or args.spark_10m:
                    measure(e, n, args.timeout)
    saved = json.loads(RESULTS.read_text())
    for n in sorted({int(key.split("/")[1]) for key in saved}):
        report(n, {e: saved[f"{e}/{n}"] for e in ENGINES if f"{e}/{n}" in saved})


if __name__ == "__main__":
    main()
