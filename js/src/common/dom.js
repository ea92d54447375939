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
