// Segments view: error rate by segment with CI whiskers, a two-feature heatmap, the error tree
// and the discovered slices. Bars and cells are plain DOM buttons rather than plotly: a few
// dozen marks need no 3 MB charting bundle (which a saved notebook and the static report would
// both carry), every mark is natively focusable and clickable from the keyboard, and jsdom can
// test them directly.
import "./segments.css";
import { button, h, int, pct } from "../common/dom.js";
import { heat, keeper, mountView } from "../common/cohort-view.js";
import { buildTreeChart } from "./tree.js";
import { buildClusters, buildStrip } from "./strip.js";

/**
 * @typedef {{ n: number, errors: number, error_rate: number | null, ci_low: number | null,
 *   ci_high: number | null, lift: number | null }} Stats
 * @typedef {Stats & { label: string, selected?: boolean }} Segment
 * @typedef {{ rows: number, errors: number, error_rate: number | null, text: string }} Context
 * @typedef {{ feature: string, max_lift: number | null, segments: Segment[],
 *   context?: Context | null }} FeatureRows
 * @typedef {{ a: string, b: string, labels_a: string[], labels_b: string[], cells: Stats[][],
 *   context?: string, selected_a?: string[], selected_b?: string[] }} Heatmap
 * @typedef {{ id: number, parent: number | null, depth: number, rows: number, errors: number,
 *   error_rate: number | null,
 *   ci_low: number | null, ci_high: number | null, lift: number | null, path: string,
 *   condition: string | null, split: string | null, selected?: boolean }} TreeNode
 * @typedef {{ rank: number, slice: string, level: number, n: number, support: number,
 *   errors: number, error_rate: number | null, ci_low: number | null, ci_high: number | null,
 *   lift: number | null, group: number, selected?: boolean, kind?: string,
 *   samples?: import("./strip.js").Sample[] }} SliceRow
 * @typedef {{ running?: boolean, level?: number, max_level?: number, done?: number,
 *   total?: number }} Progress
 * @typedef {{ features: FeatureRows[], feature: string, feature_b: string, heatmap: Heatmap | {},
 *   tree: TreeNode[], slices: SliceRow[], progress: Progress, overall: { rows: number,
 *   errors: number, error_rate: number | null }, version: number, rows: number,
 *   cohort: object | null, unavailable?: Record<string, string>, concepts?: SliceRow[],
 *   clusters?: import("./strip.js").ClusterFeature[] }} Model
 * @typedef {(msg: Record<string, any>) => void} Request
 */

/** @param {number | null} x */
const lift = (x) => (x === null ? "–" : `${x.toFixed(2)}×`);
/** A compact interval, "43.7–46.8%". @param {number | null} low @param {number | null} high */
const ci = (low, high) => (low === null || high === null ? "–" : `${(100 * low).toFixed(1)}–${pct(high)}`);

/**
 * Mark the control that is the current selection (aria-current, for screen readers too).
 * @param {HTMLButtonElement} b
 * @param {boolean | undefined} selected
 * @returns {HTMLButtonElement}
 */
function markSelected(b, selected) {
  if (selected) {
    b.classList.add("el-selected");
    b.setAttribute("aria-current", "true");
  }
  return b;
}

/**
 * Bars of one feature: error rate with its CI whisker, support and lift; one button per segment.
 * A feature the selection picks segments of is drawn in context (the kernel counted it without
 * that condition): every bar stays, the selected ones marked, a line compares the selection's
 * rate with the context's; clicking a selected bar again removes it from the selection.
 * @param {FeatureRows} rows
 * @param {(label: string) => void} onSelect
 * @param {{ rows: number, error_rate: number | null }} [selection]  the selection's figures
 */
