// Shared by the suspect browser's tests: a fake kernel that answers with Arrow pages, and
// helpers to find controls by their labels and press keys.
import { tableFromArrays, tableToIPC } from "@uwdata/flechette";
import widget from "../src/suspects/index.js";
import { fakeModel } from "./fake-model.js";

export const HOSTILE = "<img src=x onerror=alert(1)>";

/** @param {Record<string, any>} over */
export function state(over = {}) {
  return {
    cohort: null, cohort_text: "all rows", mode: "suspects", version: 0,
    classes: ["<=50K", ">50K"], class_names: ["<=50K", ">50K"],
    guidelines: [{ name: "<=50K", definition: "income at most 50K", example: "", edge_cases: [] },
      { name: ">50K", definition: "income above 50K", example: "", edge_cases: [HOSTILE] }],
    features: ["age", "education"], kind: "tabular", editable: true, hint: "", page_size: 3,
    method: "prune_by_noise_rate", has_proba: true, changelog: "/tmp/labels.jsonl", ...over,
  };
}

/** Arrow IPC bytes of a page like the kernel sends. @param {number} n @param {Record<string, any[]>} [extra] */
export function pageBytes(n, extra = {}) {
  const ids = Array.from({ length: n }, (_, i) => `adult-${i}`);
  const table = tableFromArrays({
    id: ids, given: ids.map(() => "<=50K"), predicted: ids.map(() => ">50K"),
    given_code: ids.map(() => 0), predicted_code: ids.map(() => 1),
    p_given: ids.map(() => 0.1), p_pred: ids.map(() => 0.9), score: ids.map((_, i) => 0.01 * i),
    flagged: ids.map(() => true), rank: ids.map((_, i) => i + 1),
    f0: ids.map((_, i) => String(30 + i)), f1: ids.map(() => "Masters"),
    current: ids.map(() => "<=50K"), current_code: ids.map(() => 0),
    n_events: ids.map(() => 0), last_op: ids.map(() => null), checked: ids.map(() => false),
    ...extra,
  });
  const bytes = /** @type {Uint8Array} */ (tableToIPC(table, { format: "stream" }));
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A fake model whose kernel replies can carry buffers. @param {Record<string, any>} s */
export function model(s) {
  const m = fakeModel(s);
  /** @type {Function[]} */
  const custom = [];
  const on = m.on;
  m.on = (name, fn) => { if (name === "msg:custom") custom.push(fn); else on(name, fn); };
  m.off = () => {};
  return Object.assign(m, {
    /** @param {any} msg @param {any[]} [buffers] */
    reply(msg, buffers = []) { for (const fn of custom) fn(msg, buffers); },
    last() { return m.sent[m.sent.length - 1]; },
  });
}

/** Find a button by its aria-label (jsdom's selector engine trips over ">" in values).
 * @param {Element} root @param {string} label @returns {HTMLButtonElement} */
export function byLabel(root, label) {
  const found = [...root.querySelectorAll("button")].find((b) => b.getAttribute("aria-label") === label);
  if (!found) throw new Error(`no button labelled ${label}`);
  return found;
}

export const flush = () => new Promise((r) => setTimeout(r, 0));

/** Render, answer the first page request, return the pieces. */
export async function mount(over = {}, rows = 3, extra = {}) {
  const m = model(state(over));
  const el = document.createElement("div");
  document.body.appendChild(el);
  const cleanup = /** @type {any} */ (widget).render({ model: m, el });
  const first = m.last();
  m.reply({ type: "reply", rid: first.rid, error: null, page: 0, pages: 4, total: 10, offset: 0,
    token: 0, mode: "suspects", n_checked: 0, score_kind: "self_confidence" }, [pageBytes(rows, extra)]);
  await flush();
  return { m, el, cleanup, grid: /** @type {HTMLElement} */ (el.querySelector(".el-grid-wrap")) };
}

/** @param {HTMLElement} target @param {string} key @param {Record<string, any>} [opts] */
export function press(target, key, opts = {}) {
  const e = new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true, ...opts });
  target.dispatchEvent(e);
  return e;
}

