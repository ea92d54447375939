import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { guardKeys, handBack, openDialog, SUPPRESS } from "../src/common/keyguard.js";
import { mountView, viewRoot } from "../src/common/cohort-view.js";
import selection from "../src/selection/index.js";
import summary from "../src/summary/index.js";
import suspects from "../src/suspects/index.js";
import { fakeModel } from "./fake-model.js";

// The notebook's command-mode bindings, as JupyterLab 4.6 and Notebook 7.6 declare them.
const COMMAND_MODE = ".jp-Notebook.jp-mod-commandMode:not(.jp-mod-readWrite) :focus";
const BINDINGS = [
  { keys: "a", command: "notebook:insert-cell-above" },
  { keys: "m", command: "notebook:change-cell-to-markdown" },
  { keys: "j", command: "notebook:move-cursor-down" },
  { keys: "ArrowDown", command: "notebook:move-cursor-down" },
  { keys: "d", command: "notebook:delete-cell (first key of d d)" },
];

/**
 * Lumino's CommandRegistry binding match (`Private.targetDistance` in @lumino/commands 2.x):
 * walk from the target up, stop at `data-lm-suppress-shortcuts`, but test each element's selector
 * match first. This is why the attribute on the widget root alone did not protect a focused row.
 * @param {string} selector
 * @param {Event} event
 */
function luminoMatches(selector, event) {
  for (let el = /** @type {Element | null} */ (event.target); el && !el.hasAttribute(SUPPRESS); el = el.parentElement) {
    if (el.matches(selector)) return true;
    if (el === event.currentTarget) break;
  }
  return false;
}

/**
 * A notebook around a widget, listening as both front ends do: Notebook 7's command registry on
 * `document` in the capture phase, JupyterLab's in the bubble phase, plus the Notebook widget's own
 * keydown listener on its node. Returns what each of them would have run.
 * @param {(output: HTMLElement) => HTMLElement} mount  puts the widget root into the output
 */
function notebook(mount) {
  const nb = document.createElement("div");
  nb.className = "jp-Notebook jp-mod-commandMode";
  const cell = document.createElement("div");
  cell.className = "jp-Cell";
  cell.tabIndex = 0;
  const output = document.createElement("div");
  output.className = "jp-OutputArea-output";
  cell.append(output);
  nb.append(cell);
  document.body.append(nb);
  const root = mount(output);
  /** @type {string[]} */
  const ran = [];
  /** @param {string} phase */
  const registry = (phase) => (/** @type {Event} */ event) => {
    const e = /** @type {KeyboardEvent} */ (event);
    for (const b of BINDINGS) {
      if (b.keys === e.key && luminoMatches(COMMAND_MODE, e)) ran.push(`${phase}: ${b.command}`);
    }
  };
  const capture = registry("notebook7");
  const bubble = registry("jupyterlab");
  const onNotebook = (/** @type {Event} */ e) => ran.push(`notebook widget: ${/** @type {KeyboardEvent} */ (e).key}`);
  document.addEventListener("keydown", capture, true);
  document.addEventListener("keydown", bubble);
  nb.addEventListener("keydown", onNotebook);
  const stop = () => {
    document.removeEventListener("keydown", capture, true);
    document.removeEventListener("keydown", bubble);
  };
  return { nb, cell, root, ran, stop };
}

/** @param {Element} target @param {string} key @param {KeyboardEventInit} [opts] */
function press(target, key, opts = {}) {
  const e = new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true, ...opts });
  target.dispatchEvent(e);
  return e;
}

/** A widget-like root: a focusable grid that handles j, a button, a search box. */
function widgetRoot() {
  const root = document.createElement("div");
  const grid = document.createElement("div");
  grid.tabIndex = 0;
  grid.setAttribute("aria-label", "rows");
  const button = document.createElement("button");
  button.textContent = "Clear";
  const search = document.createElement("input");
  search.type = "search";
  root.append(grid, button, search);
  /** @type {string[]} */
  const handled = [];
  root.addEventListener("keydown", (e) => {
    if (e.target === grid && e.key === "j") {
      e.preventDefault();
      handled.push("j");
    }
  });
  return { root, grid, button, search, handled };
}

/** @type {(() => void)[]} */
let teardown = [];
beforeEach(() => { teardown = []; });
afterEach(() => {
  for (const fn of teardown) fn();
  document.body.replaceChildren();
});

