/**
 * Applies Dapr resiliency policies to service invocation, on both Dapr APIs (gRPC and HTTP), by the
 * target app id: retry( circuit breaker( timeout( invoke ))) as Dapr nests them.
 *
 * Policy per app: the named policies of `spec.targets.apps[appId]`; else `DefaultAppRetryPolicy` /
 * `DefaultAppTimeoutPolicy` / `DefaultAppCircuitBreakerPolicy`; else `DefaultRetryPolicy` /
 * `DefaultTimeoutPolicy` / `DefaultCircuitBreakerPolicy`. A resource with `scopes` applies only when
 * this sidecar's app id is listed.
 *
 * What fails a try:
 *   - a sidecar error (connection refused, reset, no route, timeout, open breaker …). Retried unless
 *     the caller caused it (bad input, body too large, caller gone); with `matching.gRPCStatusCodes`,
 *     only when the error's gRPC code (Layotto API mapping: UNAVAILABLE, DEADLINE_EXCEEDED, …) is listed.
 *   - an app answer with an HTTP error status: retried when listed in `matching.httpStatusCodes`, or,
 *     without that list, for any status ≥ 400 (Dapr: "retries on all HTTP errors"). The breaker counts
 *     sidecar errors and statuses ≥ 500 as failures.
 * When the tries run out the last outcome is the answer: the app's own response, or the error. An open
 * breaker answers an error (OVERFLOW "circuit breaker is open"), never a success.
 */
import { RingsideError, asRingsideError, grpcCodeOf } from '../../common/errors.js';
import { metrics } from '../../observability/index.js';
import type { RpcRequest, RpcResponse } from '../../types/runtime.js';
import { BREAKER_STATE_NAMES, CircuitBreaker } from './breaker.js';
import type { ResiliencyConfig, RetryPolicyConfig } from './schema.js';

export type Invoke = (req: RpcRequest) => Promise<RpcResponse>;

interface AppPolicy {
  timeout?: { name: string; ms: number };
  retry?: { name: string; cfg: RetryPolicyConfig };
  breaker?: { name: string; breaker: CircuitBreaker };
}

/** Counters of one target app under its policies (also in /metrics as ringside_resiliency_activations_total). */
export interface ResiliencyTargetStats {
  app: string;
  timeoutPolicy: string | undefined;
  retryPolicy: string | undefined;
  circuitBreakerPolicy: string | undefined;
  tries: number;
  retries: number;
  timeouts: number;
  breakerOpened: number;
  breakerRejected: number;
  breakerState: (typeof BREAKER_STATE_NAMES)[number] | undefined;
}

const CALLER_CAUSED = new Set(['BAD_REQUEST', 'LIMIT_EXCEEDED', 'CANCELLED']);
/** Dapr's exponential back-off: 500 ms first, × 1.5 each time, randomized ±50 %, capped at maxInterval. */
const EXPONENTIAL_INITIAL_MS = 500;
const EXPONENTIAL_MULTIPLIER = 1.5;

function inRanges(code: number, ranges: readonly [number, number][]): boolean {
  for (const [lo, hi] of ranges) if (code >= lo && code <= hi) return true;
  return false;
}

export class Resiliency {
  readonly #cfg: ResiliencyConfig | undefined;
  readonly #policies = new Map<string, AppPolicy | null>();
  readonly #stats = new Map<string, ResiliencyTargetStats>();
  readonly #random: () => number;

  /** `ownAppId` decides `scopes`; `random` is injectable so back-off tests need no luck. */
  constructor(cfg: ResiliencyConfig | undefined, ownAppId: string, random: () => number = Math.random) {
    const scoped = cfg?.scopes === undefined || cfg.scopes.includes(ownAppId);
    this.#cfg = scoped ? cfg : undefined;
    this.#random = random;
  }

  /** Runs one invoke of `appId` under its policies (directly when it has none). */
  run(appId: string, req: RpcRequest, invoke: Invoke): Promise<RpcResponse> {
    const policy = this.#policyFor(appId);
    if (policy === null) return invoke(req);
    return this.#run(appId, policy, req, invoke);
  }

  stats(): ResiliencyTargetStats[] {
    for (const [app, s] of this.#stats) s.breakerState = (() => {
      const b = this.#policies.get(app)?.breaker;
      return b === undefined ? undefined : BREAKER_STATE_NAMES[b.breaker.state];
    })();
    return [...this.#stats.values()];
  }

