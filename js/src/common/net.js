// The one request / reply messenger of every errlens view (see docs/architecture.md).
//
// The view sends `{type, rid, ...fields}`; the kernel's dispatcher answers each request once
// with `{type: "reply", rid, error, ...fields}` + buffers. A reply that matches no pending
// request (it came after its timeout, or is no reply at all) is ignored; a request the kernel
// does not answer in time resolves with an error, so no control waits forever.

export const TIMEOUT_MS = 60_000;
export const TIMED_OUT = "the kernel did not answer in time (is it busy or dead?)";

/**
 * @typedef {{ type: "reply", rid: number, error: string | null, [field: string]: any }} ReplyMsg
 * @typedef {{ msg: ReplyMsg, buffers: any[] }} Reply
 * @typedef {{ request: (msg: Record<string, any>) => Promise<Reply>, stop: () => void }} Messenger
 */

/**
 * Request / reply over anywidget custom messages: every request gets the next `rid`.
 * @param {import("@anywidget/types").AnyModel<any>} model
 * @param {{ timeout?: number }} [opts]  milliseconds before a request gives up
 * @returns {Messenger}
 * @example
 * const net = messenger(model);
 * const { msg } = await net.request({ type: "normalize", normalize: "true" });
 * if (msg.error) show(msg.error);
 */
export function messenger(model, { timeout = TIMEOUT_MS } = {}) {
  let next = 0;
  /** @type {Map<number, { resolve: (r: Reply) => void, timer: ReturnType<typeof setTimeout> }>} */
  const pending = new Map();
  /** @param {any} msg @param {any[]} [buffers] */
  const onMsg = (msg, buffers) => {
    if (!msg || msg.type !== "reply") return;
    const wait = pending.get(msg.rid);
    if (!wait) return;
    pending.delete(msg.rid);
    clearTimeout(wait.timer);
    const error = typeof msg.error === "string" && msg.error ? msg.error : null;
    wait.resolve({ msg: { ...msg, error }, buffers: buffers ?? [] });
  };
  model.on("msg:custom", onMsg);
  return {
    request(msg) {
      const rid = ++next;
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          if (pending.delete(rid)) resolve({ msg: { type: "reply", rid, error: TIMED_OUT }, buffers: [] });
        }, timeout);
        pending.set(rid, { resolve, timer });
        model.send({ ...msg, rid });
      });
    },
    stop() {
      model.off("msg:custom", onMsg);
      for (const { timer } of pending.values()) clearTimeout(timer);
      pending.clear();
    },
  };
}