export function buildBars(rows, onSelect, selection) {
  const top = Math.max(0.01, ...rows.segments.map((s) => s.ci_high ?? s.error_rate ?? 0));
  /** @param {number | null} x */
  const at = (x) => `${(100 * (x ?? 0)) / top}%`;
  const items = rows.segments.map((s) => {
    const track = h("span", { cls: "el-track" }, [
      h("span", { cls: "el-bar", attrs: { style: `width:${at(s.error_rate)}` } }),
      h("span", { cls: "el-whisker", attrs: {
        style: `left:${at(s.ci_low)};width:calc(${at(s.ci_high)} - ${at(s.ci_low)})` } }),
    ]);
    return markSelected(button(
      `${s.selected ? "deselect" : "select"} ${rows.feature} ${s.label}: error rate ${pct(s.error_rate)}, ${int(s.n)} rows`,
      [
        h("span", { cls: "el-seg-label", text: s.label }),
        track,
        h("span", { cls: "el-num", text: pct(s.error_rate) }),
        h("span", { cls: "el-num el-muted", text: `${pct(s.ci_low)}–${pct(s.ci_high)}` }),
        h("span", { cls: "el-num", text: int(s.n) }),
        h("span", { cls: "el-num", text: lift(s.lift) }),
      ],
      () => onSelect(s.label),
      { cls: "el-seg" },
    ), s.selected);
  });
  const head = h("div", { cls: "el-seg el-seg-head", attrs: { "aria-hidden": "true" } },
    ["segment", "error rate", "", "95% CI", "rows", "lift"].map((t, i) => h("span", { text: t,
      cls: i >= 2 ? "el-num" : "" })));
  const ctx = rows.context;
  const picked = rows.segments.filter((s) => s.selected).map((s) => s.label);
  const note = ctx && selection ? h("p", { cls: "el-context", attrs: { role: "note" } }, [
    h("span", { text: `selected ${rows.feature}: ${picked.join(", ") || "none"} · error rate ` }),
    h("span", { cls: "el-num", text: pct(selection.error_rate) }),
    h("span", { cls: "el-muted", text: ` (${int(selection.rows)} rows) vs ` }),
    h("span", { cls: "el-num", text: pct(ctx.error_rate) }),
    h("span", { cls: "el-muted", text: ` in ${ctx.text} (${int(ctx.rows)} rows), which the bars show` }),
  ]) : null;
  return h("div", { cls: "el-bars", attrs: { role: "list", "aria-label": `segments of ${rows.feature}` } },
    [note, head, ...items]);
}

/**
 * The heatmap as a grid of buttons (rows: feature a, columns: feature b).
 * @param {Heatmap} hm
 * @param {(row: number, col: number) => void} onSelect
 */
export function buildHeatmap(hm, onSelect) {
  const selA = hm.selected_a ?? [];
  const selB = hm.selected_b ?? [];
  /** @param {string} label @param {string[]} selected */
  const mark = (label, selected) => (selected.includes(label) ? "el-selected" : "");
  const head = h("tr", {}, [
    h("th", { text: `${hm.a} \\ ${hm.b}`, attrs: { scope: "col" } }),
    ...hm.labels_b.map((l) => h("th", { text: l, cls: mark(l, selB), attrs: { scope: "col" } })),
  ]);
  const body = hm.labels_a.map((la, i) => h("tr", {}, [
    h("th", { text: la, cls: mark(la, selA), attrs: { scope: "row" } }),
    ...hm.cells[i].map((c, j) => {
      const td = h("td", {});
      if (!c.n) {
        td.textContent = "·";
        return td;
      }
      const b = button(
        `select ${hm.a} ${la} and ${hm.b} ${hm.labels_b[j]}: error rate ${pct(c.error_rate)}, ${int(c.n)} rows`,
        [h("span", { text: pct(c.error_rate) })], () => onSelect(i, j), { cls: "el-cell" });
      b.style.background = heat(c.error_rate);
      b.title = `rows ${int(c.n)}, errors ${int(c.errors)}, CI ${pct(c.ci_low)}–${pct(c.ci_high)}`;
      // a cell inside the selection along both axes (an axis without a condition: any)
      markSelected(b, Boolean(selA.length || selB.length)
        && (!selA.length || selA.includes(la)) && (!selB.length || selB.includes(hm.labels_b[j])));
      td.appendChild(b);
      return td;
    }),
  ]));
  return h("table", { cls: "el-heatmap", attrs: { "aria-label": `error rate by ${hm.a} and ${hm.b}` } },
    [h("thead", {}, [head]), h("tbody", {}, body)]);
}

/**
 * The error tree: one button per node, indented by depth.
 * @param {TreeNode[]} nodes
 * @param {(id: number) => void} onSelect
 */
