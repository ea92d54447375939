// The side panel of the current row: the sample (see detail.js), class buttons with their key
// and guideline, confirm / skip / undo, and its nearest neighbours, relabelable the same way.
import { button, h } from "../common/dom.js";
import { THUMB_PREFIX } from "./rows.js";
import { keycap } from "./picker.js";

/**
 * @typedef {{ name: string, definition?: string, example?: string, edge_cases?: string[] }} Guideline
 * @typedef {{ op: string, old_label: any, new_label: any, author: string, timestamp: string,
 *   note: string | null, reverted: boolean, cause: string | null }} HistoryEvent
 * @typedef {{ id: string | number, current: any, current_code: number | null, given: string,
 *   predicted: string, distance: number, error: boolean, n_events: number,
 *   last_op: string | null, glimpse: { text?: string | null, thumb?: string | null } }} Neighbour
 * @typedef {{ id: string | number | null, current: string | null, currentCode: number | null,
 *   classNames: string[], keys: (string | null)[], guidelines: Guideline[], editable: boolean,
 *   hint: string, busy: boolean, similar: { of: any, rows: Neighbour[] } | null,
 *   loadingSimilar: boolean, similarOff?: string }} PanelView
 * @typedef {{ onLabel: (index: number) => void, onConfirm: () => void, onSkip: () => void,
 *   onUndo: () => void, onHistory: () => void, onSimilar: () => void,
 *   onNeighbour: (n: Neighbour, action: "relabel" | "confirm", index?: number) => void }} PanelHandlers
 */


/** @param {Guideline | undefined} g */
function guidelineText(g) {
  if (!g) return null;
  const parts = [g.definition, g.example ? `e.g. ${g.example}` : "",
    ...(g.edge_cases ?? []).map((c) => `edge case: ${c}`)].filter(Boolean);
  return parts.length ? h("div", { cls: "el-guideline el-muted", text: parts.join(" · ") }) : null;
}

/**
 * @param {PanelView} v
 * @param {PanelHandlers} on
 */
function labelButtons(v, on) {
  const disabled = !v.editable || v.busy || v.id === null;
  const items = v.classNames.map((name, i) => {
    const key = v.keys[i];
    // The key is a keycap beside the name, never part of it: class "3" keyed 4 reads [4] 3.
    const b = button(`Relabel as ${name}`, "", () => on.onLabel(i),
      { disabled, pressed: v.currentCode === i, cls: "el-btn el-class-btn" });
    b.append(keycap(key) ?? "", h("span", { cls: "el-class-name", text: name }));
    b.title = key ? `key ${key}` : "press l and type its name";
    return h("li", { cls: "el-class" }, [b,
      guidelineText(v.guidelines.find((g) => g.name === name) ?? v.guidelines[i])]);
  });
  const unkeyed = v.keys.filter((k) => !k).length;
  const hint = h("p", { cls: "el-muted el-keys-hint", text: unkeyed
    ? `${unkeyed} classes have no key: press l and type a name` : "l: pick a class by name" });
  return h("div", {}, [
    h("ul", { cls: "el-classes", attrs: { "aria-label": "classes and guidelines" } }, items), hint]);
}

/**
 * @param {PanelView} v
 * @param {PanelHandlers} on
 */
function similarList(v, on) {
  if (v.loadingSimilar) return h("p", { cls: "el-muted", text: "finding similar samples…" });
  if (!v.similar || v.similar.of !== v.id) return null;
  const disabled = !v.editable || v.busy;
  return h("ul", { cls: "el-similar", attrs: { "aria-label": `samples similar to ${v.id}` } },
    v.similar.rows.map((n) => {
      const glimpse = typeof n.glimpse.thumb === "string" && n.glimpse.thumb.startsWith(THUMB_PREFIX)
        ? Object.assign(h("img", { cls: "el-thumb", attrs: { alt: `image of ${n.id}` } }), { src: n.glimpse.thumb })
        : h("div", { cls: "el-muted el-glimpse", text: n.glimpse.text ?? "" });
      const shown = n.current !== null && n.current !== undefined ? String(n.current) : n.given;
      return h("li", { cls: n.last_op ? "el-edited" : "" }, [
        h("div", {}, [
          h("strong", { text: String(n.id) }),
          h("span", { cls: "el-muted", text: ` d=${n.distance.toPrecision(3)} · ` }),
          h("span", { text: `label ${shown}` }),
          h("span", { cls: n.error ? "el-wrong" : "el-muted", text: ` · predicted ${n.predicted}` }),
        ]),
        glimpse,
        h("div", { cls: "el-mini" }, [
          ...v.classNames.map((name, i) => button(`Relabel ${n.id} as ${name}`, name,
            () => on.onNeighbour(n, "relabel", i), { disabled, pressed: n.current_code === i,
              cls: "el-btn el-small" })),
          button(`Confirm ${n.id}`, "✓", () => on.onNeighbour(n, "confirm"), { disabled, cls: "el-btn el-small" }),
        ]),
      ]);
    }));
}

/**
 * "Similar samples", disabled (with the reason as its tooltip) where neighbours cannot be found.
 * @param {PanelView} v
 * @param {PanelHandlers} on
 */
function similarButton(v, on) {
  const b = button(`Show samples similar to ${v.id}`, "Similar samples", on.onSimilar,
    { disabled: Boolean(v.similarOff), cls: "el-btn" });
  if (v.similarOff) b.title = v.similarOff;
  return b;
}

/**
 * Build the panel; `note` is the persistent note input (kept across redraws), `detail` the
 * sample (above the class buttons) and what is known of it (below them).
 * @param {PanelView} v
 * @param {PanelHandlers} on
 * @param {HTMLInputElement} note
 * @param {{ top: HTMLElement, rest: HTMLElement } | null} detail
 * @returns {HTMLElement}
 */
export function buildPanel(v, on, note, detail) {
  if (v.id === null) return h("div", { cls: "el-muted", text: "no row selected" });
  const disabled = !v.editable || v.busy;
  note.disabled = !v.editable;
  return h("div", {}, [
    h("div", { cls: "el-panel-head" }, [
      h("strong", { text: `sample ${v.id}` }),
      h("span", { cls: "el-muted", text: v.current !== null ? ` · label ${v.current}` : "" }),
    ]),
    v.editable ? null : h("p", { cls: "el-hint", text: v.hint, attrs: { role: "note" } }),
    detail?.top,
    labelButtons(v, on),
    h("div", { cls: "el-actions" }, [
      button("Confirm label", "✓ Label is right", on.onConfirm, { disabled, cls: "el-btn" }),
      button("Skip", "Skip / unsure", on.onSkip, { disabled, cls: "el-btn" }),
      button("Undo last action", "↶ Undo", on.onUndo, { disabled, cls: "el-btn" }),
    ]),
    note,
    h("div", { cls: "el-actions" }, [
      button(`Show history of ${v.id}`, "History", on.onHistory, { disabled: !v.editable, cls: "el-btn" }),
      similarButton(v, on),
    ]),
    detail?.rest,
    similarList(v, on),
  ]);
}
