// Sample text: folded when long, search terms highlighted with <mark> elements built through
// DOM APIs (text nodes only; nothing from the data is ever parsed as HTML).

export const FOLD_AT = 240;

/**
 * Fill `parent` with `text`, wrapping every case-insensitive occurrence of `term` in <mark>.
 * @param {HTMLElement} parent
 * @param {string} text
 * @param {string} term
 */
export function appendHighlighted(parent, text, term) {
  const doc = parent.ownerDocument;
  const needle = term.trim().toLowerCase();
  if (!needle) {
    parent.appendChild(doc.createTextNode(text));
    return;
  }
  const hay = text.toLowerCase();
  let at = 0;
  for (let hit = hay.indexOf(needle); hit >= 0; hit = hay.indexOf(needle, at)) {
    if (hit > at) parent.appendChild(doc.createTextNode(text.slice(at, hit)));
    const mark = doc.createElement("mark");
    mark.textContent = text.slice(hit, hit + needle.length);
    parent.appendChild(mark);
    at = hit + needle.length;
  }
  if (at < text.length) parent.appendChild(doc.createTextNode(text.slice(at)));
}

/**
 * A block showing `text`, folded to FOLD_AT characters with a "Show more" toggle.
 * @param {string} text
 * @param {string} term  search text to highlight
 * @param {string} label  accessible name suffix of the toggle (the sample id)
 * @returns {HTMLElement}
 */
export function foldedText(text, term, label) {
  const doc = document;
  const box = doc.createElement("div");
  box.className = "el-text";
  const body = doc.createElement("span");
  box.appendChild(body);
  const long = text.length > FOLD_AT;
  let open = false;
  const toggle = doc.createElement("button");
  const draw = () => {
    body.replaceChildren();
    appendHighlighted(body, open || !long ? text : `${text.slice(0, FOLD_AT)}…`, term);
    toggle.textContent = open ? "Show less" : "Show more";
    toggle.setAttribute("aria-expanded", String(open));
  };
  if (long) {
    toggle.type = "button";
    toggle.className = "el-link";
    toggle.setAttribute("aria-label", `Show all text of ${label}`);
    toggle.addEventListener("click", (e) => {
      e.stopPropagation();
      open = !open;
      draw();
    });
    box.appendChild(toggle);
  }
  draw();
  return box;
}
