"""Text slices in DuckDB against the in-memory Analysis, 1M short texts.

The same 1,000,000 short texts as ``benchmarks/text_slices.py`` (5–19 tweet words each, a
planted failure on texts containing "sequel" or "google", 10 % noise, one numeric feature
``length``) are written to a Parquet file. Each side runs in its own subprocess, whose peak RSS
is its memory figure (DuckDB allocates inside the process, so its memory is counted too):

- memory: pandas reads the file, ``Analysis.from_predictions(..., text="text")``, then the
  vocabulary (words + pairs, min_df 0.1 %) and ``discover(k=10, max_level=1 / 2)``;
- DuckDB: ``LazyAnalysis.from_duckdb(path, ..., text="text")`` (segments coded in DuckDB,
  reported apart), then the vocabulary built in DuckDB and the same discoveries.

Both print their top slices; the run checks they are the same. Imports happen before every
timer; the first query of each step is its cost (nothing is warmed).

Run: ``python benchmarks/text_engines.py`` (no arguments; a few minutes on 2 shared cores).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N = 1_000_000


def write(path: Path) -> None:
    """The 1M texts, labels, predictions and ``length`` as Parquet."""
    import pandas as pd
    from text_slices import short_texts  # the same texts as the in-memory speed benchmark

    texts, lengths, y, pred = short_texts(N)
    pd.DataFrame({"id": np.arange(N), "text": texts, "length": lengths, "y": y.astype(str),
                  "pred": pred.astype(str)}).to_parquet(path)


def run(side: str, path: str) -> dict[str, object]:
    """One side's figures (runs in its own process)."""
    import pandas as pd

    import errlens as el
    from errlens.engines import LazyAnalysis
    from errlens.slicing.text.vocabulary import vocabulary

    out: dict[str, object] = {}
    start = time.perf_counter()
    if side == "memory":
        frame = pd.read_parquet(path)
        ev = el.Analysis.from_predictions(frame[["id", "text", "length"]], y_true=frame["y"],
                                          y_pred=frame["pred"], id="id", text="text")
        out["load_s"] = time.perf_counter() - start
        start = time.perf_counter()
        terms = len(vocabulary(ev, "text").terms)
    else:
        ev = LazyAnalysis.from_duckdb(path, y_true="y", y_pred="pred", id="id", text="text")
        out["load_s"] = time.perf_counter() - start
        start = time.perf_counter()
        terms = len(ev.texts.vocabulary("text").terms)
    out["vocabulary_s"], out["terms"] = time.perf_counter() - start, terms
    for level in (1, 2):
        start = time.perf_counter()
        found = ev.discover(k=10, max_level=level)
        out[f"discover_level_{level}_s"] = time.perf_counter() - start
    out["top_slices"] = found.to_frame()["slice"].tolist()
    out["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "texts.parquet"
        start = time.perf_counter()
        write(path)
        print(f"{N:,} short texts written to Parquet in {time.perf_counter() - start:.1f} s "
              f"({path.stat().st_size / 1e6:.0f} MB)")
        results = {}
        for side in ("memory", "duckdb"):
            done = subprocess.run([sys.executable, __file__, side, str(path)],
                                  capture_output=True, text=True, check=True)
            results[side] = json.loads(done.stdout.strip().splitlines()[-1])
    memory, duck = results["memory"], results["duckdb"]
    print(f"{'step':26s} {'memory':>10s} {'duckdb':>10s}  duckdb / memory")
    for key in ("load_s", "vocabulary_s", "discover_level_1_s", "discover_level_2_s",
                "peak_rss_gb", "terms"):
        a, b = float(memory[key]), float(duck[key])
        print(f"{key:26s} {a:10.2f} {b:10.2f}  {b / a:.2f}x")
    same = memory["top_slices"] == duck["top_slices"]
    print("same top-10 slices:", same)
    print("top 3:", duck["top_slices"][:3])
    if not same:
        print("memory:", memory["top_slices"], "\nduckdb:", duck["top_slices"])


if __name__ == "__main__":
    if len(sys.argv) == 3:
        print(json.dumps(run(sys.argv[1], sys.argv[2])))
    else:
        main()
