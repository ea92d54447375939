// Keyboard shortcuts of the suspect browser, as a pure mapping from a key event to a command.

/** @typedef {{ kind: "label", index: number } | { kind: "move", by: number }
 *   | { kind: "page", by: number } | { kind: "confirm" } | { kind: "skip" } | { kind: "undo" }
 *   | { kind: "help" } | { kind: "check" } | { kind: "history" } | { kind: "similar" }
 *   | { kind: "close" }} Command */

export const SHORTCUTS = [
  ["1 – 9", "relabel the current row as class 1 – 9"],
  ["Enter", "confirm: the label is right"],
  ["s", "skip / unsure"],
  ["u", "undo your last action"],
  ["↓ / j, ↑ / k", "next / previous row"],
  ["→ / n, ← / p", "next / previous page"],
  ["x", "check / uncheck the current row"],
  ["h", "history of the current row"],
  ["m", "similar samples of the current row"],
  ["?", "show / hide this help"],
  ["Esc", "close help"],
];

/**
 * Whether `target` is a place where the user types (keys there are never shortcuts).
 * @param {EventTarget | null} target
 */
export function isTyping(target) {
  if (!(target instanceof HTMLElement)) return false;
  const tag = target.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable === true;
}

/**
 * The command of a key press, or null when the key is not ours (then it must propagate).
 * @param {KeyboardEvent} e
 * @returns {Command | null}
 */
export function keyCommand(e) {
  if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return null;
  const onButton = e.target instanceof HTMLElement && e.target.tagName === "BUTTON";
  if (/^[1-9]$/.test(e.key)) return { kind: "label", index: Number(e.key) - 1 };
  switch (e.key) {
    case "ArrowDown": case "j": return { kind: "move", by: 1 };
    case "ArrowUp": case "k": return { kind: "move", by: -1 };
    case "ArrowRight": case "n": return { kind: "page", by: 1 };
    case "ArrowLeft": case "p": return { kind: "page", by: -1 };
    case "Enter": return onButton ? null : { kind: "confirm" };
    case "s": return { kind: "skip" };
    case "u": return { kind: "undo" };
    case "?": return { kind: "help" };
    case "x": return { kind: "check" };
    case "h": return { kind: "history" };
    case "m": return { kind: "similar" };
    case "Escape": return { kind: "close" };
    default: return null;
  }
}
