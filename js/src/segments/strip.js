// Sample strips: a few rows of a slice, concept or cluster beside its figures (a text snippet
// or a thumbnail each, errors marked), and the clusters of a cluster feature with theirs. The
// kernel sends at most five samples per slice shown; text goes in as textContent, and only
// its PNG data URLs become images.
import { THUMB_PREFIX, button, h, int, pct } from "../common/dom.js";

/**
 * @typedef {{ id: string, given: string, predicted: string, error: boolean,
 *   text?: string | null, thumb?: string | null }} Sample
 * @typedef {{ label: string, n: number, error_rate: number | null, terms: string[],
 *   region_error_rate?: number | null, core?: number,
 *   segment: string | null, jaccard?: number | null, samples: Sample[], selected?: boolean }} Cluster
 * @typedef {{ feature: string, method: string, note: string, clusters: Cluster[] }} ClusterFeature
 */

/**
 * One strip: a list of samples, errors marked (class and text), each titled with its labels.
 * @param {Sample[]} samples
 * @param {string} of  what the samples are of (the strip's accessible name)
 * @returns {HTMLElement}
 */
export function buildStrip(samples, of) {
  return h("div", { cls: "el-strip", attrs: { role: "list", "aria-label": `samples of ${of}` } },
    samples.map((s) => {
      const labels = `${s.id}: given ${s.given}, predicted ${s.predicted}${s.error ? " (error)" : ""}`;
      /** @type {HTMLElement} */
      let body;
      if (typeof s.thumb === "string" && s.thumb.startsWith(THUMB_PREFIX)) {
        const img = h("img", { cls: "el-thumb", attrs: { alt: `image of ${s.id}` } });
        img.src = s.thumb;
        body = img;
      } else {
        body = h("span", { cls: "el-snippet", text: s.text ?? "–" });
      }
      const item = h("div", { cls: s.error ? "el-sample el-sample-error" : "el-sample",
        attrs: { role: "listitem", title: labels } }, [body]);
      if (s.error) item.appendChild(h("span", { cls: "el-sr", text: " (error)" }));
      return item;
    }));
}

/**
 * The clusters of one cluster feature (worst first): the label button selects the cluster as
 * its bar does; the error rate of its region of the embedding (what ranks it) and the share of
 * its rows inside that region, its top terms, the segment it best matches and its most typical
 * samples.
 * @param {ClusterFeature} cf
 * @param {(label: string) => void} onSelect
 * @returns {HTMLElement[]}
 */
export function buildClusters(cf, onSelect) {
  const items = cf.clusters.map((c) => {
    // the segment it best matches, only as close as the kernel found it (Jaccard ≥ 0.5)
    const overlap = typeof c.jaccard === "number" ? ` (Jaccard ${c.jaccard.toFixed(2)})` : "";
    const what = [c.terms.length ? c.terms.join(", ") : null, c.segment ? `≈ ${c.segment}${overlap}` : null]
      .filter(Boolean).join(" · ");
    // ranked by its region: the rows the embedding alone puts in it (core: its rows in there)
    const region = typeof c.region_error_rate === "number"
      ? ` · region ${pct(c.region_error_rate)}, core ${pct(c.core ?? null)}` : "";
    const pick = button(`select ${cf.feature} ${c.label}: error rate ${pct(c.error_rate)}, ${int(c.n)} rows`,
      [h("strong", { text: c.label }), h("span", { cls: "el-muted", text: ` ${pct(c.error_rate)} · ${int(c.n)} rows${region}` })],
      () => onSelect(c.label), { cls: "el-link" });
    return h("div", { cls: "el-cluster", attrs: { role: "listitem" } }, [
      pick, what ? h("span", { cls: "el-cluster-what", text: ` ${what}` }) : null,
      c.samples.length ? buildStrip(c.samples, `${cf.feature} ${c.label}`) : null,
    ]);
  });
  return [
    h("h4", { text: `Clusters of ${cf.feature} (all rows)` }),
    h("p", { cls: "el-muted", text: `${cf.method}: ${cf.note}` }),
    h("div", { cls: "el-clusters", attrs: { role: "list", "aria-label": `clusters of ${cf.feature}` } }, items),
  ];
}
