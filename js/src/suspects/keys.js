// Keyboard shortcuts of the suspect browser, as a pure mapping from a key event to a command.
// Keys that are not ours return null and must propagate (the notebook's key guard decides).

/** @typedef {{ kind: "label", index: number } | { kind: "move", by: number }
 *   | { kind: "page", by: number } | { kind: "confirm" } | { kind: "skip" } | { kind: "undo" }
 *   | { kind: "help" } | { kind: "check" } | { kind: "history" } | { kind: "similar" }
 *   | { kind: "pick" } | { kind: "close" }} Command */

/** Keys of the first ten classes when their names are not the digits themselves. */
export const DIGIT_KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"];

export const SHORTCUTS = [
  ["1 – 9, 0", "relabel as the class with that key (the keycap on its button); classes named 0 – 9 have their own digit"],
  ["l", "label picker: type to filter every class, ↑ / ↓ to choose, Enter to relabel"],
  ["Enter", "confirm: the label is right"],
  ["s", "skip / unsure"],
  ["u", "undo your last action"],
  ["↓ / j, ↑ / k", "next / previous row"],
  ["→ / n, ← / p", "next / previous page"],
  ["x", "check / uncheck the current row"],
  ["h", "history of the current row"],
  ["m", "similar samples of the current row"],
  ["?", "show / hide this help"],
  ["Esc", "close the picker, zoomed image or help"],
];

/**
 * The key of each class (null: reach it with the picker). Classes named "0" … "9" are keyed by
 * their own digit, so pressing 4 relabels as "4"; otherwise 1 – 9 then 0 key the first ten.
 * @param {string[]} names
 * @returns {(string | null)[]}
 */
export function classKeys(names) {
  const digits = names.every((n) => /^[0-9]$/.test(n)) && new Set(names).size === names.length;
  return digits ? [...names] : names.map((_, i) => DIGIT_KEYS[i] ?? null);
}

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
 * @param {(string | null)[]} [keys]  the key of each class (see classKeys)
 * @returns {Command | null}
 */
export function keyCommand(e, keys = DIGIT_KEYS) {
  if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return null;
  const onButton = e.target instanceof HTMLElement && e.target.tagName === "BUTTON";
  const index = keys.indexOf(e.key);
  if (index >= 0) return { kind: "label", index };
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
    case "l": return { kind: "pick" };
    case "Escape": return { kind: "close" };
    default: return null;
  }
}
