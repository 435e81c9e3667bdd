/**
 * Concrete HTTP/1.x heads. Plain classes with every field set in the constructor so V8 gives all heads
 * one hidden class; the decoder fills framing fields once and nothing recomputes them.
 */
import type { HeaderMap, Http1RequestHead, Http1ResponseHead } from '../../types/protocol.js';
import { Headers } from '../headers.js';

export const HTTP1 = 'Http1';

export class H1Request implements Http1RequestHead {
  readonly protocol = HTTP1;
  constructor(
    readonly requestId: number,
    public method: string,
    public path: string,
    readonly headers: HeaderMap = new Headers(),
    readonly versionMinor: 0 | 1 = 1,
    readonly contentLength: number = -1,
    readonly chunked: boolean = false,
    readonly keepAlive: boolean = true,
    readonly expectContinue: boolean = false,
  ) {}
}

export class H1Response implements Http1ResponseHead {
  readonly protocol = HTTP1;
  constructor(
    readonly requestId: number,
    public status: number,
    public reason: string = '',
    readonly headers: HeaderMap = new Headers(),
    readonly versionMinor: 0 | 1 = 1,
    readonly contentLength: number = -1,
    readonly chunked: boolean = false,
    readonly keepAlive: boolean = true,
    readonly untilClose: boolean = false,
  ) {}
}

/** Standard reason phrases for the statuses Ringside produces or commonly forwards. */
const reasons: Record<number, string> = {
  100: 'Continue', 101: 'Switching Protocols', 200: 'OK', 201: 'Created', 202: 'Accepted',
  204: 'No Content', 206: 'Partial Content', 301: 'Moved Permanently', 302: 'Found',
  304: 'Not Modified', 307: 'Temporary Redirect', 308: 'Permanent Redirect', 400: 'Bad Request',
  401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  408: 'Request Timeout', 409: 'Conflict', 411: 'Length Required', 413: 'Content Too Large',
  414: 'URI Too Long', 415: 'Unsupported Media Type', 417: 'Expectation Failed',
  429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 499: 'Client Closed Request',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Gateway Timeout', 505: 'HTTP Version Not Supported',
};

export function reasonPhrase(status: number): string {
  return reasons[status] ?? 'Unknown';
}
