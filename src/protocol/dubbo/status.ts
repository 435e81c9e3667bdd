/**
 * Status mappings of the dubbo codec, as MOSN makes them (`pkg/protocol/xprotocol/dubbo`):
 * - a proxy error answered to a dubbo client (MOSN's Hijack with dubboMosnStatusMap): the status byte
 *   and the `code|text` message MOSN writes;
 * - a dubbo status read as an HTTP-like class (MOSN's dubboStatusMapping), which the proxy's
 *   "is this a failure" and metrics use.
 */
import type { RingsideError } from '../../common/errors.js';
import { DubboStatus } from './constants.js';

export interface DubboErrorReply {
  readonly status: number;
  readonly message: string;
}

/** The reply MOSN's dubbo codec makes for a proxy error. */
export function dubboReplyOf(err: RingsideError): DubboErrorReply {
  switch (err.code) {
    case 'BAD_REQUEST':
      // MOSN: CodecExceptionCode (bytes it could not decode) → SERVICE_ERROR "0|codec exception".
      return { status: DubboStatus.SERVICE_ERROR, message: '0|codec exception' };
    case 'NO_ROUTE':
      return { status: DubboStatus.SERVICE_NOT_FOUND, message: '404|router unavailable' };
    case 'NO_HEALTHY_HOST':
    case 'CONNECT_FAILED':
    case 'UPSTREAM_RESET':
    case 'UPSTREAM_BAD_RESPONSE':
    case 'UNAVAILABLE':
      return { status: DubboStatus.SERVICE_NOT_FOUND, message: '502|no health upstream' };
    case 'OVERFLOW':
      return { status: DubboStatus.BAD_REQUEST, message: '503|upstream overflow' };
    case 'TIMEOUT':
      return { status: DubboStatus.CLIENT_TIMEOUT, message: '504|timeout' };
    case 'LIMIT_EXCEEDED':
      return { status: DubboStatus.BAD_REQUEST, message: '509|limit exceeded' };
    case 'UPSTREAM_STATUS':
    case 'CANCELLED':
    case 'INTERNAL':
      return { status: DubboStatus.SERVICE_ERROR, message: '500|internal error' };
  }
}

/** MOSN's dubboStatusMapping: the HTTP status a dubbo response status counts as. */
export function httpClassOfDubboStatus(status: number): number {
  switch (status) {
    case DubboStatus.OK:
      return 200;
    case DubboStatus.CLIENT_TIMEOUT:
    case DubboStatus.SERVER_TIMEOUT:
    case DubboStatus.BAD_REQUEST:
      return 504;
    case DubboStatus.SERVICE_NOT_FOUND:
      return 502;
    case DubboStatus.SERVER_THREADPOOL_EXHAUSTED_ERROR:
      return 507;
    default:
      return 500;
  }
}
