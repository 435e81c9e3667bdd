/**
 * Placement: where a connection's actors run, and which worker accepts a new in-process connection.
 *
 *   connection accepted on worker w ─▶ read loop, write loop: all on w (affinity)
 *   channel dials "egress_x" on w ─▶ place() ─┬─ w itself (fast path, no thread hop)
 *                                              └─ least-loaded worker v, as a pipe.dial MeshMessage
 *                                                 relayed by the supervisor (only when w is saturated)
 *   channel pool gives a connection back ─▶ shouldRetire(placed on) ─▶ true: the pool closes it and
 *                                              the next call re-dials, so place() decides again
 *
 * Placement follows load after the dial: a channel pool's connections live for the whole run, so
 * deciding only at dial time would pin the egress work where warm-up left it. A connection is
 * retired when its placement is now wrong by a clear margin — kept on a saturated worker while
 * another is idle, or on another worker that became saturated while this one is idle — and at most
 * one connection per RETIRE_INTERVAL_MS per worker (the load board publishing period, 50 ms; its
 * smoothing spreads the effect of a move over the next few periods).
 *
 * What "saturated" means. A worker is saturated when its event-loop utilization (ELU) is above
 * `saturation_threshold` (default 0.85), or when calls queue behind its channel pools — a smoothed
 * backlog of at least `backlog_threshold` calls (default 4) waiting for a pool connection — while its
 * ELU is above the idle line. The second clause is the one a pipelining client needs: one gRPC
 * connection with 64 calls in flight over a pool of 16 keeps 48 calls waiting on the worker that runs
 * both the gRPC side and the egress proxy of each call, and that worker can still read below 0.85
 * because between a request and its answer it waits in epoll (for the upstream, or for a core on a
 * shared machine). The ELU floor keeps a worker out of it whose calls wait on a slow upstream while
 * the worker itself idles: moving egress work off a thread with time to spare only adds a hop.
 * A worker is idle — it may take work, or take it back — when its ELU is below the idle line
 * (`saturation_threshold` − IDLE_MARGIN, default 0.60) and, to take work, it has no backlog of its own.
 *
 * Two things keep placement from flapping: the gap between the saturation threshold (move away above
 * it) and the idle line (accept work, or take it back, only below it); and a damping period after
 * each change of direction. The second matters because the work is a pipeline: once the gRPC side on w
 * sheds its egress work to v, v may become the bottleneck and w then idles waiting for answers — which
 * reads as "v saturated, w idle" and would call the work straight back. A reversal is allowed only
 * after REVERSAL_DAMPING_MS, doubled on each reversal (up to REVERSAL_DAMPING_MAX_MS). Moving out also
 * stops by itself once the target's ELU reaches the idle line, so one worker's egress work is spread
 * rather than piled onto the other.
 *
 * Why affinity first: splitting one connection's actors over two threads measured +66% CPU per
 * request and −35% throughput, and one hop to a parked thread costs ~35 µs of wake-up. So a move
 * must buy something: it happens only when this worker is saturated, cross-worker placement is
 * enabled, and the target is not — moving work from one saturated worker to another would pay the
 * hop for nothing.
 */
import { LoadBoard, type WorkerLoad } from './load-board.js';
import { threadBacklog, type BacklogGauge } from './backlog.js';

export interface SchedulerSettings {
  /** Event-loop utilization (0..1] above which a worker counts as saturated (ringside.scheduler). */
  saturationThreshold: number;
  /**
   * Calls waiting for a channel pool connection (time-averaged, smoothed) from which a worker whose
   * utilization is above the idle line counts as saturated too.
   */
  backlogThreshold: number;
  /** Whether new in-process connections may be placed on another worker at all. */
  crossWorker: boolean;
}

export const defaultSchedulerSettings: SchedulerSettings = { saturationThreshold: 0.85, backlogThreshold: 4, crossWorker: true };

