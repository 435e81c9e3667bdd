/**
 * Bolt response statuses and how they map, as MOSN maps them (xprotocol/bolt mapping.go and
 * protocol.go Mapping) with the proxy's own errors answered the way MOSN's proxy answers them: no
 * route or no healthy host → NO_PROCESSOR, overflow → SERVER_THREADPOOL_BUSY, timeout → TIMEOUT,
 * bytes that cannot be decoded → CODEC_EXCEPTION.
 */
import type { RingsideError } from '../../common/errors.js';
import { BoltStatus } from './constants.js';

/** The status Ringside answers a bolt request with when it fails the request itself. */
export function boltStatusOfError(err: RingsideError): number {
  switch (err.code) {
    case 'NO_ROUTE':
    case 'NO_HEALTHY_HOST':
      return BoltStatus.NO_PROCESSOR;
    case 'OVERFLOW':
    case 'UNAVAILABLE':
      return BoltStatus.SERVER_THREADPOOL_BUSY;
    case 'TIMEOUT':
      return BoltStatus.TIMEOUT;
    case 'BAD_REQUEST':
    case 'LIMIT_EXCEEDED':
    case 'UPSTREAM_BAD_RESPONSE':
      return BoltStatus.CODEC_EXCEPTION;
    case 'CONNECT_FAILED':
    case 'UPSTREAM_RESET':
      // MOSN answers a lost upstream connection with its NoHealthUpstream code, mapped to this.
      return BoltStatus.CONNECTION_CLOSED;
    case 'INTERNAL':
      return BoltStatus.SERVER_EXCEPTION;
    case 'CANCELLED':
    case 'UPSTREAM_STATUS':
      return BoltStatus.UNKNOWN;
  }
}

/** A route's direct_response status in bolt (MOSN's Mapping of its HTTP-like codes). */
export function boltStatusOfHttp(status: number): number {
  if (status >= 200 && status < 300) return BoltStatus.SUCCESS;
  switch (status) {
    case 404:
      return BoltStatus.NO_PROCESSOR;
    case 502:
      return BoltStatus.CONNECTION_CLOSED;
    case 503:
      return BoltStatus.SERVER_THREADPOOL_BUSY;
    case 504:
      return BoltStatus.TIMEOUT;
    default:
      return BoltStatus.UNKNOWN;
  }
}

/** A bolt response status as the HTTP class retry policies and metrics read (MOSN BoltStatusMapping). */
export function boltHttpStatusOf(status: number): number {
  switch (status) {
    case BoltStatus.SUCCESS:
      return 200;
    case BoltStatus.SERVER_THREADPOOL_BUSY:
      return 503;
    case BoltStatus.TIMEOUT:
      return 504;
    case BoltStatus.CONNECTION_CLOSED:
      return 502;
    default:
      return 500;
  }
}
