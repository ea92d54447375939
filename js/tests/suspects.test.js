import { afterEach, describe, expect, it } from "vitest";
import { keyCommand, isTyping, classKeys } from "../src/suspects/keys.js";
import { appendHighlighted, FOLD_AT } from "../src/suspects/text.js";
import { DETAIL_DEBOUNCE_MS } from "../src/suspects/index.js";
import { HOSTILE, byLabel, flush, mount, pageBytes, press } from "./suspects-harness.js";

afterEach(() => { document.body.replaceChildren(); });

describe("suspect browser rendering", () => {
  it("asks the kernel for page 0 and renders only that page as an ARIA grid", async () => {
    const { m, el } = await mount();
    expect(m.sent[0]).toMatchObject({ type: "page", mode: "suspects", page: 0, search: "" });
    const grid = el.querySelector('[role="grid"]');
    expect(grid?.getAttribute("aria-rowcount")).toBe("11");
    const rows = el.querySelectorAll('tbody [role="row"]');
    expect(rows).toHaveLength(3);
    expect([...rows].map((r) => r.getAttribute("aria-rowindex"))).toEqual(["2", "3", "4"]);
    expect(rows[0].getAttribute("aria-selected")).toBe("true");
    expect(el.querySelector(".el-pagetext")?.textContent).toBe("1–3 of 10 suspects");
    expect(el.querySelector(".errlens")?.getAttribute("data-lm-suppress-shortcuts")).toBe("true");
    expect(el.querySelector('[aria-label="p(given) 0.10, p(predicted) 0.90"]')).not.toBeNull();
  });

  it("shows hostile strings from the data literally, never as HTML", async () => {
    const { el } = await mount({ features: [HOSTILE, "b"], class_names: [HOSTILE, ">50K"] }, 2,
      { f0: [HOSTILE, HOSTILE], id: [HOSTILE, "b"], given: [HOSTILE, HOSTILE] });
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelectorAll("[onerror]")).toHaveLength(0);
    const text = el.textContent ?? "";
    expect(text).toContain(HOSTILE);
    const hostileButton = byLabel(el, "Relabel as <img src=x onerror=alert(1)>");
    expect(hostileButton.querySelector("kbd.el-key")?.textContent).toBe("1");
    expect(hostileButton.querySelector(".el-class-name")?.textContent).toBe(HOSTILE);
    expect(el.querySelector(".el-guideline")?.parentElement?.textContent).toContain("income");
  });

  it("folds long text and highlights the search term with <mark> elements", async () => {
    const long = `${"word ".repeat(80)}needle ${HOSTILE}`;
    const { m, el } = await mount({ kind: "text" }, 2, { text: [long, "a Needle here"] });
    const search = /** @type {HTMLInputElement} */ (el.querySelector('input[aria-label="Search"]'));
    search.value = "needle";
    search.dispatchEvent(new Event("input"));
    await new Promise((r) => setTimeout(r, 300));
    const req = m.last();
    expect(req).toMatchObject({ type: "page", search: "needle", page: 0 });
    m.reply({ type: "reply", rid: req.rid, error: null, page: 0, pages: 1, total: 2, offset: 0, token: 0,
      mode: "suspects", n_checked: 0, score_kind: null }, [pageBytes(2, { text: [long, "a Needle here"] })]);
    await flush();
    const marks = [...el.querySelectorAll("mark")].map((x) => x.textContent);
    expect(marks).toContain("Needle");
    const toggle = /** @type {HTMLButtonElement} */ (byLabel(el, "Show all text of adult-0"));
    expect(toggle.getAttribute("aria-expanded")).toBe("false");
    expect(toggle.previousElementSibling?.textContent?.length).toBe(FOLD_AT + 1);
    toggle.click();
    expect(toggle.getAttribute("aria-expanded")).toBe("true");
    expect(toggle.previousElementSibling?.textContent).toBe(long);
    expect(el.querySelector(".el-text img")).toBeNull();
  });

  it("pages through the kernel and ignores replies to superseded requests", async () => {
    const { m, el } = await mount();
    /** @type {HTMLButtonElement} */ (byLabel(el, "Next page")).click();
    const stale = m.last();
    /** @type {HTMLButtonElement} */ (byLabel(el, "Sort by age")).click();
    const fresh = m.last();
    expect(stale).toMatchObject({ page: 1 });
    expect(fresh).toMatchObject({ page: 0, sort: "feature:age", descending: false });
    m.reply({ type: "reply", rid: fresh.rid, error: null, page: 0, pages: 4, total: 10, offset: 0, token: 0,
      mode: "suspects", n_checked: 0, score_kind: null }, [pageBytes(3, { f0: ["1", "2", "3"] })]);
    m.reply({ type: "reply", rid: stale.rid, error: null, page: 1, pages: 4, total: 10, offset: 3, token: 0,
      mode: "suspects", n_checked: 0, score_kind: null }, [pageBytes(3, { f0: ["x", "y", "z"] })]);
    await flush();
    expect(el.querySelector('tbody [role="row"] td:nth-child(8)')?.textContent).toBe("1");
    expect(el.querySelector('[aria-sort="ascending"]')?.textContent).toContain("age");
  });

  it("shows kernel errors in an alert", async () => {
    const { m, el } = await mount();
    /** @type {HTMLButtonElement} */ (byLabel(el, "Show all rows")).click();
    const req = m.last();
    expect(req).toMatchObject({ type: "page", mode: "all" });
    m.reply({ type: "reply", rid: req.rid, error: "this analysis has no probabilities" });
    await flush();
    expect(el.querySelector('[role="alert"]')?.textContent).toBe("this analysis has no probabilities");
  });

  it("follows the JupyterLab theme", async () => {
    document.body.setAttribute("data-jp-theme-light", "false");
    const { el } = await mount();
    expect(el.firstElementChild?.classList.contains("errlens-dark")).toBe(true);
    document.body.setAttribute("data-jp-theme-light", "true");
    await flush();
    expect(el.firstElementChild?.classList.contains("errlens-dark")).toBe(false);
  });
});