/** The hysteresis band: a worker takes work (or takes it back) only this far below saturation. */
export const IDLE_MARGIN = 0.25;
/** At most one connection re-placed per worker in this period. */
export const RETIRE_INTERVAL_MS = 50;
/** After moving connections one way, moving them the other way waits this long (doubling per reversal). */
export const REVERSAL_DAMPING_MS = 5_000;
export const REVERSAL_DAMPING_MAX_MS = 80_000;

export type PlacementReason =
  /** This worker is not saturated: keep the new connection here. */
  | 'local'
  /** Saturated, but cross-worker placement is disabled. */
  | 'local-cross-worker-disabled'
  /** Saturated, but every other worker is saturated too (or there is none). */
  | 'local-no-better-worker'
  /** Saturated, and this is the least-loaded worker that is not. */
  | 'least-loaded';

export interface Placement {
  worker: number;
  reason: PlacementReason;
}

/** The idle line: below it a worker may take work or take its own back. */
export function idleLine(settings: SchedulerSettings): number {
  return settings.saturationThreshold - IDLE_MARGIN;
}

/** Saturated: past the ELU threshold, or a channel backlog on a loop that is not idle (see the header). */
export function isSaturated(elu: number, backlog: number, settings: SchedulerSettings): boolean {
  return elu > settings.saturationThreshold || (backlog >= settings.backlogThreshold && elu >= idleLine(settings));
}

/** Idle enough to take another worker's egress work: below the idle line and no backlog of its own. */
export function takesWork(elu: number, backlog: number, settings: SchedulerSettings): boolean {
  return elu < idleLine(settings) && backlog < settings.backlogThreshold;
}

/**
 * The pure placement rule. `loads[i]` is worker i's load; `self` is the worker asking. Among the
 * workers that are not saturated, the least loaded is the one with the lowest utilization, then the
 * smallest backlog, then the fewest connections, then the lowest index, so decisions are reproducible
 * in tests and logs.
 */
export function placeInProcessConnection(self: number, loads: readonly WorkerLoad[], settings: SchedulerSettings): Placement {
  const own = loads[self] ?? { elu: 0, connections: 0, backlog: 0 };
  if (!isSaturated(own.elu, own.backlog, settings)) return { worker: self, reason: 'local' };
  if (!settings.crossWorker) return { worker: self, reason: 'local-cross-worker-disabled' };
  let best = -1;
  for (let i = 0; i < loads.length; i++) {
    const load = loads[i]!;
    if (i === self || isSaturated(load.elu, load.backlog, settings)) continue;
    if (best < 0 || lighter(load, loads[best]!)) best = i;
  }
  return best < 0 ? { worker: self, reason: 'local-no-better-worker' } : { worker: best, reason: 'least-loaded' };
}

function lighter(a: WorkerLoad, b: WorkerLoad): boolean {
  if (a.elu !== b.elu) return a.elu < b.elu;
  if (a.backlog !== b.backlog) return a.backlog < b.backlog;
  return a.connections < b.connections;
}

/**
 * Where a connection's actors go: always the worker that holds its transport. A function rather than
 * a constant so the rule is written down, named and tested in one place.
 */
export function placeConnectionActors(transportWorker: number): number {
  return transportWorker;
}

/** What the re-placement rule reads of a worker: two cells of the load board. */
export interface LoadView {
  utilization(worker: number): number;
  backlog(worker: number): number;
  readonly size: number;
}

/**
 * The pure re-placement rule for a connection whose far end runs on `placedOn`, asked by worker
 * `self` (see the header for why the thresholds differ). Out: this worker is saturated and another
 * takes work. Home: the worker it is on is saturated and this one is below the idle line — whatever
 * this worker's backlog, which is then the other worker's doing.
 */
export function shouldRetireConnection(self: number, placedOn: number, view: LoadView, settings: SchedulerSettings): boolean {
  if (!settings.crossWorker) return placedOn !== self;
  if (placedOn === self) {
    if (!isSaturated(view.utilization(self), view.backlog(self), settings)) return false;
    for (let i = 0; i < view.size; i++) if (i !== self && takesWork(view.utilization(i), view.backlog(i), settings)) return true;
    return false;
  }
  return isSaturated(view.utilization(placedOn), view.backlog(placedOn), settings) && view.utilization(self) < idleLine(settings);
}

