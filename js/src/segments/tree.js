// The error tree drawn as a tree (as in the Responsible AI toolbox's error analysis): circle
// area = rows, fill = error rate on a scale with a legend, one button per node.
//
// Plain SVG DOM, no charting library: about fifteen nodes need no 3 MB plotly bundle (the
// dashboard's front end is plain DOM, and a saved notebook or static report would carry it),
// and the layout below is a few lines with a proof that nodes never overlap. Node hit targets
// are real HTML <button>s laid over the drawing: natively focusable, Enter / Space work, and
// the view's redraw puts keyboard focus back on them (it looks up HTML elements by aria-label).
import { button, h, int, pct } from "../common/dom.js";

const SVG = "http://www.w3.org/2000/svg";
/** Horizontal room per leaf; wider than the largest circle, so nodes never overlap. */
export const SLOT = 58;
export const R_MAX = 22;
export const R_MIN = 4;
const LINE = 13; // label line height (11 px text)
export const CHAR = 6.4; // width of a label character, a little over the UI font's average
/** Vertical distance between depths: the largest circle plus three lines of label. */
export const LEVEL = 2 * R_MAX + 3 * LINE + 30;
const PAD = 10;
const SIDE = PAD + SLOT / 2; // room beside the outer leaves for their labels
const LEGEND = 34; // height of the legend strip above the tree
const LEGEND_WIDTH = 340;

/**
 * @typedef {{ id: number, parent: number | null, depth: number, rows: number, errors: number,
 *   error_rate: number | null, ci_low: number | null, ci_high: number | null, path: string,
 *   condition: string | null, selected?: boolean }} ChartNode
 * @typedef {{ node: ChartNode, x: number, y: number, r: number, room: number,
 *   labelY: number }} Placed
 */

/**
 * Node positions: each leaf gets its own slot of SLOT units, left to right in depth-first
 * order, and a parent sits above the middle of its subtree's leaves. Two nodes of one depth
 * have disjoint leaf ranges [a1, b1] < [a2, b2], so their centres differ by at least
 * (a2 + b2 - a1 - b1) / 2 >= a2 - b1 >= SLOT > 2 R_MAX: circles never overlap.
 * Radius: area proportional to rows (radius ∝ √rows), at least R_MIN so every node is visible.
 *
 * Labels go under their node, at most `room` pixels wide: the distance to the nearest label of
 * the same line on either side. Leaves of the deepest row alternate between two label lines
 * (nothing is drawn below them), which doubles their room.
 * @param {ChartNode[]} nodes  depth-first, the root first
 * @returns {{ placed: Placed[], width: number, height: number }}
 */
export function layoutTree(nodes) {
  /** @type {Map<number, number[]>} */
  const children = new Map(nodes.map((n) => [n.id, []]));
  for (const n of nodes) if (n.parent !== null) children.get(n.parent)?.push(n.id);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const rootRows = Math.max(1, nodes[0]?.rows ?? 1);
  /** @type {Map<number, number>} */
  const xs = new Map();
  let leaves = 0;
  /** @param {number} id @returns {number} */
  const place = (id) => {
    const kids = children.get(id) ?? [];
    const x = kids.length
      ? (() => { const at = kids.map(place); return (at[0] + at[at.length - 1]) / 2; })()
      : SIDE + SLOT * (leaves++ + 0.5);
    xs.set(id, x);
    return x;
  };
  if (nodes.length) place(nodes[0].id);
  const depth = Math.max(0, ...nodes.map((n) => n.depth));
  const width = Math.max(LEGEND_WIDTH, 2 * SIDE + SLOT * Math.max(1, leaves));
  /** @type {Placed[]} */
  const placed = nodes.filter((n) => xs.has(n.id)).map((n) => {
    const y = LEGEND + R_MAX + PAD + LEVEL * n.depth;
    return { node: /** @type {ChartNode} */ (byId.get(n.id)), x: /** @type {number} */ (xs.get(n.id)), y,
      r: Math.max(R_MIN, R_MAX * Math.sqrt(Math.max(0, n.rows) / rootRows)), room: 0,
      labelY: y + R_MAX + LINE };
  });
  for (let d = 0; d <= depth; d++) {
    const row = placed.filter((p) => p.node.depth === d).sort((a, b) => a.x - b.x);
    const stagger = d === depth && d > 0; // the deepest row: alternate label lines
    row.forEach((p, i) => {
      if (stagger && i % 2 === 1) p.labelY += 3 * LINE;
      const step = stagger ? 2 : 1;
      const left = i >= step ? p.x - row[i - step].x : 2 * (p.x - 2);
      const right = i + step < row.length ? row[i + step].x - p.x : 2 * (width - 2 - p.x);
      p.room = Math.min(left, right, 4 * SLOT) - 6; // 6 px between neighbouring labels
    });
  }
  const stagger = depth > 0 && placed.filter((p) => p.node.depth === depth).length > 1;
  return { placed, width,
    height: LEGEND + PAD + 2 * R_MAX + LEVEL * depth + LINE * (stagger ? 6 : 3) + PAD };
}

