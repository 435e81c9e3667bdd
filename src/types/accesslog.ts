/**
 * ACCESS LOG — one line per finished request on a listener with `access_logs` (MOSN's access log).
 *
 *   proxy phase machine ── End ──▶ AccessLog.log(record) ──▶ compiled log_format ──▶ file / stdout / stderr
 *
 * The record is filled by the proxy as the request runs; the formatter reads only what its format names.
 */

/** What one finished request leaves behind for its access log line. */
export interface AccessLogRecord {
  /** Wall-clock ms when the request head arrived. */
  readonly startTimeMs: number;
  /** ms from the head to the last request byte; -1 when the request never ended. */
  readonly requestReceivedMs: number;
  /** ms from the head to the response head (upstream or local reply); -1 when none. */
  readonly responseReceivedMs: number;
  /** ms from the head to the end of the request's life. */
  readonly durationMs: number;
  readonly bytesReceived: number;
  readonly bytesSent: number;
  readonly protocol: string;
  /** 0 when no response was started (reset). */
  readonly responseCode: number;
  /** MOSN response flag ("UH", "UF", "UT", "NR", "DC", "UC", "URX", "RL" …) or '' for none. */
  readonly responseFlag: string;
  /** host:port of the upstream host of the last try; '' when none was chosen. */
  readonly upstreamHost: string;
  readonly upstreamCluster: string;
  readonly downstreamLocalAddress: string;
  readonly downstreamRemoteAddress: string;
  readonly method: string;
  readonly path: string;
  requestHeader(name: string): string | undefined;
  responseHeader(name: string): string | undefined;
}

/** One listener's access logs; log() must not throw or block the worker. */
export interface AccessLog {
  log(record: AccessLogRecord): void;
  close(): void;
}
