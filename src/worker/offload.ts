/**
 * The per-worker offload pool: piscina threads for CPU-heavy work a filter must not run on the
 * data-plane loop (MOSN's workerpool.Schedule). Sized by `ringside.offload.threads`; resizable at run
 * time through WorkerControl.resizeOffloadPool.
 *
 * Why resize by replacement: piscina 5 fixes min/maxThreads at construction. A resize builds a new
 * pool, routes new tasks to it at once, and closes the old one gracefully so tasks already queued
 * there still finish — callers never see a resize.
 *
 * Why bytes move instead of being cloned: a task's body crosses to the pool thread and its result
 * comes back by transfer (postMessage transferList; piscina's move() on the way back) rather than by
 * structured clone, which copies the whole backing ArrayBuffer twice (serialise, then deserialise) —
 * for a view into Node's Buffer pool or into a bigger buffer, more than the view itself. A body the
 * caller gives away (`give`: a compressor's gathered body) that spans its own ArrayBuffer moves as it
 * is, with no copy, and is detached from the caller; any other body is copied once into an exact
 * buffer, and the copy moves. The pool thread does the same with its result (offload-thread.ts).
 * `offload.transferred` and `offload.copied` count the two cases.
 *
 * Why started on first use: N data-plane workers each own a pool, and most sidecars never offload
 * anything (no compressor, no large transcoding). piscina is imported and the pool built only when
 * the first task arrives, so an idle worker pays neither the module nor the pool; with minThreads = 0
 * threads start on demand and retire after `idleTimeoutMs` without work.
 */
import type { Piscina } from 'piscina';
import type { OffloadRunOptions } from '../types/offload.js';
import { logger } from '../common/log.js';
import { counter } from '../common/counters.js';
import { runOffloadTask, type OffloadResult, type OffloadTask } from './offload-tasks.js';
import { exactCopy, spansOwnBuffer } from './offload-bytes.js';

const log = logger('offload');
const transferred = counter('offload.transferred');
const copied = counter('offload.copied');


export interface OffloadPoolOptions {
  /** 0 runs tasks inline on the calling loop (for tiny deployments and tests). */
  threads: number;
  idleTimeoutMs?: number;
  /** Task file; defaults to the compiled workers/offload.js next to this build. */
  filename?: string;
}

export interface OffloadStats {
  threads: number;
  completed: number;
  queued: number;
  inline: number;
}

export class OffloadPool {
  readonly #filename: string;
  readonly #idleTimeoutMs: number;
  #pool: Piscina<OffloadTask, Uint8Array> | null = null;
  /** The pool being built by the first task (piscina is imported then). */
  #starting: Promise<Piscina<OffloadTask, Uint8Array>> | null = null;
  #threads = 0;
  /** Completed counts of pools already replaced by a resize, so stats stay monotonic. */
  #retiredCompleted = 0;
  #inline = 0;
  #closed = false;

  constructor(opts: OffloadPoolOptions) {
    this.#filename = opts.filename ?? new URL('../../workers/offload.js', import.meta.url).href;
    this.#idleTimeoutMs = opts.idleTimeoutMs ?? 30_000;
    this.#install(opts.threads);
  }

  get threads(): number {
    return this.#threads;
  }

  /**
   * Called by a filter for each heavy task; the promise settles with the task's typed result. With
   * `give`, a body that spans its own ArrayBuffer is detached from the caller (moved to the pool).
   */
  async run<T extends OffloadTask>(task: T, opts?: OffloadRunOptions): Promise<OffloadResult<T>> {
    if (this.#closed) throw new Error('offload pool is closed');
    if (this.#threads === 0) {
      this.#inline++;
      return runOffloadTask(task);
    }
    const pool = this.#pool ?? (await this.#start());
    const given = opts?.give === true && spansOwnBuffer(task.data);
    const data = given ? task.data : exactCopy(task.data);
    if (given) transferred.inc();
    else copied.inc();
    const out = await pool.run(data === task.data ? task : { ...task, data }, { transferList: [data.buffer as ArrayBuffer] });
    // The result arrives as a plain Uint8Array over the moved buffer; callers want Buffer semantics.
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  }

  /** Called through WorkerControl.resizeOffloadPool; resolves once new tasks go to the new size. */
  async resize(threads: number): Promise<void> {
    if (!Number.isInteger(threads) || threads < 0) throw new RangeError(`offload threads must be an integer ≥ 0, got ${threads}`);
    if (this.#closed) throw new Error('offload pool is closed');
    if (threads === this.#threads) return;
    const old = this.#pool;
    this.#pool = null;
    this.#starting = null;
    this.#install(threads);
    log.info(`offload pool resized to ${threads} thread(s)`);
    if (old !== null) {
      this.#retiredCompleted += old.completed;
      // Not awaited: queued tasks on the old pool finish in the background.
      old.close().catch((err: unknown) => log.warn('closing the replaced offload pool failed', err));
    }
  }

  stats(): OffloadStats {
    const pool = this.#pool;
    return {
      threads: this.#threads,
      completed: this.#retiredCompleted + (pool?.completed ?? 0),
      queued: pool?.queueSize ?? 0,
      inline: this.#inline,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const pool = this.#pool;
    this.#pool = null;
    if (pool !== null) await pool.close();
  }

  /** Sets the size; the pool itself is built by the first task that needs it. */
  #install(threads: number): void {
    this.#threads = threads;
  }

  #start(): Promise<Piscina<OffloadTask, Uint8Array>> {
    if (this.#starting !== null) return this.#starting;
    const threads = this.#threads;
    const starting: Promise<Piscina<OffloadTask, Uint8Array>> = import('piscina').then(({ Piscina: PiscinaPool }) => {
      const pool = new PiscinaPool<OffloadTask, Uint8Array>({
        filename: this.#filename,
        minThreads: 0,
        maxThreads: threads,
        idleTimeout: this.#idleTimeoutMs,
      });
      // Closed or resized while piscina loaded: this pool is stale, the current one takes the task.
      if (this.#closed || this.#starting !== starting) {
        void pool.close();
        if (this.#closed) throw new Error('offload pool is closed');
        return this.#pool ?? this.#start();
      }
      this.#pool = pool;
      return pool;
    });
    this.#starting = starting;
    return starting;
  }
}

/** Reads `ringside.offload.threads`, defaulting to one thread per data-plane worker. */
export function offloadThreadsFrom(ringside: unknown): number {
  const t = (ringside as { offload?: { threads?: unknown } } | undefined)?.offload?.threads;
  return typeof t === 'number' && Number.isInteger(t) && t >= 0 ? t : 1;
}