/**
 * `text` wrapped at spaces into at most `lines` lines of `chars` characters (a word longer
 * than a line is broken inside); what does not fit ends in "…".
 * @param {string} text
 * @param {number} chars
 * @param {number} lines
 * @returns {string[]}
 */
export function wrapLabel(text, chars, lines) {
  const width = Math.max(2, chars);
  const pieces = text.split(/\s+/).filter(Boolean)
    .flatMap((word) => word.match(new RegExp(`.{1,${width}}`, "gu")) ?? []);
  /** @type {string[]} */
  const out = [];
  for (let i = 0; i < pieces.length; i++) {
    const line = out.length ? out[out.length - 1] : null;
    if (line !== null && `${line} ${pieces[i]}`.length <= width) {
      out[out.length - 1] = `${line} ${pieces[i]}`;
    } else if (out.length < lines) {
      out.push(pieces[i]);
    } else {
      out[lines - 1] = `${out[lines - 1].slice(0, width - 1)}…`;
      break;
    }
  }
  return out;
}

// A sequential yellow → orange → red ramp (ColorBrewer YlOrRd's ends and middle): ordered in
// lightness, so the rank of two rates reads the same in light and dark themes.
const STOPS = [[255, 237, 160], [253, 141, 60], [189, 0, 38]];

/**
 * The top of the colour scale: the largest node error rate rounded up to a multiple of 5 %
 * (at least 5 %), so the legend's end is a round number and the worst node is nearly darkest.
 * @param {(number | null)[]} rates
 */
export function scaleMax(rates) {
  const worst = Math.max(0, ...rates.filter((r) => r !== null && Number.isFinite(r)).map(Number));
  return Math.max(0.05, Math.ceil(worst * 20 - 1e-9) / 20);
}

/**
 * Fill for an error rate on [0, max]; grey when the rate is unknown (a node without rows).
 * @param {number | null} rate
 * @param {number} max
 * @returns {string}
 */
