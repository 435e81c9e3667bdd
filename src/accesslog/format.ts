/**
 * MOSN access log formats: literal text with `%variable%` fields, compiled once into a list of
 * parts, so writing a line only concatenates. Variables (MOSN's names):
 *
 *   %start_time%                 request start, local time "2006/01/02 15:04:05.000"
 *   %request_received_duration%  head to last request byte (Go duration text, e.g. "1.2ms")
 *   %response_received_duration% head to response head
 *   %duration%                   head to the end of the request
 *   %bytes_received% %bytes_sent% body bytes each way
 *   %protocol% %response_code% %response_flag%
 *   %upstream_host% %upstream_cluster% %downstream_local_address% %downstream_remote_address%
 *   %method% %path%              Ringside additions, handy for HTTP
 *   %REQ.name% %RESP.name%       a request / response header ("-" when absent)
 */
import type { AccessLogRecord } from '../types/accesslog.js';

export const DEFAULT_ACCESS_LOG_FORMAT =
  '%start_time% %request_received_duration% %response_received_duration% %bytes_sent% %bytes_received% %protocol% %response_code% %duration% %response_flag% %upstream_host% %downstream_local_address% %downstream_remote_address%';

type Part = string | ((r: AccessLogRecord) => string);

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function startTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}/${pad(d.getMonth() + 1, 2)}/${pad(d.getDate(), 2)} ${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}.${pad(d.getMilliseconds(), 3)}`;
}

/** Go's time.Duration String() for the ranges a request takes ("850µs", "12.5ms", "1.5s"). */
function goDuration(ms: number): string {
  if (ms < 0) return '-';
  if (ms === 0) return '0s';
  if (ms < 1) return `${trim(ms * 1000)}µs`;
  if (ms < 1000) return `${trim(ms)}ms`;
  return `${trim(ms / 1000)}s`;
}

function trim(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}

const orDash = (v: string | undefined): string => (v === undefined || v === '' ? '-' : v);

const VARIABLES: Readonly<Record<string, (r: AccessLogRecord) => string>> = {
  start_time: (r) => startTime(r.startTimeMs),
  request_received_duration: (r) => goDuration(r.requestReceivedMs),
  response_received_duration: (r) => goDuration(r.responseReceivedMs),
  duration: (r) => goDuration(r.durationMs),
  bytes_received: (r) => String(r.bytesReceived),
  bytes_sent: (r) => String(r.bytesSent),
  protocol: (r) => r.protocol,
  response_code: (r) => String(r.responseCode),
  response_flag: (r) => orDash(r.responseFlag),
  upstream_host: (r) => orDash(r.upstreamHost),
  upstream_cluster: (r) => orDash(r.upstreamCluster),
  downstream_local_address: (r) => orDash(r.downstreamLocalAddress),
  downstream_remote_address: (r) => orDash(r.downstreamRemoteAddress),
  method: (r) => r.method,
  path: (r) => r.path,
};

export const ACCESS_LOG_VARIABLES: readonly string[] = [...Object.keys(VARIABLES), 'REQ.<header>', 'RESP.<header>'];

export type CompiledFormat = (r: AccessLogRecord) => string;

/** Compiles a format, or answers why it cannot (an unknown variable, an unclosed %). */
export function compileAccessLogFormat(format: string): { ok: true; format: CompiledFormat } | { ok: false; message: string } {
  const parts: Part[] = [];
  let i = 0;
  while (i < format.length) {
    const open = format.indexOf('%', i);
    if (open < 0) {
      parts.push(format.slice(i));
      break;
    }
    if (open > i) parts.push(format.slice(i, open));
    const close = format.indexOf('%', open + 1);
    if (close < 0) return { ok: false, message: `unclosed "%" at offset ${open}` };
    const name = format.slice(open + 1, close);
    const fn = variable(name);
    if (fn === undefined) return { ok: false, message: `unknown variable %${name}% (known: ${ACCESS_LOG_VARIABLES.join(', ')})` };
    parts.push(fn);
    i = close + 1;
  }
  return {
    ok: true,
    format: (r) => {
      let line = '';
      for (const p of parts) line += typeof p === 'string' ? p : p(r);
      return line;
    },
  };
}

function variable(name: string): ((r: AccessLogRecord) => string) | undefined {
  if (name.startsWith('REQ.') && name.length > 4) {
    const h = name.slice(4).toLowerCase();
    return (r) => orDash(r.requestHeader(h));
  }
  if (name.startsWith('RESP.') && name.length > 5) {
    const h = name.slice(5).toLowerCase();
    return (r) => orDash(r.responseHeader(h));
  }
  return VARIABLES[name];
}
