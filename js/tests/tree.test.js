import { describe, expect, it } from "vitest";
import {
  CHAR, LEVEL, R_MAX, R_MIN, SLOT, buildTreeChart, layoutTree, rateColor, scaleMax, wrapLabel,
} from "../src/segments/tree.js";

const HOSTILE = "<img src=x onerror=alert(1)>";

/**
 * The error tree of the rule model on Adult (the dashboard's own payload, abridged).
 * @returns {import("../src/segments/tree.js").ChartNode[]}
 */
function adultTree() {
  /** @type {[number, number | null, number, number, string][]} */
  const rows = [
    [0, null, 48842, 0.185, "all rows"],
    [1, 0, 26795, 0.07, "relationship not in {Husband, Wife}"],
    [2, 1, 21303, 0.034, "education_num < 13"],
    [3, 2, 18689, 0.023, "hours_per_week < 48"],
    [4, 2, 2614, 0.112, "hours_per_week ≥ 48"],
    [5, 1, 5492, 0.211, "education_num ≥ 13"],
    [6, 5, 2440, 0.094, "age < 33"],
    [7, 5, 3052, 0.304, "age ≥ 33"],
    [8, 0, 22047, 0.325, "relationship in {Husband, Wife}"],
    [9, 8, 20463, 0.348, "capital_gain < 7298"],
    [10, 9, 10092, 0.248, "education not in {Some-college, Bachelors, Masters, Assoc-voc}"],
    [11, 9, 10371, 0.445, "education in {Some-college, Bachelors, Masters, Assoc-voc}"],
    [12, 8, 1584, 0.025, "capital_gain ≥ 7298"],
    [13, 12, 987, 0.002, "education not in {HS-grad, Some-college, 11th, 7th-8th, other}"],
    [14, 12, 597, 0.064, "education in {HS-grad, Some-college, 11th, 7th-8th, other}"],
  ];
  const depth = (/** @type {number | null} */ p) => {
    let d = 0;
    for (let at = p; at !== null; at = rows[at][1]) d += 1;
    return d;
  };
  return rows.map(([id, parent, n, rate, condition]) => ({
    id, parent, depth: depth(parent), rows: n, errors: Math.round(n * rate), error_rate: rate,
    ci_low: rate * 0.9, ci_high: rate * 1.1, condition: id === 0 ? null : condition,
    path: id === 0 ? "all rows" : condition,
  }));
}

/**
 * A random tree of up to `depth` levels, 2 or 3 children per node (a missing-value branch makes
 * three), rows split at random: nodes in depth-first order, as the kernel sends them.
 * @param {() => number} random
 * @param {number} depth
 */
function randomTree(random, depth) {
  /** @type {import("../src/segments/tree.js").ChartNode[]} */
  const nodes = [];
  /** @param {number | null} parent @param {number} d @param {number} rows */
  const grow = (parent, d, rows) => {
    const id = nodes.length;
    const rate = random() < 0.05 ? null : random() * 0.6;
    nodes.push({ id, parent, depth: d, rows, errors: Math.round(rows * (rate ?? 0)), error_rate: rate,
      ci_low: null, ci_high: null, condition: d ? `f${id} < ${id}` : null, path: `node ${id}` });
    if (d < depth && rows > 40 && random() < 0.8) {
      const k = random() < 0.2 ? 3 : 2;
      let left = rows;
      for (let i = 0; i < k; i++) {
        const share = i === k - 1 ? left : Math.max(1, Math.floor(left * (0.1 + 0.8 * random())));
        left -= share;
        grow(id, d + 1, share);
      }
    }
  };
  grow(null, 0, 1000 + Math.floor(random() * 50000));
  return nodes;
}

