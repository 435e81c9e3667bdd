/**
 * The load board: one Int32 slot per worker in a SharedArrayBuffer, holding that worker's active
 * connection count. Each worker writes only its own slot; the scheduler on any worker reads all of
 * them without a message round trip, which is what makes a placement decision cheap enough to take
 * per new in-process connection.
 */
export class LoadBoard {
  readonly #slots: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.#slots = new Int32Array(buffer);
  }

  /** Allocates a board for `workers` slots (called once by the supervisor). */
  static allocate(workers: number): SharedArrayBuffer {
    return new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * Math.max(1, workers));
  }

  get size(): number {
    return this.#slots.length;
  }

  /** Called by the worker that owns slot `index`. */
  set(index: number, activeConnections: number): void {
    Atomics.store(this.#slots, index, activeConnections);
  }

  get(index: number): number {
    return Atomics.load(this.#slots, index);
  }

  snapshot(): number[] {
    const out = new Array<number>(this.#slots.length);
    for (let i = 0; i < this.#slots.length; i++) out[i] = Atomics.load(this.#slots, i);
    return out;
  }
}
