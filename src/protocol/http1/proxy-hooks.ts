/**
 * What the protocol-neutral proxy asks HTTP/1.x: its local replies (text/plain, and
 * `x-ringside-error: <code>` on Ringside's own errors, which the runtime's http channel reads to tell
 * the sidecar's failure from the app's answer with the same status), 5xx as the retryable failure,
 * idempotent methods as safe to resend, X-Forwarded-For / Via as MOSN's HTTP proxy adds them, and
 * the Host header as the authority.
 */
import { httpStatusOf, type RingsideError } from '../../common/errors.js';
import type {
  ForwardingSettings,
  HeaderMap,
  LocalReply,
  ProxyHooks,
  RequestFrame,
  ResponseFrame,
  ResponseHeadFactory,
} from '../../types/protocol.js';
import { SIDECAR_ERROR_HEADER } from '../../types/proxy.js';
import { equalsIgnoreCase } from '../headers.js';
import { splitHostPort } from '../../common/address.js';

const TEXT = 'text/plain; charset=utf-8';

function textReply(factory: ResponseHeadFactory, status: number, body: string, code: string | undefined): LocalReply {
  const head = factory.newResponse(status);
  head.headers.set('content-type', TEXT);
  if (code !== undefined) head.headers.set(SIDECAR_ERROR_HEADER, code);
  return { head, body: body === '' ? null : Buffer.from(body) };
}

export const http1ProxyHooks: ProxyHooks = {
  errorReply(_request: RequestFrame, err: RingsideError, factory: ResponseHeadFactory): LocalReply {
    return textReply(factory, httpStatusOf(err), `${err.message}\n`, err.code);
  },
  directReply(_request: RequestFrame, status: number, body: string, factory: ResponseHeadFactory): LocalReply {
    return textReply(factory, status, body, undefined);
  },
  retryStatus(response: ResponseFrame): number | undefined {
    return response.status >= 500 ? response.status : undefined;
  },
  unprocessed(): boolean {
    return false;
  },
  safeToRetry(request: RequestFrame): boolean {
    return isIdempotent(request.method);
  },
  addForwarded(request: RequestFrame, remoteAddress: string, settings: ForwardingSettings): void {
    if (settings.xForwardedFor) appendForwardedFor(request.headers, remoteAddress);
    if (settings.via !== '') appendVia(request.headers, settings.via);
  },
  requestTimeoutMs(): number {
    return 0;
  },
  authority(request: RequestFrame): string {
    return request.headers.get('host') ?? '';
  },
};

/**
 * Appends the downstream peer's IP to X-Forwarded-For (a proxy chain reads left to right). The
 * connection's address is "ip:port" or "[ipv6]:port"; in-process peers have no IP and add nothing.
 */
export function appendForwardedFor(headers: HeaderMap, remoteAddress: string): void {
  const ip = ipOf(remoteAddress);
  if (ip === '') return;
  // One scan instead of get() + set(): the usual request has no X-Forwarded-For yet and just gets one.
  const raw = headers.raw;
  for (let i = 0; i < raw.length; i += 2) {
    if (equalsIgnoreCase(raw[i]!, 'x-forwarded-for')) {
      headers.set('x-forwarded-for', `${raw[i + 1]!}, ${ip}`);
      return;
    }
  }
  headers.add('x-forwarded-for', ip);
}

function ipOf(address: string): string {
  const ip = splitHostPort(address)?.host ?? '';
  // A dotted quad, or a bare IPv6 literal that kept its colons. A char loop, not a regex: this runs
  // once per proxied request.
  return isDottedOrColon(ip) ? ip : '';
}

/** /^[0-9.]+$/ or containing ':' — the same test the regex made. */
function isDottedOrColon(ip: string): boolean {
  let dotted = ip.length > 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 58) return true; // ':'
    if (c !== 46 && (c < 48 || c > 57)) dotted = false;
  }
  return dotted;
}

/** Adds this hop to Via ("1.1 ringside"), keeping earlier hops. */
export function appendVia(headers: HeaderMap, via: string): void {
  const prior = headers.get('via');
  headers.set('via', prior === undefined ? via : `${prior}, ${via}`);
}

/** Methods a retry may resend after bytes reached the upstream (RFC 9110 idempotent methods). */
export function isIdempotent(method: string): boolean {
  switch (method) {
    case 'GET':
    case 'HEAD':
    case 'OPTIONS':
    case 'PUT':
    case 'DELETE':
    case 'TRACE':
      return true;
    default:
      return false;
  }
}
