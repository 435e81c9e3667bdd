/**
 * Bytes ready to be moved to another thread (a postMessage transfer), shared by the worker's side of
 * the offload pool (offload.ts) and the pool threads (offload-thread.ts). A module of its own so a
 * pool thread loads nothing else of the worker.
 */

/**
 * The bytes of `view` as a view spanning an ArrayBuffer of their own: `view` itself when it already
 * spans its whole (non-shared) ArrayBuffer, else an exact copy — a slice of Node's Buffer pool or of a
 * bigger buffer must not take the rest of that buffer along (nor detach it from its other users).
 */
export function movableBytes(view: Uint8Array): Uint8Array {
  return spansOwnBuffer(view) ? view : exactCopy(view);
}

/** True when `view` covers its whole, non-shared ArrayBuffer (nothing else lives in that buffer). */
export function spansOwnBuffer(view: Uint8Array): boolean {
  const b = view.buffer;
  return b instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === b.byteLength;
}

export function exactCopy(view: Uint8Array): Uint8Array {
  const own = new Uint8Array(view.byteLength);
  own.set(view);
  return own;
}
