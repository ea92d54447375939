import { describe, expect, it } from "vitest";
import widget from "../src/segments/index.js";
import { buildStrip } from "../src/segments/strip.js";
import { fakeModel } from "./fake-model.js";

const HOSTILE = "<img src=x onerror=alert(1)>";
const PNG = "data:image/png;base64,iVBORw0KGgo=";
/** @param {string} id @param {Record<string, any>} [more] */
const sample = (id, more = {}) => ({ id, given: "negative", predicted: "positive", error: true, text: null, thumb: null, ...more });
/** @param {number} rank @param {string} slice @param {Record<string, any>} [more] */
const row = (rank, slice, more = {}) => ({ rank, slice, level: 1, n: 300, support: 0.3, errors: 90,
  error_rate: 0.3, ci_low: 0.25, ci_high: 0.35, lift: 1.5, group: rank, kind: "slice", samples: [], ...more });
const seg = (/** @type {string} */ label, /** @type {number} */ rate) => ({ label, n: 100, errors: 100 * rate,
  error_rate: rate, ci_low: rate * 0.8, ci_high: rate * 1.2, lift: rate / 0.2 });

function state() {
  return {
    features: [{ feature: "cluster", max_lift: 3, segments: [seg("c1", 0.6), seg("c2", 0.1)] },
      { feature: "length", max_lift: 1.2, segments: [seg("short", 0.24), seg("long", 0.18)] }],
    feature: "cluster", feature_b: "", heatmap: {}, tree: [],
    slices: [row(0, 'text contains "driverless"', { samples: [sample("7", { text: HOSTILE }),
      sample("9", { text: "fine", error: false })] }), row(1, "length = short")],
    concepts: [row(0, "text mentions driverless, autonomous", { kind: "concept", level: 2,
      samples: [sample("3", { text: "an autonomous car" })] })],
    clusters: [{ feature: "cluster", method: "domino", note: "embeddings: TF-IDF + SVD of text",
      clusters: [{ label: "c1", n: 100, error_rate: 0.6, region_error_rate: 0.75, core: 0.9,
        terms: ["driverless", HOSTILE], segment: "length = short", jaccard: 0.8125,
        samples: [sample("4", { thumb: PNG }), sample("5", { thumb: "javascript:alert(1)" }),
          sample("6", { thumb: "data:text/html,<script>alert(1)</script>" })] },
      { label: "c2", n: 100, error_rate: 0.1, terms: [], segment: null, samples: [] }] }],
    progress: {}, overall: { rows: 1000, errors: 200, error_rate: 0.2 },
    version: 4, rows: 1000, cohort: null,
  };
}

async function mount(s = state()) {
  const model = fakeModel(s);
  const el = document.createElement("div");
  document.body.appendChild(el);
  await /** @type {any} */ (widget).render({ model, el });
  return { model, el };
}

/** @param {Element} el @param {string} prefix */
const byLabel = (el, prefix) => /** @type {HTMLButtonElement[]} */ (
  [...el.querySelectorAll("button")].filter((b) => (b.getAttribute("aria-label") ?? "").startsWith(prefix)));

describe("sample strips", () => {
  it("render snippets as text, never as HTML, errors marked", () => {
    const strip = buildStrip([sample("7", { text: HOSTILE }), sample("9", { text: "fine", error: false })], "a slice");
    expect(strip.getAttribute("aria-label")).toBe("samples of a slice");
    expect(strip.querySelector("img")).toBeNull();
    const items = strip.querySelectorAll('[role="listitem"]');
    expect(items).toHaveLength(2);
    expect(items[0].querySelector(".el-snippet")?.textContent).toBe(HOSTILE);
    expect(items[0].classList.contains("el-sample-error")).toBe(true);
    expect(items[1].classList.contains("el-sample-error")).toBe(false);
    expect(items[0].getAttribute("title")).toBe("7: given negative, predicted positive (error)");
  });

  it("show only the kernel's PNG data URLs as images", () => {
    const strip = buildStrip([sample("4", { thumb: PNG }), sample("5", { thumb: "javascript:alert(1)" }),
      sample("6", { thumb: "data:text/html,<b>x</b>" })], "c1");
    const imgs = strip.querySelectorAll("img");
    expect(imgs).toHaveLength(1);
    expect(imgs[0].getAttribute("src")).toBe(PNG);
    expect(imgs[0].getAttribute("alt")).toBe("image of 4");
  });
});

