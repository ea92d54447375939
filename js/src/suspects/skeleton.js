// The suspect browser's persistent skeleton: toolbar, bulk bar, grid and panel frames, help,
// label picker and zoom; render() rebuilds only the grid body and the panel inside it.
import { button, h } from "../common/dom.js";
import { guardKeys } from "../common/keyguard.js";
import { followTheme } from "../common/theme.js";
import { probaLegend } from "./grid.js";
import { SHORTCUTS } from "./keys.js";
import { createPicker } from "./picker.js";

export const BTN = { cls: "el-btn" }; // the suspect browser's button style

/**
 * @typedef {{ setMode: (mode: string) => void, prevPage: () => void, nextPage: () => void,
 *   bulk: () => void, clearChecks: () => void, toggleHelp: () => void,
 *   labelKey: (index: number) => void, closeZoom: () => void }} Actions
 */

/**
 * Build the widget's frame once; the returned elements are filled by render().
 * @param {Actions} act
 */
export function buildSkeleton(act) {
  const root = h("div", { cls: "errlens errlens-suspects", attrs: { "data-lm-suppress-shortcuts": "true" } });
  guardKeys(root); // no key reaches the notebook; Escape hands focus back (unless help is open)
  const stopTheme = followTheme(root);
  const cohortLine = h("div", { cls: "el-cohort" });
  const rankLine = h("div", { cls: "el-ranking el-muted", attrs: { "aria-live": "polite" } });
  rankLine.hidden = true;
  const modeSuspects = button("Show suspects", "Suspects", () => act.setMode("suspects"), { cls: "el-btn el-toggle" });
  const modeAll = button("Show all rows", "All rows", () => act.setMode("all"), { cls: "el-btn el-toggle" });
  const givenSelect = h("select", { attrs: { "aria-label": "Filter by given label" } });
  const search = h("input", { cls: "el-search", attrs: { type: "search", "aria-label": "Search", placeholder: "search…" } });
  const prev = button("Previous page", "‹", () => act.prevPage(), BTN);
  const next = button("Next page", "›", () => act.nextPage(), BTN);
  const pageText = h("span", { cls: "el-pagetext", attrs: { "aria-live": "polite" } });
  const bulkSelect = h("select", { attrs: { "aria-label": "Bulk label" } });
  const bulkBtn = button("Relabel checked rows", "Relabel checked", () => act.bulk(), BTN);
  const clearBtn = button("Clear checked rows", "Clear checks", () => act.clearChecks(), BTN);
  const checkedText = h("span", { cls: "el-muted" });
  const helpBtn = button("Keyboard shortcuts", "?", () => act.toggleHelp(), BTN);
  const errorBox = h("div", { cls: "el-error", attrs: { role: "alert" } });
  const statusLine = h("div", { cls: "el-status el-muted", attrs: { "aria-live": "polite" } });
  const gridWrap = h("div", { cls: "el-grid-wrap", attrs: { tabindex: "0", "aria-label": "samples: j / k to move, digits to relabel, ? for help" } });
  const panel = h("div", { cls: "el-panel", attrs: { role: "region", "aria-label": "current sample" } });
  const note = h("input", { cls: "el-note", attrs: { type: "text", "aria-label": "Note", placeholder: "note for the next action (optional)" } });
  const helpKeys = h("div", { cls: "el-help-keys", attrs: { "aria-label": "class keys" } });
  const helpBox = h("div", { cls: "el-help", attrs: { role: "dialog", "aria-label": "Keyboard shortcuts" } }, [
    h("strong", { text: "Keyboard shortcuts" }),
    h("table", {}, [h("tbody", {}, SHORTCUTS.map(([k, d]) => h("tr", {}, [h("td", { text: k }), h("td", { text: d })])))]),
    helpKeys,
    button("Close help", "Close", () => act.toggleHelp(), BTN),
  ]);
  const picker = createPicker({
    onPick: (i) => act.labelKey(i),
    onClose: (refocus) => { if (refocus) gridWrap.focus({ preventScroll: true }); },
  });
  const zoomBox = h("div", { cls: "el-zoom", attrs: { role: "dialog", "aria-label": "Zoomed image" } });
  zoomBox.hidden = true;
  zoomBox.addEventListener("click", () => act.closeZoom());
  root.append(
    h("div", { cls: "el-toolbar" }, [modeSuspects, modeAll, givenSelect, search, prev, pageText, next, helpBtn]),
    cohortLine,
    rankLine,
    h("div", { cls: "el-toolbar el-bulkbar" }, [checkedText, bulkSelect, bulkBtn, clearBtn]),
    errorBox,
    probaLegend(),
    h("div", { cls: "el-body" }, [gridWrap, panel]),
    statusLine,
    helpBox,
    picker.el,
    zoomBox,
  );
  return { root, stopTheme, cohortLine, modeSuspects, modeAll, givenSelect, search, prev, next,
    pageText, bulkSelect, bulkBtn, clearBtn, checkedText, helpBtn, errorBox, statusLine, gridWrap,
    panel, note, helpKeys, helpBox, picker, zoomBox, rankLine };
}
