/**
 * Circuit breakers of one cluster on one worker: counters with limits. A refused acquire returns an
 * OVERFLOW error built once per resource at start-up, because refusals come in floods exactly when
 * the worker is busiest, and a fresh Error (with its stack capture) per refusal would add to it.
 */
import { RingsideError } from '../common/errors.js';
import type {
  CircuitBreaker,
  CircuitBreakerResource,
  CircuitBreakerStats,
} from '../types/upstream.js';
import type { CircuitBreakersConfig } from '../config/types.js';

/** Any subset of the thresholds; an absent one takes its default. */
type CircuitBreakerThresholdsConfig = Partial<CircuitBreakersConfig>;

/** Envoy's defaults, which MOSN follows; per worker here, as Ringside keeps all upstream state per worker. */
export const DEFAULT_THRESHOLDS = {
  max_connections: 1024,
  max_pending_requests: 1024,
  max_requests: 1024,
  max_retries: 3,
} as const;

class Limit {
  readonly max: number;
  current = 0;
  overflows = 0;
  readonly error: RingsideError;
  constructor(resource: CircuitBreakerResource, max: number, clusterName: string) {
    this.max = max;
    this.error = new RingsideError(
      'OVERFLOW',
      'upstream',
      `circuit breaker open: ${resource} (${max}) reached for cluster ${clusterName}`,
      { retryable: false },
    );
  }
  acquire(): RingsideError | undefined {
    if (this.current >= this.max) {
      this.overflows++;
      return this.error;
    }
    this.current++;
    return undefined;
  }
  release(): void {
    // Guards the counter against a double release instead of letting the limit drift upwards.
    if (this.current > 0) this.current--;
  }
}

function limitOf(cfg: CircuitBreakerThresholdsConfig | undefined, key: CircuitBreakerResource, path: string): number {
  const v = cfg?.[key];
  if (v === undefined) return DEFAULT_THRESHOLDS[key];
  if (!Number.isInteger(v) || v < 0) throw new Error(`${path}.${key}: must be a non-negative integer, got ${v}`);
  return v;
}

export class ClusterCircuitBreaker implements CircuitBreaker {
  readonly #connections: Limit;
  readonly #pending: Limit;
  readonly #requests: Limit;
  readonly #retries: Limit;

  /** `thresholds` is the first (default priority) entry of circuit_breakers.thresholds. */
  constructor(clusterName: string, thresholds?: CircuitBreakerThresholdsConfig, path = 'circuit_breakers.thresholds[0]') {
    this.#connections = new Limit('max_connections', limitOf(thresholds, 'max_connections', path), clusterName);
    this.#pending = new Limit('max_pending_requests', limitOf(thresholds, 'max_pending_requests', path), clusterName);
    this.#requests = new Limit('max_requests', limitOf(thresholds, 'max_requests', path), clusterName);
    this.#retries = new Limit('max_retries', limitOf(thresholds, 'max_retries', path), clusterName);
  }

  tryAcquireConnection(): RingsideError | undefined {
    return this.#connections.acquire();
  }
  releaseConnection(): void {
    this.#connections.release();
  }
  tryAcquirePending(): RingsideError | undefined {
    return this.#pending.acquire();
  }
  releasePending(): void {
    this.#pending.release();
  }
  tryAcquireRequest(): RingsideError | undefined {
    return this.#requests.acquire();
  }
  releaseRequest(): void {
    this.#requests.release();
  }
  tryAcquireRetry(): RingsideError | undefined {
    return this.#retries.acquire();
  }
  releaseRetry(): void {
    this.#retries.release();
  }

  stats(): CircuitBreakerStats {
    return {
      connections: this.#connections.current,
      pendingRequests: this.#pending.current,
      requests: this.#requests.current,
      retries: this.#retries.current,
      overflows: {
        max_connections: this.#connections.overflows,
        max_pending_requests: this.#pending.overflows,
        max_requests: this.#requests.overflows,
        max_retries: this.#retries.overflows,
      },
    };
  }
}
