import { describe, expect, it } from "vitest";
import widget, { buildSegments } from "../src/segments/index.js";
import { fakeModel } from "./fake-model.js";

const HOSTILE = "<img src=x onerror=alert(1)>";
/** @param {string} label @param {number} n @param {number} rate */
const seg = (label, n, rate) => ({ label, n, errors: Math.round(n * rate), error_rate: rate,
  ci_low: rate * 0.8, ci_high: Math.min(1, rate * 1.2), lift: rate / 0.2 });

function state() {
  return {
    features: [
      { feature: "workclass", max_lift: 2, segments: [seg(HOSTILE, 100, 0.4), seg("Private", 900, 0.18)] },
      { feature: "age", max_lift: 1.5, segments: [seg("≥ 50", 300, 0.3), seg("< 50", 700, 0.157)] },
    ],
    feature: "workclass",
    feature_b: "age",
    heatmap: { a: "workclass", b: "age", labels_a: [HOSTILE, "Private"], labels_b: ["< 50", "≥ 50"],
      cells: [[seg("", 60, 0.3), seg("", 40, 0.55)], [seg("", 640, 0.15), { ...seg("", 0, 0), n: 0, error_rate: null }]] },
    tree: [
      { id: 0, parent: null, depth: 0, rows: 1000, errors: 200, error_rate: 0.2, ci_low: 0.18, ci_high: 0.23, lift: 1, path: "all rows", condition: null, split: "age" },
      { id: 1, parent: 0, depth: 1, rows: 300, errors: 90, error_rate: 0.3, ci_low: 0.25, ci_high: 0.35, lift: 1.5, path: "age ≥ 50", condition: "age ≥ 50", split: null, selected: true },
    ],
    slices: [],
    progress: {},
    overall: { rows: 1000, errors: 200, error_rate: 0.2 },
    version: 4, rows: 1000, cohort: null,
  };
}

async function mount(s = state()) {
  const model = fakeModel(s);
  const el = document.createElement("div");
  document.body.appendChild(el);
  const cleanup = await /** @type {any} */ (widget).render({ model, el });
  return { model, el, cleanup };
}

/** Let the replies' promises settle. */
const flush = () => new Promise((r) => setTimeout(r, 0));
/** @param {Element} el @param {string} prefix */
const byLabel = (el, prefix) => /** @type {HTMLButtonElement[]} */ (
  [...el.querySelectorAll("button")].filter((b) => (b.getAttribute("aria-label") ?? "").startsWith(prefix)));

