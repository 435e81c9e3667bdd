/**
 * The worker-side runtime: what a data-plane thread does from WorkerBoot to exit.
 *
 *   WorkerBoot ─▶ log label worker/i ─▶ ActorRunLoop ─▶ services (extensions, scheduler, offload pool,
 *   mesh link, network) ─▶ WorkerControl exposed over comlink ─▶ 'booted' ─▶ start() ─▶ … ─▶ drain()
 *
 * Errors: a throw inside a connection's actor stops that actor (the run loop catches it) and the
 * network layer closes that connection; the worker carries on. Anything that escapes to the thread's
 * top level means this worker's state is unknown, so it reports a `fatal` SupervisorEvent and exits;
 * the supervisor respawns it while the other workers keep serving.
 */
import { parentPort, resourceLimits, workerData, type MessagePort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type { ConfigCheckMessage, DrainResult, ListenerReady, SupervisorEvent, WorkerBoot, WorkerBootMessage, WorkerControl, WorkerPrewarm, WorkerStats, WorkerTestControl } from '../types/messages.js';
import { type ActorRunLoop, threadRunLoop } from '../actor/run-loop.js';
import { LoadBoard } from '../actor/load-board.js';
import { installThreadBells } from '../ring/index.js';
import { Scheduler, schedulerSettingsFrom } from '../actor/scheduler.js';
import { adoptLogSettings, logger } from '../common/log.js';
import { snapshotCounters } from '../common/counters.js';
import { createExtensions } from '../extensions.js';
import type { RingsideConfig } from '../config/types.js';
import { assembleDataplane } from '../assembly.js';
import { OffloadPool, offloadThreadsFrom } from './offload.js';
import { MeshLink } from './mesh.js';
import { InProcessDialer } from './dialer.js';
import type { RingEndpoint } from '../types/ring.js';
import type { PlacementAdvisor } from '../types/actor.js';
import { emptyNetwork, type NetworkFactory, type WorkerNetwork } from './network-port.js';
import { exposeOn } from './comlink-endpoint.js';
import type { WorkerMetrics } from '../observability/worker-metrics.js';
import type { WorkerMetricsSources } from '../types/observability.js';
import { threadCpuSeconds } from '../observability/proc-cpu.js';
import { threadMemory } from '../observability/thread-memory.js';
import { answerConfigCheck } from './config-check.js';

const log = logger('worker');

/** How often a worker publishes its load (connections, utilization, channel backlog) on the load board. */
const loadPublishMs = 50;
/** How often drain looks whether the last connection finished. */
const drainPollMs = 20;

/** What this worker owns besides its data plane; the data plane gets the WorkerDeps part of it. */
export interface DataplaneServices {
  readonly runLoop: ActorRunLoop;
  readonly scheduler: Scheduler;
  readonly offload: OffloadPool;
  readonly mesh: MeshLink;
  readonly loadBoard: LoadBoard;
  /** Dials an in-process listener by name on the worker the scheduler picks (Layotto channels). */
  readonly dialInProcess: (name: string) => RingEndpoint;
  /** Whether a connection dialInProcess made should be re-dialed elsewhere (channel pools ask). */
  readonly placement: PlacementAdvisor;
}

/**
 * Replaces parts of the composition root for one thread entry. The product entry passes none; the
 * supervisor's tests use it to run workers over a stand-in network they fully control.
 */
export interface DataplaneOverrides {
  networkFactory?: NetworkFactory;
}

export class DataplaneWorker {
  readonly #boot: WorkerBoot;
  readonly #post: (event: SupervisorEvent) => void;
  readonly services: DataplaneServices;
  readonly #network: WorkerNetwork;
  readonly #loadTimer: NodeJS.Timeout;
  readonly #metricsSources: WorkerMetricsSources;
  /** Built on the first scrape: prom-client is loaded only on a worker whose metrics are read. */
  #metrics: Promise<WorkerMetrics> | null = null;
  /** Smoothed event-loop utilization, as published on the load board. */
  #elu = 0;
  #draining = false;

  constructor(boot: WorkerBoot, post: (event: SupervisorEvent) => void, overrides: DataplaneOverrides = {}) {
    this.#boot = boot;
    this.#post = post;
    const ringside = (boot.config as { ringside?: unknown } | null)?.ringside;
    const board = new LoadBoard(boot.loadBoard);
    // The board's buffer starts with the doorbell table: this thread's cross-thread ring ends park together.
    installThreadBells(boot.loadBoard, boot.workerIndex);
    const mesh = new MeshLink(boot.workerIndex, boot.meshPort, (listener) => {
      throw new Error(`worker/${boot.workerIndex} has no network yet for "${listener}"`);
    });
    const scheduler = new Scheduler(boot.workerIndex, board, schedulerSettingsFrom(ringside));
    const dialer = new InProcessDialer(scheduler, mesh, (name) => {
      const local = this.#network.dialInProcess;
      if (local === undefined) throw new Error(`no in-process listener "${name}" on this worker`);
      return local.call(this.#network, name);
    });
    this.services = {
      runLoop: threadRunLoop(),
      scheduler,
      offload: new OffloadPool({ threads: offloadThreadsFrom(ringside) }),
      mesh,
      loadBoard: board,
      dialInProcess: (name) => dialer.dial(name),
      placement: dialer,
    };
    // The composition root: this build's extensions, assembled with this worker's own parts.
    const makeNetwork: NetworkFactory | null = overrides.networkFactory ?? ((ctx) => assembleDataplane(ctx, createExtensions()));
    const { runLoop, offload, dialInProcess, placement } = this.services;
    this.#network =
      makeNetwork === null
        ? emptyNetwork()
        : makeNetwork({
            workerIndex: boot.workerIndex,
            workerCount: boot.workerCount,
            // Validated on the main thread before any worker started; it crossed as structured clone.
            config: boot.config as RingsideConfig,
            worker: { runLoop, offload, dialInProcess, placement },
          });
    mesh.setAcceptor((listener, descriptor) => {
      if (this.#draining) throw new Error('draining');
      this.#network.acceptRemote(listener, descriptor);
    });
    board.clear(boot.workerIndex);
    // Smoothed event-loop utilization: one 50 ms window alone is too noisy to place work on.
    let lastElu = performance.eventLoopUtilization();
    this.#loadTimer = setInterval(() => {
      const now = performance.eventLoopUtilization();
      this.#elu = 0.5 * this.#elu + 0.5 * performance.eventLoopUtilization(now, lastElu).utilization;
      lastElu = now;
      scheduler.publish(this.#network.activeConnections(), this.#elu);
    }, loadPublishMs);
    this.#loadTimer.unref();
    this.#metricsSources = {
      workerIndex: boot.workerIndex,
      listeners: () => this.#network.listenerStats(),
      actors: () => this.services.runLoop.stats(),
      scheduler: () => this.services.scheduler.stats(),
      offload: () => this.services.offload.stats(),
      eventLoopUtilization: () => this.#elu,
      clusters: () => this.#network.clusterStats?.() ?? [],
      counters: () => snapshotCounters(),
    };
  }

  /** The comlink API; test hooks are added only when RINGSIDE_TEST_HOOKS=1. */
  control(testHooks: boolean): WorkerControl & Partial<WorkerTestControl> {
    const api: WorkerControl & Partial<WorkerTestControl> = {
      start: (bound) => this.#start(bound ?? []),
      apply: (config, bound) => this.#apply(config, bound),
      drain: (timeoutMs) => this.#drain(timeoutMs),
      stats: async () => this.#stats(),
      metrics: async () => {
        const sources = this.#metricsSources;
        this.#metrics ??= import('../observability/worker-metrics.js').then(({ WorkerMetrics }) => new WorkerMetrics(sources));
        return (await this.#metrics).collect();
      },
      resizeOffloadPool: (threads) => this.services.offload.resize(threads),
    };
    if (testHooks) {
      api.crash = async (mode) => {
        log.warn(`test hook: crashing (${mode})`);
        // Later than this call's reply, so the caller learns the hook ran before the thread dies.
        setTimeout(() => {
          if (mode === 'fatal') this.fatal(new Error('test hook: fatal'));
          throw new Error('test hook: uncaught throw');
        }, 50);
      };
    }
    return api;
  }

  /** The last resort: report to the supervisor and end this thread so it is respawned clean. */
  fatal(err: unknown): never {
    const e = err instanceof Error ? err : new Error(String(err));
    log.error('fatal error; exiting so the supervisor respawns this worker', e);
    try {
      this.#post({ type: 'fatal', workerIndex: this.#boot.workerIndex, message: e.message, ...(e.stack === undefined ? {} : { stack: e.stack }) });
    } finally {
      process.exit(70);
    }
  }

  async #start(bound: readonly ListenerReady[]): Promise<ListenerReady[]> {
    const ready = await this.#network.start(bound);
    log.info(`accepting on ${ready.map((l) => `${l.name}@${l.address}`).join(', ') || 'no listeners'}`);
    return ready;
  }

  /** A config reload (WorkerControl.apply); later respawns of this slot boot with the new config. */
  async #apply(config: unknown, bound: readonly ListenerReady[]): Promise<ListenerReady[]> {
    if (this.#draining) throw new Error('draining');
    if (this.#network.apply === undefined) throw new Error('this worker\'s network cannot reload its config');
    return this.#network.apply(config, bound);
  }

  async #drain(timeoutMs: number): Promise<DrainResult> {
    this.#draining = true;
    const deadline = Date.now() + Math.max(0, timeoutMs);
    await this.#network.stopAccepting();
    const initial = this.#network.activeConnections();
    log.info(`stopped accepting; ${initial} connection(s) in flight`);
    while (this.#network.activeConnections() > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, drainPollMs));
    }
    const forced = this.#network.activeConnections();
    if (forced > 0) {
      log.warn(`drain deadline reached; closing ${forced} connection(s)`);
      this.#network.closeConnections('drain timeout');
    }
    clearInterval(this.#loadTimer);
    this.services.loadBoard.clear(this.#boot.workerIndex);
    await this.services.offload.close();
    return { finished: Math.max(0, initial - forced), forced };
  }

  #stats(): WorkerStats {
    const listeners = this.#network.listenerStats();
    const offload = this.services.offload.stats();
    const sched = this.services.scheduler.stats();
    const cpu = threadCpuSeconds();
    return {
      workerIndex: this.#boot.workerIndex,
      activeConnections: this.#network.activeConnections(),
      totalConnections: listeners.reduce((n, l) => n + l.totalConnections, 0),
      listeners: listeners.map((l) => ({
        name: l.name,
        address: l.address,
        activeConnections: l.activeConnections,
        totalConnections: l.totalConnections,
      })),
      actors: this.services.runLoop.stats(),
      counters: {
        ...snapshotCounters(),
        'offload.threads': offload.threads,
        'offload.completed': offload.completed,
        'offload.queued': offload.queued,
        'scheduler.kept_local': sched.kept,
        'scheduler.moved': sched.moved,
        'scheduler.retired': sched.retired,
        'scheduler.reversals': sched.reversals,
        'scheduler.backlog': this.services.scheduler.publishedBacklog,
      },
      memory: threadMemory(),
      ...(resourceLimits.maxYoungGenerationSizeMb !== undefined ? { maxYoungGenerationMb: resourceLimits.maxYoungGenerationSizeMb } : {}),
      ...(cpu !== undefined ? { cpuSeconds: cpu } : {}),
    };
  }
}

/** The thread entry's whole job (workers/dataplane.ts): boot, expose control, report. */
export function runDataplaneWorker(boot: WorkerBoot, parent: MessagePort, overrides: DataplaneOverrides = {}): DataplaneWorker {
  adoptLogSettings(boot.log, `worker/${boot.workerIndex}`);
  const post = (event: SupervisorEvent): void => parent.postMessage(event);
  let worker: DataplaneWorker | null = null;
  process.on('uncaughtException', (err) => {
    if (worker !== null) worker.fatal(err);
    const e = err instanceof Error ? err : new Error(String(err));
    post({ type: 'fatal', workerIndex: boot.workerIndex, message: e.message, ...(e.stack === undefined ? {} : { stack: e.stack }) });
    process.exit(70);
  });
  worker = new DataplaneWorker(boot, post, overrides);
  exposeOn(worker.control(process.env.RINGSIDE_TEST_HOOKS === '1'), boot.controlPort);
  post({ type: 'booted', workerIndex: boot.workerIndex });
  return worker;
}

/**
 * What a data-plane thread entry runs: boots from workerData (a WorkerBoot), or — for a thread the
 * CLI prewarmed (src/supervisor/prewarm.ts) — from the WorkerBootMessage that is its first message.
 * By the time this runs the entry's static imports, i.e. the whole data plane, are loaded.
 */
export function runDataplaneEntry(overrides: DataplaneOverrides = {}): void {
  const data = workerData as WorkerBoot | WorkerPrewarm | undefined;
  const parent = parentPort;
  if (parent === null || (data?.kind !== 'ringside-dataplane' && data?.kind !== 'ringside-prewarm')) {
    throw new Error('a data-plane thread entry must be started by the Ringside supervisor');
  }
  if (data.kind === 'ringside-dataplane') {
    runDataplaneWorker(data, parent, overrides);
    return;
  }
  // Before its boot a prewarmed thread may be asked to check the start-up config (any number of
  // times, answered in order); the boot is the last message it reads from its parent.
  let checks: Promise<void> = Promise.resolve();
  const onMessage = (msg: WorkerBootMessage | ConfigCheckMessage): void => {
    if (msg?.type === 'check-config') {
      checks = checks.then(() => answerConfigCheck(msg, parent));
      return;
    }
    if (msg?.type !== 'boot' || msg.boot?.kind !== 'ringside-dataplane') throw new Error('a prewarmed worker expects its WorkerBoot first');
    parent.off('message', onMessage);
    runDataplaneWorker(msg.boot, parent, overrides);
  };
  parent.on('message', onMessage);
}