/** A small seeded generator (mulberry32), so failures reproduce. @param {number} seed */
function mulberry(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** @param {string} color */
const rgb = (color) => (color.match(/\d+/g) ?? []).map(Number);
/** @param {string} color */
const luma = (color) => { const [r, g, b] = rgb(color); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };

/** @param {import("../src/segments/tree.js").Placed[]} placed */
function assertNoOverlap(placed) {
  for (const a of placed) {
    for (const b of placed) {
      if (a === b) continue;
      const apart = Math.hypot(a.x - b.x, a.y - b.y);
      expect(apart).toBeGreaterThanOrEqual(a.r + b.r);
      if (a.labelY === b.labelY) { // labels on one line: their boxes are disjoint
        expect(Math.abs(a.x - b.x)).toBeGreaterThanOrEqual(a.room / 2 + b.room / 2);
      }
    }
  }
}

describe("error tree layout", () => {
  it("places the Adult tree without overlaps: a column per leaf, parents over their children", () => {
    const nodes = adultTree();
    const { placed, width, height } = layoutTree(nodes);
    expect(placed).toHaveLength(15);
    assertNoOverlap(placed);
    const at = new Map(placed.map((p) => [p.node.id, p]));
    const leaves = placed.filter((p) => !nodes.some((n) => n.parent === p.node.id));
    expect(leaves).toHaveLength(8);
    expect(width).toBeGreaterThanOrEqual(8 * SLOT);
    expect((at.get(2)?.x ?? 0)).toBeCloseTo(((at.get(3)?.x ?? 0) + (at.get(4)?.x ?? 0)) / 2, 9);
    expect((at.get(1)?.y ?? 0) - (at.get(0)?.y ?? 0)).toBe(LEVEL);
    for (const p of placed) {
      expect(p.x - p.room / 2).toBeGreaterThanOrEqual(0);
      expect(p.x + p.room / 2).toBeLessThanOrEqual(width);
      expect(p.labelY + 2 * 13).toBeLessThanOrEqual(height);
    }
  });

  it("never overlaps on 200 random trees (up to 3 children, uneven splits, depth 1–4)", () => {
    const random = mulberry(15);
    for (let t = 0; t < 200; t++) {
      const nodes = randomTree(random, 1 + (t % 4));
      const { placed } = layoutTree(nodes);
      expect(placed).toHaveLength(nodes.length);
      assertNoOverlap(placed);
    }
  });

  it("sizes circles by rows: monotone, area proportional to rows, none invisible", () => {
    const { placed } = layoutTree(adultTree());
    const sorted = [...placed].sort((a, b) => a.node.rows - b.node.rows);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i].r).toBeGreaterThanOrEqual(sorted[i - 1].r);
    expect(sorted.at(-1)?.r).toBe(R_MAX);
    const big = placed.filter((p) => p.r > R_MIN);
    for (const p of big) expect((p.r / R_MAX) ** 2).toBeCloseTo(p.node.rows / 48842, 9);
    expect(Math.min(...placed.map((p) => p.r))).toBeGreaterThanOrEqual(R_MIN);
  });
});

describe("error rate colours", () => {
  it("rounds the scale's top up to 5 % steps", () => {
    expect(scaleMax([0.185, 0.445, null])).toBeCloseTo(0.45, 12);
    expect(scaleMax([0.45])).toBeCloseTo(0.45, 12);
    expect(scaleMax([0, 0.01])).toBe(0.05);
    expect(scaleMax([null])).toBe(0.05);
  });

  it("darkens steadily from 0 to the top, clamps beyond it, greys an unknown rate", () => {
    const colors = Array.from({ length: 21 }, (_, i) => rateColor((i / 20) * 0.45, 0.45));
    expect(colors[0]).toBe("rgb(255, 237, 160)");
    expect(colors[20]).toBe("rgb(189, 0, 38)");
    for (let i = 1; i < colors.length; i++) expect(luma(colors[i])).toBeLessThan(luma(colors[i - 1]));
    expect(rateColor(0.9, 0.45)).toBe(colors[20]);
    expect(rateColor(-1, 0.45)).toBe(colors[0]);
    expect(rateColor(null, 0.45)).toBe("rgb(160, 160, 160)");
  });
});