describe("relabel in place", () => {
  it("relabels with the mouse and marks the edited row from the kernel's reply", async () => {
    const { m, el } = await mount();
    const note = /** @type {HTMLInputElement} */ (el.querySelector('input[aria-label="Note"]'));
    note.value = "checked the form";
    /** @type {HTMLButtonElement} */ (byLabel(el, "Relabel as >50K")).click();
    const msg = m.last();
    expect(msg).toMatchObject({ type: "action", action: "relabel", id: "adult-0", label: ">50K",
      seen: "<=50K", token: 0, mode: "suspects", source: "grid", note: "checked the form" });
    expect(/** @type {HTMLButtonElement} */ (byLabel(el, "Confirm label")).disabled).toBe(true);
    m.reply({ type: "reply", rid: msg.rid, error: null, action: "relabel", n_checked: 0, events: ["e1"],
      rows: [{ id: "adult-0", current: ">50K", current_code: 1, n_events: 1, last_op: "set", changed: true }] });
    await flush();
    const row = el.querySelector('tbody [role="row"]');
    expect(row?.classList.contains("el-edited")).toBe(true);
    expect(row?.querySelector(".el-new")?.textContent).toBe(">50K");
    expect(row?.querySelector(".el-badge")?.textContent).toBe("relabelled");
    expect(note.value).toBe("");
    /** @type {HTMLButtonElement} */ (byLabel(el, "History of adult-0")).click();
    await new Promise((r) => setTimeout(r, DETAIL_DEBOUNCE_MS + 20));
    expect(m.last()).toMatchObject({ type: "detail", id: "adult-0" });
  });

  it("handles digits, j / k, Enter, s, u and ? on the grid and stops them there", async () => {
    const { m, el, grid } = await mount();
    let leaked = 0;
    document.body.addEventListener("keydown", () => { leaked += 1; });
    grid.focus();
    press(grid, "j");
    expect(el.querySelectorAll('tbody [role="row"]')[1].getAttribute("aria-selected")).toBe("true");
    const e = press(grid, "2");
    expect(e.defaultPrevented).toBe(true);
    const msg = m.last();
    expect(msg).toMatchObject({ action: "relabel", id: "adult-1", label: ">50K", seen: "<=50K" });
    m.reply({ type: "reply", rid: msg.rid, error: null, action: "relabel", n_checked: 0, events: ["e"],
      rows: [{ id: "adult-1", current: ">50K", current_code: 1, n_events: 1, last_op: "set", changed: true }] });
    await flush();
    expect(el.querySelectorAll('tbody [role="row"]')[2].getAttribute("aria-selected")).toBe("true");
    press(grid, "k");
    press(grid, "k");
    press(grid, "1"); // the current label: a confirm, not a relabel
    expect(m.last()).toMatchObject({ action: "confirm", id: "adult-0" });
    m.reply({ type: "reply", rid: m.last().rid, error: null, action: "confirm", n_checked: 0, events: ["f"], rows: [] });
    await flush();
    press(grid, "s");
    expect(m.last()).toMatchObject({ action: "skip", id: "adult-1" });
    m.reply({ type: "reply", rid: m.last().rid, error: null, action: "skip", n_checked: 0, events: ["g"], rows: [] });
    await flush();
    press(grid, "u");
    expect(m.last()).toEqual({ type: "action", action: "undo", rid: m.last().rid });
    press(grid, "?");
    expect(/** @type {HTMLElement} */ (el.querySelector(".el-help")).hidden).toBe(false);
    press(grid, "Escape");
    expect(/** @type {HTMLElement} */ (el.querySelector(".el-help")).hidden).toBe(true);
    expect(leaked).toBe(0);
    press(grid, "c", { ctrlKey: true });
    press(grid, "a");
    expect(leaked).toBe(0); // not ours, yet kept from the notebook too (common/keyguard.js)
  });

  it("does not treat typing in the note or search field as shortcuts", async () => {
    const { m, el } = await mount();
    const before = m.sent.length;
    let leaked = 0;
    document.body.addEventListener("keydown", () => { leaked += 1; });
    for (const input of el.querySelectorAll('input[aria-label="Note"], input[aria-label="Search"]')) {
      for (const key of ["1", "j", "s", "u", "Enter", "?"]) {
        const e = press(/** @type {HTMLElement} */ (input), key);
        expect(e.defaultPrevented).toBe(false);
      }
    }
    expect(m.sent.length).toBe(before);
    expect(leaked).toBe(0); // typed into the field, never seen by the notebook
    const confirm = /** @type {HTMLButtonElement} */ (byLabel(el, "Confirm label"));
    expect(press(confirm, "Enter").defaultPrevented).toBe(false); // the button's own activation
  });

  it("refetches the page and shows the error when the kernel refuses an action", async () => {
    const { m, el, grid } = await mount();
    press(grid, "2");
    const msg = m.last();
    m.reply({ type: "reply", rid: msg.rid, error: "stale row: sample 'adult-0' is now labelled '>50K'" });
    await flush();
    expect(el.querySelector('[role="alert"]')?.textContent).toContain("stale row");
    expect(m.last()).toMatchObject({ type: "page", page: 0 });
  });

  it("checks a range with shift-click and bulk-relabels the checked rows", async () => {
    const { m, el } = await mount();
    const boxes = /** @type {HTMLInputElement[]} */ ([...el.querySelectorAll('input[type="checkbox"]')]);
    boxes[0].click();
    expect(m.last()).toMatchObject({ type: "check", ids: ["adult-0"], on: true });
    m.reply({ type: "reply", rid: m.last().rid, error: null, n_checked: 1, ids: ["adult-0"], on: true });
    await flush();
    const third = /** @type {HTMLInputElement} */ (el.querySelectorAll('input[type="checkbox"]')[2]);
    third.dispatchEvent(new MouseEvent("click", { shiftKey: true, bubbles: true }));
    expect(m.last()).toMatchObject({ type: "check", ids: ["adult-0", "adult-1", "adult-2"], on: true });
    m.reply({ type: "reply", rid: m.last().rid, error: null, n_checked: 3, ids: [], on: true });
    await flush();
    expect(el.textContent).toContain("3 checked");
    const select = /** @type {HTMLSelectElement} */ (el.querySelector('select[aria-label="Bulk label"]'));
    select.value = "1";
    /** @type {HTMLButtonElement} */ (byLabel(el, "Relabel checked rows")).click();
    expect(m.last()).toMatchObject({ type: "action", action: "bulk_relabel", label: ">50K", token: 0 });
  });

  it("lists similar samples and relabels them the same way", async () => {
    const { m, el } = await mount();
    /** @type {HTMLButtonElement} */ (byLabel(el, "Show samples similar to adult-0")).click();
    const req = m.last();
    expect(req).toMatchObject({ type: "similar", id: "adult-0", k: 8 });
    m.reply({ type: "reply", rid: req.rid, error: null, of: "adult-0", rows: [
      { id: "n1", current: "<=50K", current_code: 0, given: "<=50K", predicted: ">50K", distance: 0.5,
        error: true, n_events: 0, last_op: null, changed: false, glimpse: { text: HOSTILE } }] });
    await flush();
    expect(el.querySelector(".el-similar")?.textContent).toContain(HOSTILE);
    /** @type {HTMLButtonElement} */ (byLabel(el, "Relabel n1 as >50K")).click();
    expect(m.last()).toMatchObject({ action: "relabel", id: "n1", label: ">50K", source: "similar",
      of: "adult-0", seen: "<=50K" });
  });

  it("disables relabel controls without a store and says why", async () => {
    const hint = "Read-only: pass store=errlens.LabelStore(analysis, path, author=...) to relabel here.";
    const { m, el, grid } = await mount({ editable: false, hint, changelog: "" });
    expect(el.querySelector('[role="note"]')?.textContent).toBe(hint);
    expect(/** @type {HTMLButtonElement} */ (byLabel(el, "Relabel as >50K")).disabled).toBe(true);
    const before = m.sent.length;
    press(grid, "2");
    press(grid, "Enter");
    expect(m.sent.length).toBe(before);
  });

  it("disables what an engine-backed analysis cannot do and says why", async () => {
    const off = { suspects: "suspects need every row", search: "no text search here",
      sort: "paged in id order", check: "checking rows needs memory", similar: "no neighbours" };
    const { m, el } = await mount({ editable: false, hint: "Read-only: relabelling needs memory",
      changelog: "", mode: "all", unavailable: off });
    const suspects = byLabel(el, "Show suspects");
    expect([suspects.disabled, suspects.title]).toEqual([true, off.suspects]);
    const search = /** @type {HTMLInputElement} */ (el.querySelector(".el-search"));
    expect([search.disabled, search.title]).toEqual([true, off.search]);
    const sorts = [...el.querySelectorAll("button.el-sort")];
    expect(sorts.length).toBeGreaterThan(3);
    expect(sorts.every((b) => /** @type {HTMLButtonElement} */ (b).disabled && b.getAttribute("title") === off.sort)).toBe(true);
    const boxes = /** @type {HTMLInputElement[]} */ ([...el.querySelectorAll('input[type="checkbox"]')]);
    expect(boxes.length).toBe(3);
    expect(boxes.every((b) => b.disabled && b.title === off.check)).toBe(true);
    const similar = byLabel(el, "Show samples similar to adult-0");
    expect([similar.disabled, similar.title]).toEqual([true, off.similar]);
    const before = m.sent.length;
    suspects.click();
    byLabel(el, "Show all rows").click();
    expect(m.sent.length).toBe(before);
  });

  it("restarts at page 0 when the kernel changes the cohort", async () => {
    const { m } = await mount();
    m.set("cohort_text", "age ≥ 60");
    m.set("version", 1);
    expect(m.last()).toMatchObject({ type: "page", page: 0 });
  });

  it("shows the page the kernel pushes with a new cohort, without asking for it", async () => {
    const { m, el } = await mount();
    const asked = m.sent.length;
    const query = { mode: "suspects", sort: null, descending: false, given: null, search: "" };
    m.reply({ type: "page", version: 1, query, page: 0, pages: 1, total: 2, offset: 0, token: 1,
      mode: "suspects", n_checked: 0, score_kind: "self_confidence" }, [pageBytes(2)]);
    m.set("cohort_text", "age ≥ 60");
    m.set("version", 1);
    // no page request (the pushed page is the page), and its first row's detail asked at once
    expect(m.sent.slice(asked)).toMatchObject([{ type: "detail", id: "adult-0" }]);
    expect(el.querySelectorAll('.el-grid-wrap tr[aria-rowindex]').length).toBe(3); // head + 2
    expect(el.textContent).toContain("1–2 of 2 suspects");
  });

  it("asks for the page when the pushed one is for another view or version", async () => {
    const { m } = await mount();
    const other = { mode: "all", sort: null, descending: false, given: null, search: "" };
    m.reply({ type: "page", version: 1, query: other, page: 0, pages: 1, total: 2, offset: 0,
      token: 1, mode: "all", n_checked: 0, score_kind: null }, [pageBytes(2)]);
    m.set("version", 1);
    expect(m.last()).toMatchObject({ type: "page", page: 0, mode: "suspects" });
    const asked = m.sent.length;
    const query = { mode: "suspects", sort: null, descending: false, given: null, search: "" };
    m.reply({ type: "page", version: 5, query, page: 0, pages: 1, total: 2, offset: 0, token: 5,
      mode: "suspects", n_checked: 0, score_kind: null }, [pageBytes(2)]);
    m.set("version", 2);
    expect(m.sent.length).toBe(asked + 1);
  });
});

