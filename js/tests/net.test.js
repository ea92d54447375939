// The one messenger of every view: rid per request, the matching reply, a timeout, no leaks.
import { afterEach, describe, expect, it, vi } from "vitest";
import { messenger, TIMED_OUT, TIMEOUT_MS } from "../src/common/net.js";
import { fakeModel } from "./fake-model.js";

/** A fake model: `deliver` is the kernel sending a custom message with buffers. */
function kernel() {
  const model = /** @type {any} */ (fakeModel({}));
  /** @type {Set<Function>} */
  const listeners = new Set();
  const on = model.on, off = model.off;
  model.on = (/** @type {string} */ name, /** @type {Function} */ fn) => { if (name === "msg:custom") listeners.add(fn); on(name, fn); };
  model.off = (/** @type {string} */ name, /** @type {Function} */ fn) => { listeners.delete(fn); off(name, fn); };
  /** @param {any} msg @param {any[]} [buffers] */
  const deliver = (msg, buffers = []) => { for (const fn of listeners) fn(msg, buffers); };
  return { model, deliver, listeners };
}

afterEach(() => vi.useRealTimers());

describe("messenger", () => {
  it("numbers requests and resolves each with its own reply and buffers", async () => {
    const { model, deliver } = kernel();
    const net = messenger(model);
    const first = net.request({ type: "page", page: 0 });
    const second = net.request({ type: "detail", id: "adult-7" });
    expect(model.sent).toEqual([{ type: "page", page: 0, rid: 1 }, { type: "detail", id: "adult-7", rid: 2 }]);
    const table = new Uint8Array([1, 2, 3]);
    deliver({ type: "reply", rid: 2, error: null, id: "adult-7" }); // the other order
    deliver({ type: "reply", rid: 1, error: null, total: 3 }, [table]);
    expect(await second).toEqual({ msg: { type: "reply", rid: 2, error: null, id: "adult-7" }, buffers: [] });
    expect(await first).toEqual({ msg: { type: "reply", rid: 1, error: null, total: 3 }, buffers: [table] });
  });

  it("passes the kernel's error through, and an empty error counts as none", async () => {
    const { model, deliver } = kernel();
    const net = messenger(model);
    const refused = net.request({ type: "action", action: "relabel" });
    deliver({ type: "reply", rid: 1, error: "stale row: sample 'adult-0' is now labelled '>50K'" });
    expect((await refused).msg.error).toBe("stale row: sample 'adult-0' is now labelled '>50K'");
    const fine = net.request({ type: "check", clear: true });
    deliver({ type: "reply", rid: 2, error: "" });
    expect((await fine).msg.error).toBeNull();
  });

  it("ignores replies that match no pending request, and messages that are no replies", async () => {
    vi.useFakeTimers();
    const { model, deliver } = kernel();
    const net = messenger(model, { timeout: 1000 });
    let settled = /** @type {any} */ (null);
    net.request({ type: "similar", id: 1 }).then((r) => { settled = r; });
    deliver({ type: "reply", rid: 99, error: null });  // another request's (or a stale) reply
    deliver({ type: "page", rid: 1, error: null });    // not a reply at all
    deliver({ rid: 1 });
    deliver(null);
    await vi.advanceTimersByTimeAsync(10);
    expect(settled).toBeNull();
    deliver({ type: "reply", rid: 1, error: null, of: 1 });
    await vi.advanceTimersByTimeAsync(0);
    expect(settled.msg.of).toBe(1);
    deliver({ type: "reply", rid: 1, error: "late duplicate" }); // answered once only
    await vi.advanceTimersByTimeAsync(0);
    expect(settled.msg.error).toBeNull();
  });

  it("gives up after the timeout with an error, and ignores the reply that comes later", async () => {
    vi.useFakeTimers();
    const { model, deliver } = kernel();
    const net = messenger(model);
    let settled = /** @type {any} */ (null);
    net.request({ type: "page", page: 0 }).then((r) => { settled = r; });
    await vi.advanceTimersByTimeAsync(TIMEOUT_MS - 1);
    expect(settled).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    expect(settled).toEqual({ msg: { type: "reply", rid: 1, error: TIMED_OUT }, buffers: [] });
    deliver({ type: "reply", rid: 1, error: null, total: 5 });
    await vi.advanceTimersByTimeAsync(0);
    expect(settled.msg.error).toBe(TIMED_OUT);
  });

  it("stops listening and leaves no timer behind", async () => {
    vi.useFakeTimers();
    const { model, listeners } = kernel();
    const net = messenger(model);
    net.request({ type: "page", page: 0 });
    expect(vi.getTimerCount()).toBe(1);
    expect(listeners.size).toBe(1);
    net.stop();
    expect(vi.getTimerCount()).toBe(0);
    expect(listeners.size).toBe(0);
  });
});
