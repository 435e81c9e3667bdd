/**
 * The access log facts of one request, gathered by the proxy as its phases run; made only on
 * listeners that log, so requests elsewhere pay nothing.
 */
import { performance } from 'node:perf_hooks';
import type { AccessLogRecord } from '../types/accesslog.js';
import type { ErrorCode } from '../common/errors.js';

/** MOSN's response flags for the error that ended a request. */
const FLAGS: Partial<Record<ErrorCode, string>> = {
  NO_ROUTE: 'NR',
  NO_HEALTHY_HOST: 'UH',
  CONNECT_FAILED: 'UF',
  UPSTREAM_RESET: 'UR',
  UPSTREAM_BAD_RESPONSE: 'UR',
  TIMEOUT: 'UT',
  OVERFLOW: 'UO',
  CANCELLED: 'DC',
  BAD_REQUEST: 'DI',
  LIMIT_EXCEEDED: 'RL',
};

interface HeaderLookup {
  get(name: string): string | undefined;
}

export class RequestLog implements AccessLogRecord {
  readonly startTimeMs = Date.now();
  readonly #t0 = performance.now();
  requestReceivedMs = -1;
  responseReceivedMs = -1;
  durationMs = 0;
  bytesReceived = 0;
  bytesSent = 0;
  protocol = '';
  responseCode = 0;
  responseFlag = '';
  upstreamHost = '';
  upstreamCluster = '';
  downstreamLocalAddress = '';
  downstreamRemoteAddress = '';
  method = '';
  path = '';
  #request: HeaderLookup | undefined;
  #response: HeaderLookup | undefined;

  constructor(request: { protocol: string; method: string; path: string; headers: HeaderLookup }, connection: { localAddress: string; remoteAddress: string }) {
    this.protocol = request.protocol;
    this.method = request.method;
    this.path = request.path;
    this.#request = request.headers;
    this.downstreamLocalAddress = connection.localAddress;
    this.downstreamRemoteAddress = connection.remoteAddress;
  }

  #since(): number {
    return performance.now() - this.#t0;
  }

  requestEnded(): void {
    if (this.requestReceivedMs < 0) this.requestReceivedMs = this.#since();
  }

  responseStarted(status: number, headers: HeaderLookup | undefined): void {
    this.responseReceivedMs = this.#since();
    this.responseCode = status;
    this.#response = headers;
  }

  failed(code: ErrorCode): void {
    this.responseFlag = FLAGS[code] ?? 'SI';
  }

  finished(): void {
    this.durationMs = this.#since();
  }

  requestHeader(name: string): string | undefined {
    return this.#request?.get(name);
  }

  responseHeader(name: string): string | undefined {
    return this.#response?.get(name);
  }
}
