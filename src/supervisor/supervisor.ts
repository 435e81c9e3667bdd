/**
 * The supervisor: the main thread's whole job. It owns the stage manager, spawns and respawns the
 * data-plane workers, relays MeshMessages between them, keeps the load board, serves the admin
 * endpoint and turns SIGTERM/SIGINT into a graceful drain. It accepts no data-plane traffic.
 *
 *   start():  Init → Start: admin binds; N workers boot; worker 0 binds first (a port-0 listener gets
 *             its real port there) and the others bind the same addresses; → Running
 *   crash:    the slot's thread is gone → cause logged → respawn after a backoff, same index, same
 *             addresses; the other workers and their connections are not touched
 *   drain():  → Drain: every worker stops accepting and waits for its in-flight work (drain timeout),
 *             then closes the rest → workers terminated → Stop
 */
import type { ResourceLimits } from 'node:worker_threads';
import type { ActorKindStats } from '../types/actor.js';
import type * as Comlink from 'comlink';
import type { ListenerReady, MeshMessage, ThreadMemory, WorkerStats, WorkerTestControl } from '../types/messages.js';
import { threadMemory } from '../observability/thread-memory.js';
import { LoadBoard } from '../actor/load-board.js';
import { logger } from '../common/log.js';
import { AdminServer, type AdminBackend } from './admin.js';
import { Stage, StageManager } from './stages.js';
import { WorkerSlot } from './worker-slot.js';
import { DATAPLANE_ENTRY, disposePrewarmed } from './prewarm.js';
import { configuredResourceLimits } from './heap-limits.js';
import { PipeRegistry } from './pipe-registry.js';
import type { SupervisorMetrics, Exposition } from '../observability/supervisor-metrics.js';
import { redactConfig } from '../observability/config-dump.js';
import type { MetricFamily } from '../types/observability.js';
import type { LoadedConfig, RingsideConfig } from '../config/types.js';
import { ConfigError } from '../config/errors.js';
import type { XdsStats } from '../xds/client.js';
import { configHash, restartOnlyChanges, type ConfigVersion, type ReloadOutcome, type ReloadResult } from './reload.js';

const log = logger('supervisor');

const respawnBaseMs = 100;
const respawnMaxMs = 5000;
/** A worker that lived this long before crashing starts its backoff from the beginning again. */
const respawnResetAfterMs = 10_000;
/** Extra time a drain call gets beyond the drain timeout before the supervisor stops waiting. */
const drainGraceMs = 2000;
/** A scrape does not wait longer than this for one worker; a worker that is late is left out of it. */
const scrapeWorkerTimeoutMs = 2000;

export interface SupervisorOptions {
  /** The validated config, handed to every worker as plain JSON. */
  config: unknown;
  workers: number;
  drainTimeoutMs: number;
  /** host:port for the admin endpoint, or null for none. */
  adminAddress: string | null;
  /** Thread entry; defaults to the compiled workers/dataplane.js of this build. */
  entry?: URL;
  /** Expose test-only control (admin POST /test/crash). */
  testHooks?: boolean;
  /** Ends the process once a signal- or admin-started drain is over (process.exit in the CLI). */
  exit?: (code: number) => void;
  /**
   * Reads and validates the config again (the start-up loader on the same file) for a reload —
   * SIGHUP or admin POST /reload. Without it the supervisor cannot reload.
   */
  reloadConfig?: () => LoadedConfig | Promise<LoadedConfig>;
  /** Where the start-up config came from (reported with the config version). */
  configSource?: string;
}

export interface ReadyReport {
  workers: number;
  listeners: ListenerReady[];
  /** The bound admin address, or null when disabled. */
  admin: string | null;
}

export interface AggregateStats {
  stage: string;
  /** The config in force on every worker. */
  config: ConfigVersion;
  /** The ADS stream, when a control plane is configured. */
  xds?: XdsStats;
  workers: (WorkerStats | { workerIndex: number; down: string })[];
  /** The main thread's own memory (each worker's is in its entry). */
  main: { memory: ThreadMemory };
  total: {
    activeConnections: number;
    totalConnections: number;
    counters: Record<string, number>;
    /** Every worker's actor counters summed per actor kind. */
    actors: Record<string, ActorKindStats>;
  };
}

