/**
 * Placement: where a connection's actors run, and which worker accepts a new in-process connection.
 *
 *   connection accepted on worker w ─▶ read loop, write loop, phase machines: all on w (affinity)
 *   channel dials "egress_x" on w ─▶ place() ─┬─ w itself (fast path, no thread hop)
 *                                              └─ least-loaded worker v, as a pipe.dial MeshMessage
 *                                                 relayed by the supervisor (only when w is saturated)
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

/** The per-worker scheduler: the placement rule bound to this worker's view of the load board. */
export class Scheduler {
  readonly #self: number;
  readonly #board: LoadBoard;
  readonly #settings: SchedulerSettings;
  #moved = 0;
  #kept = 0;

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

  stats(): { kept: number; moved: number } {
    return { kept: this.#kept, moved: this.#moved };
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
