// Suspect browser: the rows of a selection (or its suspects, ranked) paged from the kernel,
// side by side with their sample, and relabel in place through the kernel's LabelStore.
import "./suspects.css";
import { button, h, int } from "../common/dom.js";
import { buildGrid } from "./grid.js";
import { buildPanel } from "./panel.js";
import { buildDetail } from "./detail.js";
import { keycap } from "./picker.js";
import { classKeys, keyCommand } from "./keys.js";
import { decodeRows } from "./rows.js";
import { messenger } from "../common/net.js";
import { BTN, buildSkeleton } from "./skeleton.js";


/**
 * @typedef {import("./rows.js").Row} Row
 * @typedef {import("./panel.js").Neighbour} Neighbour
 * @typedef {import("./detail.js").DetailReply} DetailReply
 * @typedef {{ cohort: any, cohort_text: string, mode: string, version: number, classes: any[],
 *   class_names: string[], guidelines: any[], features: string[], kind: string,
 *   editable: boolean, hint: string, page_size: number, method: string, has_proba: boolean,
 *   changelog: string, text_column?: string, unavailable?: Record<string, string> }} Model
 */

export const SEARCH_DEBOUNCE_MS = 250;
/** The detail of a row is asked for once the cursor rests this long (not per held-down key). */
export const DETAIL_DEBOUNCE_MS = 80;

