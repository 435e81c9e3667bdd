/**
 * One data-plane worker as the supervisor sees it: the thread, its comlink control proxy and the
 * main-side end of its mesh port. A slot outlives its threads: a respawn puts a fresh thread in the
 * same slot (same index, same load-board cell).
 *
 * Why every control call races the thread's exit: a comlink call to a thread that died never
 * settles, and a supervisor waiting on it would hang its drain or its admin answer.
 */
import { MessageChannel, Worker, type MessagePort, type ResourceLimits } from 'node:worker_threads';
import type * as Comlink from 'comlink';
import type { MeshMessage, SupervisorEvent, WorkerBoot, WorkerBootMessage, WorkerControl, WorkerTestControl } from '../types/messages.js';
import { wrapPort } from '../worker/comlink-endpoint.js';
import { takePrewarmed } from './prewarm.js';
import { workerResourceLimits } from './heap-limits.js';
import { logger, logSettings } from '../common/log.js';

const log = logger('supervisor');

export type SlotControl = Comlink.Remote<WorkerControl & Partial<WorkerTestControl>>;

export interface SlotSpawnOptions {
  entry: URL;
  workerCount: number;
  config: unknown;
  loadBoard: SharedArrayBuffer;
  /** V8 limits of the thread (`ringside.worker_heap`); absent: the defaults of heap-limits.ts. */
  resourceLimits?: ResourceLimits;
  onMesh: (msg: MeshMessage) => void;
  /** The thread ended without the supervisor asking; `cause` is what it reported or its exit code. */
  onUnexpectedExit: (cause: string) => void;
}

export class WorkerSlot {
  readonly index: number;
  #worker: Worker | null = null;
  #control: SlotControl | null = null;
  #mesh: MessagePort | null = null;
  #exited: Promise<never> = new Promise<never>(() => {});
  #stopping = false;
  /** When the current thread booted, to tell a crash loop from an occasional crash. */
  bootedAt = 0;
  generation = 0;

  constructor(index: number) {
    this.index = index;
  }

  get alive(): boolean {
    return this.#worker !== null;
  }

  get threadId(): number {
    return this.#worker?.threadId ?? -1;
  }

  /** Spawns a thread into this slot; resolves once it reported 'booted'. */
  spawn(opts: SlotSpawnOptions): Promise<void> {
    const control = new MessageChannel();
    const mesh = new MessageChannel();
    const boot: WorkerBoot = {
      kind: 'ringside-dataplane',
      workerIndex: this.index,
      workerCount: opts.workerCount,
      config: opts.config,
      controlPort: control.port2,
      meshPort: mesh.port2,
      loadBoard: opts.loadBoard,
      log: logSettings(),
    };
    // A thread the CLI prewarmed has its modules loaded (or loading) already; it gets its boot now.
    const transferList = [control.port2, mesh.port2];
    const resourceLimits = opts.resourceLimits ?? workerResourceLimits();
    const prewarmed = takePrewarmed(opts.entry, resourceLimits);
    const worker = prewarmed ?? new Worker(opts.entry, { workerData: boot, transferList, resourceLimits });
    if (prewarmed !== undefined) {
      log.info(`worker/${this.index} boots on a prewarmed thread`);
      prewarmed.postMessage({ type: 'boot', boot } satisfies WorkerBootMessage, transferList);
    }
    this.#worker = worker;
    this.#control = wrapPort<WorkerControl & Partial<WorkerTestControl>>(control.port1);
    this.#mesh = mesh.port1;
    this.#stopping = false;
    this.generation++;
    mesh.port1.on('message', (msg: MeshMessage) => opts.onMesh(msg));
    // Neither port may keep main alive on its own: the workers and signals decide when main ends.
    mesh.port1.unref();
    control.port1.unref();

    let fatal: string | undefined;
    let lastError: string | undefined;
    let booted = false;
    let rejectExit!: (err: Error) => void;
    this.#exited = new Promise<never>((_, reject) => (rejectExit = reject));
    this.#exited.catch(() => {}); // observed by call(); never an unhandled rejection

    return new Promise<void>((resolve, reject) => {
      worker.on('message', (event: SupervisorEvent) => {
        if (event.type === 'booted') {
          booted = true;
          this.bootedAt = Date.now();
          resolve();
        } else if (event.type === 'fatal') {
          fatal = event.message;
          log.error(`worker/${this.index} reported a fatal error: ${event.message}`, event.stack ?? '');
        }
      });
      worker.on('error', (err) => {
        lastError = err.stack ?? err.message;
      });
      worker.on('exit', (code) => {
        if (this.#worker !== worker) return;
        this.#worker = null;
        this.#control = null;
        this.#mesh?.close();
        this.#mesh = null;
        const cause = fatal ?? lastError ?? `exited with code ${code}`;
        rejectExit(new Error(`worker/${this.index} is gone (${cause})`));
        if (!booted) reject(new Error(`worker/${this.index} exited before it booted: ${cause}`));
        else if (!this.#stopping) opts.onUnexpectedExit(cause);
      });
    });
  }

  /** A control call that rejects instead of hanging if the thread dies first. */
  async call<T>(fn: (control: SlotControl) => Promise<T>): Promise<T> {
    const control = this.#control;
    if (control === null) throw new Error(`worker/${this.index} is not running`);
    return Promise.race([fn(control), this.#exited]);
  }

  /** Relays a MeshMessage to this worker; false when it has no live thread. */
  post(msg: MeshMessage): boolean {
    if (this.#mesh === null) return false;
    this.#mesh.postMessage(msg);
    return true;
  }

  /** Ends the thread on purpose (stop stage, or a worker that failed to start). */
  async terminate(): Promise<void> {
    const worker = this.#worker;
    if (worker === null) return;
    this.#stopping = true;
    await worker.terminate();
  }
}
