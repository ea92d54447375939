// Confusion view: the confusion table of the current selection (counts, row or column
// normalised) with per-class precision / recall / F1 / support; each cell is a button that
// selects its rows within the current selection.
import "./confusion.css";
import { button, h, int, pct } from "../common/dom.js";
import { heat, mountView } from "../common/cohort-view.js";

/**
 * @typedef {{ label: string, precision: number | null, recall: number | null, f1: number | null,
 *   support: number }} ReportRow
 * @typedef {{ classes: string[], counts: number[][], values: (number | null)[][],
 *   report: ReportRow[], accuracy: number | null, rows: number }} Table
 * @typedef {{ table: Table, normalize: string | null, version: number }} Model
 * @typedef {(msg: Record<string, any>) => void} Request
 */

const MODES = /** @type {const} */ ([[null, "counts"], ["true", "row %"], ["pred", "column %"]]);

/** @param {number | null} x */
const num = (x) => (x === null ? "–" : x.toFixed(3));

/**
 * @param {Model} m
 * @param {Request} request
 * @returns {HTMLElement[]}
 */
export function buildConfusion(m, request) {
  const t = m.table;
  const toggles = h("div", { cls: "el-controls", attrs: { role: "group", "aria-label": "normalisation" } },
    MODES.map(([how, text]) => {
      return button(`show ${text}`, [h("span", { text })], () => request({ type: "normalize", normalize: how }),
        { pressed: m.normalize === how });
    }));
  const head = h("tr", {}, [
    h("th", { text: "given \\ predicted", attrs: { scope: "col" } }),
    ...t.classes.map((c) => h("th", { text: c, attrs: { scope: "col" } })),
  ]);
  const body = t.classes.map((given, i) => {
    const total = t.counts[i].reduce((a, b) => a + b, 0);
    return h("tr", {}, [
      h("th", { text: given, attrs: { scope: "row" } }),
      ...t.counts[i].map((count, j) => {
        const value = t.values[i][j];
        const text = m.normalize ? pct(value) : int(count);
        const b = button(`select given ${given} predicted ${t.classes[j]}: ${int(count)} rows`,
          [h("span", { text })], () => request({ type: "select_cell", true: i, predicted: j, version: m.version }),
          { cls: i === j ? "el-cell el-diag" : "el-cell" });
        if (i !== j) b.style.background = heat(total ? count / total : null);
        return h("td", {}, [b]);
      }),
    ]);
  });
  const matrix = h("table", { cls: "el-matrix", attrs: { "aria-label": "confusion table" } },
    [h("thead", {}, [head]), h("tbody", {}, body)]);
  const report = h("table", { cls: "el-report", attrs: { "aria-label": "per-class metrics" } }, [
    h("thead", {}, [h("tr", {}, ["class", "precision", "recall", "F1", "support"]
      .map((x) => h("th", { text: x, attrs: { scope: "col" } })))]),
    h("tbody", {}, t.report.map((r) => h("tr", {}, [
      h("td", { text: r.label }), h("td", { text: num(r.precision) }), h("td", { text: num(r.recall) }),
      h("td", { text: num(r.f1) }), h("td", { text: int(r.support) }),
    ]))),
  ]);
  return [
    h("div", { cls: "el-title" }, [
      h("strong", { text: "Confusion" }),
      h("span", { cls: "el-muted", text: ` ${int(t.rows)} rows · accuracy ${pct(t.accuracy)}` }),
    ]),
    toggles,
    h("div", { cls: "el-side" }, [matrix, report]),
  ];
}

/** @type {import("@anywidget/types").Render<Model>} */
function render({ model, el }) {
  return mountView(model, el, "errlens-confusion",
    ["table", "normalize", "version"],
    (state, request) => buildConfusion(state, request));
}

export default { render };