export class Supervisor {
  readonly stages = new StageManager();
  readonly #opts: SupervisorOptions;
  readonly #entry: URL;
  readonly #board: LoadBoard;
  readonly #boardBuffer: SharedArrayBuffer;
  readonly #slots: WorkerSlot[];
  readonly #attempts: number[];
  readonly #timers = new Set<NodeJS.Timeout>();
  /** Cross-worker pipes by the workers at their ends, so a dead worker's pipes can be reset. */
  readonly #pipes = new PipeRegistry();
  readonly #respawns: number[];
  /** Built on the first scrape: prom-client is loaded only by a sidecar whose metrics are read. */
  #metrics: Promise<SupervisorMetrics> | null = null;
  #bound: ListenerReady[] = [];
  #admin: AdminServer | null = null;
  #drain: Promise<void> | null = null;
  /** The config every worker runs; a reload replaces it, a respawned worker boots with it. */
  #config: unknown;
  /** Heap limits of every worker thread, fixed at start: a reload that changes them is refused as restart-only. */
  readonly #resourceLimits: ResourceLimits;
  #version: ConfigVersion;
  /** Reloads run one after another: a second SIGHUP waits for the first. */
  #reloading: Promise<unknown> = Promise.resolve();
  readonly #reloads: Record<ReloadResult, number> = { applied: 0, unchanged: 0, invalid: 0, failed: 0 };
  #xds: (() => XdsStats) | null = null;

  constructor(opts: SupervisorOptions) {
    if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new RangeError(`workers must be an integer ≥ 1, got ${opts.workers}`);
    this.#opts = opts;
    this.#config = opts.config;
    this.#resourceLimits = configuredResourceLimits(opts.config);
    this.#version = { version: 1, hash: configHash(opts.config), source: opts.configSource ?? 'config', applied_at: new Date().toISOString() };
    this.#entry = opts.entry ?? DATAPLANE_ENTRY;
    this.#boardBuffer = LoadBoard.allocate(opts.workers);
    this.#board = new LoadBoard(this.#boardBuffer);
    this.#slots = Array.from({ length: opts.workers }, (_, i) => new WorkerSlot(i));
    this.#attempts = new Array<number>(opts.workers).fill(0);
    this.#respawns = new Array<number>(opts.workers).fill(0);
  }

