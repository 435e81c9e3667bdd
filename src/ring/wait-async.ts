/**
 * Atomics.waitAsync, typed: ES2024, while the project's lib is ES2023 (Node 20 has the function).
 * Shared by the per-ring doorbell (byte-ring.ts) and the per-thread one (bells.ts).
 */
export type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };

export const atomicsWaitAsync = (Atomics as unknown as { waitAsync(ta: Int32Array, index: number, value: number): WaitAsyncResult }).waitAsync.bind(Atomics);
