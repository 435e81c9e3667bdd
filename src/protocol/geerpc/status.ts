/**
 * geerpc has no status field: a reply either has an empty Header.Error (success) or carries the
 * error's text with an empty struct body. Ringside gives replies a status so the proxy's retry
 * policy, metrics and access log can read them: OK, SERVICE_ERROR (the service answered with an
 * error) and the sidecar's own failures, whose Header.Error starts with `ringside: <CODE>:` (a
 * timeout keeps Go's `rpc server: request handle timeout:` prefix), so a caller tells the
 * sidecar's failure from the service's.
 */
import type { RingsideError } from '../../common/errors.js';

export const GeeStatus = {
  OK: 0,
  SERVICE_ERROR: 1,
  NO_ROUTE: 2,
  NO_HEALTHY_HOST: 3,
  TIMEOUT: 4,
  OVERFLOW: 5,
  BAD_REQUEST: 6,
  UPSTREAM_FAILED: 7,
  INTERNAL: 8,
} as const;

const names = Object.fromEntries(Object.entries(GeeStatus).map(([k, v]) => [v, k])) as Record<number, string>;

export function geeStatusName(status: number): string {
  return names[status] ?? `STATUS_${status}`;
}

export function geeStatusOfError(err: RingsideError): number {
  switch (err.code) {
    case 'NO_ROUTE':
      return GeeStatus.NO_ROUTE;
    case 'NO_HEALTHY_HOST':
      return GeeStatus.NO_HEALTHY_HOST;
    case 'TIMEOUT':
      return GeeStatus.TIMEOUT;
    case 'OVERFLOW':
    case 'UNAVAILABLE':
      return GeeStatus.OVERFLOW;
    case 'BAD_REQUEST':
    case 'LIMIT_EXCEEDED':
      return GeeStatus.BAD_REQUEST;
    case 'CONNECT_FAILED':
    case 'UPSTREAM_RESET':
    case 'UPSTREAM_BAD_RESPONSE':
      return GeeStatus.UPSTREAM_FAILED;
    case 'UPSTREAM_STATUS':
      return GeeStatus.SERVICE_ERROR;
    case 'CANCELLED':
    case 'INTERNAL':
      return GeeStatus.INTERNAL;
  }
}

/** Header.Error for one of Ringside's own failures. */
export function geeErrorText(err: RingsideError): string {
  if (err.code === 'TIMEOUT') return `rpc server: request handle timeout: ringside: ${err.message}`;
  return `ringside: ${err.code}: ${err.message}`;
}

/** A route's direct_response HTTP status as a geerpc status. */
export function geeStatusOfHttp(status: number): number {
  if (status >= 200 && status < 300) return GeeStatus.OK;
  switch (status) {
    case 404:
      return GeeStatus.NO_ROUTE;
    case 408:
    case 504:
      return GeeStatus.TIMEOUT;
    case 429:
    case 503:
      return GeeStatus.OVERFLOW;
    case 400:
    case 413:
      return GeeStatus.BAD_REQUEST;
    case 502:
      return GeeStatus.UPSTREAM_FAILED;
    default:
      return GeeStatus.SERVICE_ERROR;
  }
}

/** A status as the HTTP class retry policies and metrics read. */
export function geeHttpStatusOf(status: number): number {
  switch (status) {
    case GeeStatus.OK:
      return 200;
    case GeeStatus.NO_ROUTE:
      return 404;
    case GeeStatus.BAD_REQUEST:
      return 400;
    case GeeStatus.TIMEOUT:
      return 504;
    case GeeStatus.OVERFLOW:
    case GeeStatus.NO_HEALTHY_HOST:
      return 503;
    case GeeStatus.UPSTREAM_FAILED:
      return 502;
    default:
      return 500;
  }
}
