// Tiny DOM helpers. Text from data only ever goes through textContent (never innerHTML).

/**
 * Create an element with classes, attributes and text.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {{ cls?: string, text?: string | number, attrs?: Record<string, string> }} [opts]
 * @param {(Node | null | undefined)[]} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, opts = {}, children = []) {
  const node = document.createElement(tag);
  if (opts.cls) node.className = opts.cls;
  if (opts.text !== undefined) node.textContent = String(opts.text);
  for (const [k, v] of Object.entries(opts.attrs ?? {})) node.setAttribute(k, v);
  for (const child of children) if (child) node.appendChild(child);
  return node;
}

/**
 * A real <button> with an accessible label (the one button helper of every view). Its click
 * does not bubble on: a button inside a clickable grid row or overlay acts alone.
 * @param {string} label  aria-label
 * @param {string | (Node | null)[]} content  its text, or its child nodes
 * @param {() => void} onClick
 * @param {{ cls?: string, disabled?: boolean, pressed?: boolean }} [opts]  class, disabled,
 *   aria-pressed (a toggle)
 * @returns {HTMLButtonElement}
 * @example
 * button("clear selection", "Clear", () => clear(), { cls: "el-btn" });
 */
export function button(label, content, onClick, opts = {}) {
  const attrs = { type: "button", "aria-label": label };
  const b = typeof content === "string"
    ? h("button", { cls: opts.cls, text: content, attrs })
    : h("button", { cls: opts.cls, attrs }, content);
  b.disabled = Boolean(opts.disabled);
  if (opts.pressed !== undefined) b.setAttribute("aria-pressed", String(opts.pressed));
  b.addEventListener("click", (e) => { e.stopPropagation(); onClick(); });
  return b;
}

/**
 * Format a share as a percentage with one decimal.
 * @param {number | null | undefined} x
 * @returns {string}
 */
export function pct(x) {
  return x === null || x === undefined || Number.isNaN(x) ? "–" : `${(100 * x).toFixed(1)}%`;
}

/**
 * Format an integer with thousands separators.
 * @param {number} x
 * @returns {string}
 */
export function int(x) {
  return Math.round(x).toLocaleString("en-US");
}

/** Only thumbnails the kernel made (PNG data URLs) are shown as images. */
export const THUMB_PREFIX = "data:image/png;base64,";
