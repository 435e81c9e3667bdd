/**
 * The cross-worker RingPipes the supervisor relayed, by the workers at their two ends. A pipe's SABs
 * outlive a worker that dies, so nothing on the dead side will ever close it: when a worker exits, the
 * supervisor resets every pipe it held, and the survivor's end sees onClose(reason) at once instead of
 * waiting on a peer that is gone.
 */
import type { RingPipeDescriptor } from '../types/ring.js';
import { resetRingPipe, ringPipeFinished } from '../ring/index.js';

/** Finished pipes are swept out every this many recorded dials, so the table stays small. */
const sweepEvery = 64;

export class PipeRegistry {
  readonly #byWorker = new Map<number, Map<number, RingPipeDescriptor>>();
  #recorded = 0;

  /** Called for every relayed pipe.dial. */
  record(fromWorker: number, toWorker: number, descriptor: RingPipeDescriptor): void {
    for (const w of [fromWorker, toWorker]) {
      let pipes = this.#byWorker.get(w);
      if (pipes === undefined) this.#byWorker.set(w, (pipes = new Map()));
      pipes.set(descriptor.pipeId, descriptor);
    }
    if (++this.#recorded % sweepEvery === 0) this.sweep();
  }

  /** Called when a worker's thread ended; answers how many live pipes were reset. */
  workerExited(worker: number): number {
    const pipes = this.#byWorker.get(worker);
    if (pipes === undefined) return 0;
    this.#byWorker.delete(worker);
    let reset = 0;
    for (const d of pipes.values()) {
      if (!ringPipeFinished(d) && resetRingPipe(d, `worker/${worker} exited`)) reset++;
      for (const other of this.#byWorker.values()) other.delete(d.pipeId);
    }
    return reset;
  }

  /** Forgets pipes that are reset or closed from both ends. */
  sweep(): void {
    for (const pipes of this.#byWorker.values()) {
      for (const [id, d] of pipes) if (ringPipeFinished(d)) pipes.delete(id);
    }
  }

  /** Pipes still open, each counted once (a pipe is listed under both of its workers). */
  openCount(): number {
    const open = new Set<number>();
    for (const pipes of this.#byWorker.values()) for (const [id, d] of pipes) if (!ringPipeFinished(d)) open.add(id);
    return open.size;
  }

  get size(): number {
    let n = 0;
    for (const pipes of this.#byWorker.values()) n += pipes.size;
    return n;
  }
}
