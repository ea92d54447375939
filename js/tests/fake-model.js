// A minimal stand-in for anywidget's model: get / set / on / off / send, in memory.

/**
 * @template {Record<string, any>} T
 * @param {T} state
 */
export function fakeModel(state) {
  /** @type {Map<string, Set<Function>>} */
  const handlers = new Map();
  /** @type {any[]} */
  const sent = [];
  const model = {
    sent,
    /** @param {keyof T} k */
    get: (k) => state[k],
    /** @param {keyof T} k @param {any} v */
    set(k, v) {
      state[k] = v;
      for (const fn of handlers.get(`change:${String(k)}`) ?? []) fn();
    },
    /** @param {string} name @param {Function} fn */
    on(name, fn) {
      if (!handlers.has(name)) handlers.set(name, new Set());
      handlers.get(name)?.add(fn);
    },
    /** @param {string} name @param {Function} fn */
    off(name, fn) {
      handlers.get(name)?.delete(fn);
    },
    save_changes() {},
    /** @param {any} msg */
    send(msg) {
      sent.push(msg);
    },
    /** Deliver a custom message from the kernel. @param {any} msg */
    receive(msg) {
      for (const fn of handlers.get("msg:custom") ?? []) fn(msg, []);
    },
    widget_manager: { get_model: async () => { throw new Error("no models"); } },
  };
  return model;
}
