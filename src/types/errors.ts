/**
 * ERRORS — the shape every layer's interfaces use for a failure that can reach a peer. The class that
 * builds them and the status mappings (HTTP, gRPC) live in src/common/errors.ts; the interfaces in
 * src/types name only this shape, so no types module imports an implementation.
 */

export type ErrorSource = 'downstream' | 'upstream' | 'internal';

export type ErrorCode =
  | 'BAD_REQUEST' // malformed bytes or fields from the downstream peer
  | 'LIMIT_EXCEEDED' // a configured limit (header size, body size, message size) was passed
  | 'NO_ROUTE' // no virtual host / route / cluster matched
  | 'NO_HEALTHY_HOST' // the cluster has no host to pick
  | 'CONNECT_FAILED' // upstream connect refused or failed
  | 'UPSTREAM_RESET' // upstream closed or reset mid-request
  | 'UPSTREAM_BAD_RESPONSE' // upstream sent bytes the codec could not parse
  | 'UPSTREAM_STATUS' // upstream answered with a non-success status
  | 'TIMEOUT' // per-try, per-route or global timeout fired
  | 'OVERFLOW' // circuit breaker or pool queue bound reached
  | 'CANCELLED' // the downstream peer went away or cancelled
  | 'UNAVAILABLE' // draining, listener missing, pipe closed
  | 'INTERNAL'; // a bug or an unexpected exception inside Ringside

/** An error with a stable code, the side that caused it and whether a retry is safe. */
export interface RingsideError extends Error {
  readonly code: ErrorCode;
  readonly source: ErrorSource;
  readonly retryable: boolean;
  /** Upstream status when code is UPSTREAM_STATUS; informational otherwise. */
  readonly status: number | undefined;
}