describe("text slices, concepts and clusters in the segments view", () => {
  it("puts each slice's strip in a row under it, across the figures' columns", async () => {
    const { el, model } = await mount();
    const table = /** @type {HTMLTableElement} */ (el.querySelector('table[aria-label="discovered slices"]'));
    const [first, strip, second] = table.tBodies[0].rows;
    expect(first.cells).toHaveLength(7);
    expect(first.querySelector(".el-strip")).toBeNull();
    // not squeezed into the slice column (five snippets stacked a line each): it spans the
    // slice text's column and every figure's
    expect(strip.className).toBe("el-strip-row");
    expect(strip.cells).toHaveLength(2);
    expect(strip.cells[0].textContent).toBe("");
    expect(strip.cells[1].colSpan).toBe(6);
    const samples = strip.cells[1].querySelector('[aria-label^="samples of"]');
    expect(samples?.getAttribute("aria-label")).toBe('samples of text contains "driverless"');
    expect(strip.querySelectorAll("img")).toHaveLength(0);
    expect(strip.textContent).toContain(HOSTILE);
    // a slice without samples draws no strip row
    expect(table.tBodies[0].rows).toHaveLength(3);
    expect(second.cells).toHaveLength(7);
    expect(second.textContent).toContain("length = short");
    byLabel(el, 'select slice text contains "driverless"')[0].click();
    expect(model.sent.at(-1)).toMatchObject({ type: "select_slice", rank: 0, version: 4 });
    expect(model.sent.at(-1).kind).toBeUndefined();
  });

  it("lists the concepts in their own table; a click selects the concept by rank", async () => {
    const { el, model } = await mount();
    const table = /** @type {HTMLTableElement} */ (el.querySelector('table[aria-label="concept slices"]'));
    expect(table.tBodies[0].rows).toHaveLength(2); // the concept and its strip
    expect(table.tBodies[0].rows[0].textContent).toContain("30.0%");
    expect(table.tBodies[0].rows[1].textContent).toContain("an autonomous car");
    byLabel(el, "select concept text mentions driverless, autonomous")[0].click();
    expect(model.sent.at(-1)).toMatchObject({ type: "select_slice", rank: 0, kind: "concept", version: 4 });
  });

  it("draws no concepts table without concepts", async () => {
    const { el } = await mount({ ...state(), concepts: [] });
    expect(el.querySelector('table[aria-label="concept slices"]')).toBeNull();
  });

  it("describes the clusters of a cluster feature under its bars, each clickable", async () => {
    const { el, model } = await mount();
    const list = /** @type {HTMLElement} */ (el.querySelector('[aria-label="clusters of cluster"]'));
    const items = list.querySelectorAll(':scope > [role="listitem"]');
    expect(items).toHaveLength(2);
    expect(items[0].textContent).toContain(`driverless, ${HOSTILE} · ≈ length = short (Jaccard 0.81)`);
    expect(items[0].textContent).toContain("60.0% · 100 rows · region 75.0%, core 90.0%");
    // no segment close enough (the kernel sent none): no "≈" at all; no region figure sent
    expect(items[1].textContent).not.toContain("≈");
    expect(items[1].textContent).not.toContain("region");
    expect(list.querySelectorAll("img")).toHaveLength(1); // only the PNG data URL
    byLabel(el, "select cluster c1")[0].click();
    expect(model.sent.at(-1)).toMatchObject({ type: "select_segment", feature: "cluster", label: "c1", version: 4 });
  });

  it("shows no cluster section for another feature", async () => {
    const { el } = await mount({ ...state(), feature: "length" });
    expect(el.querySelector('[aria-label="clusters of cluster"]')).toBeNull();
  });
});
