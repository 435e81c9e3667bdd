/**
 * The HTTP/2 codec, registered under "Http2" at the composition root: detection of the client
 * connection preface (Auto listeners), the proxy hooks, and fresh heads. HTTP/2 has no per-message
 * decoder or encoder: SETTINGS, WINDOW_UPDATE and HPACK state belong to the connection, so the
 * stream layer (src/stream/http2) runs one Http2Connection engine per connection instead.
 */
import type { Registry } from '../../common/registry.js';
import type { DetectResult, HeaderMap, ProtocolCodec, RequestFrame } from '../../types/protocol.js';
import { HTTP2_PREFACE } from '../../types/http2.js';
import { Headers } from '../headers.js';
import { H2Request, H2Response, HTTP2 } from './heads.js';
import { http2ProxyHooks } from './proxy-hooks.js';

const PREFACE = Buffer.from(HTTP2_PREFACE, 'latin1');

/** 'match' once the whole 24-byte preface is seen, 'need-more' while the bytes so far agree with it. */
export function detectHttp2(first: Buffer): DetectResult {
  const n = Math.min(first.length, PREFACE.length);
  if (PREFACE.compare(first, 0, n, 0, n) !== 0) return 'no';
  return n === PREFACE.length ? 'match' : 'need-more';
}

export const http2Codec: ProtocolCodec = {
  name: HTTP2,
  detect: detectHttp2,
  newResponse: (request, status) => new H2Response(request === null ? 0 : request.requestId, status, new Headers()),
  newRequest: (method: string, path: string, headers?: HeaderMap): RequestFrame => new H2Request(0, method, path, 'http', headers ?? new Headers()),
  proxy: http2ProxyHooks,
};

export function registerHttp2(codecs: Registry<ProtocolCodec>): void {
  codecs.register(HTTP2, http2Codec);
}
