/**
 * What Dapr's two invoke paths (gRPC and HTTP) share: the headers Dapr adds to the request it sends
 * to the app, the W3C trace context, and how a sidecar failure is told apart from the app's answer.
 *
 *   HTTP status of the app → gRPC code (Dapr's CodeFromHTTPStatus): any 2xx → OK, 400 → INTERNAL,
 *   401 → UNAUTHENTICATED, 403 → PERMISSION_DENIED, 404 → NOT_FOUND, 408 → CANCELLED,
 *   409 → ALREADY_EXISTS, 429 → RESOURCE_EXHAUSTED, 500 → UNKNOWN, 501 → UNIMPLEMENTED,
 *   503 → UNAVAILABLE, 504 → DEADLINE_EXCEEDED, anything else → UNKNOWN.
 */
import { randomBytes } from 'node:crypto';
import { GrpcCode, type RingsideError } from '../../common/errors.js';
import type { RpcHeaders } from '../../types/runtime.js';

export const CALLER_APP_ID_HEADER = 'dapr-caller-app-id';
export const CALLEE_APP_ID_HEADER = 'dapr-callee-app-id';
export const HTTP_STATUS_METADATA = 'dapr-http-status';

/** gRPC codes Dapr does not list in GrpcCode's subset. */
const ALREADY_EXISTS = 6;
const PERMISSION_DENIED = 7;

export function grpcCodeFromHttpStatus(status: number): number {
  switch (status) {
    case 400:
      return GrpcCode.INTERNAL;
    case 401:
      return GrpcCode.UNAUTHENTICATED;
    case 403:
      return PERMISSION_DENIED;
    case 404:
      return GrpcCode.NOT_FOUND;
    case 408:
      return GrpcCode.CANCELLED;
    case 409:
      return ALREADY_EXISTS;
    case 429:
      return GrpcCode.RESOURCE_EXHAUSTED;
    case 500:
      return GrpcCode.UNKNOWN;
    case 501:
      return GrpcCode.UNIMPLEMENTED;
    case 503:
      return GrpcCode.UNAVAILABLE;
    case 504:
      return GrpcCode.DEADLINE_EXCEEDED;
  }
  return status >= 200 && status < 300 ? GrpcCode.OK : GrpcCode.UNKNOWN;
}

/** The gRPC code of a sidecar failure on the Dapr gRPC API (Dapr: ERR_DIRECT_INVOKE is INTERNAL). */
export function daprGrpcCodeOf(err: RingsideError): number {
  switch (err.code) {
    case 'TIMEOUT':
      return GrpcCode.DEADLINE_EXCEEDED;
    case 'CANCELLED':
      return GrpcCode.CANCELLED;
    case 'BAD_REQUEST':
      return GrpcCode.INVALID_ARGUMENT;
    case 'LIMIT_EXCEEDED':
      return GrpcCode.RESOURCE_EXHAUSTED;
    default:
      return GrpcCode.INTERNAL;
  }
}

/** The HTTP status and errorCode of a sidecar failure on the Dapr HTTP API. */
export function daprHttpErrorOf(err: RingsideError): { status: number; errorCode: string } {
  switch (err.code) {
    case 'BAD_REQUEST':
      return { status: 400, errorCode: 'ERR_DIRECT_INVOKE' };
    case 'LIMIT_EXCEEDED':
      return { status: 413, errorCode: 'ERR_DIRECT_INVOKE' };
    default:
      return { status: 500, errorCode: 'ERR_DIRECT_INVOKE' };
  }
}

/** Dapr's ERR_DIRECT_INVOKE message. */
export function directInvokeMessage(appId: string, err: RingsideError): string {
  return `failed to invoke, id: ${appId}, err: ${err.message}`;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * W3C trace context for the hop to the app: a valid incoming `traceparent` continues its trace with a
 * new parent id (the sidecar's hop) and its flags, `tracestate` travels unchanged; without one (or with
 * an invalid one) a new trace starts, not sampled, since Ringside records no spans of its own.
 */
export function propagateTraceContext(headers: RpcHeaders): void {
  const incoming = headers['traceparent'];
  const m = incoming === undefined ? null : TRACEPARENT.exec(incoming.trim().toLowerCase());
  const spanId = randomBytes(8).toString('hex');
  if (m !== null && m[1] !== 'ff' && !/^0+$/.test(m[2]!) && !/^0+$/.test(m[3]!)) {
    headers['traceparent'] = `00-${m[2]}-${spanId}-${m[4]}`;
    return;
  }
  headers['traceparent'] = `00-${randomBytes(16).toString('hex')}-${spanId}-00`;
  // A tracestate without a valid traceparent has nothing to belong to.
  delete headers['tracestate'];
}

/** The headers Dapr adds to every invoke it forwards to an app. */
export function addDaprHeaders(headers: RpcHeaders, callerAppId: string, calleeAppId: string): void {
  headers[CALLER_APP_ID_HEADER] = callerAppId;
  headers[CALLEE_APP_ID_HEADER] = calleeAppId;
  propagateTraceContext(headers);
}