export function buildTree(nodes, onSelect) {
  return h("div", { cls: "el-tree", attrs: { role: "list", "aria-label": "error tree" } }, nodes.map((n) => {
    const b = button(
      `select tree node ${n.path}: error rate ${pct(n.error_rate)}, ${int(n.rows)} rows`,
      [
        h("span", { cls: "el-node-text", text: n.condition ?? n.path }),
        h("span", { cls: "el-num", text: pct(n.error_rate) }),
        h("span", { cls: "el-num el-muted", text: `${pct(n.ci_low)}–${pct(n.ci_high)}` }),
        h("span", { cls: "el-num", text: `${int(n.rows)} rows` }),
        h("span", { cls: "el-num", text: lift(n.lift) }),
      ],
      () => onSelect(n.id), { cls: "el-node" });
    b.style.marginLeft = `${16 * n.depth}px`;
    b.style.width = `calc(100% - ${16 * n.depth}px)`; // keeps the figures in aligned columns
    b.style.borderLeftColor = heat(n.error_rate);
    markSelected(b, n.selected);
    return b;
  }));
}

/**
 * The discovered slices (or concepts) as a ranked table; the slice text is the button, its
 * sample strip (when the kernel sent one) in a row of its own under it, across every column:
 * in the slice column alone (a third of a narrow view) five snippets stacked one per line and
 * made each slice several screens tall.
 * @param {SliceRow[]} slices
 * @param {(rank: number) => void} onSelect
 * @param {string} [name]  the table's accessible name
 */
export function buildSlices(slices, onSelect, name = "discovered slices") {
  // one class per column, shared by header and cells: text left, figures right (tabular)
  const kinds = ["el-num", "el-text", "el-num", "el-num", "el-num", "el-num", "el-num"];
  const head = h("tr", {}, ["#", "slice", "rows", "support", "error rate", "95% CI", "lift"]
    .map((t, i) => h("th", { text: t, cls: kinds[i], attrs: { scope: "col" } })));
  const body = slices.flatMap((s) => {
    const what = s.kind === "concept" ? "concept" : "slice";
    const link = markSelected(button(`select ${what} ${s.slice}`, [h("span", { text: s.slice })],
      () => onSelect(s.rank), { cls: "el-link" }), s.selected);
    const samples = s.samples ?? [];
    const cells = [String(s.rank + 1), link, int(s.n), pct(s.support), pct(s.error_rate),
      ci(s.ci_low, s.ci_high), lift(s.lift)];
    const selected = s.selected ? " el-selected" : "";
    const row = h("tr", { cls: `${samples.length ? "el-has-strip" : ""}${selected}`.trim() }, cells.map((c, i) =>
      (typeof c === "string" ? h("td", { text: c, cls: kinds[i] }) : h("td", { cls: kinds[i] }, [c]))));
    if (!samples.length) return [row];
    return [row, h("tr", { cls: `el-strip-row${selected}` }, [
      h("td", { cls: "el-num" }), // under the rank: the strip starts under the slice text
      h("td", { attrs: { colspan: String(kinds.length - 1) } }, [buildStrip(samples, s.slice)])])];
  });
  return h("table", { cls: "el-slices", attrs: { "aria-label": name } },
    [h("thead", {}, [head]), h("tbody", {}, body)]);
}

/**
 * @param {string} label
 * @param {string[]} names
 * @param {string} value
 * @param {(name: string) => void} onChange
 */
function picker(label, names, value, onChange) {
  const select = h("select", { attrs: { "aria-label": label } },
    names.map((n) => h("option", { text: n, attrs: { value: n } })));
  select.value = value;
  select.addEventListener("change", () => onChange(select.value));
  return select;
}

/**
 * @typedef {(key: string, from: unknown[], build: () => HTMLElement[]) => HTMLElement[]} Keep
 * @type {Keep}
 */
const fresh = (_key, _from, build) => build();

/**
 * The whole view for the model's current state. With `keep` (see common/cohort-view.js's
 * `keeper`), a part whose traits are the same objects as at the last draw is reused: a click
 * redraws the title, bars and heatmap, not the error tree nor the slices (both over all rows).
 * Their clicks carry the version current when clicked (`version()`), as they were drawn
 * for every version since.
 * @param {Model} m
 * @param {Request} request
 * @param {Keep} [keep]
 * @param {() => number} [version]  the model's version at click time
 * @returns {HTMLElement[]}
 */
