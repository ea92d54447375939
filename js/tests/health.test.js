import { describe, expect, it } from "vitest";
import widget from "../src/health/index.js";
import { fakeModel } from "./fake-model.js";

const HOSTILE = "<img src=x onerror=alert(1)>";
/** @param {string} label @param {number} noise @param {Record<string, any>} [extra] */
const row = (label, noise, extra = {}) => ({
  label, n: 1000, suspects: 40, noise_rate: noise, ci_low: noise - 0.02, ci_high: noise + 0.02,
  prior: noise, given: "<=50K", likely_true: ">50K", confusion_count: 30, selected: 1000, ...extra,
});
const health = {
  groups: [
    { kind: "annotator", column: "who", overall: 0.08, total: 3,
      rows: [row(HOSTILE, 0.31), row("ann2", 0.03, { given: null, likely_true: null }), row("ann1", 0.02)] },
    { kind: "source", column: "batch", overall: 0.08, total: 5, rows: [row("vendor-a", 0.1, { active: true })] },
  ],
};

async function mount(extra = {}) {
  const model = fakeModel({ health, version: 7, rows: 3000, cohort: null, ...extra });
  const el = document.createElement("div");
  document.body.appendChild(el);
  const cleanup = await /** @type {any} */ (widget).render({ model, el });
  return { model, el, cleanup };
}

/** @param {HTMLElement} el @param {string} kind */
const rowsOf = (el, kind) => [...el.querySelectorAll(`[aria-label="noise by ${kind}"] button`)];

describe("annotator health", () => {
  it("lists each annotator's noise rate, interval, rows, suspects and top confusion", async () => {
    const { el } = await mount();
    const [first, second] = rowsOf(el, "annotator");
    const cells = [...first.querySelectorAll("span")].map((s) => s.textContent).filter(Boolean);
    expect(cells).toEqual([HOSTILE, "31.0%", "29.0–33.0%", "1,000", "40", "<=50K → >50K (30)", "1,000"]);
    expect(second.querySelector(".el-hconf")?.textContent).toBe("–");
    // the label and confusion are cut with an ellipsis when long: their title has them whole
    expect(first.querySelector(".el-hconf")?.getAttribute("title")).toBe("<=50K → >50K (30)");
    expect(first.querySelector(".el-hlabel")?.getAttribute("title")).toBe(HOSTILE);
    expect(el.textContent).toContain("(column who · overall 8.0%)");
    expect(el.textContent).toContain("the 1 noisiest of 5 sources shown");
  });

  it("renders a hostile annotator name as text", async () => {
    const { el } = await mount();
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelector(".el-hlabel")?.textContent).toBe(HOSTILE);
    expect(rowsOf(el, "annotator")[0].getAttribute("aria-label")).toContain(`select annotator ${HOSTILE}:`);
  });

  it("a click sends the group, the row's index and the version, never the value", async () => {
    const { el, model } = await mount();
    /** @type {HTMLButtonElement} */ (rowsOf(el, "annotator")[1]).click();
    expect(model.sent.at(-1)).toEqual({ type: "select_group", rid: 1, group: "annotator", index: 1, version: 7 });
  });

  it("marks the selected row and shows a refused click's error", async () => {
    const { el, model } = await mount();
    const active = rowsOf(el, "source")[0];
    expect(active.getAttribute("aria-current")).toBe("true");
    /** @type {HTMLButtonElement} */ (active).click();
    model.receive({ type: "reply", rid: model.sent.at(-1).rid, error: "stale click: the view was redrawn" });
    await new Promise((r) => setTimeout(r, 0));
    expect(el.querySelector('[role="alert"]')?.textContent).toContain("stale click");
  });

  it("redraws when the kernel sends new figures", async () => {
    const { el, model } = await mount();
    model.set("health", { groups: [{ ...health.groups[0], rows: [row("ann9", 0.5)], total: 1 }] });
    await Promise.resolve();
    expect(rowsOf(el, "annotator").map((b) => b.querySelector(".el-hlabel")?.textContent)).toEqual(["ann9"]);
    expect(rowsOf(el, "source")).toHaveLength(0);
  });

  it("keeps keys pressed inside it from the notebook", async () => {
    const { el } = await mount();
    const root = /** @type {HTMLElement} */ (el.firstElementChild);
    expect(root.hasAttribute("data-lm-suppress-shortcuts")).toBe(true);
    let reached = false;
    document.body.addEventListener("keydown", () => { reached = true; }, { once: true });
    rowsOf(el, "annotator")[0].dispatchEvent(new KeyboardEvent("keydown", { key: "3", bubbles: true }));
    expect(reached).toBe(false);
  });
});