  #policyFor(appId: string): AppPolicy | null {
    const cached = this.#policies.get(appId);
    if (cached !== undefined) return cached;
    const policy = this.#resolve(appId);
    this.#policies.set(appId, policy);
    if (policy !== null) {
      this.#stats.set(appId, {
        app: appId,
        timeoutPolicy: policy.timeout?.name,
        retryPolicy: policy.retry?.name,
        circuitBreakerPolicy: policy.breaker?.name,
        tries: 0,
        retries: 0,
        timeouts: 0,
        breakerOpened: 0,
        breakerRejected: 0,
        breakerState: undefined,
      });
    }
    return policy;
  }

  #resolve(appId: string): AppPolicy | null {
    const spec = this.#cfg?.spec;
    if (spec === undefined) return null;
    const { timeouts, retries, circuitBreakers } = spec.policies;
    const target = Object.prototype.hasOwnProperty.call(spec.targets.apps, appId) ? spec.targets.apps[appId] : undefined;
    const pick = <T>(table: Record<string, T>, named: string | undefined, kind: string): { name: string; value: T } | undefined => {
      for (const name of [named, `DefaultApp${kind}Policy`, `Default${kind}Policy`]) {
        if (name !== undefined && Object.prototype.hasOwnProperty.call(table, name)) return { name, value: table[name]! };
        // A named policy is the target's choice: no fall-back to defaults for that kind.
        if (name === named && named !== undefined) return undefined;
      }
      return undefined;
    };
    const t = pick(timeouts, target?.timeout, 'Timeout');
    const r = pick(retries, target?.retry, 'Retry');
    const b = pick(circuitBreakers, target?.circuitBreaker, 'CircuitBreaker');
    if (t === undefined && r === undefined && b === undefined) return null;
    const policy: AppPolicy = {};
    if (t !== undefined && t.value > 0) policy.timeout = { name: t.name, ms: t.value };
    if (r !== undefined) policy.retry = { name: r.name, cfg: r.value };
    if (b !== undefined) policy.breaker = { name: b.name, breaker: new CircuitBreaker(b.value) };
    return policy;
  }

  async #run(appId: string, policy: AppPolicy, req: RpcRequest, invoke: Invoke): Promise<RpcResponse> {
    const stats = this.#stats.get(appId)!;
    const retry = policy.retry?.cfg;
    const maxRetries = retry === undefined ? 0 : retry.maxRetries;
    let backoff = EXPONENTIAL_INITIAL_MS;
    for (let attempt = 0; ; attempt++) {
      stats.tries++;
      const outcome = await this.#try(appId, policy, req, invoke, stats);
      const retryable = retry !== undefined && this.#shouldRetry(retry, outcome);
      const exhausted = maxRetries !== -1 && attempt >= maxRetries;
      if (!retryable || exhausted || req.cancel.cancelled) {
        if (outcome instanceof RingsideError) throw outcome;
        return outcome;
      }
      let wait: number;
      if (retry!.policy === 'constant') wait = retry!.duration;
      else {
        wait = Math.min(retry!.maxInterval, backoff * (0.5 + this.#random()));
        backoff = Math.min(retry!.maxInterval, backoff * EXPONENTIAL_MULTIPLIER);
      }
      // A retry that could not finish before the caller's deadline is not started.
      if (req.deadline !== Infinity && Date.now() + wait >= req.deadline) {
        if (outcome instanceof RingsideError) throw outcome;
        return outcome;
      }
      if (!(await this.#sleep(wait, req))) throw new RingsideError('CANCELLED', 'downstream', 'the caller cancelled');
      stats.retries++;
      metrics.resiliencyActivated(policy.retry!.name, 'retry', appId);
    }
  }

  /** One try through the breaker and the timeout: the app's response, or the error. */
  async #try(appId: string, policy: AppPolicy, req: RpcRequest, invoke: Invoke, stats: ResiliencyTargetStats): Promise<RpcResponse | RingsideError> {
    const breaker = policy.breaker?.breaker;
    let generation = 0;
    if (breaker !== undefined) {
      const admitted = breaker.admit();
      if (typeof admitted !== 'number') {
        stats.breakerRejected++;
        return new RingsideError('OVERFLOW', 'upstream', admitted === 'open' ? `circuit breaker is open for app ${appId}` : `circuit breaker is half-open for app ${appId} and at its maxRequests`, { retryable: false });
      }
      generation = admitted;
    }
    const attempt: RpcRequest = { ...req, headers: { ...req.headers } };
    const policyTimeout = policy.timeout?.ms;
    if (policyTimeout !== undefined) attempt.timeoutMs = Math.min(req.timeoutMs > 0 ? req.timeoutMs : Infinity, policyTimeout);
    let outcome: RpcResponse | RingsideError;
    try {
      outcome = await invoke(attempt);
    } catch (err) {
      outcome = asRingsideError(err);
      // The policy's timeout fired (not the caller's deadline, which is the caller's own).
      if (outcome.code === 'TIMEOUT' && policyTimeout !== undefined && (req.deadline === Infinity || req.deadline - Date.now() > 1)) {
        stats.timeouts++;
        metrics.resiliencyActivated(policy.timeout!.name, 'timeout', appId);
      }
    }
    if (breaker !== undefined) {
      const before = breaker.opened;
      const failed = outcome instanceof RingsideError ? !CALLER_CAUSED.has(outcome.code) : outcome.status >= 500;
      breaker.record(generation, !failed);
      if (breaker.opened !== before) {
        stats.breakerOpened++;
        metrics.resiliencyActivated(policy.breaker!.name, 'circuitbreaker', appId);
      }
    }
    return outcome;
  }

  #shouldRetry(retry: RetryPolicyConfig, outcome: RpcResponse | RingsideError): boolean {
    if (outcome instanceof RingsideError) {
      if (CALLER_CAUSED.has(outcome.code)) return false;
      const grpc = retry.matching?.gRPCStatusCodes;
      return grpc === undefined || grpc.length === 0 || inRanges(grpcCodeOf(outcome), grpc);
    }
    const http = retry.matching?.httpStatusCodes;
    if (http === undefined || http.length === 0) return outcome.status >= 400;
    return inRanges(outcome.status, http);
  }

  /** Waits, unless the caller goes away first (then false). */
  #sleep(ms: number, req: RpcRequest): Promise<boolean> {
    if (req.cancel.cancelled) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        req.cancel.onCancel = null;
        resolve(true);
      }, ms);
      req.cancel.onCancel = () => {
        clearTimeout(timer);
        resolve(false);
      };
    });
  }
}
