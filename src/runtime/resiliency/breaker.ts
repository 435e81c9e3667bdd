/**
 * A circuit breaker with Dapr's semantics (sony/gobreaker): closed → open when `trip(counts)` holds
 * after a failure; open for `timeout`, every request refused; then half-open, letting `maxRequests`
 * through: one failure opens it again, `maxRequests` consecutive successes close it. In the closed
 * state the counts are cleared every `interval` (never when 0). One breaker per target app and
 * worker: each worker judges the app by the calls it made.
 */
import type { CircuitBreakerConfig } from './schema.js';
import { compileTrip, type BreakerCounts } from './trip.js';

export enum BreakerState {
  Closed = 0,
  HalfOpen = 1,
  Open = 2,
}

export const BREAKER_STATE_NAMES = ['closed', 'half-open', 'open'] as const;

/** Why a request was not let through. */
export type BreakerRefusal = 'open' | 'too many requests';

export class CircuitBreaker {
  readonly #maxRequests: number;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #trip: (c: BreakerCounts) => boolean;
  readonly #now: () => number;
  #state = BreakerState.Closed;
  #counts: BreakerCounts = { requests: 0, totalSuccesses: 0, totalFailures: 0, consecutiveSuccesses: 0, consecutiveFailures: 0 };
  /** Closed: when the counts are next cleared; open: when it turns half-open. 0: never. */
  #expiry = 0;
  /** Bumped on every state change, so a result of a request from an older generation is dropped. */
  #generation = 0;
  /** Times the breaker opened. */
  opened = 0;

  constructor(cfg: CircuitBreakerConfig, now: () => number = Date.now) {
    this.#maxRequests = cfg.maxRequests;
    this.#intervalMs = cfg.interval;
    this.#timeoutMs = cfg.timeout;
    this.#trip = compileTrip(cfg.trip);
    this.#now = now;
    this.#newGeneration(now());
  }

  get state(): BreakerState {
    this.#refresh(this.#now());
    return this.#state;
  }

  /** Admits one request: its generation, or why not. */
  admit(): number | BreakerRefusal {
    const now = this.#now();
    this.#refresh(now);
    if (this.#state === BreakerState.Open) return 'open';
    if (this.#state === BreakerState.HalfOpen && this.#counts.requests >= this.#maxRequests) return 'too many requests';
    this.#counts.requests++;
    return this.#generation;
  }

  /** The outcome of a request admitted in `generation`. */
  record(generation: number, success: boolean): void {
    const now = this.#now();
    this.#refresh(now);
    if (generation !== this.#generation) return;
    const c = this.#counts;
    if (success) {
      c.totalSuccesses++;
      c.consecutiveSuccesses++;
      c.consecutiveFailures = 0;
      if (this.#state === BreakerState.HalfOpen && c.consecutiveSuccesses >= this.#maxRequests) this.#setState(BreakerState.Closed, now);
      return;
    }
    c.totalFailures++;
    c.consecutiveFailures++;
    c.consecutiveSuccesses = 0;
    if (this.#state === BreakerState.HalfOpen || (this.#state === BreakerState.Closed && this.#trip(c))) this.#setState(BreakerState.Open, now);
  }

  #refresh(now: number): void {
    if (this.#state === BreakerState.Closed) {
      if (this.#expiry !== 0 && this.#expiry <= now) this.#newGeneration(now);
    } else if (this.#state === BreakerState.Open && this.#expiry <= now) {
      this.#setState(BreakerState.HalfOpen, now);
    }
  }

  #setState(state: BreakerState, now: number): void {
    if (state === this.#state) return;
    this.#state = state;
    if (state === BreakerState.Open) this.opened++;
    this.#newGeneration(now);
  }

  #newGeneration(now: number): void {
    this.#generation++;
    this.#counts = { requests: 0, totalSuccesses: 0, totalFailures: 0, consecutiveSuccesses: 0, consecutiveFailures: 0 };
    if (this.#state === BreakerState.Closed) this.#expiry = this.#intervalMs > 0 ? now + this.#intervalMs : 0;
    else if (this.#state === BreakerState.Open) this.#expiry = now + this.#timeoutMs;
    else this.#expiry = 0;
  }
}
