// Light / dark detection in the order scikit-learn's estimator.js uses: VS Code's body
// attribute, JupyterLab's data-jp-theme-light, the luma of the inherited text colour, and
// finally the OS preference.

/**
 * Parse "rgb(r, g, b)" / "rgba(...)" into a relative luma in [0, 1], or null.
 * @param {string} color
 * @returns {number | null}
 */
export function luma(color) {
  const m = color.match(/rgba?\(\s*(\d+)[,\s]+(\d+)[,\s]+(\d+)/);
  if (!m) return null;
  const [r, g, b] = [m[1], m[2], m[3]].map(Number);
  return (0.299 * r + 0.587 * g + 0.114 * b) / 255;
}

/**
 * Whether the page around `el` is dark.
 * @param {HTMLElement} el
 * @returns {boolean}
 */
export function isDark(el) {
  const body = el.ownerDocument.body;
  const vscode = body.getAttribute("data-vscode-theme-kind");
  if (vscode) return vscode.includes("dark");
  const jp = body.getAttribute("data-jp-theme-light");
  if (jp !== null) return jp === "false";
  const view = el.ownerDocument.defaultView;
  const text = view ? view.getComputedStyle(el).color : "";
  const y = luma(text);
  if (y !== null && text !== "rgb(0, 0, 0)") return y > 0.5;
  return Boolean(view?.matchMedia?.("(prefers-color-scheme: dark)").matches);
}

/**
 * Keep the `errlens-dark` class of `root` in step with the page theme.
 * @param {HTMLElement} root
 * @returns {() => void} a function that stops watching
 */
export function followTheme(root) {
  const apply = () => root.classList.toggle("errlens-dark", isDark(root));
  apply();
  const observer = new MutationObserver(apply);
  const body = root.ownerDocument.body;
  observer.observe(body, {
    attributes: true,
    attributeFilter: ["data-jp-theme-light", "data-vscode-theme-kind", "class"],
  });
  return () => observer.disconnect();
}
