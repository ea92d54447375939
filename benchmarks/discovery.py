"""Slice discovery: errlens ``find_slices`` vs the ``sliceline`` package, same inputs.

Both sides get the same integer codes (``Analysis.segments`` of UCI Adult: 5 quantile bins, top
10 categories, missing as its own segment) and the same error vector (a depth-4 decision tree),
up-sampled with replacement to 100k and 1M rows. Each run is a separate process (fair peak
memory); sliceline runs in its own venv (``benchmarks/.peers/sliceline``, built on first use with
``sliceline[optimized]``, i.e. with numba) under an address-space limit, and a run that hits
the limit is reported as OOM.

    .venv/bin/python benchmarks/discovery.py            # full run (several minutes)
    .venv/bin/python benchmarks/discovery.py --quick    # Adult at 2 levels + 1M at 3 levels
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
PEER = HERE / ".peers" / "sliceline"
PEER_PYTHON = PEER / "bin" / "python"
UV = Path(sys.executable).parent / "uv"


# ----------------------------------------------------------------------------- child side
def child(args: argparse.Namespace) -> None:
    """Run one search and print a JSON line: status, wall and CPU seconds, the RSS before the
    search (interpreter, imports, inputs), the peak RSS during it, and the slices."""
    limit = int(args.mem_gb * (1 << 30))
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    data = np.load(args.input)
    codes, errors = data["codes"], data["errors"]
    # Imports, and what each search loads or compiles on its first call (numba for sliceline),
    # stay outside the timer: a first search on 500 rows.
    if args.child == "errlens":
        from errlens.slicing.discovery.search import find_slices

        find_slices(codes[:500], errors[:500], k=1, max_level=2, min_support=5)
    else:
        from sliceline.slicefinder import Slicefinder

        Slicefinder(k=1, max_l=2, min_sup=5, verbose=False).fit(
            codes[:500].astype(np.int64), errors[:500])
    Path("/proc/self/clear_refs").write_text("5")  # restart the peak-RSS mark (Linux)
    out: dict = {"status": "ok", "base_mb": _status_mb("VmRSS")}
    try:
        start, cpu = time.perf_counter(), time.process_time()
        if args.child == "errlens":
            found = find_slices(codes, errors, k=args.k, max_level=args.max_level,
                                min_support=args.min_support, alpha=args.alpha)
            slices = [[list(map(list, s.predicates)), s.size, s.errors, s.score]
                      for s in found.slices]
            out["evaluated"] = found.evaluated
        else:
            finder = Slicefinder(alpha=args.alpha, k=args.k, max_l=args.max_level,
                                 min_sup=args.min_support, verbose=False)
            finder.fit(codes.astype(np.int64), errors)
            stats = finder.top_slices_statistics_
            slices = [
                [[[j, int(v)] for j, v in enumerate(row) if v is not None],
                 int(st["slice_size"]), st["sum_slice_error"], st["slice_score"]]
                for row, st in zip(finder.top_slices_, stats, strict=True)
            ]
        out["seconds"] = time.perf_counter() - start
        out["cpu"] = time.process_time() - cpu
        out["slices"] = slices
    except MemoryError:
        out = {"status": "oom"}
    out["peak_mb"] = _status_mb("VmHWM")
    print(json.dumps(out))


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


# ---------------------------------------------------------------------------- parent side
def prepare() -> dict[str, Path]:
    """Adult codes and errors, and the up-sampled copies, saved once under benchmarks/.data."""
    from sklearn.tree import DecisionTreeClassifier

    import errlens as el
    from errlens.datasets import load_adult

    DATA.mkdir(exist_ok=True)
    names = ("adult", "100k", "1M", "1M-distinct")
    paths = {name: DATA / f"discovery_{name}.npz" for name in names}
    if all(p.exists() for p in paths.values()):
        return paths
    adult = load_adult()
    numeric = adult[["age", "education_num", "hours_per_week", "capital_gain"]]
    train = (adult["split"] == "train").to_numpy()
    model = DecisionTreeClassifier(max_depth=4, random_state=0)
    model.fit(numeric[train], adult["income"][train])
    features = [c for c in adult.columns if c not in ("id", "income", "split")]
    ev = el.Analysis.from_predictions(adult, y_true="income", y_pred=model.predict(numeric),
                                      id="id", features=features)
    codes = np.ascontiguousarray(ev.segments.codes, dtype=np.int16)
    errors = ev.error
    np.savez(paths["adult"], codes=codes, errors=errors)
    rng = np.random.default_rng(0)
    for name, rows in (("100k", 100_000), ("1M", 1_000_000)):
        pick = rng.integers(0, len(errors), rows)
        np.savez(paths[name], codes=codes[pick], errors=errors[pick])
    # no repeated rows to merge: independent codes with Adult's cardinalities, planted errors
    cards = codes.max(axis=0).astype(np.int64) + 1
    codes = rng.integers(0, cards, size=(1_000_000, len(cards))).astype(np.int16)
    logit = -2 + 0.8 * (codes[:, 0] >= 3) + 0.6 * (codes[:, 3] < 3) + 0.5 * (codes[:, 6] == 1)
    errors = (rng.random(len(codes)) < 1 / (1 + np.exp(-logit))).astype(np.float64)
    np.savez(paths["1M-distinct"], codes=codes, errors=errors)
    return paths


def ensure_peer() -> None:
    if PEER_PYTHON.exists():
        return
    subprocess.run([str(UV), "venv", "-q", "-p", sys.executable, str(PEER)], check=True)
    subprocess.run([str(UV), "pip", "install", "-q", "-p", str(PEER_PYTHON),
                    "sliceline[optimized]==0.3.0"], check=True)


def run(side: str, path: Path, params: dict, *, mem_gb: float, timeout: float) -> dict:
    python = sys.executable if side == "errlens" else str(PEER_PYTHON)
    command = [python, __file__, "--child", side, "--input", str(path), "--mem-gb", str(mem_gb)]
    for key, value in params.items():
        command += [f"--{key.replace('_', '-')}", str(value)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              cwd=HERE.parent)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "timeout": timeout}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        oom = "MemoryError" in done.stderr or done.returncode in (-9, 137)
        return {"status": "oom" if oom else "error", "stderr": done.stderr[-400:]}
    return json.loads(lines[-1])


def same_top_k(ours: list, theirs: list) -> bool:
    """Same scores rank by rank and the same slices at each score (sliceline returns every
    slice tied with the k-th and orders ties differently, so ties compare as sets)."""
    if not ours or len(theirs) < len(ours):
        return not ours and not theirs
    for a, b in zip(ours, theirs[: len(ours)], strict=True):
        if abs(a[3] - b[3]) > 1e-9:
            return False
    last = ours[-1][3]
    key = lambda s: (json.dumps(s[0]), s[1], round(s[2], 9))  # noqa: E731
    mine = {key(s) for s in ours}
    above = {key(s) for s in theirs if s[3] > last + 1e-12}
    tied = {key(s) for s in theirs if abs(s[3] - last) <= 1e-12}
    return above <= mine and mine - above <= tied


def describe(result: dict, mem_gb: float) -> tuple[str, str]:
    if result["status"] == "ok":
        grown = result["peak_mb"] - result["base_mb"]
        seconds = f"{result['seconds']:.2f} ({result['cpu']:.2f})"
        return seconds, f"{result['peak_mb']:.0f} (+{grown:.0f})"
    if result["status"] == "oom":
        return f"OOM at {mem_gb:g} GB", "-"
    if result["status"] == "timeout":
        return f"> {result['timeout']:.0f} s", "-"
    return "error", "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run")
    parser.add_argument("--child", choices=["errlens", "sliceline"], help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--max-level", type=int, default=3)
    parser.add_argument("--min-support", type=int, default=None)
    parser.add_argument("--alpha", type=float, default=0.95)
    parser.add_argument("--mem-gb", type=float, default=8.0)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    paths = prepare()
    ensure_peer()
    mem_gb, timeout = 8.0, 120.0 if args.quick else 400.0
    paper = {"k": 10, "alpha": 0.95}
    vs = [("adult", {**paper, "max_level": 2, "min_support": 488})]
    if not args.quick:
        vs = [
            ("adult", {**paper, "max_level": 3, "min_support": 488}),
            ("adult", {**paper, "max_level": 3, "min_support": 100}),
            ("adult", {"k": 1, "alpha": 0.6, "max_level": 4, "min_support": 10}),  # its defaults
            ("100k", {**paper, "max_level": 2, "min_support": 1_000}),
            ("100k", {**paper, "max_level": 3, "min_support": 1_000}),
            ("1M", {**paper, "max_level": 2, "min_support": 10_000}),
            ("1M", {**paper, "max_level": 3, "min_support": 10_000}),
        ]
    print("seconds: wall (CPU) of the search; MB: peak RSS of the child process during the "
          "search (+ growth over its RSS before the search: interpreter, imports, inputs)")
    print(f"{'data':6} {'params':44} {'errlens s':>14} {'MB':>11} {'sliceline s':>16} "
          f"{'MB':>11} {'speed-up':>9} {'same top-k':>10}")
    for name, params in vs:
        ours = run("errlens", paths[name], params, mem_gb=mem_gb, timeout=timeout)
        theirs = run("sliceline", paths[name], params, mem_gb=mem_gb, timeout=timeout)
        o_s, o_mb = describe(ours, mem_gb)
        t_s, t_mb = describe(theirs, mem_gb)
        both = ours["status"] == theirs["status"] == "ok"
        ratio = f"{theirs['seconds'] / ours['seconds']:.0f}x" if both else "-"
        same = str(same_top_k(ours["slices"], theirs["slices"])) if both else "-"
        label = " ".join(f"{k}={v}" for k, v in params.items())
        print(f"{name:6} {label:44} {o_s:>14} {o_mb:>11} {t_s:>16} {t_mb:>11} {ratio:>9} "
              f"{same:>10}", flush=True)
    print("\nerrlens alone, 1M rows x 14 features, k=10, alpha=0.95: Adult up-sampled (rows "
          "repeat) and 1M-distinct (random codes, no repeated rows to merge)")
    print(f"{'data':12} {'max_level':>9} {'min_support':>11} {'seconds':>14} {'peak MB':>11} "
          f"{'feature sets counted':>22}")
    levels = (3,) if args.quick else (3, 4)
    for name in ("1M", "1M-distinct"):
        for level in levels:
            for support in (10_000, 32):
                params = {**paper, "max_level": level, "min_support": support}
                result = run("errlens", paths[name], params, mem_gb=mem_gb, timeout=timeout)
                seconds, peak = describe(result, mem_gb)
                counted = "/".join(map(str, result.get("evaluated", [])))
                print(f"{name:12} {level:>9} {support:>11} {seconds:>14} {peak:>11} "
                      f"{counted:>22}", flush=True)

if __name__ == "__main__":
    main()
