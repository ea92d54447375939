"""The suspect browser's live re-ranking at 1M rows: kernel time of the page after a review.

A reviewer's decision costs nothing until the next page is asked for; that request ranks the
suspects again with the reviews so far (the core's annotator priors updated by the decisions),
keeps the rows already shown in place and sends the page. Measured on 1,000,000 synthetic rows
labelled by five annotators (one flips 35 % of its labels, the others 3 %), a LabelStore in a
temporary folder; against, in the same run, the same browser without a store (the static
ranking: a page turn is a cached slice) and cleanlab's own ranking of the same probabilities
(``find_label_issues(..., return_indices_ranked_by="self_confidence")``), which has no prior
and cannot learn from reviews. A browser on the same rows without the annotator declared (no
prior, no store) gives the first page and the page turn without a prior. Then 2,000 reviews of
the ranking's head are written at once and the page after a review is timed again: every
segment of the undeclared features holds enough reviews to be tested and the detector's slope
is fitted (the slices and calibration reviews move, ``errlens.suspects.review_slices``).

    .venv/bin/python benchmarks/live_reranking.py           # 1,000,000 rows
    .venv/bin/python benchmarks/live_reranking.py --quick   # 100,000 rows
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

import errlens as el
from errlens.changelog import LabelStore
from errlens.widgets.suspect_browser import SuspectBrowser

from timing import preload, timed


def synthetic(n: int, seed: int = 0, *, prior: bool = True) -> el.Analysis:
    """Rows with 4 features, a binary label, five annotators: ``ann3`` flips 35 %, others 3 %
    (``prior=False``: the annotator column is not declared, so no ranking has a prior)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "age": rng.integers(17, 90, n), "hours": rng.integers(1, 99, n),
        "score": rng.normal(size=n),
        "region": pd.Categorical(rng.choice(["north", "south", "east", "west"], n)),
        "annotator": pd.Categorical(rng.choice([f"ann{i}" for i in range(1, 6)], n)),
    })
    logit = 0.04 * (frame["age"] - 40) + 0.03 * (frame["hours"] - 40) + frame["score"]
    p = 1 / (1 + np.exp(-logit.to_numpy()))
    y = (rng.uniform(size=n) < p).astype(int)
    flip = rng.uniform(size=n) < np.where(frame["annotator"] == "ann3", 0.35, 0.03)
    y[flip] = 1 - y[flip]
    return el.Analysis.from_predictions(frame, y_true=np.where(y == 1, "yes", "no"),
                                        proba=np.c_[1 - p, p],
                                        id=[f"r{i:07d}" for i in range(n)],
                                        proba_out_of_fold=True,
                                        **({"annotator": "annotator"} if prior else {}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows instead of 1,000,000")
    n = 100_000 if parser.parse_args().quick else 1_000_000
    imports = preload()  # cleanlab, SciPy, scikit-learn, anywidget: outside every timer
    from cleanlab.filter import find_label_issues

    print(f"imports of every errlens module and their dependencies: {imports:.1f} s")
    ev = synthetic(n)
    store = LabelStore(ev, Path(tempfile.mkdtemp()) / "labels.jsonl", author="bench")
    live, static = SuspectBrowser(ev, store), SuspectBrowser(ev)
    rid = iter(range(1, 10**9))

    def page(browser: SuspectBrowser, number: int) -> Any:
        reply, buffers = browser.handle({"type": "page", "rid": next(rid), "mode": "suspects",
                                         "page": number})
        assert reply["error"] is None, reply["error"]
        return reply, pa.ipc.open_stream(buffers[0]).read_all()

    durations: list[float] = []

    def confirm_then_page(sample: Any, seen: Any, turn: int) -> Any:
        """Confirm ``sample`` in the live browser, then time the next page (a re-rank)."""
        reply, _ = live.handle({"type": "action", "rid": next(rid), "action": "confirm",
                                "id": sample, "token": live.version, "mode": "suspects",
                                "source": "grid", "seen": seen})
        assert reply["error"] is None, reply["error"]
        start = time.perf_counter()
        reply, _ = page(live, turn)
        durations.append(1000 * (time.perf_counter() - start))
        return reply

    rows: list[tuple[str, float, str]] = []
    start = time.perf_counter()
    _, first = page(live, 0)
    rows.append(("first suspects page with the prior (cold)",
                 1000 * (time.perf_counter() - start), "once"))
    page(static, 0)
    rows.append(("page turn, static ranking (no store)", timed(lambda: page(static, 3)),
                 "median of 5"))
    rows.append(("page turn, live ranking, no new review", timed(lambda: page(live, 3)),
                 "median of 5"))
    reviewed = iter(range(first.num_rows))
    for turn in range(1, 4):  # confirm a row, then ask for the next page: a re-rank each time
        i = next(reviewed)
        reply = confirm_then_page(first["id"][i].as_py(), first["current"][i].as_py(), turn)
        assert reply["ranking"], "the page after a review is re-ranked"
    rows.append(("page after a review (re-ranked with the reviews)", float(np.median(durations)),
                 "median of 3"))
    # 2,000 more reviews of the ranking's head (relabels of ann3's rows and of labels the model
    # finds unlikely, confirms otherwise): every segment holds enough reviews to be tested, the
    # detector's slope is fitted; then a review and the next page, three times
    head = ev.suspects(reviews=store).table.index[:2_000]
    at = ev.ids.get_indexer(head)
    proba_at = ev.proba[at, ev.y_true_codes[at]] if ev.proba is not None else np.ones(len(at))
    wrong = (ev.features["annotator"].to_numpy()[at] == "ann3") | (proba_at < 0.2)
    flipped = np.where(ev.y_true.to_numpy()[at] == "yes", "no", "yes")
    store.record_many([{"op": "set" if w else "confirm", "id": sample,
                        "label": new if w else None, "cause": {"method": "prune_by_noise_rate"}}
                       for sample, w, new in zip(head, wrong, flipped, strict=True)])
    page(live, 4)
    durations.clear()
    later = ev.suspects(reviews=store).table.index[2_000:2_003]  # not reviewed yet
    for turn, sample in zip(range(5, 8), later, strict=True):
        confirm_then_page(sample, ev.y_true.loc[sample], turn)
    rows.append(("page after a review, 2,000 reviews in the store", float(np.median(durations)),
                 "median of 3"))
    plain = SuspectBrowser(synthetic(n, prior=False))
    start = time.perf_counter()
    page(plain, 0)
    rows.append(("first suspects page without a prior (cold, no store)",
                 1000 * (time.perf_counter() - start), "once"))
    rows.append(("page turn without a prior (no store)", timed(lambda: page(plain, 3)),
                 "median of 5"))
    given = ev.y_true_codes
    proba = ev.proba
    assert proba is not None
    peer = timed(lambda: find_label_issues(given, proba, filter_by="prune_by_noise_rate",
                                           return_indices_ranked_by="self_confidence"), 3)

    print(f"{n:,} rows, 5 annotators\n\n{'request':<52} {'kernel ms':>10}")
    for name, ms, how in rows:
        print(f"{name:<52} {ms:>10.1f}  {how}")
    rerank = {name: ms for name, ms, _ in rows}["page after a review (re-ranked with the reviews)"]
    print(f"\n{'peer (same run)':<52} {'ms':>10}  ratio")
    print(f"{'cleanlab find_label_issues, ranked (no prior)':<52} {peer:>10.1f}  "
          f"errlens' re-ranked page takes {rerank / peer:.2f}x cleanlab's static ranking")


if __name__ == "__main__":
    main()
