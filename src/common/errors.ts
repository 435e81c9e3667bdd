/**
 * Ringside's error model. Every error that can reach a peer carries a stable `code`, the `source`
 * that caused it and whether a retry is safe; status mapping (HTTP, gRPC, bolt/dubbo, dRPC) and the
 * retry policy read these fields instead of matching on messages.
 */
import type { ErrorCode, ErrorSource, RingsideError as RingsideErrorShape } from '../types/errors.js';

export type { ErrorCode, ErrorSource };

export class RingsideError extends Error implements RingsideErrorShape {
  readonly code: ErrorCode;
  readonly source: ErrorSource;
  readonly retryable: boolean;
  /** Upstream status when code is UPSTREAM_STATUS; informational otherwise. */
  readonly status: number | undefined;

  constructor(
    code: ErrorCode,
    source: ErrorSource,
    message: string,
    opts: { retryable?: boolean; status?: number; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'RingsideError';
    this.code = code;
    this.source = source;
    this.retryable = opts.retryable ?? defaultRetryable(code);
    this.status = opts.status;
  }
}

function defaultRetryable(code: ErrorCode): boolean {
  return code === 'CONNECT_FAILED' || code === 'UPSTREAM_RESET' || code === 'NO_HEALTHY_HOST';
}

/** Wraps anything thrown into a RingsideError so callers can always read code/source/retryable. */
export function asRingsideError(err: unknown, source: ErrorSource = 'internal'): RingsideError {
  if (err instanceof RingsideError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new RingsideError('INTERNAL', source, message, { cause: err, retryable: false });
}

/**
 * HTTP status a proxy answers with for an error that ends a request. The source decides where the
 * fault lies: malformed or oversized bytes from the downstream are its 4xx, the same from the
 * upstream are a bad gateway; a deadline the downstream missed (its own request too slow) is 408,
 * one the upstream missed is 504.
 */
export function httpStatusOf(err: RingsideError): number {
  switch (err.code) {
    case 'BAD_REQUEST':
      return err.source === 'downstream' ? 400 : err.source === 'upstream' ? 502 : 500;
    case 'LIMIT_EXCEEDED':
      return err.source === 'downstream' ? 413 : err.source === 'upstream' ? 502 : 500;
    case 'NO_ROUTE':
      return 404;
    case 'CONNECT_FAILED':
    case 'NO_HEALTHY_HOST':
    case 'OVERFLOW':
    case 'UNAVAILABLE':
      return 503;
    case 'UPSTREAM_RESET':
    case 'UPSTREAM_BAD_RESPONSE':
    case 'UPSTREAM_STATUS':
      return 502;
    case 'TIMEOUT':
      return err.source === 'downstream' ? 408 : 504;
    case 'CANCELLED':
      return 499;
    case 'INTERNAL':
      return 500;
  }
}

/** gRPC status codes (grpc/status.h), the subset Ringside answers with. */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/**
 * gRPC's code for an HTTP response that carries no grpc-status (gRPC's http-grpc-status-mapping.md),
 * read the same way by the HTTP/2 proxy's local replies and by the upstream gRPC channel.
 */
export function grpcCodeOfHttpStatus(status: number): number {
  switch (status) {
    case 400:
      return GrpcCode.INTERNAL;
    case 401:
      return GrpcCode.UNAUTHENTICATED;
    case 403:
      return GrpcCode.PERMISSION_DENIED;
    case 404:
      return GrpcCode.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcCode.UNAVAILABLE;
    default:
      return GrpcCode.UNKNOWN;
  }
}

/**
 * gRPC status for an error. UNAVAILABLE tells a gRPC client the call may be retried, so a broken
 * upstream exchange is UNAVAILABLE only when it is `retryable`; otherwise INTERNAL (the service may
 * have acted on it). Bad input is INVALID_ARGUMENT only when
 * the caller sent it.
 */
export function grpcCodeOf(err: RingsideError): number {
  switch (err.code) {
    case 'BAD_REQUEST':
      return err.source === 'downstream' ? GrpcCode.INVALID_ARGUMENT : GrpcCode.INTERNAL;
    case 'LIMIT_EXCEEDED':
    case 'OVERFLOW':
      return GrpcCode.RESOURCE_EXHAUSTED;
    case 'NO_ROUTE':
      return GrpcCode.NOT_FOUND;
    case 'TIMEOUT':
      return GrpcCode.DEADLINE_EXCEEDED;
    case 'CANCELLED':
      return GrpcCode.CANCELLED;
    case 'INTERNAL':
      return GrpcCode.INTERNAL;
    case 'NO_HEALTHY_HOST':
    case 'CONNECT_FAILED':
    case 'UNAVAILABLE':
      return GrpcCode.UNAVAILABLE;
    case 'UPSTREAM_STATUS':
      // Layotto answers a non-success upstream status with UNAVAILABLE; clients rely on it.
      return GrpcCode.UNAVAILABLE;
    case 'UPSTREAM_RESET':
    case 'UPSTREAM_BAD_RESPONSE':
      return err.retryable ? GrpcCode.UNAVAILABLE : GrpcCode.INTERNAL;
  }
}
