// Annotator health: per annotator / source (as the analysis declares them) the estimated label
// noise rate with its 95% interval, rows, suspects and the top confusion. Each row is a button
// that selects that annotator's rows as the dashboard's cohort (the kernel builds the cohort from
// the row's index; no value from the data travels back). Every value from the data is text.
import "./health.css";
import { button, h, int, pct } from "../common/dom.js";
import { mountView } from "../common/cohort-view.js";

/**
 * @typedef {{ label: string, n: number, suspects: number, noise_rate: number | null,
 *   ci_low: number | null, ci_high: number | null, prior: number | null,
 *   given: string | null, likely_true: string | null, confusion_count: number,
 *   selected: number, active?: boolean }} GroupRow
 * @typedef {{ kind: string, column: string, overall: number | null, total: number,
 *   rows: GroupRow[] }} Group
 * @typedef {{ groups: Group[], note?: string }} Health
 * @typedef {{ health: Health, version: number, rows: number }} Model
 * @typedef {(msg: Record<string, any>) => void} Request
 */

/** A compact interval, "24.0–38.0%". @param {number | null} low @param {number | null} high */
const ci = (low, high) => (low === null || high === null ? "–" : `${(100 * low).toFixed(1)}–${pct(high)}`);

/**
 * The noise bar of one row: its rate as a bar, its interval as a whisker, the overall rate as
 * a tick, on a scale shared by the rows of one table.
 * @param {GroupRow} r
 * @param {number} top  the scale's right end (a share)
 * @param {number | null} overall
 */
function noiseBar(r, top, overall) {
  /** @param {number | null} x */
  const at = (x) => `${(100 * Math.min(x ?? 0, top)) / top}%`;
  return h("span", { cls: "el-track", attrs: { "aria-hidden": "true" } }, [
    h("span", { cls: "el-bar", attrs: { style: `width:${at(r.noise_rate)}` } }),
    h("span", { cls: "el-whisker", attrs: {
      style: `left:${at(r.ci_low)};width:calc(${at(r.ci_high)} - ${at(r.ci_low)})` } }),
    overall === null ? null : h("span", { cls: "el-overall", attrs: { style: `left:${at(overall)}` } }),
  ]);
}

/**
 * One table: a button per annotator (or source) that selects its rows.
 * @param {Group} g
 * @param {number} version
 * @param {Request} request
 * @returns {HTMLElement[]}
 */
export function buildGroup(g, version, request) {
  const top = Math.max(0.01, ...g.rows.map((r) => r.ci_high ?? r.noise_rate ?? 0));
  const head = h("div", { cls: "el-hrow el-hhead", attrs: { "aria-hidden": "true" } },
    [g.kind, "est. noise", "", "95% interval", "rows", "suspects", "top confusion", "selected"]
      .map((t, i) => h("span", { cls: i > 1 && i !== 6 ? "el-num" : "", text: t })));
  const rows = g.rows.map((r, index) => {
    const confusion = r.given === null || r.likely_true === null ? "–"
      : `${r.given} → ${r.likely_true} (${int(r.confusion_count)})`;
    const b = button(
      `select ${g.kind} ${r.label}: est. noise ${pct(r.noise_rate)} (${ci(r.ci_low, r.ci_high)}), ${int(r.n)} rows`,
      [
        // both cut with an ellipsis when long: the whole text on hover
        h("span", { cls: "el-hlabel", text: r.label, attrs: { title: r.label } }),
        noiseBar(r, top, g.overall),
        h("span", { cls: "el-num", text: pct(r.noise_rate) }),
        h("span", { cls: "el-num el-muted", text: ci(r.ci_low, r.ci_high) }),
        h("span", { cls: "el-num", text: int(r.n) }),
        h("span", { cls: "el-num", text: int(r.suspects) }),
        h("span", { cls: "el-hconf", text: confusion, attrs: { title: confusion } }),
        h("span", { cls: "el-num el-muted", text: int(r.selected) }),
      ],
      () => request({ type: "select_group", group: g.kind, index, version }),
      { cls: "el-hrow" });
    if (r.active) {
      b.classList.add("el-selected");
      b.setAttribute("aria-current", "true");
    }
    return b;
  });
  const more = g.total > g.rows.length
    ? h("div", { cls: "el-muted", text: `the ${int(g.rows.length)} noisiest of ${int(g.total)} ${g.kind}s shown` })
    : null;
  const overall = g.overall === null ? "" : ` · overall ${pct(g.overall)}`;
  return [
    h("h4", {}, [
      h("span", { text: `By ${g.kind} ` }),
      h("span", { cls: "el-muted", text: `(column ${g.column}${overall})` }),
    ]),
    h("div", { cls: "el-hlist", attrs: { role: "group", "aria-label": `noise by ${g.kind}` } }, [head, ...rows]),
    ...(more ? [more] : []),
  ];
}

/**
 * @param {Model} m
 * @param {Request} request
 * @returns {HTMLElement[]}
 */
export function buildHealth(m, request) {
  /** @type {HTMLElement[]} */
  const parts = [h("div", { cls: "el-title" }, [
    h("strong", { text: "Annotator health" }),
    h("span", { cls: "el-muted", text: ` ${int(m.rows)} rows selected · click a row to select its rows` }),
  ])];
  for (const g of m.health.groups ?? []) parts.push(...buildGroup(g, m.version, request));
  if (m.health.note) parts.push(h("div", { cls: "el-muted", text: m.health.note }));
  return parts;
}

/** @type {import("@anywidget/types").Render<Model>} */
function render({ model, el }) {
  return mountView(model, el, "errlens-health", ["health", "version", "rows"],
    (state, request) => buildHealth(state, request));
}

export default { render };
