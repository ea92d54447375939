// The page of rows as an ARIA grid: one <tr> per row of the visible page only.
import { h } from "../common/dom.js";
import { foldedText, appendHighlighted } from "./text.js";
import { THUMB_PREFIX } from "./rows.js";

/**
 * @typedef {import("./rows.js").Row} Row
 * @typedef {{ rows: Row[], offset: number, total: number, cursor: number, mode: string,
 *   sort: string | null, descending: boolean, search: string, features: string[],
 *   kind: string, textColumn: string, hasStore: boolean, scoreKind: string | null, method: string,
 *   unavailable?: Record<string, string> }} GridView
 * @typedef {{ onSort: (key: string) => void, onCursor: (i: number) => void,
 *   onCheck: (i: number, on: boolean, shift: boolean) => void,
 *   onHistory: (i: number) => void }} GridHandlers
 */

const OPS = /** @type {Record<string, string>} */ ({
  set: "relabelled", confirm: "confirmed", skip: "skipped", revert: "undone",
  adjudicate: "adjudicated",
});

/**
 * @param {number | null | undefined} x
 * @param {number} [digits]
 */
function num(x, digits = 3) {
  return x === null || x === undefined || Number.isNaN(x) ? "–" : Number(x).toPrecision(digits);
}

/**
 * A header cell whose button sorts by `key`.
 * @param {string} title
 * @param {string} key
 * @param {GridView} v
 * @param {GridHandlers} on
 */
function sortHeader(title, key, v, on) {
  const active = v.sort === key || (v.sort === null && (key === "rank" || key === "row"));
  const dir = active ? (v.descending ? "descending" : "ascending") : "none";
  const btn = h("button", { cls: "el-sort", text: title, attrs: {
    type: "button", "aria-label": `Sort by ${title}` } });
  const off = v.unavailable?.sort;
  if (off) {
    btn.disabled = true;
    btn.title = off;
  }
  if (active) btn.appendChild(h("span", { cls: "el-sort-dir", text: v.descending ? " ▼" : " ▲",
    attrs: { "aria-hidden": "true" } }));
  btn.addEventListener("click", () => on.onSort(key));
  return h("th", { attrs: { role: "columnheader", scope: "col", "aria-sort": dir } }, [btn]);
}

/**
 * The probability bar: p(given) and p(predicted) side by side.
 * @param {Row} r
 */
function probaBar(r) {
  if (r.p_given === null || r.p_given === undefined) return h("span", { text: "–" });
  const same = r.given_code === r.predicted_code;
  const label = same ? `p(given) ${num(r.p_given, 2)}`
    : `p(given) ${num(r.p_given, 2)}, p(predicted) ${num(r.p_pred, 2)}`;
  const bar = h("div", { cls: "el-proba", attrs: { role: "img", "aria-label": label } }, [
    h("span", { cls: "el-proba-given", attrs: { style: `width:${Math.round(100 * r.p_given)}%` } }),
    same ? null : h("span", { cls: "el-proba-pred",
      attrs: { style: `width:${Math.round(100 * (r.p_pred ?? 0))}%` } }),
  ]);
  return h("div", { cls: "el-proba-cell" }, [bar, h("span", { cls: "el-muted", text: label })]);
}

/** What the colours of the probability bar mean (shown once, above the grid). */
export function probaLegend() {
  return h("div", { cls: "el-legend el-muted", attrs: { "aria-label": "probability bar legend" } }, [
    h("span", { text: "probability bar: " }),
    h("span", { cls: "el-swatch el-proba-given", attrs: { "aria-hidden": "true" } }),
    h("span", { text: " p(given label) " }),
    h("span", { cls: "el-swatch el-proba-pred", attrs: { "aria-hidden": "true" } }),
    h("span", { text: " p(predicted class), when the model predicts another class" }),
  ]);
}

/**
 * @param {Row} r
 * @param {GridView} v
 */
function suspicion(r, v) {
  const parts = [h("span", { cls: "el-score", text: num(r.score) })];
  if (r.flagged) parts.push(h("span", { cls: "el-flag", text: "suspect",
    attrs: { title: `flagged by ${v.method}` } }));
  const why = v.mode === "suspects" && r.rank !== null ? `rank ${r.rank}` : "";
  const title = `${v.method}${v.scoreKind ? `, score: ${v.scoreKind}` : ""}`;
  if (why) parts.push(h("div", { cls: "el-muted el-cause", text: why, attrs: { title } }));
  // the prior behind the rank ("annotator ann3: est. 31% noise …; p(given) 0.08"), as text
  if (typeof r.why === "string" && r.why) parts.push(h("div", { cls: "el-muted el-why", text: r.why }));
  return h("div", {}, parts);
}

/**
 * @param {Row} r
 * @param {GridView} v
 * @returns {HTMLElement[]}
 */
function sampleCells(r, v) {
  if (v.kind === "text") {
    return [h("td", { attrs: { role: "gridcell" } },
      [foldedText(String(r.text ?? ""), v.search, String(r.id))]), ...featureCells(r, v)];
  }
  if (v.kind === "image") {
    const cell = h("td", { attrs: { role: "gridcell" } });
    if (typeof r.thumb === "string" && r.thumb.startsWith(THUMB_PREFIX)) {
      const img = h("img", { cls: "el-thumb", attrs: { alt: `image of ${r.id}` } });
      img.src = r.thumb;
      cell.appendChild(img);
    } else {
      cell.textContent = "–";
    }
    return [cell];
  }
  return featureCells(r, v);
}