describe("segments view", () => {
  it("draws one bar per segment with its rate, CI, support and lift, in the given order", async () => {
    const { el } = await mount();
    const bars = /** @type {HTMLButtonElement[]} */ ([...el.querySelectorAll(".el-bars button")]);
    expect(bars).toHaveLength(2);
    expect(bars[1].textContent).toContain("Private");
    expect(bars[1].textContent).toContain("18.0%");
    expect(bars[1].textContent).toContain("900");
    expect(bars[0].textContent).toContain("2.00×");
    const bar = /** @type {HTMLElement} */ (bars[0].querySelector(".el-bar"));
    const whisker = /** @type {HTMLElement} */ (bars[0].querySelector(".el-whisker"));
    expect(parseFloat(bar.style.width)).toBeCloseTo((100 * 0.4) / 0.48, 6);
    expect(parseFloat(whisker.style.left)).toBeCloseTo((100 * 0.32) / 0.48, 6);
  });

  it("renders hostile category values as text", async () => {
    const { el } = await mount();
    expect(el.querySelector("img")).toBeNull();
    expect(el.textContent).toContain(HOSTILE);
    expect(el.querySelector(".el-heatmap tbody th")?.textContent).toBe(HOSTILE);
  });

  it("sends the clicked segment, cell, node with the version it was drawn from", async () => {
    const { el, model } = await mount();
    byLabel(el, "select workclass")[0].click();
    expect(model.sent.at(-1)).toMatchObject({ type: "select_segment", feature: "workclass", label: HOSTILE, version: 4 });
    byLabel(el, `select workclass ${HOSTILE} and age ≥ 50`)[0].click();
    expect(model.sent.at(-1)).toMatchObject({ type: "select_cell", row: 0, col: 1, version: 4 });
    expect(el.querySelectorAll(".el-heatmap button")).toHaveLength(3); // the empty cell is not clickable
    const node = byLabel(el, "select tree node age ≥ 50")[0];
    expect(node.getAttribute("aria-current")).toBe("true");
    expect(el.querySelectorAll(".el-tree [aria-current]")).toHaveLength(1);
    node.click();
    expect(model.sent.at(-1)).toMatchObject({ type: "select_node", node: 1, version: 4 });
    const ids = model.sent.map((m) => m.rid);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("feature pickers ask the kernel, which answers with new traits", async () => {
    const { el, model } = await mount();
    const picker = /** @type {HTMLSelectElement} */ (el.querySelector('select[aria-label="feature"]'));
    expect([...picker.options].map((o) => o.value)).toEqual(["workclass", "age"]);
    picker.value = "age";
    picker.dispatchEvent(new Event("change"));
    expect(model.sent.at(-1)).toMatchObject({ type: "pick", feature: "age" });
    const second = /** @type {HTMLSelectElement} */ (el.querySelector('select[aria-label="second feature"]'));
    expect([...second.options].map((o) => o.value)).toEqual(["age"]);
    model.set("feature", "age");
    model.set("version", 5);
    await Promise.resolve();
    expect(el.querySelectorAll(".el-bars button")).toHaveLength(2);
    expect(byLabel(el, "select age ≥ 50")).toHaveLength(1);
  });

  it("a click redraws the bars and heatmap but keeps the error tree and slices drawn over all rows", async () => {
    const { el, model } = await mount();
    const chart = el.querySelector(".el-tree-pair svg");
    const table = el.querySelector(".el-tree");
    const bars = el.querySelector(".el-bars");
    const cells = el.querySelector(".el-heatmap");
    // what the kernel sends for a click: new bars, heatmap, overall and version; tree unchanged
    model.set("features", state().features);
    model.set("heatmap", state().heatmap);
    model.set("version", 5);
    await Promise.resolve();
    expect(el.querySelector(".el-tree-pair svg")).toBe(chart);
    expect(el.querySelector(".el-tree")).toBe(table);
    expect(el.querySelector(".el-bars")).not.toBe(bars);
    expect(el.querySelector(".el-heatmap")).not.toBe(cells);
    // the order of the parts is the same as a fresh drawing's
    const fresh = document.createElement("div");
    fresh.append(...buildSegments(/** @type {any} */ ({ ...state(), version: 5 }), () => {}));
    expect([...el.querySelectorAll("h4")].map((x) => x.textContent))
      .toEqual([...fresh.querySelectorAll("h4")].map((x) => x.textContent));
    // a kept node carries the version of the click, not of its drawing
    byLabel(el, "select tree node age ≥ 50")[0].click();
    expect(model.sent.at(-1)).toMatchObject({ type: "select_node", node: 1, version: 5 });
    // a new tree trait (another node selected) is drawn anew
    model.set("tree", state().tree.map((n) => ({ ...n, selected: n.id === 0 })));
    await Promise.resolve();
    expect(el.querySelector(".el-tree")).not.toBe(table);
    expect(byLabel(el, "select tree node all rows")[0].getAttribute("aria-current")).toBe("true");
  });

  it("shows discovery progress, then the ranked slices", async () => {
    const { el, model } = await mount();
    byLabel(el, "discover slices")[0].click();
    expect(model.sent.at(-1)).toMatchObject({ type: "discover" });
    model.set("progress", { running: true, level: 2, max_level: 2, done: 30, total: 91 });
    await Promise.resolve();
    const bar = /** @type {HTMLProgressElement} */ (el.querySelector('progress[aria-label="discovery progress"]'));
    expect(bar.value).toBe(30);
    expect(byLabel(el, "discover slices")[0].disabled).toBe(true);
    model.set("progress", { running: false, level: 2, max_level: 2, done: 91, total: 91 });
    model.set("slices", [{ rank: 0, slice: `workclass = ${HOSTILE} and age ≥ 50`, level: 2, n: 40,
      support: 0.04, errors: 22, error_rate: 0.55, ci_low: 0.4, ci_high: 0.69, lift: 2.75, group: 0 }]);
    await Promise.resolve();
    expect(el.querySelector("progress")).toBeNull();
    const rows = el.querySelectorAll('table[aria-label="discovered slices"] tbody tr');
    expect(rows).toHaveLength(1);
    expect(rows[0].textContent).toContain("55.0%");
    byLabel(el, "select slice")[0].click();
    expect(model.sent.at(-1)).toMatchObject({ type: "select_slice", rank: 0, version: 4 });
  });

  it("shows kernel errors and clears them on the next good reply", async () => {
    const { el, model } = await mount();
    const banner = /** @type {HTMLElement} */ (el.querySelector('[role="alert"]'));
    expect(banner.hidden).toBe(true);
    byLabel(el, "select tree node age ≥ 50")[0].click();
    model.receive({ type: "reply", rid: model.sent.at(-1).rid, error: `stale click: ${HOSTILE}` });
    await flush();
    expect(banner.hidden).toBe(false);
    expect(banner.textContent).toBe(`stale click: ${HOSTILE}`);
    expect(el.querySelector("img")).toBeNull();
    byLabel(el, "select tree node age ≥ 50")[0].click();
    model.receive({ type: "reply", rid: model.sent.at(-1).rid, error: null });
    await flush();
    expect(banner.hidden).toBe(true);
  });

  it("keeps handled keys away from JupyterLab and keeps focus across redraws", async () => {
    const { el, model } = await mount();
    const root = /** @type {HTMLElement} */ (el.firstElementChild);
    expect(root.getAttribute("data-lm-suppress-shortcuts")).toBe("true");
    let leaked = 0;
    document.body.addEventListener("keydown", () => { leaked += 1; });
    const first = byLabel(el, "select workclass Private")[0];
    first.focus();
    first.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    first.dispatchEvent(new KeyboardEvent("keydown", { key: "a", bubbles: true }));
    expect(leaked).toBe(0); // Enter is handled, "a" is not: neither reaches the notebook
    model.set("version", 6);
    await Promise.resolve();
    expect(document.activeElement?.getAttribute("aria-label")).toBe(first.getAttribute("aria-label"));
    expect(document.activeElement).not.toBe(first); // a new node, focused again
  });

  it("draws once per batch of trait changes and stops listening on cleanup", async () => {
    const { el, model, cleanup } = await mount();
    const before = el.querySelector(".el-bars");
    model.set("overall", { rows: 10, errors: 1, error_rate: 0.1 });
    model.set("version", 9);
    expect(el.querySelector(".el-bars")).toBe(before);
    await Promise.resolve();
    expect(el.textContent).toContain("10 rows · error rate 10.0%");
    await cleanup();
    model.set("overall", { rows: 5, errors: 1, error_rate: 0.2 });
    await Promise.resolve();
    expect(el.textContent).toContain("10 rows");
  });

  it("says why the error tree is unavailable instead of drawing it (engine-backed analysis)", async () => {
    const why = "the error tree is not computed in an engine yet; use discover()";
    const { el } = await mount(/** @type {any} */ ({ ...state(), tree: [], unavailable: { tree: why } }));
    const note = el.querySelector(".el-unavailable");
    expect(note?.getAttribute("role")).toBe("note");
    expect(note?.textContent).toBe(`Not available on this analysis: ${why}`);
    expect(el.querySelector(".el-tree")).toBeNull();
    expect(byLabel(el, "discover slices")[0].disabled).toBe(false);
  });

  it("keeps the selected feature in context: every bar, the selection marked, its rate beside the context's", async () => {
    const s = /** @type {any} */ (state());
    s.features[0] = { ...s.features[0], context: { rows: 1000, errors: 200, error_rate: 0.2, text: "all rows" },
      segments: [{ ...seg(HOSTILE, 100, 0.4), selected: true }, { ...seg("Private", 900, 0.18), selected: false }] };
    s.overall = { rows: 100, errors: 40, error_rate: 0.4 };
    s.heatmap = { ...s.heatmap, context: "all rows", selected_a: [HOSTILE], selected_b: [] };
    const { el, model } = await mount(s);
    const bars = /** @type {HTMLButtonElement[]} */ ([...el.querySelectorAll(".el-bars button")]);
    expect(bars).toHaveLength(2);
    expect(bars[0].getAttribute("aria-current")).toBe("true");
    expect(bars[0].getAttribute("aria-label")).toMatch(/^deselect workclass /);
    expect(bars[1].getAttribute("aria-current")).toBeNull();
    const note = el.querySelector(".el-bars .el-context");
    expect(note?.textContent).toBe(`selected workclass: ${HOSTILE} · error rate 40.0% (100 rows) vs 20.0% in all rows (1,000 rows), which the bars show`);
    expect(el.querySelector("img")).toBeNull();
    bars[1].click();
    expect(model.sent.at(-1)).toMatchObject({ type: "select_segment", feature: "workclass", label: "Private" });
    const heatRows = el.querySelectorAll(".el-heatmap tbody th");
    expect([...heatRows].map((th) => th.classList.contains("el-selected"))).toEqual([true, false]);
    const marked = [...el.querySelectorAll(".el-heatmap button[aria-current]")].map((b) => b.getAttribute("aria-label"));
    expect(marked).toEqual([`select workclass ${HOSTILE} and age < 50: error rate 30.0%, 60 rows`,
      `select workclass ${HOSTILE} and age ≥ 50: error rate 55.0%, 40 rows`]);
    expect(el.textContent).toContain("over all rows, the selection highlighted");
  });

  it("lines up the discovered slices: figures right in tabular digits, the slice text left", async () => {
    const { el, model } = await mount();
    model.set("slices", [0, 1].map((rank) => ({ rank, slice: rank ? HOSTILE : "age ≥ 50", level: 1, n: 300 - rank,
      support: 0.3, errors: 90, error_rate: 0.3, ci_low: 0.25, ci_high: 0.35, lift: 1.5, group: rank,
      selected: rank === 1 })));
    await Promise.resolve();
    const table = /** @type {HTMLTableElement} */ (el.querySelector('table[aria-label="discovered slices"]'));
    const kinds = (/** @type {Element} */ row) => [...row.children].map((c) => c.className);
    const expected = ["el-num", "el-text", "el-num", "el-num", "el-num", "el-num", "el-num"];
    expect(kinds(table.tHead?.rows[0] ?? table)).toEqual(expected);
    for (const row of table.tBodies[0].rows) expect(kinds(row)).toEqual(expected);
    expect([...table.tBodies[0].rows[1].cells].map((c) => c.textContent)).toEqual(
      ["2", HOSTILE, "299", "30.0%", "30.0%", "25.0–35.0%", "1.50×"]);
    expect(table.tBodies[0].rows[1].classList.contains("el-selected")).toBe(true);
  });

  it("draws the error tree as a diagram beside its table, both selecting nodes", async () => {
    const { el, model } = await mount();
    const pair = el.querySelector(".el-tree-pair");
    expect(pair?.children[0].classList.contains("el-tree-chart")).toBe(true);
    expect(pair?.children[1].classList.contains("el-tree")).toBe(true);
    byLabel(el, "tree diagram node age ≥ 50")[0].click();
    expect(model.sent.at(-1)).toMatchObject({ type: "select_node", node: 1, version: 4 });
  });

  it("builds without a heatmap when there is a single feature", () => {
    const s = { ...state(), heatmap: {}, features: [state().features[0]] };
    const parts = buildSegments(/** @type {any} */ (s), () => {});
    expect(parts.some((p) => p.classList?.contains("el-heatmap"))).toBe(false);
  });
});
