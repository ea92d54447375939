import { afterEach, describe, expect, it } from "vitest";
import { DETAIL_DEBOUNCE_MS } from "../src/suspects/index.js";
import { filterClasses } from "../src/suspects/picker.js";
import { HOSTILE, byLabel, flush, mount, press } from "./suspects-harness.js";

const DIGITS = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
const TWELVE = ["January", "February", "March", "April", "May", "June", "July", "August",
  "September", "October", "November", "December"];
const rest = () => new Promise((r) => setTimeout(r, DETAIL_DEBOUNCE_MS + 20));
/** A 1 × 1 PNG, as the kernel sends images. */
const PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==";

/** A detail reply like the kernel's for row `id`. @param {any} id @param {Record<string, any>} [over] */
function detailReply(id, over = {}) {
  return {
    type: "reply", error: null, id, given: "<=50K", predicted: ">50K", in_selection: true,
    features: [{ name: "age", value: "31" }, { name: "education", value: "Masters" },
      { name: "native_country", value: HOSTILE }, { name: "capital_gain", value: null }],
    proba: [{ class: "<=50K", p: 0.1 }, { class: ">50K", p: 0.9 }],
    cause: { method: "prune_by_noise_rate", score_kind: "self_confidence", score: 0.1, flagged: true,
      rank: 3, ranked_rows: 48842, cohort: "age ≥ 60" },
    text: null, text_chars: null, image: null,
    history: [{ op: "set", old_label: "<=50K", new_label: ">50K", author: "ana", timestamp: "2026-12-07T10:00:00",
      note: HOSTILE, reverted: false, cause: "prune_by_noise_rate: self_confidence 0.1, rank 3" }],
    ...over,
  };
}

/** Wait for the panel's detail request and answer it. @param {any} m @param {Record<string, any>} [over] */
async function answerDetail(m, over = {}) {
  await rest();
  const req = [...m.sent].reverse().find((x) => x.type === "detail");
  expect(req).toBeDefined();
  m.reply({ ...detailReply(req.id, over), rid: req.rid });
  await flush();
  return req;
}

/** @param {Element} root @param {string} label */
function region(root, label) {
  const found = [...root.querySelectorAll("section")].find((x) => x.getAttribute("aria-label") === label);
  if (!found) throw new Error(`no section ${label}`);
  return /** @type {HTMLElement} */ (found);
}

afterEach(() => { document.body.replaceChildren(); });