export function rateColor(rate, max) {
  if (rate === null || !Number.isFinite(rate)) return "rgb(160, 160, 160)";
  const t = Math.min(Math.max(rate / max, 0), 1) * (STOPS.length - 1);
  const i = Math.min(Math.floor(t), STOPS.length - 2);
  const f = t - i;
  const c = STOPS[i].map((v, k) => Math.round(v + f * (STOPS[i + 1][k] - v)));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/**
 * An SVG element with attributes (and text, always as a text node).
 * @param {string} tag
 * @param {Record<string, string | number>} attrs
 * @param {string} [text]
 * @returns {SVGElement}
 */
function svg(tag, attrs, text) {
  const node = /** @type {SVGElement} */ (document.createElementNS(SVG, tag));
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * The legend: a colour ramp from 0 to `max` and a note on sizes.
 * @param {number} max
 * @returns {SVGElement}
 */
function legend(max) {
  const g = svg("g", { class: "el-tree-legend", "aria-hidden": "true" });
  const steps = 24;
  const width = 120;
  g.append(svg("text", { x: PAD, y: 14 }, "error rate"));
  for (let i = 0; i < steps; i++) {
    g.append(svg("rect", { x: PAD + 66 + (i * width) / steps, y: 4, width: width / steps + 0.5,
      height: 12, fill: rateColor(((i + 0.5) / steps) * max, max) }));
  }
  g.append(svg("text", { x: PAD + 66, y: 28, "text-anchor": "start" }, pct(0)));
  g.append(svg("text", { x: PAD + 66 + width, y: 28, "text-anchor": "end" }, pct(max)));
  g.append(svg("text", { x: PAD + 66 + width + 14, y: 14 }, "· circle area = rows"));
  return g;
}

/**
 * The tree diagram: edges, circles and labels in SVG, a button over each node.
 * @param {ChartNode[]} nodes
 * @param {(id: number) => void} onSelect
 * @returns {HTMLElement}
 */
export function buildTreeChart(nodes, onSelect) {
  const { placed, width, height } = layoutTree(nodes);
  const max = scaleMax(nodes.map((n) => n.error_rate));
  const at = new Map(placed.map((p) => [p.node.id, p]));
  const drawing = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "el-tree-svg",
    "aria-hidden": "true" }); // the buttons carry names and values for assistive tech
  drawing.append(legend(max));
  for (const p of placed) {
    const parent = p.node.parent === null ? undefined : at.get(p.node.parent);
    if (parent) {
      const top = parent.labelY + 2 * LINE + 5; // below the parent's label, not through it
      const mid = (top + p.y - p.r) / 2;
      drawing.append(svg("path", { class: "el-tree-edge",
        d: `M${parent.x},${top} C${parent.x},${mid} ${p.x},${mid} ${p.x},${p.y - p.r}` }));
    }
  }
  const layer = h("div", { cls: "el-tree-buttons" });
  for (const p of placed) {
    const n = p.node;
    const g = svg("g", { class: n.selected ? "el-tree-node el-selected" : "el-tree-node" });
    g.append(svg("circle", { cx: p.x, cy: p.y, r: p.r, fill: rateColor(n.error_rate, max) }));
    const chars = Math.floor(p.room / CHAR);
    const lines = wrapLabel(n.condition ?? n.path, chars, 2);
    const both = `${pct(n.error_rate)} · ${int(n.rows)}`;
    lines.push(both.length <= chars ? both : pct(n.error_rate)); // rows: circle size, tooltip
    lines.forEach((line, i) => g.append(svg("text", { x: p.x, y: p.labelY + i * LINE,
      "text-anchor": "middle", class: i === lines.length - 1 ? "el-tree-figures" : "" }, line)));
    drawing.append(g);
    const b = button(
      `tree diagram node ${n.path}: ${int(n.rows)} rows, error rate ${pct(n.error_rate)}`,
      [], () => onSelect(n.id), { cls: "el-tree-hit" });
    b.title = `${n.path}\n${int(n.rows)} rows, ${int(n.errors)} errors\nerror rate ${pct(n.error_rate)} `
      + `(95% CI ${pct(n.ci_low)}–${pct(n.ci_high)})`;
    // the hit area: the largest circle's square around the node (big enough for a finger or
    // a pointer on the smallest node); labels stay outside it, as they reach under neighbours
    Object.assign(b.style, { left: `${p.x - R_MAX - 2}px`, top: `${p.y - R_MAX - 2}px`,
      width: `${2 * R_MAX + 4}px`, height: `${2 * R_MAX + 4}px` });
    if (n.selected) b.setAttribute("aria-current", "true");
    layer.append(b);
  }
  const frame = h("div", { cls: "el-tree-frame" }, [drawing, layer]);
  frame.style.width = `${width}px`;
  frame.style.height = `${height}px`;
  return h("div", { cls: "el-tree-chart", attrs: { role: "group", "aria-label": "error tree diagram" } },
    [frame]);
}