describe("labels", () => {
  it("wraps at spaces, breaks a word longer than a line, ends what does not fit with …", () => {
    expect(wrapLabel("age ≥ 33", 16, 2)).toEqual(["age ≥ 33"]);
    expect(wrapLabel("relationship not in {Husband, Wife}", 16, 2)).toEqual(["relationship not", "in {Husband,…"]);
    expect(wrapLabel("hours_per_week < 48", 10, 2)).toEqual(["hours_per_", "week < 48"]);
    for (const line of wrapLabel("education not in {HS-grad, Some-college}", 9, 2)) {
      expect(line.length).toBeLessThanOrEqual(9);
    }
  });
});

describe("error tree diagram", () => {
  it("draws every label as text, hostile ones included, and every label fits its room", () => {
    const nodes = adultTree();
    nodes[5] = { ...nodes[5], condition: HOSTILE, path: `relationship not in {Husband, Wife} and ${HOSTILE}` };
    const chart = buildTreeChart(nodes, () => {});
    document.body.append(chart);
    expect(chart.querySelector("img")).toBeNull();
    const texts = [...chart.querySelectorAll("svg text")].map((t) => t.textContent ?? "");
    expect(texts.join(" ")).toContain("<img src=x");
    const hit = /** @type {HTMLButtonElement} */ (chart.querySelectorAll("button")[5]);
    expect(hit.getAttribute("aria-label")).toBe(
      `tree diagram node relationship not in {Husband, Wife} and ${HOSTILE}: 5,492 rows, error rate 21.1%`);
    expect(hit.title).toContain(HOSTILE);
    const { placed } = layoutTree(nodes);
    for (const [i, g] of [...chart.querySelectorAll("g.el-tree-node")].entries()) {
      for (const t of g.querySelectorAll("text")) {
        expect((t.textContent ?? "").length * CHAR).toBeLessThanOrEqual(placed[i].room);
      }
    }
    expect(texts).toContain("0.0%");
    expect(texts).toContain("45.0%"); // the legend's top
    chart.remove();
  });

  it("has one focusable button per node, in depth-first order, clicks select the node", () => {
    const nodes = adultTree();
    nodes[7] = { ...nodes[7], selected: true };
    /** @type {number[]} */
    const picked = [];
    const chart = buildTreeChart(nodes, (id) => picked.push(id));
    const buttons = /** @type {HTMLButtonElement[]} */ ([...chart.querySelectorAll("button")]);
    expect(buttons.map((b) => b.getAttribute("aria-label")?.split(":")[0])).toEqual(
      nodes.map((n) => `tree diagram node ${n.path}`));
    expect(buttons.every((b) => b.type === "button" && b.tabIndex === 0)).toBe(true);
    expect(buttons[0].getAttribute("aria-label")).toBe("tree diagram node all rows: 48,842 rows, error rate 18.5%");
    buttons[11].click();
    expect(picked).toEqual([11]);
    expect(chart.querySelectorAll("[aria-current]")).toHaveLength(1);
    expect(buttons[7].getAttribute("aria-current")).toBe("true");
    expect(chart.querySelectorAll("g.el-tree-node.el-selected")).toHaveLength(1);
    expect(chart.querySelector("svg")?.getAttribute("aria-hidden")).toBe("true");
  });

  it("lays the hit areas of nodes apart and the fills on the shared scale", () => {
    const nodes = adultTree();
    const chart = buildTreeChart(nodes, () => {});
    const boxes = [...chart.querySelectorAll("button")].map((b) => {
      const s = /** @type {HTMLElement} */ (b).style;
      return { l: parseFloat(s.left), t: parseFloat(s.top), w: parseFloat(s.width), h: parseFloat(s.height) };
    });
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) {
        const apart = a.l + a.w <= b.l || b.l + b.w <= a.l || a.t + a.h <= b.t || b.t + b.h <= a.t;
        expect(apart).toBe(true);
      }
    }
    const fills = [...chart.querySelectorAll("g.el-tree-node circle")].map((c) => c.getAttribute("fill"));
    expect(fills[11]).toBe(rateColor(0.445, 0.45));
    expect(luma(fills[11] ?? "")).toBeLessThan(luma(fills[13] ?? ""));
  });
});