  /** Brings every worker up; resolves when every listener on every worker accepts. */
  async start(): Promise<ReadyReport> {
    this.stages.to(Stage.Start);
    try {
      let admin: string | null = null;
      if (this.#opts.adminAddress !== null) {
        this.#admin = new AdminServer(this.#adminBackend());
        admin = await this.#admin.listen(this.#opts.adminAddress);
        log.info(`admin listening on ${admin}`);
      }
      await Promise.all(this.#slots.map((slot) => this.#spawn(slot)));
      // Every slot has its thread: prewarmed ones beyond the configured count are not needed.
      disposePrewarmed();
      // Worker 0 first: what it bound (real ports for port 0) is what every other worker binds.
      this.#bound = await this.#slots[0]!.call((c) => c.start([]));
      await Promise.all(this.#slots.slice(1).map((slot) => slot.call((c) => c.start(this.#bound))));
      // A signal during start-up already moved on to drain; that drain owns the exit.
      if (this.stages.stage !== Stage.Start) throw new Error(`start-up interrupted (stage ${this.stages.name})`);
      this.stages.to(Stage.Running);
      return { workers: this.#slots.length, listeners: this.#bound, admin };
    } catch (err) {
      disposePrewarmed();
      await this.#stopNow();
      throw err;
    }
  }

  /** Graceful drain, then stop. Idempotent: a second call returns the first drain. */
  drain(reason: string): Promise<void> {
    if (this.#drain !== null) return this.#drain;
    this.#drain = this.#runDrain(reason);
    return this.#drain;
  }

  /** SIGTERM/SIGINT → drain → exit(0); a second signal exits at once with 1. */
  installSignalHandlers(): void {
    let received = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      received++;
      if (received > 1) {
        log.warn(`${signal} again during drain; exiting now`);
        this.#exit(1);
        return;
      }
      this.#drainThenExit(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.on('SIGHUP', () => void this.reload('SIGHUP'));
  }

  /** The config version in force. */
  get configVersion(): ConfigVersion {
    return { ...this.#version };
  }

  /**
   * Re-reads the config file, validates it fully (an invalid file changes nothing) and applies it on
   * every live worker: the first live worker binds first (new port-0 listeners get their port there),
   * the others bind the same addresses. A worker that cannot apply it makes the whole reload fail and
   * the workers that had applied it go back to the previous config. Workers that are down respawn with
   * whatever config is in force when they boot.
   */
  reload(reason: string): Promise<ReloadOutcome> {
    return this.applyConfig(this.#opts.reloadConfig, reason);
  }

  /**
   * The one path a new config takes (a reload, an xDS update): `load` validates it, then it is applied
   * as reload() describes. Calls run one after another.
   */
  applyConfig(load: (() => LoadedConfig | Promise<LoadedConfig>) | undefined, reason: string): Promise<ReloadOutcome> {
    const run = this.#reloading.then(() => this.#runReload(reason, load));
    this.#reloading = run.catch(() => {});
    return run;
  }

  /** Where xDS stream state and versions come from, for /metrics and /stats. */
  attachXds(stats: () => XdsStats): void {
    this.#xds = stats;
  }

  async #runReload(reason: string, load: (() => LoadedConfig | Promise<LoadedConfig>) | undefined): Promise<ReloadOutcome> {
    const outcome = (result: ReloadResult, extra: Partial<ReloadOutcome> = {}): ReloadOutcome => {
      this.#reloads[result]++;
      return { result, version: this.configVersion, ...extra };
    };
    if (load === undefined) return outcome('failed', { error: 'this supervisor was started without a config loader' });
    if (this.stages.stage !== Stage.Running) return outcome('failed', { error: `not running (stage ${this.stages.name})` });
    let loaded: LoadedConfig;
    try {
      loaded = await load();
    } catch (err) {
      if (err instanceof ConfigError) {
        log.warn(`reload (${reason}): invalid config ${err.source}; nothing changed\n${err.message}`);
        return outcome('invalid', { issues: [...err.issues] });
      }
      const error = err instanceof Error ? err.message : String(err);
      log.warn(`reload (${reason}): cannot load the config: ${error}; nothing changed`);
      return outcome('invalid', { issues: [{ path: '', message: error }] });
    }
    const restart = restartOnlyChanges(this.#config as RingsideConfig, loaded.config);
    if (restart.length > 0) {
      log.warn(`reload (${reason}): refused, nothing changed:\n${restart.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`);
      return outcome('invalid', { issues: restart, warnings: loaded.warnings });
    }
    for (const w of loaded.warnings) log.warn(`config ${loaded.source}: ${w}`);
    const hash = configHash(loaded.config);
    if (hash === this.#version.hash) {
      log.info(`reload (${reason}): config unchanged (version ${this.#version.version})`);
      return outcome('unchanged', { warnings: loaded.warnings });
    }
    const error = await this.#applyEverywhere(loaded.config);
    if (error !== null) {
      log.error(`reload (${reason}) failed; version ${this.#version.version} stays in force: ${error}`);
      return outcome('failed', { error, warnings: loaded.warnings });
    }
    this.#config = loaded.config;
    this.#version = { version: this.#version.version + 1, hash, source: loaded.source, applied_at: new Date().toISOString() };
    log.info(`reload (${reason}): config version ${this.#version.version} (${hash}) in force on every worker`);
    return outcome('applied', { warnings: loaded.warnings });
  }

  /** Applies `config` on every live worker, first one first; null, or why it failed (after rolling back). */
  async #applyEverywhere(config: unknown): Promise<string | null> {
    const live = this.#slots.filter((s) => s.alive);
    const done: WorkerSlot[] = [];
    const previousBound = this.#bound;
    let bound: ListenerReady[] = [];
    try {
      const first = live[0];
      if (first !== undefined) {
        bound = await first.call((c) => c.apply(config, []));
        done.push(first);
      }
      await Promise.all(
        live.slice(1).map(async (slot) => {
          await slot.call((c) => c.apply(config, bound));
          done.push(slot);
        }),
      );
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      // The workers that applied it go back, so every worker serves one config.
      await Promise.all(
        done.map((slot) =>
          slot.call((c) => c.apply(this.#config, previousBound)).catch((e: unknown) => {
            log.error(`worker/${slot.index}: could not go back to the previous config`, e);
          }),
        ),
      );
      return why;
    }
    if (live.length > 0) this.#bound = bound;
    return null;
  }

  #exit(code: number): void {
    (this.#opts.exit ?? ((c: number) => process.exit(c)))(code);
  }

  #drainThenExit(reason: string): void {
    log.info(`${reason}: draining (up to ${this.#opts.drainTimeoutMs} ms)`);
    this.drain(reason).then(
      () => this.#exit(0),
      (err: unknown) => {
        log.error('drain failed', err);
        this.#exit(1);
      },
    );
  }

  /** Sums every live worker's stats; a worker that is down is listed as such. */
  async stats(): Promise<AggregateStats> {
    const workers = await Promise.all(
      this.#slots.map(async (slot) => {
        try {
          return await slot.call((c) => c.stats());
        } catch (err) {
          return { workerIndex: slot.index, down: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
    const total = { activeConnections: 0, totalConnections: 0, counters: {} as Record<string, number>, actors: {} as Record<string, ActorKindStats> };
    for (const w of workers) {
      if ('down' in w) continue;
      total.activeConnections += w.activeConnections;
      total.totalConnections += w.totalConnections;
      for (const [k, v] of Object.entries(w.counters)) total.counters[k] = (total.counters[k] ?? 0) + v;
      for (const [kind, s] of Object.entries(w.actors.kinds ?? {})) {
        const sum = (total.actors[kind] ??= { live: 0, spawned: 0, messages: 0, queued: 0, turns: 0, crashes: 0, deadLetters: 0 });
        for (const key of Object.keys(sum) as (keyof ActorKindStats)[]) sum[key] += s[key];
      }
    }
    return { stage: this.stages.name, config: this.configVersion, ...(this.#xds !== null ? { xds: this.#xds() } : {}), workers, main: { memory: threadMemory() }, total };
  }

  /**
   * Prometheus text exposition: every live worker's metric families aggregated, plus the main
   * thread's. A worker that is down or does not answer in time is left out (ringside_workers{state="up"}).
   */
  async metrics(): Promise<Exposition> {
    this.#metrics ??= import('../observability/supervisor-metrics.js').then(
      ({ SupervisorMetrics: Metrics }) =>
        new Metrics({
          configuredWorkers: () => this.#slots.length,
          crossWorkerPipes: () => this.#pipes.openCount(),
          respawns: () => this.#respawns,
          configReloads: () => this.#reloads,
          configVersion: () => this.#version.version,
          xds: () => this.#xds?.() ?? null,
        }),
    );
    const metrics = await this.#metrics;
    const answers = await Promise.all(
      this.#slots.map(async (slot): Promise<MetricFamily[] | null> => {
        if (!slot.alive) return null;
        let timer: NodeJS.Timeout | undefined;
        try {
          return await Promise.race([
            slot.call((c) => c.metrics()),
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new Error('did not answer the scrape in time')), scrapeWorkerTimeoutMs);
            }),
          ]);
        } catch (err) {
          log.warn(`worker/${slot.index} metrics: ${err instanceof Error ? err.message : String(err)}`);
          return null;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    return metrics.exposition(answers.filter((a): a is MetricFamily[] => a !== null));
  }

  /** The config every worker runs, secrets replaced (admin GET /api/v1/config_dump). */
  configDump(): unknown {
    return redactConfig(this.#config);
  }

  /** Resizes every worker's offload pool (WorkerControl.resizeOffloadPool). */
  async resizeOffloadPools(threads: number): Promise<void> {
    await Promise.all(this.#slots.filter((s) => s.alive).map((s) => s.call((c) => c.resizeOffloadPool(threads))));
  }

  #spawn(slot: WorkerSlot): Promise<void> {
    this.#board.clear(slot.index);
    return slot.spawn({
      entry: this.#entry,
      workerCount: this.#slots.length,
      config: this.#config,
      loadBoard: this.#boardBuffer,
      resourceLimits: this.#resourceLimits,
      onMesh: (msg) => this.#relay(msg),
      onUnexpectedExit: (cause) => this.#crashed(slot, cause),
    });
  }

  #relay(msg: MeshMessage): void {
    if (msg.type === 'pipe.dial') this.#pipes.record(msg.fromWorker, msg.toWorker, msg.descriptor);
    const target = this.#slots[msg.toWorker];
    if (target !== undefined && target.post(msg)) return;
    if (msg.type === 'pipe.dial') {
      // The dialer must learn at once that nobody will pick its pipe up.
      this.#slots[msg.fromWorker]?.post({
        type: 'pipe.refused',
        fromWorker: msg.toWorker,
        toWorker: msg.fromWorker,
        pipeId: msg.descriptor.pipeId,
        reason: `worker/${msg.toWorker} is not running`,
      });
    }
  }

  #crashed(slot: WorkerSlot, cause: string): void {
    // Its connections died with it; other workers' placement must not count them.
    this.#board.clear(slot.index);
    const reset = this.#pipes.workerExited(slot.index);
    if (reset > 0) log.warn(`worker/${slot.index}: reset ${reset} in-process connection(s) to other workers`);
    if (this.stages.stage !== Stage.Running) {
      log.error(`worker/${slot.index} exited during ${this.stages.name}: ${cause}`);
      return;
    }
    if (Date.now() - slot.bootedAt > respawnResetAfterMs) this.#attempts[slot.index] = 0;
    const attempt = this.#attempts[slot.index]!;
    this.#attempts[slot.index] = attempt + 1;
    const delay = Math.min(respawnMaxMs, respawnBaseMs * 2 ** attempt);
    log.error(`worker/${slot.index} crashed: ${cause}; respawning in ${delay} ms (attempt ${attempt + 1})`);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.#respawn(slot);
    }, delay);
    this.#timers.add(timer);
  }

  async #respawn(slot: WorkerSlot): Promise<void> {
    if (this.stages.stage !== Stage.Running) return;
    let booted = false;
    try {
      await this.#spawn(slot);
      booted = true;
      this.#respawns[slot.index]!++;
      await slot.call((c) => c.start(this.#bound));
      log.info(`worker/${slot.index} respawned (thread ${slot.threadId}, generation ${slot.generation})`);
    } catch (err) {
      const cause = `respawn failed: ${err instanceof Error ? err.message : String(err)}`;
      if (!booted) {
        this.#crashed(slot, cause); // died before booting: no exit callback scheduled a retry
      } else if (slot.alive) {
        await slot.terminate(); // booted but could not bind: end it and try again
        this.#crashed(slot, cause);
      }
      // Otherwise it died after booting and its exit event already scheduled the next try.
    }
  }

  async #runDrain(reason: string): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    if (this.stages.stage === Stage.Init || this.stages.stage === Stage.Stop) {
      if (this.stages.stage === Stage.Init) this.stages.to(Stage.Stop);
      return;
    }
    this.stages.to(Stage.Drain);
    log.info(`draining: ${reason}`);
    const timeout = this.#opts.drainTimeoutMs;
    const results = await Promise.all(
      this.#slots.map(async (slot) => {
        if (!slot.alive) return null;
        let timer: NodeJS.Timeout | undefined;
        try {
          return await Promise.race([
            slot.call((c) => c.drain(timeout)),
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new Error('did not answer drain in time')), timeout + drainGraceMs);
            }),
          ]);
        } catch (err) {
          log.warn(`worker/${slot.index} drain: ${err instanceof Error ? err.message : String(err)}`);
          return null;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const finished = results.reduce((n, r) => n + (r?.finished ?? 0), 0);
    const forced = results.reduce((n, r) => n + (r?.forced ?? 0), 0);
    log.info(`drained: ${finished} connection(s) finished, ${forced} closed at the deadline`);
    await this.#stopNow();
  }

  async #stopNow(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await Promise.all(this.#slots.map((s) => s.terminate()));
    await this.#admin?.close();
    this.#admin = null;
    if (this.stages.stage !== Stage.Stop) this.stages.to(Stage.Stop);
  }

  #adminBackend(): AdminBackend {
    const backend: AdminBackend = {
      ready: () => this.stages.stage === Stage.Running,
      stats: () => this.stats(),
      metrics: () => this.metrics(),
      configDump: () => this.configDump(),
      configVersion: () => this.#version.version,
      reload: (reason) => this.reload(reason),
      drain: (reason) => this.#drainThenExit(reason),
    };
    if (this.#opts.testHooks === true) {
      backend.crash = async (worker, mode) => {
        const slot = this.#slots[worker];
        if (slot === undefined) throw new Error(`no worker/${worker}`);
        await slot.call((c) => (c as unknown as Comlink.Remote<WorkerTestControl>).crash(mode));
      };
    }
    return backend;
  }
}
