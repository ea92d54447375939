import { describe, expect, it } from "vitest";
import widget from "../src/confusion/index.js";
import selection from "../src/selection/index.js";
import { fakeModel } from "./fake-model.js";

const HOSTILE = "<img src=x onerror=alert(1)>";
const table = {
  classes: ["<=50K", HOSTILE],
  counts: [[700, 50], [120, 130]],
  values: [[700, 50], [120, 130]],
  report: [
    { label: "<=50K", precision: 0.8537, recall: 0.9333, f1: 0.8917, support: 750 },
    { label: HOSTILE, precision: 0.7222, recall: 0.52, f1: null, support: 250 },
  ],
  accuracy: 0.83,
  rows: 1000,
};

async function mount(extra = {}) {
  const model = fakeModel({ table, normalize: null, version: 3, cohort: null, rows: 1000, ...extra });
  const el = document.createElement("div");
  document.body.appendChild(el);
  const cleanup = await /** @type {any} */ (widget).render({ model, el });
  return { model, el, cleanup };
}

describe("confusion view", () => {
  it("shows the counts, the per-class metrics and the accuracy", async () => {
    const { el } = await mount();
    const cells = [...el.querySelectorAll('table[aria-label="confusion table"] tbody button')];
    expect(cells.map((c) => c.textContent)).toEqual(["700", "50", "120", "130"]);
    const report = el.querySelectorAll('table[aria-label="per-class metrics"] tbody tr');
    expect(report[0].textContent).toBe("<=50K0.8540.9330.892750");
    expect(report[1].querySelectorAll("td")[3].textContent).toBe("–");
    expect(el.textContent).toContain("1,000 rows · accuracy 83.0%");
  });

  it("renders hostile class labels literally", async () => {
    const { el } = await mount();
    expect(el.querySelector("img")).toBeNull();
    const heads = [...el.querySelectorAll("th")].map((t) => t.textContent);
    expect(heads.filter((t) => t === HOSTILE)).toHaveLength(2);
  });

  it("a cell click sends its class positions and the version", async () => {
    const { el, model } = await mount();
    const cell = /** @type {HTMLButtonElement} */ ([...el.querySelectorAll("button")].find(
      (b) => b.getAttribute("aria-label") === `select given ${HOSTILE} predicted <=50K: 120 rows`));
    cell.click();
    expect(model.sent.at(-1)).toMatchObject({ type: "select_cell", true: 1, predicted: 0, version: 3 });
  });

  it("the normalisation toggle asks the kernel and shows percentages", async () => {
    const { el, model } = await mount();
    const rowPct = /** @type {HTMLButtonElement} */ (el.querySelector('button[aria-label="show row %"]'));
    expect(rowPct.getAttribute("aria-pressed")).toBe("false");
    rowPct.click();
    expect(model.sent.at(-1)).toMatchObject({ type: "normalize", normalize: "true" });
    model.set("table", { ...table, values: [[0.9333, 0.0667], [0.48, 0.52]] });
    model.set("normalize", "true");
    await Promise.resolve();
    const cells = [...el.querySelectorAll('table[aria-label="confusion table"] tbody button')];
    expect(cells.map((c) => c.textContent)).toEqual(["93.3%", "6.7%", "48.0%", "52.0%"]);
    expect(el.querySelector('button[aria-label="show row %"]')?.getAttribute("aria-pressed")).toBe("true");
  });

  it("shows a refused click's error", async () => {
    const { el, model } = await mount();
    /** @type {HTMLButtonElement} */ (el.querySelector('button[aria-label="show row %"]')).click();
    model.receive({ type: "reply", rid: model.sent.at(-1).rid, error: "stale click: the view was redrawn" });
    await new Promise((r) => setTimeout(r, 0));
    expect(el.querySelector('[role="alert"]')?.textContent).toContain("stale click");
  });
});

describe("selection bar", () => {
  /** @param {Record<string, any>} state */
  async function bar(state) {
    const model = fakeModel({ text: "all rows", rows: 1000, total: 1000, depth: 0, error: "", ...state });
    const el = document.createElement("div");
    await /** @type {any} */ (selection).render({ model, el });
    return { model, el };
  }

  it("shows the cohort as text with back and clear buttons", async () => {
    const { el, model } = await bar({ text: `workclass = ${HOSTILE}`, rows: 100, depth: 2 });
    expect(el.querySelector(".el-cohort")?.textContent).toBe(`workclass = ${HOSTILE}`);
    expect(el.querySelector("img")).toBeNull();
    expect(el.textContent).toContain("100 of 1,000 rows");
    /** @type {HTMLButtonElement} */ (el.querySelector('button[aria-label="step back"]')).click();
    /** @type {HTMLButtonElement} */ (el.querySelector('button[aria-label="clear selection"]')).click();
    expect(model.sent).toEqual([{ type: "back", rid: 1 }, { type: "clear", rid: 2 }]);
  });

  it("disables back and clear when there is nothing to undo", async () => {
    const { el, model } = await bar({});
    expect(/** @type {HTMLButtonElement} */ (el.querySelector('button[aria-label="step back"]')).disabled).toBe(true);
    expect(/** @type {HTMLButtonElement} */ (el.querySelector('button[aria-label="clear selection"]')).disabled).toBe(true);
    model.set("error", "unknown message");
    expect(el.querySelector('[role="alert"]:not([hidden])')?.textContent).toBe("unknown message");
  });

  it("shows a refused step's error from its reply", async () => {
    const { el, model } = await bar({ depth: 1, text: "age > 50" });
    /** @type {HTMLButtonElement} */ (el.querySelector('button[aria-label="step back"]')).click();
    model.receive({ type: "reply", rid: 1, error: "internal error answering 'back'" });
    await new Promise((r) => setTimeout(r, 0));
    expect(el.querySelector('[role="alert"]:not([hidden])')?.textContent).toBe("internal error answering 'back'");
  });
});
