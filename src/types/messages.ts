/**
 * Every message that crosses a thread boundary, in one module.
 *
 *   main (CLI) ──ConfigCheckMessage──▶ a prewarmed thread ──ConfigCheckReply──▶ main   (before any boot)
 *   main (supervisor) ──workerData: WorkerBoot (or a WorkerBootMessage to a prewarmed thread)──▶ worker i
 *   main ──comlink: WorkerControl (start, apply, drain, stats, metrics, resize)──▶ worker i
 *   worker i ──SupervisorEvent (ready, fatal, load)──────────▶ main
 *   worker i ──MeshMessage──▶ main ──MeshMessage──▶ worker j   (placing a RingPipe's far end)
 *
 * Control calls travel over comlink (its own wire format, typed by WorkerControl). Everything else is a
 * member of the unions below, posted on the worker's `parentPort` (SupervisorEvent) or on the mesh
 * MessagePort handed over at boot (MeshMessage).
 */
import type { MessagePort } from 'node:worker_threads';
import type { RingPipeDescriptor } from './ring.js';
import type { LogSettings, MetricFamily } from './observability.js';
import type { RunLoopStats } from './actor.js';

/**
 * workerData of a thread started before the config was validated (src/supervisor/prewarm.ts): it
 * loads the data plane's modules at once and waits for its WorkerBoot in a WorkerBootMessage.
 */
export interface WorkerPrewarm {
  readonly kind: 'ringside-prewarm';
}

/** The first message to a prewarmed thread: its boot, with both ports in the transfer list. */
export interface WorkerBootMessage {
  readonly type: 'boot';
  readonly boot: WorkerBoot;
}

/**
 * Main → a prewarmed thread, before its boot: load and validate the start-up config with the whole
 * loader (schema, cross-references, the dry build of routers and clusters), so the main thread never
 * loads the config schema or the data plane (src/supervisor/config-check.ts).
 */
export interface ConfigCheckMessage {
  readonly type: 'check-config';
  readonly id: number;
  /** The -c file, or undefined for the embedded default config. */
  readonly file: string | undefined;
  /** The environment the loader reads (DAPR_GRPC_PORT, DAPR_HTTP_PORT, DAPR_API_TOKEN). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The answer to a ConfigCheckMessage, posted on the thread's parentPort. */
export type ConfigCheckReply =
  | { readonly type: 'config-checked'; readonly id: number; readonly ok: true; readonly loaded: { config: unknown; warnings: string[]; source: string } }
  | { readonly type: 'config-checked'; readonly id: number; readonly ok: false; readonly source: string; readonly issues: { path: string; message: string }[] }
  | { readonly type: 'config-checked'; readonly id: number; readonly ok: false; readonly failure: string };

/** Handed to each worker as workerData when it is spawned (or respawned), or in a WorkerBootMessage. */
export interface WorkerBoot {
  readonly kind: 'ringside-dataplane';
  readonly workerIndex: number;
  readonly workerCount: number;
  /** The validated config, as plain JSON (structured clone). */
  readonly config: unknown;
  /** Port on which the worker exposes WorkerControl through comlink. */
  readonly controlPort: MessagePort;
  /** Port for MeshMessages, relayed by the supervisor to other workers. */
  readonly meshPort: MessagePort;
  /**
   * Load reports of all workers, written by each for itself: Int32 cell i = worker i's active
   * connections; cell workerCount + i = its event-loop utilization in per-mille (src/actor/load-board.ts).
   */
  readonly loadBoard: SharedArrayBuffer;
  /** The supervisor's log level and format, so every thread logs alike. */
  readonly log: LogSettings;
}

export interface ListenerReady {
  name: string;
  address: string;
}

export interface WorkerStats {
  workerIndex: number;
  activeConnections: number;
  totalConnections: number;
  listeners: { name: string; address: string; activeConnections: number; totalConnections: number }[];
  /** The worker's run loop: totals and, under `kinds`, per actor kind (live, messages, queued, turns, crashes, dead letters). */
  actors: RunLoopStats;
  /** Counters by name, e.g. "proxy.phase.MatchRoute", "upstream.cx_connect_fail". */
  counters: Record<string, number>;
  memory: ThreadMemory;
  /** The young-generation limit V8 gave this thread (MiB, `ringside.worker_heap`); absent on a thread started without limits. */
  maxYoungGenerationMb?: number;
  /** User + system CPU seconds this worker thread has used since it started (/proc/thread-self/stat); absent off Linux. */
  cpuSeconds?: number;
}

/**
 * One thread's memory, bytes: its V8 heap (used and committed), what V8 itself allocated with malloc
 * outside the heap (malloced), and the off-heap external memory and ArrayBuffers its objects hold
 * (process.memoryUsage() and v8.getHeapStatistics() on that thread; external and arrayBuffers are
 * per thread there too). RSS is only known for the whole process.
 */
export interface ThreadMemory {
  heapUsed: number;
  heapTotal: number;
  malloced: number;
  external: number;
  arrayBuffers: number;
}

export interface DrainResult {
  /** Connections that finished on their own before the deadline. */
  finished: number;
  /** Connections closed at the deadline. */
  forced: number;
}

/** The control API a worker exposes to the supervisor over comlink. */
export interface WorkerControl {
  /**
   * Starts every listener; resolves when all accept, rejects with the reason when one cannot.
   * `bound` carries the addresses another worker already bound: a listener configured with port 0
   * takes the port worker 0 got, so every worker's fd serves one address (SO_REUSEPORT).
   */
  start(bound?: ListenerReady[]): Promise<ListenerReady[]>;
  /**
   * Config reload: puts `config` (validated on the main thread) in force — unchanged listeners keep
   * their sockets and connections, new ones bind (`bound` as for start), replaced and removed ones
   * drain; routers and clusters are swapped between requests. Rejects with nothing changed when this
   * worker cannot apply it. Resolves with every listener in service and its address.
   */
  apply(config: unknown, bound: ListenerReady[]): Promise<ListenerReady[]>;
  /** Stops accepting, waits up to timeoutMs for in-flight work, then closes what is left. */
  drain(timeoutMs: number): Promise<DrainResult>;
  stats(): Promise<WorkerStats>;
  /** This worker's metric families for the supervisor's /metrics (prom-client getMetricsAsJSON shape). */
  metrics(): Promise<MetricFamily[]>;
  /** Resizes this worker's piscina offload pool (MOSN workerpool size). */
  resizeOffloadPool(threads: number): Promise<void>;
}

/**
 * Extra control calls a worker exposes only when RINGSIDE_TEST_HOOKS=1, so tests can break a worker on
 * purpose without that power existing in a normal run.
 */
export interface WorkerTestControl {
  /** 'throw' raises an uncaught exception on the worker's loop; 'fatal' takes the fatal-event path. */
  crash(mode: 'throw' | 'fatal'): Promise<void>;
}

/** Worker → supervisor, on parentPort. */
export type SupervisorEvent =
  | { type: 'booted'; workerIndex: number }
  | { type: 'fatal'; workerIndex: number; message: string; stack?: string };

/** Worker ↔ worker through the supervisor: placement of in-process connections. */
export type MeshMessage =
  | {
      /** Asks worker `toWorker` to accept the far end of a RingPipe on its in-process listener. */
      type: 'pipe.dial';
      fromWorker: number;
      toWorker: number;
      listener: string;
      descriptor: RingPipeDescriptor;
    }
  | {
      /** The target worker could not accept the pipe (no such listener, draining, limit reached). */
      type: 'pipe.refused';
      fromWorker: number;
      toWorker: number;
      pipeId: number;
      reason: string;
    };