/**
 * Indices of the feature columns the grid shows: all but the text column (shown in full).
 * @param {GridView} v
 */
function shownFeatures(v) {
  return v.features.map((f, j) => ({ f, j })).filter(({ f }) => v.kind !== "text" || f !== v.textColumn);
}

/**
 * @param {Row} r
 * @param {GridView} v
 */
function featureCells(r, v) {
  return shownFeatures(v).map(({ j }) => {
    const value = r[`f${j}`];
    const cell = h("td", { cls: value === null ? "el-missing" : "", attrs: { role: "gridcell" } });
    if (value === null || value === undefined) cell.textContent = "–";
    else appendHighlighted(cell, String(value), v.search);
    return cell;
  });
}

/**
 * @param {Row} r
 * @param {number} i
 * @param {GridView} v
 * @param {GridHandlers} on
 */
function statusCell(r, i, v, on) {
  const cell = h("td", { attrs: { role: "gridcell" } });
  if (!v.hasStore) return cell;
  if (r.last_op) {
    cell.appendChild(h("span", { cls: `el-badge el-op-${r.last_op}`,
      text: OPS[r.last_op] ?? r.last_op }));
    const btn = h("button", { cls: "el-link", text: `history (${r.n_events})`,
      attrs: { type: "button", "aria-label": `History of ${r.id}` } });
    btn.addEventListener("click", (e) => { e.stopPropagation(); on.onHistory(i); });
    cell.appendChild(btn);
  }
  return cell;
}

/**
 * Build the grid of the current page.
 * @param {GridView} v
 * @param {GridHandlers} on
 * @returns {HTMLTableElement}
 */
export function buildGrid(v, on) {
  const featureHeads = shownFeatures(v).map(({ f }) => sortHeader(f, `feature:${f}`, v, on));
  const sampleHeads = v.kind === "text" ? [h("th", { text: "text", attrs: { role: "columnheader", scope: "col" } }), ...featureHeads]
    : v.kind === "image" ? [h("th", { text: "image", attrs: { role: "columnheader", scope: "col" } })]
      : featureHeads;
  const head = h("tr", { attrs: { role: "row", "aria-rowindex": "1" } }, [
    h("th", { attrs: { role: "columnheader", scope: "col" } }, [h("span", { cls: "el-sr", text: "checked" })]),
    sortHeader("#", v.mode === "suspects" ? "rank" : "row", v, on),
    sortHeader("id", "id", v, on),
    sortHeader("label", "given", v, on),
    sortHeader("predicted", "predicted", v, on),
    sortHeader("probability", "p_given", v, on),
    sortHeader("suspicion", "score", v, on),
    ...sampleHeads,
    h("th", { text: "status", attrs: { role: "columnheader", scope: "col" } }),
  ]);
  const body = v.rows.map((r, i) => {
    const box = h("input", { attrs: { type: "checkbox", "aria-label": `Check ${r.id}` } });
    box.checked = Boolean(r.checked);
    if (v.unavailable?.check) {
      box.disabled = true;
      box.title = v.unavailable.check;
    }
    box.addEventListener("click", (e) => {
      e.stopPropagation();
      on.onCheck(i, box.checked, e.shiftKey);
    });
    const changed = v.hasStore && r.current !== null && r.current !== undefined && r.current !== r.given;
    const label = h("td", { attrs: { role: "gridcell" } }, [
      h("span", { cls: changed ? "el-label el-old" : "el-label", text: r.given }),
      changed ? h("span", { cls: "el-arrow", text: " → " }) : null,
      changed ? h("span", { cls: "el-label el-new", text: String(r.current) }) : null,
    ]);
    const id = h("td", { attrs: { role: "gridcell" } });
    appendHighlighted(id, String(r.id), v.kind === "text" ? "" : v.search);
    const row = h("tr", {
      cls: ["el-row", i === v.cursor ? "el-current" : "", r.last_op ? "el-edited" : ""].join(" ").trim(),
      attrs: { role: "row", "aria-rowindex": String(v.offset + i + 2),
        "aria-selected": String(i === v.cursor) },
    }, [
      h("td", { attrs: { role: "gridcell" } }, [box]),
      h("td", { text: v.mode === "suspects" && r.rank !== null ? r.rank : v.offset + i + 1, attrs: { role: "gridcell" } }),
      id,
      label,
      h("td", { text: r.predicted, attrs: { role: "gridcell" },
        cls: r.predicted_code !== r.given_code ? "el-wrong" : "" }),
      h("td", { attrs: { role: "gridcell" } }, [probaBar(r)]),
      h("td", { attrs: { role: "gridcell" } }, [suspicion(r, v)]),
      ...sampleCells(r, v),
      statusCell(r, i, v, on),
    ]);
    row.addEventListener("click", () => on.onCursor(i));
    return row;
  });
  const columns = 8 + sampleHeads.length;
  return h("table", {
    cls: "el-grid",
    attrs: { role: "grid", "aria-label": "samples", "aria-rowcount": String(v.total + 1),
      "aria-colcount": String(columns) },
  }, [h("thead", {}, [head]), h("tbody", {}, body)]);
}
