/**
 * One request's tries, kept apart from the phase machine (downstream.ts) that decides when a try
 * starts, fails or is repeated: how many tries were made, the per-try timer, the retry budget taken
 * from the cluster's circuit breaker, and the request body held so a try can be repeated. The
 * request's overall deadline is the machine's own (it is the DeadlineEntry); the timeout it uses is
 * chosen here.
 */
import type { RingsideError } from '../common/errors.js';
import { retryCovers } from '../router/mutations.js';
import type { ActorRef, DownstreamMsg } from '../types/actor.js';
import type { RetryPolicy } from '../types/router.js';
import type { CircuitBreaker } from '../types/upstream.js';

const TRY_TIMEOUT: DownstreamMsg = { k: 'try-timeout' };

/** A module function with the actor as its argument: no closure per request for the timer. */
function tellTryTimeout(ref: ActorRef<DownstreamMsg>): void {
  ref.tell(TRY_TIMEOUT);
}

/**
 * The route's timeout, else the proxy's global one; a timeout the request itself carries (bolt's
 * timeout field) shortens it, since the caller stops waiting then anyway. 0: none.
 */
export function requestTimeoutMs(routeMs: number, globalMs: number, ownMs: number): number {
  let ms = routeMs || globalMs;
  if (ownMs > 0 && (ms <= 0 || ownMs < ms)) ms = ownMs;
  return ms;
}

/** What decides whether a failed try may be repeated, besides the policy and the tries made. */
export interface FailedTry {
  err: RingsideError | undefined;
  status: number | undefined;
  /** The failed response says the upstream did not act on the request. */
  unprocessed: boolean;
  grpcStatus: number | undefined;
  /** The protocol says this request may be sent again (HTTP: an idempotent method). */
  safeToResend: boolean;
  requestEnded: boolean;
}

export class Tries {
  count = 0;
  #retryAcquired = false;
  #timer: NodeJS.Timeout | undefined;
  /** Request body kept while the upstream stream is not open yet, and for retries when allowed. */
  body: Buffer[] = [];
  bodyBytes = 0;
  /** False once the body outgrew the retry buffer: a try that sent bytes can't be repeated then. */
  replayable = true;

  /** The body must be kept past the try that sends it. */
  keepsBody(policy: RetryPolicy | undefined): boolean {
    return policy !== undefined && policy.numRetries > 0 && this.replayable;
  }

  /** Holds a chunk for a try not opened yet or a later one; past `limitBytes` with a try open, gives up replaying. */
  keep(chunk: Buffer, upstreamOpen: boolean, limitBytes: number): void {
    if (chunk.length === 0) return;
    this.bodyBytes += chunk.length;
    if (upstreamOpen && this.bodyBytes > limitBytes) {
      // Too big to hold for a replay: stream it and give up on retrying this request.
      this.replayable = false;
      return;
    }
    // The chunk is a view into a read buffer that is reused after this call: copy what we keep.
    this.body.push(Buffer.from(chunk));
  }

  /** The body held, as one buffer (null when empty). */
  joinedBody(): Buffer | null {
    const body = this.body;
    return body.length === 0 ? null : body.length === 1 ? body[0]! : Buffer.concat(body, this.bodyBytes);
  }

  dropBody(): void {
    this.body = [];
    this.bodyBytes = 0;
  }

  /** May another try follow this failed one? Takes the cluster's retry budget on the first yes. */
  allowsAnother(policy: RetryPolicy | undefined, answered: boolean, f: FailedTry, breaker: CircuitBreaker): boolean {
    if (policy === undefined || this.count > policy.numRetries || answered) return false;
    if (!retryCovers(policy, f.err, f.status, f.grpcStatus)) return false;
    // Resending is safe when nothing reached the upstream, or the protocol says the request may be
    // resent and we still hold the whole of it.
    const nothingSent = f.unprocessed || (f.err !== undefined && (f.err.code === 'CONNECT_FAILED' || f.err.code === 'OVERFLOW'));
    if (!nothingSent && !(f.safeToResend && this.replayable && f.requestEnded)) return false;
    if (!this.#retryAcquired) {
      if (breaker.tryAcquireRetry() !== undefined) return false;
      this.#retryAcquired = true;
    }
    return true;
  }

  /** A try starts: counted, and its timer (the policy's per_try_timeout) tells `ref` when it passes. */
  start(policy: RetryPolicy | undefined, ref: ActorRef<DownstreamMsg>): void {
    this.count++;
    const ms = policy?.perTryTimeoutMs ?? 0;
    if (ms > 0) {
      this.clearTimer();
      this.#timer = setTimeout(tellTryTimeout, ms, ref);
    }
  }

  clearTimer(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /** The per-try timer fired. */
  timerFired(): void {
    this.#timer = undefined;
  }

  /** The request is over: timer cleared, retry budget given back, body dropped. */
  finish(breaker: CircuitBreaker | undefined): void {
    this.clearTimer();
    if (this.#retryAcquired) breaker?.releaseRetry();
    this.#retryAcquired = false;
    this.body = [];
  }
}
