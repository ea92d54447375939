// Page rows arrive as Arrow IPC bytes (pyarrow in the kernel); flechette decodes them.
import { tableFromIPC } from "@uwdata/flechette";

/**
 * @typedef {{ id: string | number, given: string, predicted: string,
 *   given_code: number | null, predicted_code: number | null, p_given: number | null,
 *   p_pred: number | null, score: number | null, flagged: boolean | null, rank: number | null,
 *   text?: string | null, thumb?: string | null, why?: string | null, current?: string | null,
 *   current_code?: number | null, n_events?: number, last_op?: string | null,
 *   checked: boolean, [feature: string]: any }} Row
 */

/**
 * Decode the first buffer of a kernel reply into row objects.
 * @param {(DataView | ArrayBuffer | Uint8Array)[]} buffers
 * @returns {Row[]}
 */
export function decodeRows(buffers) {
  const first = buffers?.[0];
  if (!first) throw new Error("the page reply carried no rows buffer");
  const bytes = first instanceof Uint8Array ? first
    : first instanceof ArrayBuffer ? new Uint8Array(first)
      : new Uint8Array(first.buffer, first.byteOffset, first.byteLength);
  return /** @type {Row[]} */ (tableFromIPC(bytes).toArray());
}

export { THUMB_PREFIX } from "../common/dom.js";
