"""Slicing benchmark: errlens vs Microsoft's Responsible-AI ``erroranalysis`` (0.5.5).

Same inputs for both sides: Adult with a gradient-boosted model's predictions (fit on the train
split), and Adult up-sampled to 100k and 1M rows, saved once to ``benchmarks/.data/``; the 1M rows
once more with the 8 categorical features stored as plain strings, read as pandas reads them
(errlens: pandas 3's ``str`` dtype, then ``object`` with ``future.infer_string`` off; RAI's
pandas 1.5: ``object``). Each side runs in its own process: errlens in the project venv,
erroranalysis in ``benchmarks/.peers/rai`` (it pins numpy<2 / pandas<2 and imports shap without
declaring it; created with uv on first run).

* imports, outside every timer on both sides: each side imports its package, then runs the cold
  steps below once on 1,000 rows, which loads what the first call imports (errlens: scikit-learn,
  SciPy, cleanlab; 2.8 s without cached bytecode). That cost is reported on its own line.

* cold: from the loaded frame, errlens builds the Analysis, every single-feature slice table,
  one pair heatmap and the error tree; RAI builds its analyzer, the error tree and one 2-feature
  heatmap. Peak memory is the highest RSS above the process's RSS before the step.
* interactive, on the existing analysis: another heatmap, the error tree of a cohort
  (sex = Female) and the slice table of that cohort (errlens: all 14 features; RAI: its one-feature
  heatmap of the cohort, the closest call it has). Median of 3.

Both sides run with ``OMP_NUM_THREADS=1`` by default (``--threads``): on a shared 2-core box,
OpenMP spinning makes multi-threaded LightGBM timings erratic.

    .venv/bin/python benchmarks/slicing.py           # Adult, 100k, 1M; updates README.md
    .venv/bin/python benchmarks/slicing.py --quick   # Adult and 100k, one repeat, no README
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / ".data"
PEER = ROOT / "benchmarks" / ".peers" / "rai"
PEER_PYTHON = PEER / "bin" / "python"
PEER_PACKAGES = ["erroranalysis==0.5.5", "shap", "numpy<2", "pandas<2", "pyarrow<17"]
FEATURES = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
            "occupation", "relationship", "race", "sex", "capital_gain", "capital_loss",
            "hours_per_week", "native_country"]
PAIR = ("age", "education")
# RAI's compute_matrix fails on a categorical feature with missing values ("boolean value of NA
# is ambiguous" for occupation / workclass / native_country), so both pairs avoid them.
PAIR2 = ("marital_status", "hours_per_week")
SIZES = {"Adult": 0, "100k": 100_000, "1M": 1_000_000}
# Data sets: (parquet file, how errlens reads its strings). RAI reads every file one way (pandas
# 1.5: strings are object), so the two string variants share one RAI run.
VARIANTS = {"Adult": ("Adult", "category"), "100k": ("100k", "category"),
            "1M": ("1M", "category"), "1M str": ("1M_strings", "str"),
            "1M object": ("1M_strings", "object")}
WARMUP_ROWS = 1000
README_HEADING = "## Slicing: segments, slice tables, heatmaps, error tree (vs RAI erroranalysis)"
NOTES = """Inputs: Adult with a HistGradientBoosting model's predictions (fit on the train split),
up-sampled with replacement to 100k and 1M rows; both sides read the same parquet file in their own
process (RAI 0.5.5 in `benchmarks/.peers/rai`: numpy 1.26, pandas 1.5, LightGBM). errlens segments
every feature (5 quantile bins, top-10 categories, missing as a segment) and its tree grows over
those codes with `min_samples=20` (RAI's `min_child_samples`). RAI's `compute_matrix` raises
"boolean value of NA is ambiguous" on a categorical feature with missing values (occupation,
workclass, native_country), so both heatmap pairs avoid those features (age × education,
marital_status × hours_per_week). The "slice table of a cohort" compares errlens' 14-feature table
with RAI's one-feature heatmap of the cohort, its closest call.

String columns: "1M str" and "1M object" are the same 1M rows with the 8 categorical features
stored as plain strings. errlens reads them as pandas 3 does (`str`, Arrow-backed) and as pandas
did before (`object`, `future.infer_string` off); RAI's pandas 1.5 reads them as `object`, once
for both rows, and is told they are categorical. errlens factorizes each string column once
(`pandas.factorize`, pyarrow's `dictionary_encode` for `str`) for its definition and its codes;
looking up every row took 0.3–0.6 s per column before.

Imports are outside every timer on both sides: each side imports its package, then runs the
same cold steps on 1,000 rows, which loads what the first call imports (errlens: scikit-learn,
SciPy and cleanlab, 2.8 s without cached bytecode, which the cold-start timer held until
2026-12-07; RAI: LightGBM, SHAP). That cost has its own row.

Reading the table: targets at 1M rows are cold start ≥ 10× and interactive calls ≥ 50×
faster than RAI. The cohort's slice table is all 14 features against RAI's one-feature
heatmap, so per feature it is ~14× better than its row shows. Ratios come from one run; on a
shared machine absolute times are noisy."""


class PeakRSS:
    """Highest resident set size above the starting one, sampled every 2 ms from /proc."""

    def __init__(self) -> None:
        self.base = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, _rss())

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def extra_mb(self) -> float:
        return (self.peak - self.base) / 2**20


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _median_time(call: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ---------------------------------------------------------------------------- the two sides
def run_errlens(path: Path, repeats: int, strings: str) -> dict[str, Any]:
    started = time.perf_counter()
    import pandas as pd

    import errlens as el
    from errlens.slicing.cohort import Cohort

    def cold(frame: pd.DataFrame) -> tuple[Any, Any, Any, float]:
        start = time.perf_counter()
        ev = el.Analysis.from_predictions(frame, y_true="income", y_pred="pred",
                                          features=FEATURES)
        built = time.perf_counter()
        table = ev.slices()
        ev.heatmap(*PAIR)
        return ev, table, ev.error_tree(max_depth=3, min_samples=20), built - start

    imports = time.perf_counter() - started
    if strings == "object":  # the strings as pandas read them before pandas 3
        pd.set_option("future.infer_string", False)
    frame = pd.read_parquet(path)
    first = time.perf_counter()
    cold(frame.head(WARMUP_ROWS))  # loads what the first call imports: outside the timer
    imports += time.perf_counter() - first
    with PeakRSS() as memory:
        start = time.perf_counter()
        ev, table, tree, build = cold(frame)
        cold_s = time.perf_counter() - start
    women = Cohort.where("sex", "==", "Female")
    return {
        "imports": imports, "cold": cold_s, "build": build, "memory_mb": memory.extra_mb,
        "heatmap": _median_time(lambda: ev.heatmap(*PAIR2), repeats),
        "cohort_tree": _median_time(
            lambda: ev.error_tree(max_depth=3, min_samples=20, cohort=women), repeats),
        "cohort_slices": _median_time(lambda: ev.slices(cohort=women), repeats),
        "rows": ev.n, "segments": len(table), "tree_nodes": len(tree.nodes),
        "cohort_rows": int(women.mask(ev).sum()), "error_rate": ev.error_rate,
        "dtype": str(frame["education"].dtype),
    }


def run_rai(path: Path, repeats: int) -> dict[str, Any]:
    started = time.perf_counter()
    import pandas as pd
    from erroranalysis._internal.error_analyzer import PredictionsAnalyzer

    imports = time.perf_counter() - started
    frame = pd.read_parquet(path)
    categorical = [f for f in FEATURES if str(frame[f].dtype) in ("category", "object")]

    def cold(frame: pd.DataFrame) -> tuple[Any, Any, float]:
        start = time.perf_counter()
        analyzer = PredictionsAnalyzer(
            frame["pred"].to_numpy(), frame[FEATURES], frame["income"].to_numpy(), FEATURES,
            categorical, model_task="classification", classes=["<=50K", ">50K"])
        built = time.perf_counter()
        tree = analyzer.compute_error_tree(FEATURES, [], [], max_depth=3)
        analyzer.compute_matrix(list(PAIR), [], [], quantile_binning=True, num_bins=5)
        return analyzer, tree, built - start

    first = time.perf_counter()
    cold(frame.head(WARMUP_ROWS))
    imports += time.perf_counter() - first
    with PeakRSS() as memory:
        start = time.perf_counter()
        analyzer, tree, build = cold(frame)
        cold_s = time.perf_counter() - start
    sex = list(analyzer.categories[categorical.index("sex")])
    women = [{"arg": [sex.index("Female")], "column": "sex", "method": "includes"}]
    cohort_tree = analyzer.compute_error_tree(FEATURES, women, [], max_depth=3)
    return {
        "imports": imports, "cold": cold_s, "build": build, "memory_mb": memory.extra_mb,
        "heatmap": _median_time(lambda: analyzer.compute_matrix(
            list(PAIR2), [], [], quantile_binning=True, num_bins=5), repeats),
        "cohort_tree": _median_time(lambda: analyzer.compute_error_tree(
            FEATURES, women, [], max_depth=3), repeats),
        "cohort_slices": _median_time(lambda: analyzer.compute_matrix(
            [PAIR[0]], women, [], quantile_binning=True, num_bins=5), repeats),
        "rows": len(frame), "tree_nodes": len(tree),
        "cohort_rows": int(cohort_tree[0]["size"]), "dtype": str(frame["education"].dtype),
    }


# ---------------------------------------------------------------------------- orchestration
def prepare(names: list[str]) -> dict[str, Path]:
    """Fit the model once and write one parquet file per data set (reused when present)."""
    DATA.mkdir(parents=True, exist_ok=True)
    files = {VARIANTS[name][0] for name in names}
    if "1M_strings" in files:
        files.add("1M")
    paths = {name: DATA / f"slicing_{name}.parquet" for name in files}
    if not all(paths[name].exists() for name in files - {"1M_strings"}):
        _write_sizes()
    if "1M_strings" in files and not paths["1M_strings"].exists():
        import pandas as pd

        frame = pd.read_parquet(paths["1M"])
        text = [f for f in FEATURES if isinstance(frame[f].dtype, pd.CategoricalDtype)]
        frame.astype(dict.fromkeys(text, object)).to_parquet(paths["1M_strings"])
    return {name: paths[VARIANTS[name][0]] for name in names}


def _write_sizes() -> None:
    """Every size, in one order, so the up-sampled rows are the same whichever file is missing."""
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    from errlens.datasets import load_adult

    adult = load_adult()
    train = (adult["split"] == "train").to_numpy()
    model = HistGradientBoostingClassifier(max_iter=100, categorical_features="from_dtype",
                                           random_state=0)
    with threadpool_limits(1):
        model.fit(adult.loc[train, FEATURES], adult.loc[train, "income"])
        pred = model.predict(adult[FEATURES])
    base = adult[FEATURES].copy()
    base["income"] = adult["income"].astype(object).to_numpy()
    base["pred"] = np.asarray(pred, dtype=object)
    rng = np.random.default_rng(0)
    for name, size in SIZES.items():
        rows = base if not size else base.iloc[rng.integers(0, len(base), size)]
        rows.reset_index(drop=True).to_parquet(DATA / f"slicing_{name}.parquet")


def ensure_peer() -> None:
    if PEER_PYTHON.exists():
        return
    uv = ROOT / ".venv" / "bin" / "uv"
    print("creating the erroranalysis venv in benchmarks/.peers/rai (once) …", flush=True)
    subprocess.run([str(uv), "venv", "-q", "-p", "3.11", str(PEER)], check=True)
    subprocess.run([str(uv), "pip", "install", "-q", "-p", str(PEER_PYTHON), *PEER_PACKAGES],
                   check=True)


def side(python: Path, name: str, path: Path, repeats: int, threads: int,
         strings: str = "category") -> dict[str, Any]:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads), "PYTHONWARNINGS": "ignore"}
    out = subprocess.run(
        [str(python), __file__, "--side", name, "--data", str(path), "--repeats", str(repeats),
         "--strings", strings],
        check=True, capture_output=True, text=True, env=env, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(results: dict[str, tuple[dict[str, Any], dict[str, Any]]], threads: int) -> str:
    lines = [
        "| data | step | errlens | RAI erroranalysis | ratio |",
        "|---|---|---:|---:|---:|",
    ]
    for ours, rai in results.values():
        ours["slicing"], rai["slicing"] = ours["cold"] - ours["build"], rai["cold"] - rai["build"]
    steps = [("imports", "imports + first call on 1,000 rows, outside the timers (s)"),
             ("cold", "cold start (s)"), ("build", "… of which building the analysis (s)"),
             ("slicing", "… the rest: slices + heatmap + tree (s)"),
             ("memory_mb", "cold peak memory (MB)"),
             ("heatmap", "another heatmap (s)"), ("cohort_tree", "error tree of a cohort (s)"),
             ("cohort_slices", "slice table of a cohort (s)")]
    for name, (ours, rai) in results.items():
        data = f"{ours['rows']:,}" + (f", strings as {ours['dtype']}" if " " in name else "")
        for key, label in steps:
            ratio = rai[key] / ours[key] if ours[key] > 0 else float("inf")
            unit = "MB" if key == "memory_mb" else "s"
            fmt = "{:.0f}" if unit == "MB" else "{:.4f}"
            lines.append(f"| {data} | {label} | {fmt.format(ours[key])} | "
                         f"{fmt.format(rai[key])} | {ratio:.1f}× |")
    lines.append("")
    lines.append(f"Ratios are RAI / errlens (higher is better for errlens); OMP threads: "
                 f"{threads}. Cohort = sex is Female; both sides found the same cohort size: "
                 + ", ".join(f"{o['cohort_rows']:,}/{r['cohort_rows']:,}"
                             for o, r in results.values()) + ".")
    return "\n".join(lines)


def write_readme(table: str, load: tuple[float, float]) -> None:
    readme = ROOT / "benchmarks" / "README.md"
    text = readme.read_text() if readme.exists() else "# Benchmarks\n"
    body = (f"{README_HEADING}\n\n`.venv/bin/python benchmarks/slicing.py` (run of "
            f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, both sides in the same run, "
            f"each in its own process; shared 2-core machine, load average {load[0]:.1f} at the "
            f"start and {load[1]:.1f} at the end):\n\n{table}\n\n{NOTES}\n")
    pattern = re.compile(rf"^{re.escape(README_HEADING)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(body + "\n", text) if pattern.search(text) else (
        text.rstrip("\n") + "\n\n" + body)
    readme.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="Adult and 100k, one repeat")
    parser.add_argument("--only", nargs="+", choices=list(VARIANTS), metavar="DATA",
                        help=f"only these data sets, no README update: {', '.join(VARIANTS)}")
    parser.add_argument("--threads", type=int, default=1, help="OMP threads for both sides")
    parser.add_argument("--side", choices=["errlens", "rai"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3, help=argparse.SUPPRESS)
    parser.add_argument("--strings", default="category", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        result = (run_errlens(args.data, args.repeats, args.strings) if args.side == "errlens"
                  else run_rai(args.data, args.repeats))
        print(json.dumps(result))
        return
    names = ["Adult", "100k"] if args.quick else args.only or list(VARIANTS)
    repeats = 1 if args.quick else 3
    ensure_peer()
    paths = prepare(names)
    load = os.getloadavg()[0]
    results: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    rai_runs: dict[Path, dict[str, Any]] = {}  # RAI reads both string variants alike
    for name in names:
        print(f"{name}: running both sides …", flush=True)
        ours = side(Path(sys.executable), "errlens", paths[name], repeats, args.threads,
                    VARIANTS[name][1])
        if paths[name] not in rai_runs:
            rai_runs[paths[name]] = side(PEER_PYTHON, "rai", paths[name], repeats, args.threads)
        rai = dict(rai_runs[paths[name]])
        results[name] = (ours, rai)
        (DATA / "slicing_results.json").write_text(json.dumps(results, indent=1))
        print(f"{name}: errlens cold {ours['cold']:.3f} s, RAI cold {rai['cold']:.3f} s "
              f"({rai['cold'] / ours['cold']:.1f}×)", flush=True)
    table = report(results, args.threads)
    print(table)
    if not (args.quick or args.only):
        write_readme(table, (load, os.getloadavg()[0]))


if __name__ == "__main__":
    main()
