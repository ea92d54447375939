// Shared pieces of the linked dashboard views: the widget root, requests whose reply errors
// are shown in the widget, and keyboard isolation from JupyterLab.
import { h } from "./dom.js";
import { guardKeys } from "./keyguard.js";
import { messenger } from "./net.js";
import { followTheme } from "./theme.js";

/**
 * The root element of a view: scoped class, and no key pressed inside it reaches the notebook
 * (Escape hands focus back; see keyguard.js).
 * @param {string} cls
 * @returns {HTMLDivElement}
 */
export function viewRoot(cls) {
  // tabindex -1: focusable by code only, the last resort when a redraw removes the focused control.
  return guardKeys(h("div", { cls: `errlens ${cls}`, attrs: { tabindex: "-1" } }));
}

/**
 * An error banner (role="alert") and a fire-and-forget `request` over the common messenger:
 * each reply (or the timeout) shows its error, or clears the banner.
 * @param {import("@anywidget/types").AnyModel<any>} model
 * @returns {{ banner: HTMLElement, request: (msg: Record<string, any>) => void, stop: () => void }}
 */
export function requester(model) {
  const banner = h("div", { cls: "el-error", attrs: { role: "alert" } });
  banner.hidden = true;
  const net = messenger(model);
  return {
    banner,
    request(msg) {
      net.request(msg).then(({ msg: reply }) => {
        banner.textContent = reply.error ?? "";
        banner.hidden = reply.error === null;
      });
    },
    stop: () => net.stop(),
  };
}

/**
 * Background colour of a cell whose error rate is `rate` (0..1), readable in both themes.
 * @param {number | null} rate
 * @returns {string}
 */
export function heat(rate) {
  if (rate === null || Number.isNaN(rate)) return "transparent";
  return `rgba(207, 34, 46, ${(0.08 + 0.72 * Math.min(Math.max(rate, 0), 1)).toFixed(3)})`;
}

/**
 * Make `nodes` the children of `parent`, leaving in place those already there (a part the
 * build kept, see `keeper`): no relayout of an unchanged SVG or table, focus stays on it.
 * @param {HTMLElement} parent
 * @param {Node[]} nodes
 */
export function place(parent, nodes) {
  const now = new Set(nodes);
  for (const child of [...parent.childNodes]) if (!now.has(child)) child.remove();
  nodes.forEach((node, i) => {
    const at = parent.childNodes[i] ?? null;
    if (at !== node) parent.insertBefore(node, at);
  });
}

/**
 * Parts of a drawing kept between redraws while the values they are drawn from are the same
 * objects: a synced trait the kernel did not change keeps its object (anywidget's `model.get`),
 * so e.g. the error tree (over all rows) is not redrawn on every click.
 *
 * @example
 * const keep = keeper();
 * const a = keep("tree", [nodes], () => drawTree(nodes));
 * keep("tree", [nodes], () => drawTree(nodes)) === a; // true: same nodes, same element
 * @template {Node} N
 * @returns {(key: string, from: unknown[], build: () => N[]) => N[]}
 */
export function keeper() {
  /** @type {Map<string, { from: unknown[], nodes: N[] }>} */
  const kept = new Map();
  return (key, from, build) => {
    const old = kept.get(key);
    if (old && old.from.length === from.length && old.from.every((x, i) => x === from[i])) {
      return old.nodes;
    }
    const nodes = build();
    kept.set(key, { from, nodes });
    return nodes;
  };
}

/**
 * Mount a view: `build(state, request)` draws `body` from the model's `traits`; redraws are
 * batched (the kernel changes several traits per click) and keep keyboard focus on the same
 * control. Returns the render cleanup.
 * @param {any} model
 * @param {HTMLElement} el
 * @param {string} cls  root class of the view
 * @param {string[]} traits  model keys the drawing reads
 * @param {(state: any, request: (msg: any) => void) => Node[]} build
 * @returns {() => void}
 */
export function mountView(model, el, cls, traits, build) {
  const root = viewRoot(cls);
  const msgs = requester(model);
  const body = document.createElement("div");
  root.append(msgs.banner, body);
  const stopTheme = followTheme(root);
  const controls = () => [...body.querySelectorAll("button, select, input, [tabindex]")];
  const draw = () => {
    const active = root.ownerDocument.activeElement;
    const inside = active !== null && root.contains(active);
    const label = inside ? active.getAttribute("aria-label") : null;
    const at = inside ? controls().indexOf(active) : -1;
    const state = Object.fromEntries(traits.map((k) => [k, model.get(k)]));
    place(body, build(state, msgs.request));
    if (!inside || root.contains(root.ownerDocument.activeElement)) return;
    // Focus must not fall to the page (the notebook would get the keys): the control with the
    // same label, else the one at the same place (a bar's label says "select" / "deselect"),
    // else the view itself.
    const now = controls();
    const again = now.find((e) => label && e.getAttribute("aria-label") === label) ?? now[at];
    if (again instanceof HTMLElement) again.focus({ preventScroll: true });
    else root.focus({ preventScroll: true });
  };
  el.replaceChildren(root);
  draw();
  let pending = false;
  const schedule = () => {
    if (pending) return;
    pending = true;
    queueMicrotask(() => {
      pending = false;
      draw();
    });
  };
  const events = traits.map((k) => `change:${k}`);
  for (const e of events) model.on(e, schedule);
  return () => {
    stopTheme();
    msgs.stop();
    for (const e of events) model.off(e, schedule);
  };
}
