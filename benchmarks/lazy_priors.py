"""Suspects with annotator priors in DuckDB (``LazyAnalysis``) against in-memory errlens and
cleanlab, in the same run, at 1M rows; with ``--spark``, PySpark local[2] too.

    PYTHONPATH=src .venv/bin/python benchmarks/lazy_priors.py [--n 1000000] [--spark]

Synthetic 3-class data read from Parquet: 20 annotators, one flips 30 % of its labels, the
others 3 %; the model's probabilities follow the true class (logits + 2 on it). Every module is
imported before any timer (``timing.preload``). The DuckDB steps run first, then the in-memory
ones (one process: a step's peak memory is the process' ``VmHWM``, reset before the step, so
the in-memory steps include the rows they hold). First calls are stated apart: the first
``suspects()`` pays the confident-learning pass (memory) or the thresholds scan (engine), the
first with the prior pays the noise fit; "again" is the best of 3 with those cached, "refit"
the best of 3 with the noise fit (memory) or the fit's queries (engine: the evidence quantiles
and the noise tables) cleared. "after reviews": a LabelStore holding the verdicts of DuckDB's
top ``REVIEWS`` suspects (a relabel where the label was flipped, else a confirm; causes naming
the method), the page ranked with them (best of 3: the reviewed rows' query, the update, the
ranking). ``label_health()`` (the per-class table and the per-annotator one) in both, against
cleanlab's ``health_summary`` (per class) in the same run.

``--spark`` (off by default) runs the DuckDB steps again on PySpark local[2] after the others:
the session is started as in ``engines.py`` (UI off, 2 shuffle partitions, 3 GB driver) before
any timer, the in-memory rows are dropped, then the same Parquet file is read by Spark
(``LazyAnalysis.from_spark``, in the build step) and the page after reviews uses the same
LabelStore (so the three rank the same reviews). A Spark step's peak memory is the Python
process' plus its JVM's (``engines._peak_mb``); its CPU seconds are the Python process' only.
After the table: Spark's top ``TOP`` overlap with memory's and the largest noise rate
difference (``percentile_approx`` bins), with the prior and after the reviews.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from engines import _peak_mb, _reset_peaks, cached_parquet, start_spark

from timing import preload

TOP = 1000
REVIEWS = 2000
CLASSES = ["a", "b", "c"]


def synthetic(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, n)
    who = rng.integers(0, 20, n)
    flip = rng.random(n) < np.where(who == 0, 0.30, 0.03)
    given = np.where(flip, (truth + rng.integers(1, 3, n)) % 3, truth)
    logits = rng.normal(size=(n, 3))
    logits[np.arange(n), truth] += 2
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    frame = pd.DataFrame({"id": np.arange(n, dtype=np.int64), "x": rng.normal(size=n),
                          "segment": rng.choice(np.array(list("pqrs"), dtype=object), n),
                          "annotator": np.array([f"ann{i:02d}" for i in range(20)],
                                                dtype=object)[who],
                          "label": np.asarray(CLASSES, dtype=object)[given],
                          "pred": np.asarray(CLASSES, dtype=object)[proba.argmax(axis=1)],
                          "flipped": flip})
    for k, name in enumerate(CLASSES):
        frame[f"p_{name}"] = proba[:, k]
    return frame


def parquet(n: int) -> Path:
    return cached_parquet("lazy_priors", n, synthetic)


def reviewed_store(path: Path, ids: pd.Index) -> Any:
    """A LabelStore (in a temporary folder) of the samples ``ids``, each relabeled where its
    label was flipped (to the prediction, or the next class), else confirmed."""
    import duckdb

    from errlens.changelog import LabelStore

    rows = duckdb.sql(f"SELECT id, label, pred, flipped FROM read_parquet('{path}') "
                      f"WHERE id IN ({', '.join(map(str, ids.tolist()))})").df().set_index("id")
    rows = rows.loc[ids]
    store = LabelStore(rows["label"], Path(tempfile.mkdtemp()) / "labels.jsonl",
                       author="bench", classes=CLASSES)
    other = np.where(rows["pred"] != rows["label"], rows["pred"],
                     [CLASSES[(CLASSES.index(c) + 1) % 3] for c in rows["label"]])
    cause = {"method": "confident_learning"}
    store.record_many([{"op": "set", "id": i, "label": new, "cause": cause} if flip else
                       {"op": "confirm", "id": i, "cause": cause}
                       for i, new, flip in zip(rows.index.tolist(), other, rows["flipped"],
                                               strict=True)])
    return store


def step(results: list[dict[str, Any]], name: str, fn: Callable[[], Any], repeat: int = 1
         ) -> Any:
    """Run ``fn`` ``repeat`` times; record the best wall and CPU seconds and the peak memory."""
    best, out = None, None
    for _ in range(repeat):
        _reset_peaks()
        start, cpu = time.perf_counter(), time.process_time()
        out = fn()
        row = {"step": name, "s": time.perf_counter() - start, "cpu": time.process_time() - cpu,
               "peak_mb": _peak_mb()}
        best = row if best is None or row["s"] < best["s"] else best
    assert best is not None
    results.append(best)
    print(json.dumps(best), file=sys.stderr, flush=True)
    return out


def engine_steps(results: list[dict[str, Any]], engine: str, build: Callable[[], Any],
                 path: Path, store: Any = None) -> tuple[Any, Any, Any, Any]:
    """The engine steps of a ``LazyAnalysis`` that ``build`` makes: the rankings with no prior,
    with the prior and after the reviews of ``store`` (by default, a LabelStore of this
    engine's top ``REVIEWS`` suspects), and that store."""
    import errlens as el
    from errlens.engines import priors as engine_priors

    lazy = step(results, f"{engine}: build (Parquet, annotator=)", build)
    step(results, f"{engine}: suspects, no prior, first call (thresholds scan)",
         lambda: lazy.suspects(top=TOP, prior=None))
    plain = step(results, f"{engine}: suspects, no prior, again",
                 lambda: lazy.suspects(top=TOP, prior=None), repeat=3)
    step(results, f"{engine}: suspects with the prior, first call (fit in the engine)",
         lambda: lazy.suspects(top=TOP))

    def refit() -> Any:
        engine_priors._NOISES.pop(lazy, None)
        engine_priors._EDGES.pop(lazy, None)
        return lazy.suspects(top=TOP)

    step(results, f"{engine}: suspects with the prior, refit (quantiles + 3 GROUP BYs + fit)",
         refit, repeat=3)
    prior = step(results, f"{engine}: suspects with the prior, again (fit cached)",
                 lambda: lazy.suspects(top=TOP), repeat=3)
    cohort = el.Cohort.where("segment", "==", "p")
    step(results, f"{engine}: suspects with the prior, a cohort (fit cached)",
         lambda: lazy.suspects(top=TOP, cohort=cohort), repeat=3)
    step(results, f"{engine}: label_health, first call (per class and per annotator)",
         lazy.label_health)
    step(results, f"{engine}: label_health, again", lazy.label_health, repeat=3)
    if store is None:
        store = reviewed_store(path, lazy.suspects(top=REVIEWS).table.index)
    reviewed = step(results, f"{engine}: suspects after {REVIEWS:,} reviews (fit cached)",
                    lambda: lazy.suspects(top=TOP, reviews=store), repeat=3)
    return plain, prior, reviewed, store


def spark_steps(results: list[dict[str, Any]], path: Path, options: dict[str, Any], store: Any
                ) -> tuple[Any, Any, Any]:
    """The engine steps on PySpark local[2] (its session started first, untimed), reviewed
    with ``store``: the rankings with no prior, with the prior and after the reviews."""
    import narwhals as nw

    # modules the steps use, imported before their timers
    import pyspark.sql.classic.window
    import pyspark.sql.functions  # noqa: F401
    from pyspark import StorageLevel  # noqa: F401

    from errlens.engines import LazyAnalysis

    spark = start_spark()
    # narwhals' Spark backend (and what it imports) loaded before the timers: a plan, no job
    nw.from_native(spark.range(1)).group_by("id").agg(nw.len())
    plain, prior, reviewed, _ = engine_steps(
        results, "Spark", lambda: LazyAnalysis.from_spark(spark.read.parquet(str(path)),
                                                          **options), path, store)
    return plain, prior, reviewed


def agreement(name: str, spark: Any, memory: Any) -> str:
    """Spark's top ``TOP`` shared with memory's, and the largest noise rate difference."""
    shared = len(spark.table.index.intersection(memory.table.index)) / TOP
    gap = np.abs(spark.priors[0].table["noise_rate"] - memory.priors[0].table["noise_rate"]).max()
    return (f"Spark vs memory{name}: top {TOP} overlap {shared:.1%}; max |noise rate| "
            f"difference {gap:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--spark", action="store_true", help="also PySpark local[2], last")
    args = parser.parse_args()
    path = parquet(args.n)
    results: list[dict[str, Any]] = []
    step(results, "imports: every errlens module and its dependencies", preload)
    import duckdb  # noqa: F401  (loaded by preload; named here for the reader)
    from cleanlab.dataset import health_summary
    from cleanlab.filter import find_label_issues

    import errlens as el
    from errlens.engines import LazyAnalysis

    proba_columns = [f"p_{c}" for c in CLASSES]
    options = {"y_true": "label", "y_pred": "pred", "id": "id", "proba": proba_columns,
               "features": ["x", "segment"], "classes": CLASSES, "annotator": "annotator"}
    plain_engine, prior_engine, reviewed_engine, store = engine_steps(
        results, "DuckDB", lambda: LazyAnalysis.from_duckdb(str(path), **options), path)

    frame = step(results, "memory: read Parquet", lambda: pd.read_parquet(path))
    flipped = frame.set_index("id")["flipped"]
    proba = frame[proba_columns].to_numpy()
    labels = pd.Categorical(frame["label"], categories=CLASSES).codes.astype(np.int64)
    ev = step(results, "memory: build (Analysis.from_predictions, annotator=)",
              lambda: el.Analysis.from_predictions(
                  frame[["id", "x", "segment", "annotator", "label", "pred"]], y_true="label",
                  y_pred="pred", id="id", proba=proba, proba_out_of_fold=True,
                  classes=CLASSES, annotator="annotator"))
    method = "confident_learning"
    step(results, "memory: suspects, no prior, first call (confident-learning pass)",
         lambda: ev.suspects(method, top=TOP, prior=None))
    plain_memory = step(results, "memory: suspects, no prior, again",
                        lambda: ev.suspects(method, top=TOP, prior=None), repeat=3)
    step(results, "memory: suspects with the prior, first call (fit)",
         lambda: ev.suspects(method, top=TOP))

    def refit_memory() -> Any:
        ev.cache.suspects = {k: v for k, v in ev.cache.suspects.items()
                             if not (isinstance(k, tuple) and k[0] == "group_noise")}
        return ev.suspects(method, top=TOP)

    step(results, "memory: suspects with the prior, refit", refit_memory, repeat=3)
    prior_memory = step(results, "memory: suspects with the prior, again (fit cached)",
                        lambda: ev.suspects(method, top=TOP), repeat=3)
    step(results, "memory: label_health (per class and per annotator)", ev.label_health,
         repeat=3)
    reviewed_memory = step(results, f"memory: suspects after {REVIEWS:,} reviews (fit cached)",
                           lambda: ev.suspects(method, top=TOP, reviews=store), repeat=3)
    step(results, "cleanlab: find_label_issues(confident_learning, ranked by self_confidence)",
         lambda: find_label_issues(labels, proba, filter_by=method,
                                   return_indices_ranked_by="self_confidence"), repeat=3)

    step(results, "cleanlab: dataset.health_summary (per class)",
         lambda: health_summary(labels, proba, verbose=False), repeat=3)
    spark = None
    if args.spark:
        del frame, ev, proba, labels  # the Spark steps' peaks hold the rows no more
        gc.collect()
        spark = spark_steps(results, path, options, store)

    table = pd.DataFrame(results)
    pd.set_option("display.width", 200, "display.max_colwidth", 90)
    print(table.round(3).to_string(index=False))
    got, want = prior_engine.priors[0].table, prior_memory.priors[0].table
    same = prior_engine.table.index.tolist() == prior_memory.table.index.tolist()
    gap = np.abs(prior_engine.table["posterior"] - prior_memory.table["posterior"]).max()
    print(f"\nengine vs memory: top {TOP} identical order: {same}; max |noise rate| difference "
          f"{np.abs(got['noise_rate'] - want['noise_rate']).max():.1e}; max |posterior| "
          f"difference {gap:.1e}")
    others = got.drop(index="ann00")["noise_rate"].mean()
    print(f"careless annotator ann00: estimated {got.loc['ann00', 'noise_rate']:.1%} (planted "
          f"30 %), the others {others:.1%} on average (planted 3 %)")
    same = reviewed_engine.table.index.tolist() == reviewed_memory.table.index.tolist()
    gap = np.abs(reviewed_engine.table["posterior"] - reviewed_memory.table["posterior"]).max()
    slope = reviewed_engine.params["review_calibration"]
    moved = [(s["feature"], s["segment"]) for s in reviewed_engine.params["review_slices"]]
    print(f"after {REVIEWS:,} reviews: top {TOP} identical order: {same}; max |posterior| "
          f"difference {gap:.1e}; slope {None if slope is None else round(slope['slope'], 3)}; "
          f"moved slices {moved}; ann00 prior "
          f"{reviewed_engine.priors[0].table.loc['ann00', 'prior']:.1%}")
    ranked_by = [("engine, no prior", plain_engine), ("engine, prior", prior_engine),
                 ("memory, no prior", plain_memory), ("memory, prior", prior_memory),
                 ("engine, after reviews", reviewed_engine),
                 ("memory, after reviews", reviewed_memory)]
    if spark is not None:
        print(agreement("", spark[1], prior_memory))
        print(agreement(f" after {REVIEWS:,} reviews", spark[2], reviewed_memory))
        ranked_by += [(f"Spark, {name}", ranked) for name, ranked in
                      zip(("no prior", "prior", "after reviews"), spark, strict=True)]
    for name, ranked in ranked_by:
        print(f"flips in the top {TOP} ({name}): {int(flipped[ranked.table.index].sum())}")


if __name__ == "__main__":
    main()