describe("helpers", () => {
  it("maps keys to commands and leaves typing alone", () => {
    const input = document.createElement("input");
    const div = document.createElement("div");
    /** @param {string} key @param {EventTarget} target @param {Record<string, any>} [o] */
    const ev = (key, target, o = {}) => {
      const e = new KeyboardEvent("keydown", { key, ...o });
      Object.defineProperty(e, "target", { value: target });
      return e;
    };
    expect(keyCommand(ev("3", div))).toEqual({ kind: "label", index: 2 });
    expect(keyCommand(ev("0", div))).toEqual({ kind: "label", index: 9 }); // the 10th class
    expect(keyCommand(ev("l", div))).toEqual({ kind: "pick" });
    const digits = classKeys(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    expect(keyCommand(ev("4", div), digits)).toEqual({ kind: "label", index: 4 }); // class "4"
    expect(keyCommand(ev("0", div), digits)).toEqual({ kind: "label", index: 0 });
    expect(classKeys(["a", "b"])).toEqual(["1", "2"]);
    expect(classKeys(Array.from({ length: 12 }, (_, i) => `c${i}`)).slice(8)).toEqual(["9", "0", null, null]);
    expect(classKeys(["1", "2", "x"])).toEqual(["1", "2", "3"]);
    expect(keyCommand(ev("ArrowDown", div))).toEqual({ kind: "move", by: 1 });
    expect(keyCommand(ev("k", div))).toEqual({ kind: "move", by: -1 });
    expect(keyCommand(ev("j", input))).toBeNull();
    expect(keyCommand(ev("1", div, { metaKey: true }))).toBeNull();
    expect(isTyping(input)).toBe(true);
    expect(isTyping(div)).toBe(false);
  });

  it("highlights every match with text nodes only", () => {
    const p = document.createElement("p");
    appendHighlighted(p, `A<b>a ${HOSTILE} a`, "a");
    expect([...p.querySelectorAll("mark")].map((m) => m.textContent)).toEqual(["A", "a", "a", "a"]);
    expect(p.textContent).toBe(`A<b>a ${HOSTILE} a`);
    expect(p.querySelector("b, img")).toBeNull();
  });
});
