/**
 * The HTTP/1.x codec as one ProtocolCodec, registered under "Http1" at the composition root.
 */
import type { Registry } from '../../common/registry.js';
import type {
  DetectResult,
  HeaderMap,
  Http1RequestHead,
  Http1ResponseHead,
  ProtocolCodec,
  RequestFrame,
} from '../../types/protocol.js';
import { Headers } from '../headers.js';
import { createHttp1RequestDecoder, createHttp1ResponseDecoder } from './decoder.js';
import { createHttp1RequestEncoder, createHttp1ResponseEncoder } from './encoder.js';
import { H1Request, H1Response, HTTP1, reasonPhrase } from './heads.js';
import { http1ProxyHooks } from './proxy-hooks.js';

/** Methods that identify an HTTP/1.x request line; anything else is left to other codecs. */
const methods = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE'];

/** Whether the first bytes start with a known method and a space; never consumes them. */
export function detectHttp1(first: Buffer): DetectResult {
  let needMore = false;
  for (const m of methods) {
    const n = Math.min(first.length, m.length + 1);
    let ok = true;
    for (let i = 0; i < n; i++) {
      const want = i === m.length ? 32 : m.charCodeAt(i);
      if (first[i] !== want) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    if (n === m.length + 1) return 'match';
    needMore = true;
  }
  return needMore ? 'need-more' : 'no';
}

export const http1Codec: ProtocolCodec<Http1RequestHead, Http1ResponseHead> = {
  name: HTTP1,
  detect: detectHttp1,
  createRequestDecoder: createHttp1RequestDecoder,
  createResponseDecoder: createHttp1ResponseDecoder,
  createRequestEncoder: createHttp1RequestEncoder,
  createResponseEncoder: (request) => createHttp1ResponseEncoder(request),
  newResponse: (request, status) =>
    new H1Response(request === null ? 0 : request.requestId, status, reasonPhrase(status), new Headers()),
  newRequest: (method: string, path: string, headers?: HeaderMap): RequestFrame =>
    new H1Request(0, method, path, headers ?? new Headers()),
  proxy: http1ProxyHooks,
};

/** Registers the HTTP/1.x codec; called once from the composition root. */
export function registerHttp1(codecs: Registry<ProtocolCodec>): void {
  codecs.register(HTTP1, http1Codec);
}