/** @type {import("@anywidget/types").Render<Model>} */
function render({ model, el }) {
  const net = messenger(model);
  const s = {
    mode: model.get("mode"), page: 0, pages: 1, total: 0, offset: 0,
    /** @type {string | null} */ sort: null, descending: false,
    /** @type {any} */ given: null, search: "", token: model.get("version"),
    /** @type {Row[]} */ rows: [], cursor: 0, nChecked: 0, error: "", status: "",
    busy: false, help: false, loadingSimilar: false,
    /** @type {number | null} */ anchor: null,
    /** @type {string | null} */ scoreKind: null,
    /** @type {string | null} */ ranking: null,
    /** @type {DetailReply | null} */ detail: null, detailSeq: 0, showHistory: false,
    /** @type {{ of: any, rows: Neighbour[] } | null} */ similar: null, pageSeq: 0,
  };

  const { root, stopTheme, cohortLine, modeSuspects, modeAll, givenSelect, search, prev, next,
    pageText, bulkSelect, bulkBtn, clearBtn, checkedText, helpBtn, errorBox, statusLine, gridWrap,
    panel, note, helpKeys, helpBox, picker, zoomBox, rankLine } = buildSkeleton({
    setMode: (mode) => setMode(mode), prevPage: () => goPage(s.page - 1),
    nextPage: () => goPage(s.page + 1), bulk: () => bulk(), clearChecks: () => clearChecks(),
    toggleHelp: () => toggleHelp(), labelKey: (i) => labelKey(i), closeZoom: () => closeZoom(),
  });
  el.replaceChildren(root);

  const editable = () => model.get("editable");
  const classes = () => model.get("classes");
  const names = () => model.get("class_names");
  const keys = () => classKeys(names());
  const current = () => s.rows[s.cursor];

  function fillSelects() {
    givenSelect.replaceChildren(h("option", { text: "any given label", attrs: { value: "" } }),
      ...names().map((n, i) => h("option", { text: `given ${n}`, attrs: { value: String(i) } })));
    bulkSelect.replaceChildren(...names().map((n, i) => h("option", { text: n, attrs: { value: String(i) } })));
    const k = keys();
    helpKeys.replaceChildren(h("div", { text: "class keys:" }), ...names().map((n, i) => h("span", { cls: "el-help-key" },
      [keycap(k[i] ?? "l"), h("span", { text: k[i] ? ` ${n}` : ` …${n}` })])));
  }

  /** @param {string} text */
  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }

  function draw() {
    const doc = root.ownerDocument;
    const hadFocus = root.contains(doc.activeElement);
    cohortLine.textContent = `selection: ${model.get("cohort_text")}`;
    // the order learnt from the reviews: said once per page, never moving the rows shown
    rankLine.textContent = s.ranking ? `${s.ranking}: the next pages follow your decisions so far` : "";
    rankLine.hidden = !s.ranking;
    const off = model.get("unavailable") ?? {};
    modeSuspects.disabled = Boolean(off.suspects);
    modeSuspects.title = off.suspects ?? "";
    search.disabled = Boolean(off.search);
    search.title = off.search ?? "";
    modeSuspects.setAttribute("aria-pressed", String(s.mode === "suspects"));
    modeAll.setAttribute("aria-pressed", String(s.mode === "all"));
    prev.disabled = s.page <= 0;
    next.disabled = s.page >= s.pages - 1;
    pageText.textContent = s.total
      ? `${int(s.offset + 1)}–${int(s.offset + s.rows.length)} of ${int(s.total)} ${s.mode === "suspects" ? "suspects" : "rows"}`
      : `0 ${s.mode === "suspects" ? "suspects" : "rows"}`;
    checkedText.textContent = `${int(s.nChecked)} checked`;
    bulkBtn.disabled = !editable() || s.nChecked === 0 || s.busy;
    bulkSelect.disabled = !editable();
    clearBtn.disabled = s.nChecked === 0;
    helpBox.hidden = !s.help;
    helpBtn.setAttribute("aria-expanded", String(s.help));
    statusLine.textContent = s.status || (editable() ? `writing to ${model.get("changelog")}` : model.get("hint"));
    gridWrap.replaceChildren(buildGrid({
      rows: s.rows, offset: s.offset, total: s.total, cursor: s.cursor, mode: s.mode, sort: s.sort,
      descending: s.descending, search: s.search, features: model.get("features"), kind: model.get("kind"),
      textColumn: model.get("text_column") ?? "", hasStore: Boolean(model.get("changelog")), scoreKind: s.scoreKind, method: model.get("method"),
      unavailable: off,
    }, {
      onSort: sortBy, onCursor: (i) => { setCursor(i); gridWrap.focus(); }, onCheck: check, onHistory: (i) => { setCursor(i); showHistory(); },
    }));
    drawPanel(hadFocus);
    gridWrap.querySelector(".el-current")?.scrollIntoView?.({ block: "nearest" });
  }

  /** The current row's panel (label buttons, detail) alone: what a detail's arrival changes,
   * without redrawing the grid's page. `hadFocus`: whether the view had focus before the
   * redraw began. */
  function drawPanel(hadFocus = root.contains(root.ownerDocument.activeElement)) {
    const doc = root.ownerDocument;
    const off = model.get("unavailable") ?? {};
    const row = current();
    const label = row ? (row.current ?? row.given) : null;
    const detail = row ? buildDetail({
      row, detail: s.detail && s.detail.id === row.id ? s.detail : null, off: off.detail,
      kind: model.get("kind"), features: model.get("features"), search: s.search, current: label,
      guidelines: model.get("guidelines"),
    }, { onZoom: zoom }) : null;
    panel.replaceChildren(buildPanel({
      id: row ? row.id : null, current: label,
      currentCode: row ? (row.current_code ?? row.given_code ?? null) : null,
      classNames: names(), keys: keys(), guidelines: model.get("guidelines"), editable: editable(),
      hint: model.get("hint"), busy: s.busy, similar: s.similar, loadingSimilar: s.loadingSimilar,
      similarOff: off.similar,
    }, {
      onLabel: (i) => act("relabel", i), onConfirm: () => act("confirm"), onSkip: () => act("skip"),
      onUndo: undo, onHistory: showHistory, onSimilar: loadSimilar, onNeighbour: neighbourAct,
    }, note, detail));
    if (s.showHistory && s.detail && row && s.detail.id === row.id) {
      s.showHistory = false;
      panel.querySelector(".el-detail-history")?.scrollIntoView?.({ block: "nearest" });
    }
    wantDetail();
    // A redraw must not drop focus to the page (JupyterLab would then get the keys).
    if (hadFocus && !root.contains(doc.activeElement)) gridWrap.focus({ preventScroll: true });
  }

  // --- paging
  /** The view of a page request (what a pushed page must match to be shown). */
  const view = () => ({ mode: s.mode, sort: s.sort, descending: s.descending, given: s.given,
    search: s.search });

  async function fetchPage() {
    const seq = ++s.pageSeq;
    const { msg, buffers } = await net.request({ type: "page", page: s.page, ...view() });
    if (seq !== s.pageSeq) return; // a newer request superseded this one
    showPage(msg, buffers);
  }

  /** @param {Record<string, any>} msg @param {any[]} buffers */
  function showPage(msg, buffers) {
    if (msg.error) {
      showError(msg.error);
      s.rows = []; s.total = 0;
      draw();
      return;
    }
    try {
      s.rows = decodeRows(buffers);
    } catch (err) {
      showError(`could not read the page: ${err}`);
      return;
    }
    showError("");
    Object.assign(s, { page: msg.page, pages: msg.pages, total: msg.total, offset: msg.offset,
      token: msg.token, nChecked: msg.n_checked, scoreKind: msg.score_kind, ranking: msg.ranking ?? null });
    s.cursor = Math.max(0, Math.min(s.cursor, s.rows.length - 1));
    draw();
  }

  /** @param {number} page */
  function goPage(page, cursor = 0) {
    if (page < 0 || page >= s.pages) return;
    s.page = page; s.cursor = cursor;
    fetchPage();
  }

  /** @param {string} mode */
  function setMode(mode) {
    if (mode === s.mode) return;
    Object.assign(s, { mode, page: 0, cursor: 0, sort: null, descending: false, nChecked: 0 });
    fetchPage();
  }

  /** @param {string} key */
  function sortBy(key) {
    const natural = key === "rank" || key === "row";
    const same = s.sort === key || (s.sort === null && natural);
    s.descending = same ? !s.descending : key === "score" ? s.mode === "all" : false;
    s.sort = natural ? null : key;
    s.page = 0; s.cursor = 0;
    fetchPage();
  }

  /** @param {number} i */
  function setCursor(i) {
    if (i === s.cursor) return;
    s.cursor = i;
    draw();
  }

  /** @param {number} by */
  function move(by) {
    const i = s.cursor + by;
    if (i >= 0 && i < s.rows.length) setCursor(i);
    else if (i >= s.rows.length && s.page < s.pages - 1) goPage(s.page + 1, 0);
    else if (i < 0 && s.page > 0) goPage(s.page - 1, model.get("page_size") - 1);
  }

  // --- checks
  /** @param {number} i @param {boolean} on @param {boolean} shift */
  async function check(i, on, shift) {
    const from = shift && s.anchor !== null ? Math.min(s.anchor, i) : i;
    const to = shift && s.anchor !== null ? Math.max(s.anchor, i) : i;
    s.anchor = i;
    const ids = s.rows.slice(from, to + 1).map((r) => r.id);
    const { msg } = await net.request({ type: "check", ids, on });
    if (msg.error) { showError(msg.error); fetchPage(); return; }
    for (const r of s.rows.slice(from, to + 1)) r.checked = on;
    s.nChecked = msg.n_checked;
    draw();
  }

  async function clearChecks() {
    const { msg } = await net.request({ type: "check", clear: true });
    if (msg.error) { showError(msg.error); return; }
    for (const r of s.rows) r.checked = false;
    s.nChecked = msg.n_checked;
    draw();
  }

  // --- actions
  /** @param {any[]} states */
  function applyStates(states) {
    for (const st of states) {
      for (const r of s.rows) {
        if (r.id !== st.id) continue;
        r.current = st.current === null ? null : String(st.current);
        r.current_code = st.current_code; r.n_events = st.n_events; r.last_op = st.last_op;
      }
      for (const n of s.similar?.rows ?? []) {
        if (n.id === st.id) Object.assign(n, { current: st.current, current_code: st.current_code, n_events: st.n_events, last_op: st.last_op });
      }
    }
  }

  /**
   * @param {Record<string, any>} msg
   * @param {boolean} advance  move to the next row afterwards (keyboard flow)
   */
  async function send(msg, advance = false) {
    if (s.busy) return;
    s.busy = true; s.status = "saving…";
    draw();
    const { msg: reply } = await net.request({ type: "action", ...msg });
    s.busy = false; s.status = "";
    if (reply.error) {
      showError(reply.error);
      await fetchPage();
      return;
    }
    showError("");
    note.value = "";
    applyStates(reply.rows);
    s.nChecked = reply.n_checked;
    if (reply.action === "bulk_relabel") for (const r of s.rows) r.checked = false;
    const r = current();
    if (r && reply.rows.some((/** @type {any} */ x) => x.id === r.id)) wantDetail(true);
    s.status = `saved: ${reply.action.replace("_", " ")}`;
    if (advance && s.cursor < s.rows.length - 1) s.cursor += 1;
    draw();
  }

  /** The label value the row shows now (what the kernel checks is still current). @param {Row} r */
  function seenLabel(r) {
    const code = r.current_code ?? r.given_code;
    return code === null || code === undefined ? null : classes()[code];
  }

  /** @param {"relabel" | "confirm" | "skip"} action @param {number} [index] */
  function act(action, index, advance = false) {
    const r = current();
    if (!r || !editable()) return;
    /** @type {Record<string, any>} */
    const msg = { action, id: r.id, token: s.token, mode: s.mode, source: "grid", seen: seenLabel(r) };
    if (action === "relabel") msg.label = classes()[/** @type {number} */ (index)];
    if (note.value.trim()) msg.note = note.value.trim();
    send(msg, advance);
  }

  function undo() {
    if (editable()) send({ action: "undo" });
  }

  function bulk() {
    const i = Number(bulkSelect.value || 0);
    /** @type {Record<string, any>} */
    const msg = { action: "bulk_relabel", label: classes()[i], token: s.token, mode: s.mode };
    if (note.value.trim()) msg.note = note.value.trim();
    send(msg);
  }

  /** @param {Neighbour} n @param {"relabel" | "confirm"} action @param {number} [index] */
  function neighbourAct(n, action, index) {
    const r = current();
    if (!r) return;
    /** @type {Record<string, any>} */
    const msg = { action, id: n.id, token: s.token, mode: s.mode, source: "similar", of: r.id, seen: n.current };
    if (action === "relabel") msg.label = classes()[/** @type {number} */ (index)];
    if (note.value.trim()) msg.note = note.value.trim();
    send(msg);
  }

  // --- the detail of the current row: one request per row the cursor rests on
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let detailTimer;
  /** @type {any} */
  let detailFor = null;

  /** Ask for the current row's detail unless it is here or asked for (`again`: after a change;
   * `now`: without the debounce, which only spares a request per row a held-down key passes). */
  function wantDetail(again = false, now = false) {
    const r = current();
    if (!r || (model.get("unavailable") ?? {}).detail) return;
    if (!again && detailFor === r.id) return;
    detailFor = r.id;
    clearTimeout(detailTimer);
    if (now) loadDetail(r.id);
    else detailTimer = setTimeout(() => loadDetail(r.id), DETAIL_DEBOUNCE_MS);
  }

  /** @param {any} id */
  async function loadDetail(id) {
    const seq = ++s.detailSeq;
    const { msg } = await net.request({ type: "detail", id });
    if (seq !== s.detailSeq) return; // the cursor moved on
    s.detail = msg.error ? { id, error: msg.error } : /** @type {any} */ (msg);
    drawPanel();
  }

  /** Scroll to the current row's label history (fresh from the kernel). */
  function showHistory() {
    s.showHistory = true;
    wantDetail(true);
  }

  /** @param {string} src @param {string} alt @param {boolean} pixelated */
  function zoom(src, alt, pixelated) {
    const img = h("img", { cls: pixelated ? "el-zoom-img el-pixelated" : "el-zoom-img", attrs: { alt } });
    img.src = src; // a PNG data URL the kernel made (checked by the detail panel)
    zoomBox.replaceChildren(img, button("Close zoomed image", "Close", () => closeZoom(), BTN));
    zoomBox.hidden = false;
  }

  function closeZoom() {
    zoomBox.hidden = true;
    zoomBox.replaceChildren();
    gridWrap.focus({ preventScroll: true });
  }

  /** A class chosen by its key or the picker: a relabel, or a confirm of the label it has.
   * @param {number} index */
  function labelKey(index) {
    const r = current();
    if (!r || index >= classes().length) return;
    if (index === (r.current_code ?? r.given_code)) act("confirm", undefined, true);
    else act("relabel", index, true);
  }

  async function loadSimilar() {
    const r = current();
    if (!r) return;
    s.loadingSimilar = true;
    draw();
    const { msg } = await net.request({ type: "similar", id: r.id, k: 8 });
    s.loadingSimilar = false;
    if (msg.error) { showError(msg.error); draw(); return; }
    s.similar = { of: msg.of, rows: msg.rows };
    draw();
  }

  function toggleHelp() {
    s.help = !s.help;
    draw();
  }

  // --- keyboard: handled keys stop here, so JupyterLab never sees them
  /** @param {KeyboardEvent} e */
  function onKey(e) {
    const cmd = keyCommand(e, keys());
    if (!cmd) return;
    e.preventDefault();
    e.stopPropagation();
    const r = current();
    switch (cmd.kind) {
      case "label": labelKey(cmd.index); break;
      case "pick": if (r && editable()) picker.show(names(), keys()); break;
      case "move": move(cmd.by); break;
      case "page": goPage(s.page + cmd.by); break;
      case "confirm": act("confirm", undefined, true); break;
      case "skip": act("skip", undefined, true); break;
      case "undo": undo(); break;
      case "help": toggleHelp(); break;
      case "close": if (!zoomBox.hidden) closeZoom(); else if (s.help) toggleHelp(); break;
      case "check": if (r) check(s.cursor, !r.checked, false); break;
      case "history": showHistory(); break;
      case "similar": loadSimilar(); break;
    }
  }
  root.addEventListener("keydown", onKey);

  // --- toolbar inputs
  givenSelect.addEventListener("change", () => {
    s.given = givenSelect.value === "" ? null : classes()[Number(givenSelect.value)];
    s.page = 0; s.cursor = 0;
    fetchPage();
  });
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let debounce;
  search.addEventListener("input", () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      s.search = search.value; s.page = 0; s.cursor = 0;
      fetchPage();
    }, SEARCH_DEBOUNCE_MS);
  });

  // --- kernel-side changes: a new cohort (from the Explorer or Python) restarts the view.
  // The kernel pushes page 0 of the view last asked for just before the new version: shown
  // at once when it matches (no second round trip per click), else the page is asked for.
  /** @type {{ msg: Record<string, any>, buffers: any[] } | null} */
  let pushed = null;
  /** @param {any} msg @param {any[]} [buffers] */
  const onPush = (msg, buffers) => {
    if (msg && msg.type === "page" && typeof msg.version === "number") {
      pushed = { msg, buffers: buffers ?? [] };
    }
  };
  model.on("msg:custom", onPush);
  const onVersion = () => {
    Object.assign(s, { page: 0, cursor: 0, nChecked: 0, detail: null, similar: null });
    detailFor = null;
    const push = pushed;
    pushed = null;
    if (push && push.msg.version === model.get("version")
        && JSON.stringify(push.msg.query) === JSON.stringify(view())) {
      ++s.pageSeq; // a page request still on its way is superseded
      showPage(push.msg, push.buffers);
      wantDetail(true, true); // a new selection's first row: no key is held, ask at once
    } else {
      fetchPage();
    }
  };
  const onSchema = () => { fillSelects(); draw(); };
  model.on("change:version", onVersion);
  model.on("change:classes", onSchema);
  model.on("change:guidelines", onSchema);
  model.on("change:editable", onSchema);

  fillSelects();
  showError("");
  draw();
  fetchPage();
  return () => {
    clearTimeout(debounce);
    clearTimeout(detailTimer);
    stopTheme();
    net.stop();
    model.off("msg:custom", onPush);
    root.removeEventListener("keydown", onKey);
    model.off("change:version", onVersion);
    model.off("change:classes", onSchema);
    model.off("change:guidelines", onSchema);
    model.off("change:editable", onSchema);
  };
}

export default { render };
