// The whole sample of the current row, beside its label: full text (search terms marked), a
// large image, the probability of every class, why it was flagged, its label history, the
// guideline of its label, every feature. Everything from the data is set as text.
import { h, int } from "../common/dom.js";
import { appendHighlighted } from "./text.js";
import { THUMB_PREFIX } from "./rows.js";

/**
 * @typedef {import("./rows.js").Row} Row
 * @typedef {import("./panel.js").Guideline} Guideline
 * @typedef {import("./panel.js").HistoryEvent} HistoryEvent
 * @typedef {{ method: string, score_kind: string, score: number, flagged: boolean, rank: number,
 *   ranked_rows: number, cohort: string | null, why?: string | null }} Cause
 * @typedef {{ id: any, given: string, predicted: string, error?: string | null,
 *   features: { name: string, value: string | null }[], proba: { class: string, p: number }[],
 *   cause: Cause | null, in_selection: boolean, text: string | null, text_chars: number | null,
 *   image: { src: string, width: number, height: number } | null,
 *   history: HistoryEvent[] | null }} DetailReply
 * @typedef {{ row: Row, detail: DetailReply | null, off?: string, kind: string,
 *   features: string[], search: string, current: string | null, guidelines: Guideline[] }} DetailView
 * @typedef {{ onZoom: (src: string, alt: string, pixelated: boolean) => void }} DetailHandlers
 */

/** Images are shown up to this many CSS pixels wide; tiny ones are scaled up, pixelated. */
export const IMAGE_PX = 192;

/**
 * @param {string} title
 * @param {(Node | null)[]} children
 * @param {string} [cls]
 */
function section(title, children, cls = "") {
  return h("section", { cls: `el-detail-part ${cls}`.trim(), attrs: { "aria-label": title } },
    [h("h4", { cls: "el-detail-title", text: title }), ...children]);
}

/**
 * The sample itself: text, image, or nothing (tabular rows are their features).
 * @param {DetailView} v
 * @param {DetailHandlers} on
 */
function sample(v, on) {
  const d = v.detail;
  if (v.kind === "text") {
    const text = d ? d.text : v.row.text;
    const box = h("div", { cls: "el-detail-text", attrs: { tabindex: "0", "aria-label": `text of ${v.row.id}` } });
    appendHighlighted(box, String(text ?? "–"), v.search);
    const cut = d && d.text !== null && d.text_chars !== null && d.text_chars > d.text.length
      ? h("p", { cls: "el-muted", text: `the first ${int(d.text.length)} of ${int(d.text_chars)} characters` })
      : null;
    return section("text", [box, cut]);
  }
  if (v.kind === "image") {
    const image = d?.image ?? null;
    const src = image ? image.src : v.row.thumb;
    if (typeof src !== "string" || !src.startsWith(THUMB_PREFIX)) return section("image", [h("p", { text: "–" })]);
    const scale = image ? IMAGE_PX / Math.max(image.width, image.height, 1) : 0;
    const pixelated = !image || scale >= 2; // e.g. 8 × 8 digits: crisp squares, not a blur
    const alt = `image of ${v.row.id}`;
    const img = h("img", { cls: pixelated ? "el-detail-img el-pixelated" : "el-detail-img",
      attrs: { alt, title: "click to zoom" } });
    img.src = src;
    img.style.width = `${image ? Math.round(image.width * scale) : IMAGE_PX}px`;
    const zoom = h("button", { cls: "el-zoom-btn", attrs: { type: "button", "aria-label": `Zoom ${alt}` } }, [img]);
    zoom.addEventListener("click", (e) => { e.stopPropagation(); on.onZoom(src, alt, pixelated); });
    const size = image ? h("span", { cls: "el-muted", text: ` ${image.width} × ${image.height} px` }) : null;
    return section("image", [zoom, size]);
  }
  return null;
}

/** @param {number} p */
function share(p) {
  return p >= 0.995 || p < 0.005 ? p.toFixed(2) : p.toFixed(3);
}

/**
 * The probability of every class as a small bar list (given and predicted marked).
 * @param {DetailView} v
 */
function probabilities(v) {
  const d = v.detail;
  const proba = d?.proba ?? [];
  if (!proba.length) {
    const r = v.row;
    if (r.p_given === null || r.p_given === undefined || d) return null;
    return section("probabilities", [h("p", { cls: "el-muted",
      text: `p(${r.given}) ${share(r.p_given)}, p(${r.predicted}) ${share(r.p_pred ?? 0)}` })]);
  }
  const given = d?.given, predicted = d?.predicted;
  const items = proba.map(({ class: name, p }) => {
    const tags = [name === given ? "given" : "", name === predicted ? "predicted" : ""].filter(Boolean);
    const cls = ["el-prob", name === given ? "el-prob-given" : "", name === predicted ? "el-prob-pred" : ""];
    return h("li", { cls: cls.join(" ").trim(), attrs: { "aria-label": `p(${name}) ${share(p)}${tags.length ? `, ${tags.join(" and ")}` : ""}` } }, [
      h("span", { cls: "el-prob-name", text: name }),
      h("span", { cls: "el-prob-track", attrs: { "aria-hidden": "true" } },
        [h("span", { cls: "el-prob-fill", attrs: { style: `width:${(100 * p).toFixed(1)}%` } })]),
      h("span", { cls: "el-prob-value", text: share(p) }),
      tags.length ? h("span", { cls: "el-muted el-prob-tag", text: tags.join(", ") }) : null,
    ]);
  });
  return section("probabilities", [h("ul", { cls: "el-probs" }, items)]);
}

