// Keys pressed inside a widget stay inside it: JupyterLab's and Notebook 7's command-mode
// shortcuts (a, b, d d, j, k, m, arrows, …) never see them, and Escape hands focus back.
//
// Why `data-lm-suppress-shortcuts` on the root alone is not enough: Lumino matches a binding by
// walking from the event's target up to the document and stops at the first element carrying
// the attribute, but it tests the element's own selector match *before* the next step up. The
// notebook's command-mode bindings use selectors such as
// `.jp-Notebook.jp-mod-commandMode:not(.jp-mod-readWrite) :focus`, which match the focused
// element itself (distance 0), so a focused row or button deep inside the root matched before the
// walk ever reached the root. JupyterLab listens in the bubble phase (the root's stopPropagation
// helped for the keys a widget handled, never for the others), Notebook 7 in the capture phase
// on `document` (before any listener of ours can run, so nothing helped).
//
// The guard therefore (1) puts the attribute on every element that receives focus inside the
// root, so Lumino's walk stops at the target whatever the phase, and (2) stops the propagation
// of every keydown at the root, so no other notebook handler (the Notebook widget's own keydown
// listener, JupyterLab's bubble-phase command registry) sees it. It never calls preventDefault
// (typing in inputs, Space on buttons and Tab keep their browser behaviour), except on the
// Escape it consumes.

export const SUPPRESS = "data-lm-suppress-shortcuts";

/**
 * Whether the widget needs Escape itself: an open dialog inside it (help box, picker, zoomed
 * image: `role="dialog"`, shown by clearing `hidden`) closes first, and focus stays.
 * @param {HTMLElement} root
 * @returns {boolean}
 * @example openDialog(root)  // false: Escape hands focus back to the notebook
 */
export function openDialog(root) {
  return [...root.querySelectorAll('[role="dialog"]')].some((d) => !d.closest("[hidden]"));
}

/**
 * Give focus back to the notebook: focus the output's cell node (JupyterLab and Notebook 7 then
 * make it the active cell in command mode, so notebook keys work again at once), or, in a host
 * without cells, just blur the focused element.
 * @param {HTMLElement} root  the widget root that holds the focus
 * @example handBack(root)  // focus is now on the `.jp-Cell` around the widget
 */
export function handBack(root) {
  const cell = root.closest(".jp-Cell");
  if (cell instanceof HTMLElement) cell.focus();
  // No cell, or one that cannot take focus: at least leave the widget.
  const active = root.ownerDocument.activeElement;
  if (active instanceof HTMLElement && root.contains(active)) active.blur();
}

/**
 * Keep every keystroke inside `root`: mark it and each element focused in it with
 * `data-lm-suppress-shortcuts`, stop each keydown at the root, and hand focus back to the notebook
 * on Escape (unless a dialog of the widget is open: then the widget closes it). The listeners live
 * on `root` only, so they go with it: there is nothing to clean up.
 * @template {HTMLElement} T
 * @param {T} root
 * @returns {T} `root`
 * @example const root = guardKeys(document.createElement("div"));
 */
export function guardKeys(root) {
  root.setAttribute(SUPPRESS, "true");
  /** @param {EventTarget | null} target */
  const mark = (target) => {
    if (target instanceof Element && root.contains(target)) target.setAttribute(SUPPRESS, "true");
  };
  mark(root.ownerDocument.activeElement); // focused before the guard was installed
  root.addEventListener("focusin", (event) => mark(event.target));
  // Capture phase: decide on Escape before the widget's handlers (which may close the dialog).
  root.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || openDialog(root)) return;
    event.preventDefault();
    event.stopPropagation();
    handBack(root);
  }, true);
  // Bubble phase: the widget's own handlers have run; nothing goes further up.
  root.addEventListener("keydown", (event) => event.stopPropagation());
  return root;
}
