// The label picker: every class reachable from the keyboard, however many there are. Type to
// filter, ↑ / ↓ to choose, Enter to relabel, Esc to close. Class names are text nodes only.
import { h } from "../common/dom.js";

/**
 * Indices of the classes matching `query` (any case): exact names first, then names that start
 * with it, then names containing it; class order within each group.
 * @param {string[]} names
 * @param {string} query
 * @returns {number[]}
 */
export function filterClasses(names, query) {
  const q = query.trim().toLowerCase();
  const rank = (/** @type {string} */ n) => {
    const name = n.toLowerCase();
    return name === q ? 0 : name.startsWith(q) ? 1 : name.includes(q) ? 2 : 3;
  };
  return names.map((n, i) => ({ i, r: rank(n) })).filter((x) => x.r < 3)
    .sort((a, b) => a.r - b.r || a.i - b.i).map((x) => x.i);
}

/**
 * A keycap badge for `key` (nothing when the class has no key).
 * @param {string | null | undefined} key
 */
export function keycap(key) {
  return key ? h("kbd", { cls: "el-key", text: key, attrs: { "aria-hidden": "true" } }) : null;
}

/**
 * The picker dialog; open() shows it with the focus in its filter field.
 * @param {{ onPick: (index: number) => void, onClose: (refocus: boolean) => void }} on
 */
export function createPicker(on) {
  /** @type {string[]} */ let names = [];
  /** @type {(string | null)[]} */ let keys = [];
  /** @type {number[]} */ let shown = [];
  let active = 0;
  const input = h("input", { cls: "el-picker-input", attrs: { type: "text", "aria-label": "Filter classes",
    placeholder: "type a class name…", autocomplete: "off" } });
  const list = h("ul", { cls: "el-picker-list", attrs: { role: "listbox", "aria-label": "classes" } });
  const empty = h("p", { cls: "el-muted", text: "no class matches" });
  const el = h("div", { cls: "el-picker", attrs: { role: "dialog", "aria-label": "Relabel as…" } },
    [h("strong", { text: "Relabel as…" }), input, list, empty]);
  el.hidden = true;

  function draw() {
    shown = filterClasses(names, input.value);
    active = Math.max(0, Math.min(active, shown.length - 1));
    empty.hidden = shown.length > 0;
    list.replaceChildren(...shown.map((i, k) => {
      const item = h("li", { cls: k === active ? "el-option el-active" : "el-option", attrs: {
        role: "option", "aria-selected": String(k === active), "aria-label": `Relabel as ${names[i]}` } },
      [keycap(keys[i]), h("span", { text: names[i] })]);
      item.addEventListener("mousedown", (e) => e.preventDefault()); // keep the focus in the field
      item.addEventListener("click", (e) => { e.stopPropagation(); pick(i); });
      return item;
    }));
    list.querySelector(".el-active")?.scrollIntoView?.({ block: "nearest" });
  }

  /** @param {number} i */
  function pick(i) {
    close();
    on.onPick(i);
  }

  /** @param {boolean} [refocus]  give the focus back to the grid (not when it left by a click) */
  function close(refocus = true) {
    if (el.hidden) return;
    el.hidden = true;
    on.onClose(refocus);
  }

  input.addEventListener("input", () => { active = 0; draw(); });
  // Only the keys the picker uses stop here; typing goes to the field as usual.
  input.addEventListener("keydown", (e) => {
    const by = e.key === "ArrowDown" ? 1 : e.key === "ArrowUp" ? -1 : 0;
    if (by) active = Math.max(0, Math.min(active + by, shown.length - 1));
    else if (e.key === "Enter") { if (shown.length) pick(shown[active]); }
    else if (e.key === "Escape") close();
    else return;
    e.preventDefault();
    e.stopPropagation();
    if (by) draw();
  });
  input.addEventListener("blur", () => close(false));

  return {
    el,
    get open() { return !el.hidden; },
    /** @param {string[]} classNames @param {(string | null)[]} classKeyList */
    show(classNames, classKeyList) {
      names = classNames; keys = classKeyList;
      input.value = ""; active = 0;
      el.hidden = false;
      draw();
      input.focus();
    },
    close,
  };
}