describe("detail panel", () => {
  it("asks for ONE row's detail once the cursor rests, not for every row passed", async () => {
    const { m, grid } = await mount();
    await rest();
    expect(m.sent.filter((x) => x.type === "detail")).toEqual([{ type: "detail", id: "adult-0", rid: m.last().rid }]);
    press(grid, "j");
    press(grid, "j");
    await rest();
    const asked = m.sent.filter((x) => x.type === "detail").map((x) => x.id);
    expect(asked).toEqual(["adult-0", "adult-2"]);
    expect(Object.keys(m.last()).sort()).toEqual(["id", "rid", "type"]);
  });

  it("shows every feature, every class probability, why it was flagged, history and guideline", async () => {
    const { m, el } = await mount();
    await answerDetail(m);
    const features = region(el, "probabilities").parentElement?.querySelector(".el-features");
    const rows = [...(features?.querySelectorAll("tr") ?? [])].map((r) => [...r.children].map((c) => c.textContent));
    expect(rows).toEqual([["age", "31"], ["education", "Masters"], ["native_country", HOSTILE], ["capital_gain", "–"]]);
    const probs = [...region(el, "probabilities").querySelectorAll("li")];
    expect(probs.map((li) => li.getAttribute("aria-label"))).toEqual(["p(<=50K) 0.100, given", "p(>50K) 0.900, predicted"]);
    expect(/** @type {HTMLElement} */ (probs[1].querySelector(".el-prob-fill")).style.width).toBe("90%");
    expect(region(el, "why it is here").textContent).toBe(
      "why it is hereflagged by prune_by_noise_rateself_confidence 0.100 · rank 3 of 48,842ranked within age ≥ 60");
    const history = region(el, "label history");
    expect(history.textContent).toContain("2026-12-07 10:00:00 ana set <=50K → >50K");
    expect(history.textContent).toContain(`note: ${HOSTILE}`);
    expect(region(el, "guideline").textContent).toContain("income at most 50K");
    expect(region(el, "guideline").textContent).toContain(`edge case: ${HOSTILE}`); // predicted >50K
    expect(el.querySelector(".el-legend")?.textContent).toContain("p(given label)");
    expect(el.querySelector("img, [onerror]")).toBeNull();
  });

  it("a detail's arrival redraws the panel only: the page's grid stays the same elements", async () => {
    const { m, el } = await mount();
    const table = el.querySelector('[role="grid"]');
    const row = el.querySelector('tbody [role="row"]');
    expect(table).not.toBeNull();
    await answerDetail(m);
    expect(el.querySelector(".el-detail-history")?.textContent).toContain("ana");
    expect(el.querySelector('[role="grid"]')).toBe(table);
    expect(el.querySelector('tbody [role="row"]')).toBe(row);
  });

  it("renders the full text as text, hostile strings included, with the search term marked", async () => {
    const long = `${"the service was slow ".repeat(40)}${HOSTILE} and the refund never came`;
    const { m, el } = await mount({ kind: "text" }, 2, { text: [long.slice(0, 300), "short"] });
    const search = /** @type {HTMLInputElement} */ (el.querySelector('input[aria-label="Search"]'));
    search.value = "refund";
    search.dispatchEvent(new Event("input"));
    await new Promise((r) => setTimeout(r, 300));
    const page = [...m.sent].reverse().find((x) => x.type === "page");
    m.reply({ type: "reply", rid: page.rid, error: null, page: 0, pages: 1, total: 1, offset: 0, token: 0,
      mode: "suspects", n_checked: 0, score_kind: null }, [(await import("./suspects-harness.js")).pageBytes(1, { text: [long.slice(0, 300)] })]);
    await flush();
    await answerDetail(m, { text: long, text_chars: long.length + 50 });
    const box = /** @type {HTMLElement} */ (el.querySelector(".el-detail-text"));
    expect(box.textContent).toBe(long);
    expect([...box.querySelectorAll("mark")].map((x) => x.textContent)).toEqual(["refund"]);
    expect([...box.childNodes].every((n) => n.nodeType === 3 || n.nodeName === "MARK")).toBe(true);
    expect(box.querySelector("img")).toBeNull();
    expect(region(el, "text").textContent).toContain(`the first ${long.length.toLocaleString("en-US")} of`);
  });

  it("shows the text once in the grid, with the other feature columns beside it", async () => {
    const { el } = await mount({ kind: "text", features: ["review", "stars"], text_column: "review" }, 2,
      { f0: ["great", "awful"], f1: ["5", "1"], text: ["great", "awful"] });
    const heads = [...el.querySelectorAll(".el-grid thead th")].map((x) => x.textContent);
    expect(heads.slice(7)).toEqual(["text", "stars", "status"]);
    expect(el.querySelector('tbody [role="row"]')?.textContent).toContain("great5");
  });

  it("shows a tiny image large and pixelated, zooms on click and closes with Esc", async () => {
    const { m, el, grid } = await mount({ kind: "image" }, 2, { thumb: [PNG, PNG] });
    await answerDetail(m, { image: { src: PNG, width: 8, height: 8 }, features: [] });
    const img = /** @type {HTMLImageElement} */ (el.querySelector(".el-detail-img"));
    expect(img.classList.contains("el-pixelated")).toBe(true);
    expect(img.style.width).toBe("192px"); // 24 screen pixels per image pixel
    expect(region(el, "image").textContent).toContain("8 × 8 px");
    byLabel(el, "Zoom image of adult-0").click();
    const zoomed = /** @type {HTMLElement} */ (el.querySelector(".el-zoom"));
    expect(zoomed.hidden).toBe(false);
    expect(zoomed.querySelector("img")?.getAttribute("src")).toBe(PNG);
    press(grid, "Escape");
    expect(zoomed.hidden).toBe(true);
    expect(zoomed.querySelector("img")).toBeNull();
  });

  it("refuses image sources that are not the kernel's PNGs", async () => {
    const { m, el } = await mount({ kind: "image" }, 1, { thumb: ["javascript:alert(1)"] });
    expect(el.querySelector(".el-detail-img")).toBeNull();
    await answerDetail(m, { image: { src: "https://evil.example/x.png", width: 8, height: 8 } });
    expect(el.querySelector(".el-detail-img, .el-zoom img")).toBeNull();
  });

  it("says so in the panel when the kernel cannot give the detail, and keeps the grid's row", async () => {
    const { m, el } = await mount();
    await rest();
    m.reply({ type: "reply", rid: m.last().rid, error: "could not answer 'detail': disk unreadable" });
    await flush();
    const alert = el.querySelector(".el-detail-error");
    expect(alert?.textContent).toBe("could not load the whole sample: could not answer 'detail': disk unreadable");
    expect(alert?.getAttribute("role")).toBe("alert");
    expect(el.querySelector(".el-features")?.textContent).toContain("Masters");
  });

  it("asks again after the row is relabelled, so its history is current", async () => {
    const { m, el } = await mount();
    await answerDetail(m);
    byLabel(el, "Relabel as >50K").click();
    const act = m.last();
    m.reply({ type: "reply", rid: act.rid, error: null, action: "relabel", n_checked: 0, events: ["e"],
      rows: [{ id: "adult-0", current: ">50K", current_code: 1, n_events: 1, last_op: "set", changed: true }] });
    await flush();
    await rest();
    expect(m.sent.filter((x) => x.type === "detail").map((x) => x.id)).toEqual(["adult-0", "adult-0"]);
  });
});

