/**
 * The load board: per worker, two Int32 cells in one SharedArrayBuffer — its active connection count
 * (cell i) and its event-loop utilization in per-mille (cell workers + i). Each worker writes only
 * its own cells; the scheduler on any worker reads all of them without a message round trip, which
 * is what makes a placement decision cheap enough to take per new in-process connection.
 */
export interface WorkerLoad {
  /** Event-loop utilization, 0..1, smoothed over the last few hundred ms. */
  elu: number;
  connections: number;
}

export class LoadBoard {
  readonly #cells: Int32Array;
  readonly #workers: number;

  constructor(buffer: SharedArrayBuffer) {
    this.#cells = new Int32Array(buffer);
    this.#workers = this.#cells.length >> 1;
  }

  /** Allocates a board for `workers` workers (called once by the supervisor). */
  static allocate(workers: number): SharedArrayBuffer {
    return new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * 2 * Math.max(1, workers));
  }

  get size(): number {
    return this.#workers;
  }

  /** Called by the worker that owns slot `index`. */
  set(index: number, activeConnections: number): void {
    Atomics.store(this.#cells, index, activeConnections);
  }

  /** Called by the worker that owns slot `index`; `elu` in 0..1. */
  setUtilization(index: number, elu: number): void {
    Atomics.store(this.#cells, this.#workers + index, Math.round(Math.min(1, Math.max(0, elu)) * 1000));
  }

  /** A dead worker's slot reads as idle and empty until its successor publishes. */
  clear(index: number): void {
    this.set(index, 0);
    Atomics.store(this.#cells, this.#workers + index, 0);
  }

  /** Worker `index`'s published event-loop utilization, 0..1 (one atomic read, no allocation). */
  utilization(index: number): number {
    return Atomics.load(this.#cells, this.#workers + index) / 1000;
  }

  get(index: number): number {
    return Atomics.load(this.#cells, index);
  }

  snapshot(): WorkerLoad[] {
    const out = new Array<WorkerLoad>(this.#workers);
    for (let i = 0; i < this.#workers; i++) {
      out[i] = { connections: Atomics.load(this.#cells, i), elu: Atomics.load(this.#cells, this.#workers + i) / 1000 };
    }
    return out;
  }
}
