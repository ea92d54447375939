// The selection bar: the current cohort as readable text, with "back" and "clear" buttons.
import "./selection.css";
import { button, h, int } from "../common/dom.js";
import { followTheme } from "../common/theme.js";
import { requester, viewRoot } from "../common/cohort-view.js";

/**
 * @typedef {{ text: string, rows: number, total: number, depth: number, error: string }} Model
 */

/**
 * @param {Model} m
 * @param {(msg: Record<string, any>) => void} send
 * @returns {HTMLElement[]}
 */
export function buildBar(m, send) {
  const back = button("step back", [h("span", { text: "← Back" })], () => send({ type: "back" }));
  back.disabled = m.depth === 0;
  const clear = button("clear selection", [h("span", { text: "Clear" })], () => send({ type: "clear" }));
  clear.disabled = m.text === "all rows";
  const parts = [h("div", { cls: "el-controls" }, [
    h("strong", { text: "Selection:" }),
    h("span", { cls: "el-cohort", attrs: { "aria-live": "polite" }, text: m.text }),
    h("span", { cls: "el-muted", text: `${int(m.rows)} of ${int(m.total)} rows` }),
    back, clear,
  ])];
  if (m.error) parts.push(h("div", { cls: "el-error", attrs: { role: "alert" }, text: m.error }));
  return parts;
}

/** @type {import("@anywidget/types").Render<Model>} */
function render({ model, el }) {
  const root = viewRoot("errlens-selection");
  const stopTheme = followTheme(root);
  // back / clear are requests like every view's: a refusal or a silent kernel shows here
  const msgs = requester(model);
  const body = document.createElement("div");
  root.append(msgs.banner, body);
  const draw = () => body.replaceChildren(...buildBar({
    text: model.get("text"), rows: model.get("rows"), total: model.get("total"),
    depth: model.get("depth"), error: model.get("error"),
  }, msgs.request));
  el.replaceChildren(root);
  draw();
  const events = ["text", "rows", "total", "depth", "error"].map((k) => `change:${k}`);
  for (const e of events) model.on(e, draw);
  return () => {
    stopTheme();
    msgs.stop();
    for (const e of events) model.off(e, draw);
  };
}

export default { render };
