// Request / response with the kernel over anywidget custom messages.

export const TIMEOUT_MS = 60_000;

/**
 * Request / response over anywidget custom messages: every request gets a `rid`, the kernel's
 * reply carries it back (with `error` set when it refused).
 * @param {import("@anywidget/types").AnyModel<any>} model
 */
export function messenger(model) {
  let next = 0;
  /** @type {Map<number, (r: { msg: any, buffers: any[] }) => void>} */
  const pending = new Map();
  /** @param {any} msg @param {any[]} [buffers] */
  const onMsg = (msg, buffers) => {
    const done = msg && pending.get(msg.rid);
    if (done) {
      pending.delete(msg.rid);
      done({ msg, buffers: buffers ?? [] });
    }
  };
  model.on("msg:custom", onMsg);
  return {
    /**
     * @param {Record<string, any>} msg
     * @returns {Promise<{ msg: any, buffers: any[] }>}
     */
    request(msg) {
      const rid = ++next;
      return new Promise((resolve) => {
        pending.set(rid, resolve);
        setTimeout(() => {
          if (pending.delete(rid)) {
            resolve({ msg: { rid, error: "the kernel did not answer in time (is it busy or dead?)" }, buffers: [] });
          }
        }, TIMEOUT_MS);
        model.send({ ...msg, rid });
      });
    },
    stop() { model.off("msg:custom", onMsg); },
  };
}
