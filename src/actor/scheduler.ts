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
 * must buy something: it happens only when this worker is past the saturation threshold, cross-worker
 * placement is enabled, and the target is both below the threshold and less loaded than we are —
 * moving work from one saturated worker to another would pay the hop for nothing.
 */
import { LoadBoard } from './load-board.js';

export interface SchedulerSettings {
  /** Active connections on a worker above which it counts as saturated. */
  saturationThreshold: number;
  /** Whether new in-process connections may be placed on another worker at all. */
  crossWorker: boolean;
}

export const defaultSchedulerSettings: SchedulerSettings = { saturationThreshold: 256, crossWorker: false };

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
 * The pure placement rule. `loads[i]` is worker i's active connection count; `self` is the worker
 * asking. Ties go to the lowest index so decisions are reproducible in tests and logs.
 */
export function placeInProcessConnection(self: number, loads: readonly number[], settings: SchedulerSettings): Placement {
  const own = loads[self] ?? 0;
  if (own <= settings.saturationThreshold) return { worker: self, reason: 'local' };
  if (!settings.crossWorker) return { worker: self, reason: 'local-cross-worker-disabled' };
  let best = -1;
  let bestLoad = Number.POSITIVE_INFINITY;
  for (let i = 0; i < loads.length; i++) {
    if (i === self) continue;
    const load = loads[i]!;
    if (load < bestLoad) {
      best = i;
      bestLoad = load;
    }
  }
  if (best < 0 || bestLoad >= own || bestLoad > settings.saturationThreshold) {
    return { worker: self, reason: 'local-no-better-worker' };
  }
  return { worker: best, reason: 'least-loaded' };
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