describe("class keys and the label picker", () => {
  it("shows the key as a keycap apart from the name: digit classes keep their own digit", async () => {
    const { m, el, grid } = await mount({ classes: [...DIGITS.keys()], class_names: DIGITS, guidelines: [] });
    const three = byLabel(el, "Relabel as 3");
    expect(three.querySelector("kbd.el-key")?.textContent).toBe("3");
    expect(three.querySelector(".el-class-name")?.textContent).toBe("3");
    expect(byLabel(el, "Relabel as 9").querySelector("kbd")?.textContent).toBe("9");
    press(grid, "4");
    expect(m.last()).toMatchObject({ type: "action", action: "relabel", label: 4 });
    const help = /** @type {HTMLElement} */ (el.querySelector(".el-help-keys"));
    expect([...help.querySelectorAll("kbd")].map((k) => k.textContent)).toEqual(DIGITS);
  });

  it("keys the first ten classes 1 – 9, 0 and the rest through the picker", async () => {
    const { el } = await mount({ classes: TWELVE, class_names: TWELVE, guidelines: [] });
    const keys = TWELVE.map((n) => byLabel(el, `Relabel as ${n}`).querySelector("kbd")?.textContent ?? null);
    expect(keys).toEqual(["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", null, null]);
    expect(el.querySelector(".el-keys-hint")?.textContent).toBe("2 classes have no key: press l and type a name");
  });

  it("filters as you type and relabels with Enter, keeping the keys in the picker", async () => {
    const { m, el, grid } = await mount({ classes: TWELVE, class_names: TWELVE, guidelines: [] });
    let leaked = 0;
    document.body.addEventListener("keydown", () => { leaked += 1; });
    grid.focus();
    expect(press(grid, "l").defaultPrevented).toBe(true);
    const picker = /** @type {HTMLElement} */ (el.querySelector(".el-picker"));
    const input = /** @type {HTMLInputElement} */ (picker.querySelector('input[aria-label="Filter classes"]'));
    expect(picker.hidden).toBe(false);
    expect(document.activeElement).toBe(input);
    const options = () => [...picker.querySelectorAll('[role="option"]')].map((o) => o.textContent);
    expect(options()).toHaveLength(12);
    input.value = "ber";
    input.dispatchEvent(new Event("input"));
    expect(options()).toEqual(["9September", "0October", "November", "December"]);
    press(input, "ArrowDown");
    press(input, "ArrowDown");
    const before = m.sent.length;
    const enter = press(input, "Enter");
    expect(enter.defaultPrevented).toBe(true);
    expect(m.sent.length).toBe(before + 1);
    expect(m.last()).toMatchObject({ type: "action", action: "relabel", id: "adult-0", label: "November" });
    expect(picker.hidden).toBe(true);
    expect(document.activeElement).toBe(grid);
    expect(leaked).toBe(0);
  });

  it("closes with Esc without relabelling, and picks with the mouse", async () => {
    const { m, el, grid } = await mount({ classes: TWELVE, class_names: TWELVE, guidelines: [] });
    press(grid, "l");
    const picker = /** @type {HTMLElement} */ (el.querySelector(".el-picker"));
    const input = /** @type {HTMLInputElement} */ (picker.querySelector("input"));
    const before = m.sent.length;
    press(input, "Escape");
    expect(picker.hidden).toBe(true);
    expect(m.sent.length).toBe(before);
    press(grid, "l");
    input.value = "dec";
    input.dispatchEvent(new Event("input"));
    /** @type {HTMLElement} */ (picker.querySelector('[aria-label="Relabel as December"]')).click();
    expect(m.last()).toMatchObject({ action: "relabel", label: "December" });
  });

  it("does not open the picker when relabelling is disabled", async () => {
    const { el, grid } = await mount({ editable: false, changelog: "", hint: "Read-only" });
    press(grid, "l");
    expect(/** @type {HTMLElement} */ (el.querySelector(".el-picker")).hidden).toBe(true);
  });

  it("ranks exact names, then prefixes, then other matches", () => {
    const names = ["10", "1", "21", "11", HOSTILE];
    expect(filterClasses(names, "1")).toEqual([1, 0, 3, 2, 4]); // alert(1) contains a 1
    expect(filterClasses(names, " IMG ")).toEqual([4]);
    expect(filterClasses(names, "")).toEqual([0, 1, 2, 3, 4]);
    expect(filterClasses(names, "zzz")).toEqual([]);
    expect(filterClasses(names, "onerror")).toEqual([4]);
  });
});
