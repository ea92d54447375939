"""Dashboard benchmark: click → new aggregates latency and saved-notebook widget size at 1M rows.

Run: .venv/bin/python benchmarks/dashboard.py [--quick]

The data are UCI Adult replicated to ~1M rows (ids kept unique) with a rule-based model whose
errors concentrate in a few segments. Peers measured in the same run:
- latency: pandas groupby over the raw frame (what a dashboard without segment codes does per
  click: per-feature error rates of the selected rows plus a crosstab confusion table);
- size: the same heatmap as a plotly 7 FigureWidget (an anywidget that ships plotly.js).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
from ipywidgets.embed import embed_data

import errlens as el
from errlens.datasets import load_adult
from errlens.slicing.heatmap import heatmap_figure
from errlens.widgets.explorer import explore

from timing import preload, timed

warnings.filterwarnings("ignore")


def build(rows: int) -> el.Analysis:
    adult = load_adult().drop(columns=["split"])
    copies = -(-rows // len(adult))
    data = pd.concat([adult] * copies, ignore_index=True).head(rows)
    data["id"] = np.arange(len(data))
    rng = np.random.default_rng(0)
    rich = ((data["education_num"] >= 13) & (data["age"] >= 30)).to_numpy()
    flip = rng.random(len(data)) < 0.05
    pred = np.where(rich ^ flip, ">50K", "<=50K")
    return el.Analysis.from_predictions(data, y_true="income", y_pred=pred, id="id")


def click_segment(ex: Any, feature: str, label: str) -> None:
    seg = ex.segments
    reply, _ = seg.handle({"type": "select_segment", "rid": 1, "feature": feature,
                           "label": label, "version": seg.version})
    assert reply["error"] is None, reply["error"]


def click_cell(ex: Any) -> None:
    c = ex.confusion
    reply, _ = c.handle({"type": "select_cell", "rid": 1, "true": 1, "predicted": 0,
                         "version": c.version})
    assert reply["error"] is None, reply["error"]


def pandas_click(frame: pd.DataFrame, error: np.ndarray, feature: str, value: Any) -> None:
    """The peer: per-feature error rates of the selected rows, straight from the frame."""
    mask = (frame[feature] == value).to_numpy()
    sub = frame[mask]
    err = pd.Series(error[mask], index=sub.index)
    for column in frame.columns.drop(["y_true", "y_pred", "error"]):
        err.groupby(sub[column], observed=True).agg(["size", "mean"])
    pd.crosstab(sub["y_true"], sub["y_pred"])


def state_size(widget: Any) -> tuple[int, int]:
    """Bytes of the widget state a saved notebook stores: total, and without the JS/CSS."""
    state = embed_data(views=[widget], drop_defaults=False)["manager_state"]
    total = len(json.dumps(state))
    for model in state["state"].values():
        for key in ("_esm", "_css"):
            model["state"].pop(key, None)
    return total, len(json.dumps(state))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100k rows, fewer repeats")
    args = parser.parse_args()
    rows, repeat = (100_000, 3) if args.quick else (1_000_000, 5)
    imports = preload()  # widget modules and what the first click loads: outside the timers
    print(f"imports of every errlens module and their dependencies: {imports:.1f} s")

    start = time.perf_counter()
    ev = build(rows)
    _ = ev.segments
    print(f"analysis of {ev.n:,} rows built and segmented in {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    ex = explore(ev)
    open_s = time.perf_counter() - start

    segment_ms, cell_ms, back_ms = [], [], []
    for feature, label in [("sex", "Female"), ("race", "White"), ("relationship", "Husband"),
                           ("sex", "Male"), ("race", "Black")][:repeat]:
        ex.clear()
        segment_ms.append(timed(lambda f=feature, lab=label: click_segment(ex, f, lab), 1))
        cell_ms.append(timed(lambda: click_cell(ex), 1))
        back_ms.append(timed(ex.back, 1))

    frame = ev.frame()
    error = ev.is_error.astype(float)
    peer_ms = timed(lambda: pandas_click(frame, error, "sex", "Female"), repeat)

    ex.clear()
    ours_total, ours_data = state_size(ex)
    figure = heatmap_figure(ev.heatmap(ex.segments.feature, ex.segments.feature_b))
    import plotly.graph_objects as go

    plotly_total, plotly_data = state_size(go.FigureWidget(figure))

    print(f"\n| measure ({ev.n:,} rows) | errlens | peer | ratio (peer / errlens) |")
    print("|---|---:|---:|---:|")
    print(f"| open the Explorer | {1000 * open_s:,.0f} ms | – | – |")
    segment, cell, back = (statistics.median(x) for x in (segment_ms, cell_ms, back_ms))
    print(f"| click segment → all views re-aggregated | {segment:,.0f} ms | "
          f"{peer_ms:,.0f} ms (pandas groupby) | {peer_ms / segment:.1f}× |")
    print(f"| click confusion cell → all views | {cell:,.0f} ms | – | – |")
    print(f"| step back → all views | {back:,.0f} ms | – | – |")
    print(f"| saved widget state, whole Explorer | {ours_total / 1024:,.0f} KB | "
          f"{plotly_total / 1024:,.0f} KB (one plotly FigureWidget heatmap) | "
          f"{plotly_total / ours_total:.1f}× |")
    print(f"| … of which data (no JS/CSS) | {ours_data / 1024:,.0f} KB | "
          f"{plotly_data / 1024:,.0f} KB | {plotly_data / ours_data:.1f}× |")
    print(f"\ntargets: click < 150 ms ({'met' if segment < 150 else 'NOT met'}), "
          f"saved output < 200 KB ({'met' if ours_total < 200 * 1024 else 'NOT met'})")


if __name__ == "__main__":
    main()
