import { describe, expect, it } from "vitest";
import widget from "../src/summary/index.js";
import { buildSummary } from "../src/summary/index.js";
import { luma } from "../src/common/theme.js";
import { fakeModel } from "./fake-model.js";

const summary = {
  task: "binary", rows: 48842, features: 14, errors: 6353, error_rate: 0.13007,
  ci_low: 0.1271, ci_high: 0.1331, proba_source: "out_of_fold",
  classes: [
    { label: "<=50K", support: 37155, errors: 2200, error_rate: 0.0592, predicted: 37000 },
    { label: "<img src=x onerror=alert(1)>", support: 11687, errors: 4153, error_rate: 0.355, predicted: 11842 },
  ],
};

describe("summary widget", () => {
  it("shows rows, errors and error rate", () => {
    const card = buildSummary(summary, "Adult");
    expect(card.querySelector('[data-figure="rows"] .el-figure-value')?.textContent).toBe("48,842");
    expect(card.querySelector('[data-figure="error_rate"] .el-figure-value')?.textContent).toBe("13.0%");
    expect(card.querySelectorAll("tbody tr")).toHaveLength(2);
  });

  it("renders labels from data as text, never as HTML", () => {
    const card = buildSummary(summary, "Adult");
    expect(card.querySelector("img")).toBeNull();
    expect(card.textContent).toContain("<img src=x onerror=alert(1)>");
  });

  it("redraws when the kernel changes the summary and cleans up", async () => {
    const model = fakeModel({ summary, title: "Adult" });
    const el = document.createElement("div");
    const render = /** @type {any} */ (widget).render;
    const cleanup = await render({ model, el });
    model.set("summary", { ...summary, rows: 10, classes: [] });
    expect(el.querySelector('[data-figure="rows"] .el-figure-value')?.textContent).toBe("10");
    await cleanup();
  });

  it("follows the JupyterLab theme attribute", async () => {
    document.body.setAttribute("data-jp-theme-light", "false");
    const model = fakeModel({ summary, title: "" });
    const el = document.createElement("div");
    document.body.appendChild(el);
    await /** @type {any} */ (widget).render({ model, el });
    expect(el.firstElementChild?.classList.contains("errlens-dark")).toBe(true);
    document.body.setAttribute("data-jp-theme-light", "true");
    await new Promise((r) => setTimeout(r, 0));
    expect(el.firstElementChild?.classList.contains("errlens-dark")).toBe(false);
  });

  it("computes luma of CSS colours", () => {
    expect(luma("rgb(255, 255, 255)")).toBeCloseTo(1);
    expect(luma("rgba(0, 0, 0, 0.5)")).toBe(0);
    expect(luma("not a colour")).toBeNull();
  });
});
