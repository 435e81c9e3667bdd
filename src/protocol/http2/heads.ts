/**
 * HTTP/2 messages as Ringside's protocol-neutral frames, and back to HTTP/2 header lists.
 *
 * A request's pseudo-header fields become the frame's method and path; `:authority` is kept as the
 * `host` field (what routers and HTTP/1 upstreams read) and turned back into `:authority` on the way
 * out. Fields HTTP/2 forbids (connection-specific ones from an HTTP/1 peer) are dropped when a frame is
 * encoded, and every name is lower-cased, as RFC 9113 §8.2 requires.
 */
import { Headers } from '../headers.js';
import type { HeaderMap, RequestFrame, ResponseFrame } from '../../types/protocol.js';

export const HTTP2 = 'Http2';

export class H2Request implements RequestFrame {
  readonly protocol = HTTP2;
  constructor(
    readonly requestId: number,
    public method: string,
    public path: string,
    public scheme: string,
    readonly headers: HeaderMap,
  ) {}
}

export class H2Response implements ResponseFrame {
  readonly protocol = HTTP2;
  reason = '';
  constructor(
    readonly requestId: number,
    public status: number,
    readonly headers: HeaderMap,
  ) {}
}

/** A request frame from a decoded (and validated) request header list. */
export function requestFromFields(streamId: number, fields: string[]): H2Request {
  let method = 'GET';
  let path = '/';
  let scheme = 'http';
  let authority: string | undefined;
  let i = 0;
  for (; i < fields.length && fields[i]!.charCodeAt(0) === 58; i += 2) {
    const v = fields[i + 1]!;
    switch (fields[i]) {
      case ':method':
        method = v;
        break;
      case ':path':
        path = v;
        break;
      case ':scheme':
        scheme = v;
        break;
      case ':authority':
        authority = v;
        break;
    }
  }
  const raw = i === 0 ? fields : fields.slice(i);
  const headers = new Headers(raw);
  if (authority !== undefined && !headers.has('host')) raw.unshift('host', authority);
  return new H2Request(streamId, method, path, scheme, headers);
}

/** A response frame from a decoded response header list (`:status` first, as validated). */
export function responseFromFields(streamId: number, fields: string[]): H2Response {
  let status = 0;
  let i = 0;
  for (; i < fields.length && fields[i]!.charCodeAt(0) === 58; i += 2) {
    if (fields[i] === ':status') status = Number(fields[i + 1]);
  }
  return new H2Response(streamId, status, new Headers(i === 0 ? fields : fields.slice(i)));
}

/** Fields never sent over HTTP/2 (RFC 9113 §8.2.2); `te` is kept only as "trailers". */
const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'http2-settings']);

function lower(name: string): string {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) return name.toLowerCase();
  }
  return name;
}

/** Appends the regular fields of `headers` to `out`, lower-cased, without what HTTP/2 forbids. */
function appendRegular(out: string[], headers: HeaderMap, dropContentLength: boolean): void {
  const raw = headers.raw;
  for (let i = 0; i < raw.length; i += 2) {
    const name = lower(raw[i]!);
    if (hopByHop.has(name)) continue;
    if (name.charCodeAt(0) === 58) continue;
    const value = raw[i + 1]!;
    if (name === 'te' && value !== 'trailers') continue;
    if (dropContentLength && name === 'content-length') continue;
    out.push(name, value);
  }
}

/** True for gRPC messages (`content-type: application/grpc…`), whose framing is the DATA frames alone. */
export function isGrpc(headers: HeaderMap): boolean {
  const ct = headers.get('content-type');
  return ct !== undefined && ct.startsWith('application/grpc');
}

/** The header list of a request toward an HTTP/2 peer. */
export function requestFields(frame: RequestFrame): string[] {
  const scheme = frame instanceof H2Request ? frame.scheme : 'http';
  const out: string[] = [':method', frame.method, ':scheme', scheme];
  const authority = frame.headers.get('host');
  if (authority !== undefined) out.push(':authority', authority);
  out.push(':path', frame.path);
  // gRPC messages are framed by their length prefixes; a content-length from elsewhere can only lie.
  appendRegular(out, frame.headers, isGrpc(frame.headers));
  return out;
}

/** The header list of a response toward an HTTP/2 peer. */
export function responseFields(frame: ResponseFrame): string[] {
  const out: string[] = [':status', String(frame.status)];
  appendRegular(out, frame.headers, isGrpc(frame.headers));
  return out;
}

/** The header list of trailers (no pseudo-header fields, nothing connection-specific). */
export function trailerFields(trailers: HeaderMap): string[] {
  const out: string[] = [];
  appendRegular(out, trailers, false);
  return out;
}
