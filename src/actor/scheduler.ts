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
 * smoothing spreads the effect of a move over the next few periods). Two things keep placement from
 * flapping: the gap between the saturation threshold (move away above it) and the idle threshold
 * (accept work, or take it back, only below it); and a damping period after each change of
 * direction. The second matters because the work is a pipeline: once the gRPC side on w sheds its
 * egress work to v, v may become the bottleneck and w then idles waiting for answers — which reads
 * as "v saturated, w idle" and would call the work straight back. A reversal is allowed only after
 * REVERSAL_DAMPING_MS, doubled on each reversal (up to REVERSAL_DAMPING_MAX_MS).
 *
 * Why affinity first: splitting one connection's actors over two threads measured +66% CPU per
 * request and −35% throughput, and one hop to a parked thread costs ~35 µs of wake-up. So a move
 * must buy something: it happens only when this worker's event-loop utilization is past the
 * saturation threshold, cross-worker placement is enabled, and the target is both below the threshold
 * and less loaded than we are — moving work from one saturated worker to another would pay the hop
 * for nothing.
 */
import { LoadBoard, type WorkerLoad } from './load-board.js';

export interface SchedulerSettings {
  /** Event-loop utilization (0..1] above which a worker counts as saturated (ringside.scheduler). */
  saturationThreshold: number;
  /** Whether new in-process connections may be placed on another worker at all. */
  crossWorker: boolean;
}

export const defaultSchedulerSettings: SchedulerSettings = { saturationThreshold: 0.85, crossWorker: true };

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
  /** Saturated, but no other worker would be better off taking it. */
  | 'local-no-better-worker'
  /** Saturated and another worker is clearly less loaded. */
  | 'least-loaded';

export interface Placement {
  worker: number;
  reason: PlacementReason;
}

/**
 * The pure placement rule. `loads[i]` is worker i's load; `self` is the worker asking. The least
 * loaded worker is the one with the lowest utilization, then the fewest connections, then the lowest
 * index, so decisions are reproducible in tests and logs.
 */
export function placeInProcessConnection(self: number, loads: readonly WorkerLoad[], settings: SchedulerSettings): Placement {
  const own = loads[self] ?? { elu: 0, connections: 0 };
  if (own.elu <= settings.saturationThreshold) return { worker: self, reason: 'local' };
  if (!settings.crossWorker) return { worker: self, reason: 'local-cross-worker-disabled' };
  let best = -1;
  for (let i = 0; i < loads.length; i++) {
    if (i === self) continue;
    if (best < 0 || lighter(loads[i]!, loads[best]!)) best = i;
  }
  const target = best < 0 ? undefined : loads[best]!;
  if (target === undefined || target.elu > settings.saturationThreshold || !lighter(target, own)) {
    return { worker: self, reason: 'local-no-better-worker' };
  }
  return { worker: best, reason: 'least-loaded' };
}

function lighter(a: WorkerLoad, b: WorkerLoad): boolean {
  return a.elu < b.elu || (a.elu === b.elu && a.connections < b.connections);
}

/**
 * Where a connection's actors go: always the worker that holds its transport. A function rather than
 * a constant so the rule is written down, named and tested in one place.
 */
export function placeConnectionActors(transportWorker: number): number {
  return transportWorker;
}

/**
 * The pure re-placement rule for a connection whose far end runs on `placedOn`, asked by worker
 * `self` (see the header for why the thresholds differ).
 */
export function shouldRetireConnection(self: number, placedOn: number, utilization: (worker: number) => number, workers: number, settings: SchedulerSettings): boolean {
  if (!settings.crossWorker) return placedOn !== self;
  const high = settings.saturationThreshold;
  const idle = high - IDLE_MARGIN;
  if (placedOn === self) {
    if (utilization(self) <= high) return false;
    for (let i = 0; i < workers; i++) if (i !== self && utilization(i) < idle) return true;
    return false;
  }
  return utilization(placedOn) > high && utilization(self) < idle;
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
  readonly #utilization = (worker: number): number => this.#board.utilization(worker);

  constructor(self: number, board: LoadBoard, settings: SchedulerSettings) {
    this.#self = self;
    this.#board = board;
    this.#settings = settings;
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
   * idle; true means close it so the next call re-dials through placeInProcess(). One atomic read
   * when this worker is not saturated and the connection is local (the common case).
   */
  shouldRetire(placedOn: number): boolean {
    if (!shouldRetireConnection(this.#self, placedOn, this.#utilization, this.#board.size, this.#settings)) return false;
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
}

/** Reads `ringside.scheduler` from the validated config, tolerating its absence. */
export function schedulerSettingsFrom(ringside: unknown): SchedulerSettings {
  const s = (ringside as { scheduler?: { saturation_threshold?: unknown; cross_worker?: unknown } } | undefined)?.scheduler;
  return {
    saturationThreshold:
      typeof s?.saturation_threshold === 'number' ? s.saturation_threshold : defaultSchedulerSettings.saturationThreshold,
    crossWorker: typeof s?.cross_worker === 'boolean' ? s.cross_worker : defaultSchedulerSettings.crossWorker,
  };
}