/**
 * Why the row is here: the suspect method, its score and rank, the selection ranked in.
 * @param {DetailView} v
 */
function why(v) {
  const d = v.detail;
  if (!d) return null;
  if (!d.in_selection) return section("why it is here", [h("p", { cls: "el-muted", text: "outside the current selection" })]);
  const c = d.cause;
  if (!c) return section("why it is here", [h("p", { cls: "el-muted", text: "no suspect score for this analysis" })]);
  return section("why it is here", [
    h("p", { text: `${c.flagged ? "flagged" : "not flagged"} by ${c.method}` }),
    h("p", { cls: "el-muted", text: `${c.score_kind} ${Number(c.score).toPrecision(3)} · rank ${int(c.rank)} of ${int(c.ranked_rows)}` }),
    c.why ? h("p", { cls: "el-why", text: c.why }) : null,
    c.cohort ? h("p", { cls: "el-muted", text: `ranked within ${c.cohort}` }) : null,
  ]);
}

/** @param {HistoryEvent[] | null} events @param {any} id */
function history(events, id) {
  if (events === null) return null;
  const body = events.length
    ? h("ol", { cls: "el-history", attrs: { "aria-label": `history of ${id}` } }, events.map((e) => h("li", { cls: e.reverted ? "el-reverted" : "" }, [
      h("span", { text: `${e.timestamp.replace("T", " ")} ${e.author} ${e.op}` }),
      e.new_label !== null && e.op !== "skip" ? h("span", { text: ` ${String(e.old_label)} → ${String(e.new_label)}` }) : null,
      e.reverted ? h("span", { cls: "el-muted", text: " (undone)" }) : null,
      e.note ? h("div", { cls: "el-muted", text: `note: ${e.note}` }) : null,
      e.cause ? h("div", { cls: "el-muted", text: `cause: ${e.cause}` }) : null,
    ])))
    : h("p", { cls: "el-muted", text: "no label events yet" });
  return section("label history", [body], "el-detail-history");
}

/**
 * The schema's guideline for the current label (and the predicted class when it differs).
 * @param {DetailView} v
 */
function guidance(v) {
  const names = [v.current, v.detail?.predicted].filter((n, i, all) => n !== null && n !== undefined && all.indexOf(n) === i);
  const parts = names.flatMap((name) => {
    const g = v.guidelines.find((x) => x.name === name);
    if (!g || !(g.definition || g.example || g.edge_cases?.length)) return [];
    return [h("div", {}, [
      h("strong", { text: String(name) }),
      g.definition ? h("div", { text: g.definition }) : null,
      g.example ? h("div", { cls: "el-muted", text: `e.g. ${g.example}` }) : null,
      ...(g.edge_cases ?? []).map((c) => h("div", { cls: "el-muted", text: `edge case: ${c}` })),
    ])];
  });
  return parts.length ? section("guideline", parts) : null;
}

/**
 * Every feature as name / value (folded for images, whose features are their pixels).
 * @param {DetailView} v
 */
function features(v) {
  const list = v.detail?.features ?? v.features.map((name, j) => ({ name, value: v.row[`f${j}`] ?? null }));
  if (!list.length) return null;
  const box = h("details", { cls: "el-detail-part" }, [
    h("summary", { cls: "el-detail-title", text: `features (${list.length})` }),
    h("table", { cls: "el-features" }, [h("tbody", {}, list.map((f) => h("tr", {}, [
      h("th", { text: f.name, attrs: { scope: "row" } }),
      h("td", { cls: f.value === null ? "el-missing" : "", text: f.value ?? "–" }),
    ])))]),
  ]);
  box.open = v.kind !== "image";
  return box;
}

/**
 * The detail of the current row: `top` goes above the class buttons (the sample), `rest` below.
 * @param {DetailView} v
 * @param {DetailHandlers} on
 * @returns {{ top: HTMLElement, rest: HTMLElement }}
 */
export function buildDetail(v, on) {
  const failed = v.detail?.error;
  const status = v.off ? h("p", { cls: "el-muted", text: v.off })
    : failed ? h("p", { cls: "el-detail-error", text: `could not load the whole sample: ${failed}`, attrs: { role: "alert" } })
      : !v.detail ? h("p", { cls: "el-muted", text: "loading the whole sample…" }) : null;
  if (failed) v = { ...v, detail: null }; // show what the grid row has
  const d = v.detail;
  return {
    top: h("div", { cls: "el-detail", attrs: { "aria-label": `sample ${v.row.id}` } }, [sample(v, on), status]),
    rest: h("div", { cls: "el-detail" }, [probabilities(v), why(v), guidance(v), history(d?.history ?? null, v.row.id), features(v)]),
  };
}
