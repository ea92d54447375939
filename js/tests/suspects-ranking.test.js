import { describe, expect, it } from "vitest";
import { HOSTILE, flush, mount, pageBytes } from "./suspects-harness.js";

describe("suspect browser re-ranking", () => {
  it("says when the order was updated from the reviews, and nothing before", async () => {
    const { m, el } = await mount();
    const line = /** @type {HTMLElement} */ (el.querySelector(".el-ranking"));
    expect(line.hidden).toBe(true);
    /** @type {HTMLButtonElement} */ (el.querySelector('button[aria-label="Next page"]')).click();
    const ask = m.last();
    expect(ask).toMatchObject({ type: "page", page: 1 });
    m.reply({ type: "reply", rid: ask.rid, error: null, page: 1, pages: 4, total: 10, offset: 3,
      token: 0, mode: "suspects", n_checked: 0, score_kind: "self_confidence",
      ranking: "re-ranked after 12 reviews" }, [pageBytes(3)]);
    await flush();
    expect(line.hidden).toBe(false);
    expect(line.textContent).toBe("re-ranked after 12 reviews: the next pages follow your decisions so far");
    expect(line.getAttribute("aria-live")).toBe("polite");
  });

  it("shows each row's reason as text, a hostile one included", async () => {
    const why = ["annotator ann3: est. 31% noise [24–38%]; p(given) 0.08", `annotator ${HOSTILE}: est. 3% noise`, null];
    const { el } = await mount({}, 3, { why });
    const shown = [...el.querySelectorAll(".el-why")].map((e) => e.textContent);
    expect(shown).toEqual(why.slice(0, 2));
    expect(el.querySelector("img")).toBeNull();
  });
});
