// Headline figures of an Analysis: rows, error rate with its 95% interval, per-class errors.
import "./summary.css";
import { h, int, pct } from "../common/dom.js";
import { followTheme } from "../common/theme.js";
import { guardKeys } from "../common/keyguard.js";

/**
 * @typedef {{ label: string | number | boolean, support: number, errors: number,
 *   error_rate: number | null, predicted: number }} ClassRow
 * @typedef {{ task: string, rows: number, features: number, errors: number,
 *   error_rate: number, ci_low: number, ci_high: number, proba_source: string,
 *   classes: ClassRow[], mae?: number }} Summary
 * @typedef {{ summary: Summary, title: string }} Model
 */

/**
 * @param {string} value
 * @param {string} label
 * @param {string} name  machine-readable name for tests (data-figure)
 */
function figure(value, label, name) {
  return h("div", { cls: "el-figure", attrs: { "data-figure": name } }, [
    h("span", { cls: "el-figure-value", text: value }),
    h("span", { cls: "el-figure-label", text: label }),
  ]);
}

/**
 * Build the summary card for `s`.
 * @param {Summary} s
 * @param {string} title
 * @returns {HTMLElement}
 */
export function buildSummary(s, title) {
  const headline = h("div", { cls: "el-headline" }, [
    figure(int(s.rows), "rows", "rows"),
    figure(int(s.errors), "errors", "errors"),
    figure(pct(s.error_rate), `error rate (95% CI ${pct(s.ci_low)}–${pct(s.ci_high)})`, "error_rate"),
  ]);
  const parts = [h("strong", { text: title || `${s.task} analysis` }), headline];
  if (s.classes.length) {
    const head = h("tr", {}, ["given label", "rows", "errors", "error rate", "", "predicted"].map(
      (t) => h("th", { text: t, attrs: { scope: "col" } })));
    const body = s.classes.map((c) => {
      const rate = c.error_rate ?? 0;
      const bar = h("span", { cls: "el-bar", attrs: { style: `width:${Math.round(80 * rate)}px` } });
      return h("tr", {}, [
        h("td", { text: String(c.label) }),
        h("td", { text: int(c.support) }),
        h("td", { text: int(c.errors) }),
        h("td", { text: pct(c.error_rate) }),
        h("td", {}, [bar]),
        h("td", { text: int(c.predicted) }),
      ]);
    });
    parts.push(h("table", { attrs: { "aria-label": "errors by given label" } }, [
      h("thead", {}, [head]),
      h("tbody", {}, body),
    ]));
  } else if (s.mae !== undefined) {
    parts.push(h("span", { text: `mean absolute error ${s.mae.toPrecision(4)}` }));
  }
  return guardKeys(h("div", { cls: "errlens errlens-summary" }, parts));
}

/** @type {import("@anywidget/types").Render<Model>} */
function render({ model, el }) {
  /** @type {(() => void) | null} */
  let stopTheme = null;
  const draw = () => {
    stopTheme?.();
    const card = buildSummary(model.get("summary"), model.get("title"));
    el.replaceChildren(card);
    stopTheme = followTheme(card);
  };
  draw();
  model.on("change:summary", draw);
  model.on("change:title", draw);
  return () => {
    stopTheme?.();
    model.off("change:summary", draw);
    model.off("change:title", draw);
  };
}

export default { render };
