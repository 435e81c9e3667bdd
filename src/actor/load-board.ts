/**
 * The load board: per worker, three Int32 cells in one SharedArrayBuffer — its active connection
 * count (cell i), its event-loop utilization in per-mille (cell workers + i) and its channel backlog
 * in tenths of a call (cell 2·workers + i: calls waiting for a channel pool connection, time-averaged,
 * see backlog.ts). Each worker writes only its own cells; the scheduler on any worker reads all of
 * them without a message round trip, which is what makes a placement decision cheap enough to take
 * per new in-process connection and a re-placement check per call given back to a pool.
 *
 * The buffer begins with the process's doorbell table (src/ring/bells.ts, one slot per worker), so the
 * one buffer every worker already receives at boot also carries each worker's ring doorbell.
 */
import { BellTable } from '../ring/bells.js';

export interface WorkerLoad {
  /** Event-loop utilization, 0..1, smoothed over the last few hundred ms. */
  elu: number;
  connections: number;
  /** Calls waiting for a channel pool connection on that worker, time-averaged and smoothed alike. */
  backlog: number;
}

const CELLS_PER_WORKER = 3;

export class LoadBoard {
  readonly #cells: Int32Array;
  readonly #workers: number;

  constructor(buffer: SharedArrayBuffer) {
    const bells = new BellTable(buffer);
    this.#workers = bells.slots;
    this.#cells = new Int32Array(buffer, BellTable.bytesFor(bells.slots), CELLS_PER_WORKER * bells.slots);
  }

  /** Allocates a board for `workers` workers (called once by the supervisor). */
  static allocate(workers: number): SharedArrayBuffer {
    const n = Math.max(1, workers);
    const sab = new SharedArrayBuffer(BellTable.bytesFor(n) + Int32Array.BYTES_PER_ELEMENT * CELLS_PER_WORKER * n);
    BellTable.initialize(sab, n);
    return sab;
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

  /** Called by the worker that owns slot `index`; `calls` waiting for a channel connection (≥ 0). */
  setBacklog(index: number, calls: number): void {
    Atomics.store(this.#cells, 2 * this.#workers + index, Math.round(Math.min(1e8, Math.max(0, calls)) * 10));
  }

  /** A dead worker's slot reads as idle and empty until its successor publishes. */
  clear(index: number): void {
    this.set(index, 0);
    Atomics.store(this.#cells, this.#workers + index, 0);
    Atomics.store(this.#cells, 2 * this.#workers + index, 0);
  }

  /** Worker `index`'s published event-loop utilization, 0..1 (one atomic read, no allocation). */
  utilization(index: number): number {
    return Atomics.load(this.#cells, this.#workers + index) / 1000;
  }

  /** Worker `index`'s published channel backlog in calls (one atomic read, no allocation). */
  backlog(index: number): number {
    return Atomics.load(this.#cells, 2 * this.#workers + index) / 10;
  }

  get(index: number): number {
    return Atomics.load(this.#cells, index);
  }

  snapshot(): WorkerLoad[] {
    const out = new Array<WorkerLoad>(this.#workers);
    for (let i = 0; i < this.#workers; i++) out[i] = this.load(i);
    return out;
  }

  load(index: number): WorkerLoad {
    return { connections: this.get(index), elu: this.utilization(index), backlog: this.backlog(index) };
  }
}
