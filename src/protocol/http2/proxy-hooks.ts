/**
 * What the protocol-neutral proxy asks HTTP/2. Plain HTTP/2 requests get HTTP/1's answers (text
 * replies with `x-ringside-error`, 5xx retryable, idempotent methods resendable, X-Forwarded-For /
 * Via). gRPC requests (`content-type: application/grpc…`) get gRPC's: Ringside's own errors are
 * Trailers-Only responses (HTTP 200, one HEADERS frame with END_STREAM carrying `grpc-status` and
 * `grpc-message`) with the status a gRPC client acts on — no route UNIMPLEMENTED, no healthy host or
 * connect failure UNAVAILABLE, timeout DEADLINE_EXCEEDED, overflow RESOURCE_EXHAUSTED — the
 * call's `grpc-timeout` is its request timeout, and a call held whole may be resent (gRPC has no
 * idempotency marker on the wire; the proxy resends only while nothing of the answer went back).
 */
import { GrpcCode, grpcCodeOf, grpcCodeOfHttpStatus, httpStatusOf, type RingsideError } from '../../common/errors.js';
import type { ForwardingSettings, LocalReply, ProxyHooks, RequestFrame, ResponseFrame, ResponseHeadFactory } from '../../types/protocol.js';
import { SIDECAR_ERROR_HEADER } from '../../types/proxy.js';
import { appendForwardedFor, appendVia, isIdempotent } from '../http1/proxy-hooks.js';
import { isGrpc } from './heads.js';

/** gRPC status of one of Ringside's own errors, as a gRPC proxy answers them. */
export function grpcStatusOfError(err: RingsideError): number {
  // No route is "this method is not served here" to a gRPC client, as Envoy answers it.
  if (err.code === 'NO_ROUTE') return GrpcCode.UNIMPLEMENTED;
  return grpcCodeOf(err);
}

/** grpc-message is percent-encoded: bytes outside printable ASCII and '%' itself (gRPC over HTTP/2). */
export function encodeGrpcMessage(message: string): string {
  let plain = true;
  for (let i = 0; i < message.length && plain; i++) {
    const c = message.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) plain = false;
  }
  if (plain) return message;
  let out = '';
  for (const b of Buffer.from(message, 'utf8')) {
    out += b < 0x20 || b > 0x7e || b === 0x25 ? `%${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b);
  }
  return out;
}

/** A Trailers-Only response: the status and grpc-status in the one HEADERS frame, no body. */
export function grpcTrailersOnly(factory: ResponseHeadFactory, code: number, message: string, sidecarCode: string | undefined): LocalReply {
  const head = factory.newResponse(200);
  head.headers.set('content-type', 'application/grpc');
  head.headers.set('grpc-status', String(code));
  if (message !== '') head.headers.set('grpc-message', encodeGrpcMessage(message));
  if (sidecarCode !== undefined) head.headers.set(SIDECAR_ERROR_HEADER, sidecarCode);
  return { head, body: null };
}

const units: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** `grpc-timeout` (1–8 digits and a unit H M S m u n) in ms, rounded up; 0 when absent or malformed. */
export function grpcTimeoutMs(value: string | undefined): number {
  if (value === undefined || value.length < 2 || value.length > 9) return 0;
  const unit = units[value[value.length - 1]!];
  if (unit === undefined) return 0;
  let n = 0;
  for (let i = 0; i < value.length - 1; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return 0;
    n = n * 10 + d;
  }
  return n === 0 ? 0 : Math.max(1, Math.ceil(n * unit));
}

const TEXT = 'text/plain; charset=utf-8';

function textReply(factory: ResponseHeadFactory, status: number, body: string, code: string | undefined): LocalReply {
  const head = factory.newResponse(status);
  head.headers.set('content-type', TEXT);
  if (code !== undefined) head.headers.set(SIDECAR_ERROR_HEADER, code);
  return { head, body: body === '' ? null : Buffer.from(body) };
}

export const http2ProxyHooks: ProxyHooks = {
  errorReply(request: RequestFrame, err: RingsideError, factory: ResponseHeadFactory): LocalReply {
    if (isGrpc(request.headers)) return grpcTrailersOnly(factory, grpcStatusOfError(err), err.message, err.code);
    return textReply(factory, httpStatusOf(err), `${err.message}\n`, err.code);
  },
  directReply(request: RequestFrame, status: number, body: string, factory: ResponseHeadFactory): LocalReply {
    if (isGrpc(request.headers) && status !== 200) return grpcTrailersOnly(factory, grpcCodeOfHttpStatus(status), body, undefined);
    return textReply(factory, status, body, undefined);
  },
  retryStatus(response: ResponseFrame): number | undefined {
    return response.status >= 500 ? response.status : undefined;
  },
  retryGrpcStatus(response: ResponseFrame): number | undefined {
    const raw = response.headers.get('grpc-status');
    return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
  },
  unprocessed(): boolean {
    return false;
  },
  safeToRetry(request: RequestFrame): boolean {
    return isGrpc(request.headers) || isIdempotent(request.method);
  },
  addForwarded(request: RequestFrame, remoteAddress: string, settings: ForwardingSettings): void {
    if (settings.xForwardedFor) appendForwardedFor(request.headers, remoteAddress);
    if (settings.via !== '') appendVia(request.headers, settings.via);
  },
  requestTimeoutMs(request: RequestFrame): number {
    return grpcTimeoutMs(request.headers.get('grpc-timeout'));
  },
  authority(request: RequestFrame): string {
    return request.headers.get('host') ?? '';
  },
};
