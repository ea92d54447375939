"""A standalone HTML report: one self-contained file that opens offline in any browser.

It reuses the dashboard's own bundles (inlined, loaded from blob: URLs) over a capped JSON
snapshot of aggregates: segments, heatmap, error tree, discovered slices (text slices and
concepts with a strip of a few samples each; clusters), the confusion table,
the annotator-health panel (when the analysis declares ``annotator=`` / ``source=``), the top
suspects with their labels, and a summary of the label changelog. The aggregates are
the view models' payloads (:mod:`errlens.views`): an Explorer's as its views hold them, an
analysis' computed for all rows without any widget. Nothing in it can edit labels: the
relabel buttons are drawn disabled.

>>> import errlens as el, tempfile, pathlib
>>> ev = el.Analysis.from_predictions({"x": [1, 2, 3, 4]}, y_true=[0, 1, 1, 0],
...     proba=[[.8, .2], [.3, .7], [.6, .4], [.1, .9]], proba_out_of_fold=True)
>>> path = to_html(ev, pathlib.Path(tempfile.mkdtemp()) / "report.html")
>>> "Top suspects" in path.read_text()
True
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from errlens.base.facade import Facade
from errlens.changelog.safe_files import atomic_write
from errlens.slicing.cohort import Cohort
from errlens.views.confusion import confusion_payload
from errlens.views.health import health_groups, health_payload
from errlens.views.segments import TREE_DEPTH, bars, drawn_pair, heatmap_payload, tree_rows
from errlens.views.source import Unavailable, source_of
from errlens.views.strips import cluster_payload, concept_slices, discovered_rows
from errlens.widgets._base import bundle

MAX_ROWS = 50
_VIEWS = ("selection", "segments", "confusion", "health")
_SEGMENT_TRAITS = ("features", "feature", "feature_b", "heatmap", "tree", "slices", "concepts",
                   "clusters", "progress", "overall", "version", "rows", "cohort", "unavailable")
DISCOVER = {"k": 10, "max_level": 2}
"""Discovery run for the report of an analysis with text columns (an Explorer's report
carries the slices it discovered)."""
_CONFUSION_TRAITS = ("table", "normalize", "version", "rows", "cohort")
_HEALTH_TRAITS = ("health", "version", "rows", "cohort")


def to_html(
    source: Any, path: str | os.PathLike[str], *, store: Any = None, max_rows: int = MAX_ROWS
) -> Path:
    """Write the report of an :class:`~errlens.widgets.explorer.Explorer` (its current
    selection and discovered slices), an :class:`~errlens.Analysis` or an engine's
    :class:`~errlens.engines.LazyAnalysis` to ``path``. An analysis with text columns gets
    its discovered slices (text slices among them) and concepts, each with a strip of a few
    snippets; clusters (``with_clusters``) are described with their typical samples.

    ``store`` (a LabelStore; default: the Explorer's) adds current labels and a changelog
    summary; ``max_rows`` caps the suspect rows and discovered slices written.
    """
    from errlens.widgets.explorer import Explorer

    if int(max_rows) != max_rows or max_rows < 1:
        raise ValueError(f"max_rows must be a positive integer, got {max_rows!r}")
    if isinstance(source, Explorer):
        store = store if store is not None else source.store
        segments = {k: getattr(source.segments, k) for k in _SEGMENT_TRAITS}
        confusion = None if source.confusion is None else {
            k: getattr(source.confusion, k) for k in _CONFUSION_TRAITS}
        health = None if source.health is None else {
            k: getattr(source.health, k) for k in _HEALTH_TRAITS}
        snapshot = _snapshot(source.analysis, segments, confusion, source.selection, store,
                             int(max_rows), health)
    elif isinstance(source, Facade):  # an Analysis or a LazyAnalysis
        snapshot = _snapshot(source, *_all_rows(source), None, store, int(max_rows),
                             _health(source))
    else:
        raise TypeError(f"to_html needs an Explorer, an errlens.Analysis or a LazyAnalysis, got "
                        f"{type(source).__name__}")
    out = Path(path)
    atomic_write(out, _page(snapshot).encode(), overwrite=True)  # never onto a changelog
    return out


def _all_rows(analysis: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The segments and confusion views' traits over every row, from the view models (as a
    freshly built dashboard shows them; no widget is made)."""
    source = source_of(analysis)
    picked = source.select(None)
    features, overall = bars(source, None, picked)
    feature, feature_b = drawn_pair(features, list(source.segments.features), "", "")
    try:
        tree, unavailable = source.error_tree(TREE_DEPTH), {}
    except Unavailable as exc:
        tree, unavailable = None, {"tree": str(exc)}
    heatmap = (heatmap_payload(source.heatmap(feature, feature_b, picked), None, {})
               if feature_b else {})
    concepts = concept_slices(analysis, DISCOVER["k"])  # None: no text columns
    slices, concept_rows = ([], []) if concepts is None else discovered_rows(
        analysis, analysis.discover(**DISCOVER), concepts)
    segments = {"features": features, "feature": feature, "feature_b": feature_b,
                "heatmap": heatmap, "tree": tree_rows(tree, Cohort.all()), "slices": slices,
                "concepts": concept_rows, "clusters": cluster_payload(analysis),
                "progress": {}, "overall": overall, "version": 0, "rows": picked.rows,
                "cohort": None, "unavailable": unavailable}
    if source.task == "regression":
        return segments, None
    table = confusion_payload(list(source.classes), source.confusion(picked), None)
    return segments, {"table": table, "normalize": None, "version": 0, "rows": table["rows"],
                      "cohort": None}


def _health(analysis: Any) -> dict[str, Any] | None:
    """The annotator-health panel's traits over every row (None: no label source declared)."""
    groups = health_groups(analysis)
    if not groups:
        return None
    picked = source_of(analysis).select(None)
    return {"health": health_payload(groups, picked), "version": 0, "rows": picked.rows,
            "cohort": None}


def _snapshot(ev: Any, segments: dict[str, Any], confusion: dict[str, Any] | None, cohort: Any,
              store: Any, max_rows: int, health: dict[str, Any] | None = None
              ) -> dict[str, Any]:
    """The traits the bundles draw plus suspects and changelog."""
    segments = {**segments, "slices": segments["slices"][:max_rows],
                "concepts": segments["concepts"][:max_rows]}
    views: dict[str, Any] = {
        "selection": {"text": "all rows" if cohort is None else cohort.describe(),
                      "rows": segments["rows"], "total": ev.n, "depth": 0, "error": ""},
        "segments": segments,
    }
    if confusion is not None:
        views["confusion"] = confusion
    if health is not None:
        views["health"] = health
    return {"title": f"errlens report: {ev.task} analysis, {ev.n:,} rows",
            "views": views, "suspects": _suspects(ev, store, cohort, max_rows),
            "classes": [str(c) for c in ev.classes],
            "changelog": _changelog(store) if store is not None else None}


def _suspects(ev: Any, store: Any, cohort: Any, max_rows: int) -> dict[str, Any]:
    if ev.task != "regression" and (ev.proba is None or len(ev.proba) == 0):
        return {"note": "no probabilities in this analysis: suspects need them", "rows": []}
    # an engine's analysis ranks in the engine, where confident_learning is the exact filter
    engine = ev.unavailable("mask") is not None  # rows not in memory
    method = ("residual" if ev.task == "regression" else
              "confident_learning" if engine else "prune_by_noise_rate")
    found = ev.suspects(method, cohort=cohort, top=max_rows)
    table = found.table
    current = store.labels() if store is not None else None
    rows = []
    for sample_id, row in table.iterrows():
        item = {"id": str(sample_id), "given": str(row["given"]),
                "predicted": str(row["predicted"]), "score": _num(row["score"]),
                "flagged": bool(row["flagged"]), "rank": int(row["rank"])}
        if current is not None and sample_id in current.index:
            item["label"] = str(current.loc[sample_id])
        rows.append(item)
    return {"note": f"{method}, {int(table['flagged'].sum())} flagged of the first "
                    f"{len(table)} shown", "rows": rows}


def _changelog(store: Any) -> dict[str, Any]:
    events: pd.DataFrame = store.events()
    versions: pd.DataFrame = store.versions()
    last = events["timestamp"].max() if len(events) else None
    return {
        "events": len(events),
        "by_op": {str(k): int(v) for k, v in events["op"].value_counts().items()},
        "authors": sorted({str(a) for a in events["author"].dropna()}),
        "samples": int(events["sample_id"].dropna().nunique()),
        "last": None if last is None or pd.isna(last) else last.isoformat(),
        "versions": [{"version": str(r["version"]), "author": str(r["author"]),
                      "n_changed": int(r["n_changed"])} for _, r in versions.iterrows()],
    }


def _num(value: Any) -> float | None:
    value = float(value)
    return None if value != value else value


# ------------------------------------------------------------------------------ HTML
def _json(data: Any) -> str:
    """JSON safe inside <script>: no '<', '>' or '&' survives unescaped."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _page(snapshot: dict[str, Any]) -> str:
    code, css = {}, []
    for name in _VIEWS:
        js_path, css_path = bundle(name)
        code[name] = js_path.read_text(encoding="utf-8")
        if css_path.exists():
            css.append(css_path.read_text(encoding="utf-8"))
    style = "\n".join(css).replace("</", "<\\/")
    return _TEMPLATE.format(
        title=html.escape(snapshot["title"]), style=style, report_css=_REPORT_CSS,
        suspects=_suspects_html(snapshot), changelog=_changelog_html(snapshot["changelog"]),
        data=_json(snapshot), bundles=_json(code), script=_SCRIPT,
    )


def _suspects_html(snapshot: dict[str, Any]) -> str:
    found = snapshot["suspects"]
    classes = snapshot["classes"]
    e = html.escape
    head = "".join(f"<th scope='col'>{e(t)}</th>" for t in
                   ("#", "id", "given", "predicted", "current", "score", "flagged", "relabel"))
    body = []
    for row in found["rows"]:
        buttons = "".join(
            f"<button type='button' disabled aria-label='relabel {e(row['id'])} as {e(c)}'>"
            f"{e(c)}</button>" for c in classes)
        score = "–" if row["score"] is None else f"{row['score']:.3f}"
        body.append(
            f"<tr><td>{row['rank']}</td><td>{e(row['id'])}</td><td>{e(row['given'])}</td>"
            f"<td>{e(row['predicted'])}</td><td>{e(row.get('label', row['given']))}</td>"
            f"<td>{score}</td><td>{'yes' if row['flagged'] else ''}</td>"
            f"<td class='el-relabel'>{buttons}</td></tr>")
    return (f"<h2>Top suspects</h2><p class='el-muted'>{e(found['note'])}. Relabel controls "
            "are disabled in this report: relabel in the notebook.</p>"
            f"<table aria-label='top suspects'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def _changelog_html(log: dict[str, Any] | None) -> str:
    if log is None:
        return ""
    e = html.escape
    ops = ", ".join(f"{e(op)} {n}" for op, n in log["by_op"].items()) or "no events"
    versions = "".join(f"<li>{e(v['version'])} by {e(v['author'])}: {v['n_changed']} labels "
                       "changed</li>" for v in log["versions"])
    return (f"<h2>Changelog</h2><p>{log['events']} events on {log['samples']} samples "
            f"({ops}) by {e(', '.join(log['authors'])) or 'nobody'}; last "
            f"{e(log['last'] or '–')}.</p>" + (f"<ul>{versions}</ul>" if versions else ""))


_REPORT_CSS = """
body { margin: 16px; font-family: system-ui, sans-serif; color: #1f2328; background: #fff; }
@media (prefers-color-scheme: dark) { body { color: #e6edf3; background: #0d1117; } }
.errlens-report .el-grid { display: flex; flex-wrap: wrap; gap: 8px; align-items: flex-start; }
.errlens-report button:disabled { opacity: 1; cursor: default; }
.errlens-report .el-relabel button:disabled { opacity: 0.5; }
.errlens-report table { border-collapse: collapse; }
.errlens-report th, .errlens-report td { padding: 2px 8px; border-bottom: 1px solid #8884; }
"""

_SCRIPT = """
const data = JSON.parse(document.getElementById("errlens-data").textContent);
const bundles = JSON.parse(document.getElementById("errlens-bundles").textContent);
// A read-only stand-in for the widget model: the snapshot, and messages that go nowhere.
const staticModel = (state) => ({
  get: (k) => state[k], set() {}, on() {}, off() {}, send() {}, save_changes() {},
  widget_manager: { get_model: async () => { throw new Error("static report"); } },
});
for (const [name, state] of Object.entries(data.views)) {
  const url = URL.createObjectURL(new Blob([bundles[name]], { type: "text/javascript" }));
  const module = await import(url);
  const el = document.getElementById(`view-${name}`);
  await module.default.render({ model: staticModel(state), el });
  for (const control of el.querySelectorAll("button, select")) control.disabled = true;
}
document.body.dataset.ready = "true";
"""

_TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none';
  script-src 'unsafe-inline' blob:; style-src 'unsafe-inline'; img-src data:">
<title>{title}</title>
<style>{style}</style>
<style>{report_css}</style>
</head>
<body>
<div class="errlens-report">
<h1>{title}</h1>
<div id="view-selection"></div>
<div class="el-grid"><div id="view-segments"></div><div id="view-confusion"></div></div>
<div id="view-health"></div>
{suspects}
{changelog}
</div>
<script type="application/json" id="errlens-data">{data}</script>
<script type="application/json" id="errlens-bundles">{bundles}</script>
<script type="module">{script}</script>
</body>
</html>
"""