export function buildSegments(m, request, keep = fresh, version = () => m.version) {
  const v = m.version;
  const o = m.overall;
  /** @type {HTMLElement[]} */
  const parts = [h("div", { cls: "el-title" }, [
    h("strong", { text: "Segments" }),
    h("span", { cls: "el-muted", text: ` ${int(o.rows)} rows · error rate ${pct(o.error_rate)}` }),
  ])];
  const rows = m.features.find((f) => f.feature === m.feature);
  const names = m.features.map((f) => f.feature);
  parts.push(h("div", { cls: "el-controls" }, [
    h("label", { text: "feature " }, [picker("feature", names, m.feature,
      (feature) => request({ type: "pick", feature }))]),
  ]));
  /** @param {string} label */
  const selectSegment = (label) => request({ type: "select_segment", feature: m.feature, label, version: v });
  parts.push(rows ? buildBars(rows, selectSegment, o)
    : h("p", { cls: "el-muted", text: names.length ? "no rows in this selection" : "no tabular features" }));
  const clusters = (m.clusters ?? []).find((c) => c.feature === m.feature);
  if (clusters) parts.push(...buildClusters(clusters, selectSegment));
  const hm = /** @type {Heatmap} */ (m.heatmap);
  if (hm.labels_a) {
    parts.push(h("h4", { text: "Heatmap" }), h("div", { cls: "el-controls" }, [
      h("label", { text: `${m.feature} × ` }, [picker("second feature", names.filter((n) => n !== m.feature),
        m.feature_b, (feature_b) => request({ type: "pick", feature_b }))]),
      hm.context && (hm.selected_a?.length || hm.selected_b?.length)
        ? h("span", { cls: "el-muted", text: `over ${hm.context}, the selection highlighted` }) : null,
    ]), buildHeatmap(hm, (row, col) => request({ type: "select_cell", row, col, version: v })));
  }
  const noTree = m.unavailable?.tree;
  /** @param {number} node */
  const selectNode = (node) => request({ type: "select_node", node, version: version() });
  parts.push(...keep("tree", [m.tree, noTree], () => [h("h4", { text: "Error tree (all rows)" }), noTree
    ? h("p", { cls: "el-muted el-unavailable", text: `Not available on this analysis: ${noTree}`,
      attrs: { role: "note" } })
    : h("div", { cls: "el-tree-pair" }, [buildTreeChart(m.tree, selectNode), buildTree(m.tree, selectNode)])]));
  parts.push(...keep("slices", [m.progress, m.slices, m.concepts], () => discovered(m, request, version)));
  return parts;
}

/**
 * The discovered slices: the discover button, its progress, the ranked table.
 * @param {Model} m
 * @param {Request} request
 * @param {() => number} version
 * @returns {HTMLElement[]}
 */
function discovered(m, request, version) {
  const p = m.progress;
  const discover = button("discover slices", [h("span", { text: p.running ? "Discovering…" : "Discover slices" })],
    () => request({ type: "discover" }), { cls: "el-action" });
  discover.disabled = Boolean(p.running);
  /** @type {HTMLElement[]} */
  const status = [discover];
  if (p.running) {
    const bar = h("progress", { attrs: { "aria-label": "discovery progress", max: String(p.total || 1), value: String(p.done ?? 0) } });
    status.push(bar, h("span", { cls: "el-muted", text: ` level ${p.level ?? 1} of ${p.max_level ?? 1}: ${p.done ?? 0} / ${p.total ?? 0}` }));
  }
  const parts = [h("h4", { text: "Discovered slices (all rows)" }), h("div", { cls: "el-controls" }, status)];
  if (m.slices.length) {
    parts.push(buildSlices(m.slices, (rank) => request({ type: "select_slice", rank, version: version() })));
  }
  if (m.concepts?.length) {
    parts.push(h("h4", { text: "Concepts (all rows)" }), buildSlices(m.concepts,
      (rank) => request({ type: "select_slice", rank, kind: "concept", version: version() }), "concept slices"));
  }
  return parts;
}

/** @type {import("@anywidget/types").Render<Model>} */
function render({ model, el }) {
  /** @type {Keep} */
  const keep = keeper();
  return mountView(model, el, "errlens-segments",
    ["features", "feature", "feature_b", "heatmap", "tree", "slices", "concepts", "clusters", "progress",
      "overall", "version", "unavailable"],
    (state, request) => buildSegments(state, request, keep, () => model.get("version")));
}

export default { render };