/** The per-worker scheduler: the placement rule bound to this worker's view of the load board. */
export class Scheduler {
  readonly #self: number;
  readonly #board: LoadBoard;
  readonly #settings: SchedulerSettings;
  #moved = 0;
  #kept = 0;
  #retired = 0;
  #lastRetireAt = -Infinity;
  /** Direction of the last re-placement: 'out' (local → another worker) or 'home'. */
  #direction: 'out' | 'home' | null = null;
  #damping = REVERSAL_DAMPING_MS;
  #reversals = 0;
  readonly #backlog: BacklogGauge;

  constructor(self: number, board: LoadBoard, settings: SchedulerSettings, backlog: BacklogGauge = threadBacklog()) {
    this.#self = self;
    this.#board = board;
    this.#settings = settings;
    this.#backlog = backlog;
  }

  /**
   * Publishes this worker's load on the board (the worker calls it every 50 ms): its connection
   * count, its smoothed utilization, and the backlog gauge's average since the last call.
   */
  publish(activeConnections: number, elu: number): void {
    this.#board.set(this.#self, activeConnections);
    this.#board.setUtilization(this.#self, elu);
    this.#board.setBacklog(this.#self, this.#backlog.sample());
  }

  get workerIndex(): number {
    return this.#self;
  }

  /** Called by an in-process dialer (a Layotto channel) for each new connection it opens. */
  placeInProcess(): Placement {
    const placement = placeInProcessConnection(this.#self, this.#board.snapshot(), this.#settings);
    if (placement.worker === this.#self) this.#kept++;
    else this.#moved++;
    return placement;
  }

  /**
   * Called by a channel pool each time a connection whose far end runs on `placedOn` comes back
   * idle; true means close it so the next call re-dials through placeInProcess(). Two atomic reads
   * when this worker is not saturated and the connection is local (the common case).
   */
  shouldRetire(placedOn: number): boolean {
    if (!shouldRetireConnection(this.#self, placedOn, this.#board, this.#settings)) return false;
    const now = performance.now();
    if (now - this.#lastRetireAt < RETIRE_INTERVAL_MS) return false;
    const direction = placedOn === this.#self ? 'out' : 'home';
    if (this.#direction !== null && direction !== this.#direction) {
      if (now - this.#lastRetireAt < this.#damping) return false;
      this.#reversals++;
      this.#damping = Math.min(this.#damping * 2, REVERSAL_DAMPING_MAX_MS);
    }
    this.#direction = direction;
    this.#lastRetireAt = now;
    this.#retired++;
    return true;
  }

  stats(): { kept: number; moved: number; retired: number; reversals: number } {
    return { kept: this.#kept, moved: this.#moved, retired: this.#retired, reversals: this.#reversals };
  }

  /** This worker's channel backlog as last published (calls waiting for a pool connection). */
  get publishedBacklog(): number {
    return this.#board.backlog(this.#self);
  }
}

/** Reads `ringside.scheduler` from the validated config, tolerating its absence. */
export function schedulerSettingsFrom(ringside: unknown): SchedulerSettings {
  const s = (ringside as { scheduler?: { saturation_threshold?: unknown; backlog_threshold?: unknown; cross_worker?: unknown } } | undefined)?.scheduler;
  return {
    saturationThreshold:
      typeof s?.saturation_threshold === 'number' ? s.saturation_threshold : defaultSchedulerSettings.saturationThreshold,
    backlogThreshold: typeof s?.backlog_threshold === 'number' ? s.backlog_threshold : defaultSchedulerSettings.backlogThreshold,
    crossWorker: typeof s?.cross_worker === 'boolean' ? s.cross_worker : defaultSchedulerSettings.crossWorker,
  };
}