describe("why the attribute on the root was not enough", () => {
  it("a focused element inside a root marked only at the top still matches command-mode bindings", () => {
    const w = widgetRoot();
    w.root.setAttribute(SUPPRESS, "true"); // what the widgets did before the guard
    const { ran, stop } = notebook((out) => { out.append(w.root); return w.root; });
    teardown.push(stop);
    w.grid.focus();
    press(w.grid, "m");
    expect(ran).toEqual([
      "notebook7: notebook:change-cell-to-markdown",
      "notebook widget: m",
      "jupyterlab: notebook:change-cell-to-markdown",
    ]);
  });
});

describe("guardKeys", () => {
  it("keeps every key from both registries and the notebook widget, and the widget still gets them", () => {
    const w = widgetRoot();
    const { ran, stop } = notebook((out) => { out.append(guardKeys(w.root)); return w.root; });
    teardown.push(stop);
    for (const target of [w.grid, w.button, w.search]) {
      target.focus();
      expect(target.getAttribute(SUPPRESS)).toBe("true");
      for (const key of ["a", "b", "m", "j", "k", "d", "ArrowDown", " ", "Enter", "1", "Tab"]) {
        press(target, key);
        press(target, key, { shiftKey: true });
      }
    }
    expect(ran).toEqual([]);
    expect(w.handled).toEqual(["j", "j"]); // j and Shift+j on the grid; the widget decides
  });

  it("never prevents the browser's own handling (typing, Tab, Space on a button)", () => {
    const w = widgetRoot();
    document.body.append(guardKeys(w.root));
    w.search.focus();
    for (const key of ["a", "m", "1", " ", "Enter", "Backspace", "ArrowLeft", "Tab"]) {
      expect(press(w.search, key).defaultPrevented).toBe(false);
    }
    w.button.focus();
    expect(press(w.button, " ").defaultPrevented).toBe(false);
    expect(press(w.button, "Tab", { shiftKey: true }).defaultPrevented).toBe(false);
  });

  it("marks only elements inside the root, also one focused before the guard", () => {
    const w = widgetRoot();
    const outside = document.createElement("button");
    document.body.append(w.root, outside);
    w.button.focus();
    guardKeys(w.root);
    expect(w.root.getAttribute(SUPPRESS)).toBe("true");
    expect(w.button.getAttribute(SUPPRESS)).toBe("true");
    outside.focus();
    expect(outside.hasAttribute(SUPPRESS)).toBe(false);
  });

  it("Escape gives focus to the cell around the widget: the notebook has its keys again", () => {
    const w = widgetRoot();
    const { cell, ran, stop } = notebook((out) => { out.append(guardKeys(w.root)); return w.root; });
    teardown.push(stop);
    w.grid.focus();
    const e = press(w.grid, "Escape");
    expect(e.defaultPrevented).toBe(true);
    expect(document.activeElement).toBe(cell);
    expect(ran).toEqual([]); // the Escape itself did nothing in the notebook
    press(cell, "m");
    expect(ran).toContain("notebook7: notebook:change-cell-to-markdown");
  });

  it("Escape in a text field leaves it too", () => {
    const w = widgetRoot();
    const { cell, stop } = notebook((out) => { out.append(guardKeys(w.root)); return w.root; });
    teardown.push(stop);
    w.search.focus();
    press(w.search, "Escape");
    expect(document.activeElement).toBe(cell);
  });

  it("Escape without a cell around (another host) blurs the widget", () => {
    const w = widgetRoot();
    document.body.append(guardKeys(w.root));
    w.button.focus();
    press(w.button, "Escape");
    expect(document.activeElement).toBe(document.body);
  });

  it("while a dialog of the widget is open, Escape is the widget's (it closes it) and focus stays", () => {
    const w = widgetRoot();
    const help = document.createElement("div");
    help.setAttribute("role", "dialog");
    w.root.append(help);
    w.root.addEventListener("keydown", (e) => { if (e.key === "Escape") help.hidden = true; });
    const { ran, stop } = notebook((out) => { out.append(guardKeys(w.root)); return w.root; });
    teardown.push(stop);
    w.grid.focus();
    expect(openDialog(w.root)).toBe(true);
    press(w.grid, "Escape");
    expect(help.hidden).toBe(true);
    expect(document.activeElement).toBe(w.grid);
    expect(openDialog(w.root)).toBe(false);
    press(w.grid, "Escape");
    expect(document.activeElement?.className).toBe("jp-Cell");
    expect(ran).toEqual([]);
  });

  it("handBack does nothing harmful when focus is elsewhere", () => {
    const w = widgetRoot();
    const other = document.createElement("input");
    document.body.append(guardKeys(w.root), other);
    other.focus();
    handBack(w.root);
    expect(document.activeElement).toBe(other);
  });
});

