"""In memory vs DuckDB vs PySpark local: the same analysis steps, time and peak memory per step.

    .venv/bin/python benchmarks/engines.py            # 1M and 10M rows (Spark at 1M only)
    .venv/bin/python benchmarks/engines.py --quick    # 1M rows
    .venv/bin/python benchmarks/engines.py --spark-10m  # also Spark at 10M (minutes)

Synthetic data: 20 features (8 numbers: integers, floats with 5 % missing, a zero-heavy amount;
8 categories of 3 to 200 values, some missing; 4 flags), a binary label and predictions with
probabilities whose errors concentrate in a few slices. Each engine runs in its own process so
its peak RSS is its own (Spark's JVM is a further process: its heap is capped by
spark.driver.memory). "driver MB" is the peak of Python allocations during a step
(tracemalloc): what the step materialises on the driver.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DATA = Path(__file__).parent / ".data"
N_FEATURES = 20
DISCOVER = "discover (10 features, level ≤ 2)"


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


def parquet(n: int) -> Path:
    path = DATA / f"engines_{n}.parquet"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        synthetic(n).to_parquet(path, row_group_size=1_000_000)
    return path


def step(results: list[dict[str, Any]], name: str, fn: Any) -> Any:
    tracemalloc.start()
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    results.append({"step": name, "s": seconds, "driver_mb": peak / 2**20})
    print(json.dumps(results[-1]), file=sys.stderr, flush=True)  # progress, kept if killed
    return out


def features(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    return [c for c in names if c.startswith(("num", "cat", "flag"))]


def run_memory(path: Path) -> list[dict[str, Any]]:
    import errlens as el

    res: list[dict[str, Any]] = []
    frame = step(res, "read Parquet", lambda: pd.read_parquet(path))
    proba = frame[["p_no", "p_yes"]].to_numpy()
    ev = step(res, "build analysis", lambda f=frame: el.Analysis.from_predictions(
        f, y_true="label", y_pred="pred", proba=proba, id="id", features=features(path),
        classes=["no", "yes"]))
    del frame
    step(res, "segment edges + codes", lambda: ev.segments)
    cohort = ev.segments.cohort("cat3", 1)
    step(res, "slices, all features", lambda: ev.slices())
    step(res, "slices, all features (cohort)", lambda: ev.slices(cohort=cohort))
    step(res, "heatmap", lambda: ev.heatmap("num0", "cat0"))
    step(res, "confusion of a cohort", lambda: ev.confusion(cohort))
    step(res, DISCOVER, lambda: ev.discover(max_level=2, features=features(path)[::2]))
    step(res, "error tree (depth 3)", lambda: ev.error_tree(max_depth=3))
    if hasattr(ev, "suspects"):
        step(res, "suspects (confident learning)", lambda: ev.suspects())
    return res


def run_lazy(path: Path, engine: str) -> list[dict[str, Any]]:
    from errlens.engines import LazyAnalysis

    res: list[dict[str, Any]] = []
    options = {"y_true": "label", "y_pred": "pred", "id": "id", "features": features(path),
               "classes": ["no", "yes"]}
    if engine == "duckdb":
        lazy = step(res, "build analysis", lambda: LazyAnalysis.from_duckdb(path, **options))
    else:
        from pyspark.sql import SparkSession

        spark = step(res, "start Spark", lambda: (
            SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "2").config("spark.driver.memory", "2g")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.host", "127.0.0.1").getOrCreate()))
        spark.sparkContext.setLogLevel("ERROR")
        df = spark.read.parquet(str(path))
        lazy = step(res, "build analysis", lambda: LazyAnalysis.from_spark(df, **options))
    cohort = lazy.segments.cohort("cat3", 1)
    res[-1]["step"] = "build (edges + checks + all counts)"
    step(res, "slices, all features", lambda: lazy.slices())
    step(res, "slices, all features (cohort)", lambda: lazy.slices(cohort=cohort))
    step(res, "heatmap", lambda: lazy.heatmap("num0", "cat0"))
    step(res, "confusion of a cohort", lambda: lazy.confusion(cohort))
    step(res, DISCOVER, lambda: lazy.discover(max_level=2, features=features(path)[::2]))
    step(res, "rows page (100)", lambda: lazy.rows(cohort, limit=100))
    return res


def child(engine: str, n: int) -> None:
    path = parquet(n)
    res = run_memory(path) if engine == "memory" else run_lazy(path, engine)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"steps": res, "rss_mb": rss}))


def measure(engine: str, n: int) -> dict[str, Any]:
    parquet(n)
    out = subprocess.run([sys.executable, __file__, "--child", engine, "--n", str(n)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(n: int, runs: dict[str, dict[str, Any]]) -> None:
    print(f"\n### {n:,} rows × {N_FEATURES} features")
    engines = list(runs)
    names: list[str] = []
    for run in runs.values():
        names += [s["step"] for s in run["steps"] if s["step"] not in names]
    head = " | ".join(f"{e} s | {e} driver MB" for e in engines)
    ratios = " | ".join(f"{e}/memory" for e in engines if e != "memory")
    print(f"| step | {head} | {ratios} |")
    print("|---" * (1 + 2 * len(engines) + len(engines) - 1) + "|")
    for name in names:
        cells, base = [], None
        found = {e: next((s for s in runs[e]["steps"] if s["step"] == name), None)
                 for e in engines}
        base = found.get("memory")
        for e in engines:
            s = found[e]
            cells += ["–", "–"] if s is None else [f"{s['s']:.2f}", f"{s['driver_mb']:.0f}"]
        for e in engines:
            if e == "memory":
                continue
            s = found[e]
            cells.append("–" if s is None or base is None else f"{s['s'] / base['s']:.1f}×")
        print(f"| {name} | {' | '.join(cells)} |")
    print("| peak RSS of the process, MB | "
          + " | ".join(f"{runs[e]['rss_mb']:.0f} | " for e in engines) + " |" * len(engines))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1M rows only")
    parser.add_argument("--spark-10m", action="store_true", help="also Spark at 10M rows")
    parser.add_argument("--child")
    parser.add_argument("--n", type=int)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.n)
        return
    sizes = [1_000_000] if args.quick else [1_000_000, 10_000_000]
    for n in sizes:
        engines = ["memory", "duckdb"]
        if n <= 1_000_000 or args.spark_10m:
            engines.append("spark")
        report(n, {e: measure(e, n) for e in engines})


if __name__ == "__main__":
    main()