describe("every widget root is guarded", () => {
  /** @type {[string, (el: HTMLElement) => Promise<void>][]} */
  const widgets = [
    ["dashboard views (viewRoot)", async (el) => { el.append(viewRoot("errlens-segments")); }],
    ["selection bar", async (el) => {
      const model = fakeModel({ text: "age ≥ 50", rows: 10, total: 100, depth: 1, error: "" });
      await /** @type {any} */ (selection).render({ model, el });
    }],
    ["summary", async (el) => {
      const model = fakeModel({ title: "t", summary: { task: "binary", rows: 10, features: 1, errors: 2,
        error_rate: 0.2, ci_low: 0.1, ci_high: 0.3, proba_source: "given", classes: [] } });
      await /** @type {any} */ (summary).render({ model, el });
    }],
    ["suspect browser", async (el) => {
      const model = fakeModel({ cohort: null, cohort_text: "all rows", mode: "suspects", version: 0,
        classes: ["no", "yes"], class_names: ["no", "yes"], guidelines: [], features: [], kind: "tabular",
        editable: false, hint: "", page_size: 3, method: "knn", has_proba: true, changelog: "" });
      await /** @type {any} */ (suspects).render({ model, el });
    }],
  ];

  it.each(widgets)("%s", async (_name, render) => {
    let root = /** @type {HTMLElement | null} */ (null);
    const { cell, ran, stop } = notebook((out) => { root = out; return out; });
    teardown.push(stop);
    await render(/** @type {HTMLElement} */ (root));
    const widget = /** @type {HTMLElement} */ (cell.querySelector(".errlens"));
    expect(widget.getAttribute(SUPPRESS)).toBe("true");
    // A focusable control of the widget (the summary card has none: the root itself then).
    const target = /** @type {HTMLElement} */ (widget.querySelector("button, [tabindex]") ?? widget);
    if (target === widget) widget.tabIndex = 0;
    target.focus();
    for (const key of ["a", "m", "j", "ArrowDown", "d"]) press(target, key);
    expect(ran).toEqual([]);
    press(target, "Escape");
    expect(document.activeElement).toBe(cell);
  });
});

describe("a redraw keeps focus inside the view", () => {
  /** Buttons whose labels change with the state, like the segments' "select" / "deselect" bars. */
  async function mounted() {
    const model = fakeModel({ picked: "", n: 2 });
    const el = document.createElement("div");
    document.body.append(el);
    mountView(model, el, "errlens-test", ["picked", "n"], (st) => Array.from({ length: st.n }, (_, i) => {
      const b = document.createElement("button");
      b.setAttribute("aria-label", `${st.picked === String(i) ? "deselect" : "select"} ${i}`);
      return b;
    }));
    return { model, root: /** @type {HTMLElement} */ (el.firstElementChild) };
  }

  it("on the control with the same label, else the one at the same place, else the view", async () => {
    const { model, root } = await mounted();
    const buttons = () => /** @type {HTMLElement[]} */ ([...root.querySelectorAll("button")]);
    buttons()[1].focus();
    model.set("n", 3); // same labels
    await Promise.resolve();
    expect(document.activeElement?.getAttribute("aria-label")).toBe("select 1");
    model.set("picked", "1"); // its label changes
    await Promise.resolve();
    expect(document.activeElement).toBe(buttons()[1]);
    expect(document.activeElement?.getAttribute("aria-label")).toBe("deselect 1");
    model.set("n", 0); // nothing left to focus
    await Promise.resolve();
    expect(document.activeElement).toBe(root);
  });

  it("does not take focus it did not have", async () => {
    const { model } = await mounted();
    const outside = document.createElement("button");
    outside.setAttribute("aria-label", "select 1"); // same label elsewhere on the page
    document.body.append(outside);
    outside.focus();
    model.set("n", 3);
    await Promise.resolve();
    expect(document.activeElement).toBe(outside);
  });
});
