/**
 * The load options `ringside bench` and `ringside tune` share: one parseArgs spec and one conversion
 * to LoadOptions, so a load described on either command means the same thing.
 */
import { parseDuration as parseGoDuration } from '../common/duration.js';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { ParseArgsConfig } from 'node:util';
import type { RequestOptions } from './driver.js';
import { BenchError, type LoadOptions } from './runner.js';

type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Options that describe the load. `-c` is left to the caller: connections in bench, config in tune. */
export const loadOptionSpec = {
  protocol: { type: 'string', short: 'p' },
  connections: { type: 'string' },
  concurrency: { type: 'string' },
  rate: { type: 'string', short: 'R' },
  duration: { type: 'string', short: 'd' },
  requests: { type: 'string', short: 'n' },
  warmup: { type: 'string' },
  timeout: { type: 'string' },
  threads: { type: 'string', short: 't' },
  method: { type: 'string', short: 'm' },
  header: { type: 'string', short: 'H', multiple: true },
  body: { type: 'string' },
  'body-file': { type: 'string' },
  'grpc-api': { type: 'string' },
  id: { type: 'string' },
  data: { type: 'string' },
  'content-type': { type: 'string' },
  verb: { type: 'string' },
  proto: { type: 'string' },
  call: { type: 'string' },
  message: { type: 'string' },
  'import-path': { type: 'string', multiple: true },
} as const satisfies OptionSpec;

export const loadOptionsHelp = `Load:
  -p, --protocol P       http1 (default) | grpc | drpc | dubbo | bolt | h2 (HTTP/2 prior knowledge)
      --connections N    connections (bench also takes -c N; default 10)
      --concurrency K    requests in flight per connection (default 1; http1 >1 = pipelining)
  -R, --rate R           open loop: R req/s on a fixed schedule, latency from the intended send time
  -d, --duration T       measured time, e.g. 10s, 500ms, 1m (default 10s)
  -n, --requests N       stop after N requests instead of a duration
      --warmup T         load before measuring (default 0)
      --timeout T        per request (default 10s); a timed-out connection is replaced
  -t, --threads N        load threads (default: available cores)
HTTP/1.1:
  -m, --method M         GET (default; POST when a body is given)
  -H, --header 'K: V'    repeatable
      --body S | --body-file F
gRPC (plaintext h2c):
      --grpc-api layotto|dapr   InvokeService of the Layotto or Dapr runtime API, with
      --id ID --method M --data S [--content-type T] [--verb POST]
      --proto FILE --call pkg.Service/Method --message JSON   any unary method
      --import-path DIR  extra proto include folder (repeatable)
  -H, --header 'K: V'    sent as gRPC metadata
dRPC (TARGET drpc:/path/to.sock; one call in flight per connection):
      --call MODULE/METHOD   default 10/1001 (InvokeService, body from --id --method --data
                         [--content-type] [--verb] as for gRPC); 10/1002 is SayHello
      --body S | --body-file F   raw Call body for any other module/method
dubbo (TARGET dubbo://host:port; --concurrency K calls in flight per connection):
      --id SERVICE[:VERSION] --method M --data JSON   arguments as a JSON array, or
                         {"args":[...],"argTypes":["int",…]}
bolt (TARGET bolt://host:port; SOFARPC over bolt v1, many calls in flight per connection):
      --id SERVICE[:VERSION] --method M --data '[1,2]'   the call (arguments as a JSON array)`;

export type LoadValues = { [K in keyof typeof loadOptionSpec]?: (typeof loadOptionSpec)[K] extends { multiple: true } ? string[] : string };

const SEED_ID = 'org.apache.dubbo.samples.UserProvider';
const SEED_BODY = '{"jsonrpc":"2.0","method":"GetUser","params":["A003"],"id":9527}';

/** Parses a Go duration ("10s", "250ms", "1m30s"; src/common/duration.ts) or a bare number of seconds into milliseconds. */
export function parseDuration(flag: string, v: string): number {
  const text = v.trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text) * 1000;
  const r = parseGoDuration(text);
  if (!r.ok) throw new BenchError(`bad --${flag} "${v}": expected e.g. 10s, 500ms, 1m`);
  return r.value;
}

export function parsePositive(flag: string, v: string | undefined, fallback: number, allowZero = false): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw new BenchError(`bad --${flag} "${v}": expected a positive number`);
  return n;
}

export function toLoadOptions(target: string, values: LoadValues, connectionsFlag: string | undefined): LoadOptions {
  const protocol = values.protocol ?? 'http1';
  const isGrpc = protocol === 'grpc';
  if (values.body !== undefined && values['body-file'] !== undefined) throw new BenchError('give --body or --body-file, not both');
  let body: Uint8Array | undefined;
  if (values.body !== undefined) body = Buffer.from(values.body, 'utf8');
  if (values['body-file'] !== undefined) {
    try {
      body = readFileSync(values['body-file']);
    } catch (err) {
      throw new BenchError(`cannot read --body-file: ${(err as Error).message}`);
    }
  }
  const headers: [string, string][] = [];
  for (const h of values.header ?? []) {
    const i = h.indexOf(':');
    if (i <= 0) throw new BenchError(`bad --header "${h}": expected 'Name: value'`);
    headers.push([h.slice(0, i).trim(), h.slice(i + 1).trim()]);
  }
  const api = values['grpc-api'];
  if (api !== undefined && api !== 'layotto' && api !== 'dapr') throw new BenchError(`bad --grpc-api "${api}": expected layotto or dapr`);
  const request: RequestOptions = {
    method: isGrpc ? 'POST' : (values.method ?? (body === undefined ? 'GET' : 'POST')).toUpperCase(),
    headers,
    body,
    grpc: {
      api,
      id: values.id ?? SEED_ID,
      method: values.method ?? 'GetUser',
      data: values.data ?? SEED_BODY,
      contentType: values['content-type'] ?? 'application/json',
      verb: values.verb ?? 'POST',
      proto: values.proto,
      call: values.call,
      message: values.message,
      importPaths: values['import-path'] ?? [],
    },
  };
  if (values.duration !== undefined && values.requests !== undefined) throw new BenchError('give -d or -n, not both');
  if (protocol === 'drpc' && values.concurrency !== undefined && values.concurrency !== '1') {
    throw new BenchError('dRPC is synchronous: one call in flight per connection; raise --connections instead of --concurrency');
  }
  const rate = values.rate === undefined ? undefined : parsePositive('rate', values.rate, 0);
  const requests = values.requests === undefined ? undefined : Math.floor(parsePositive('requests', values.requests, 0));
  return {
    target,
    protocol,
    connections: Math.floor(parsePositive('connections', connectionsFlag ?? values.connections, 10)),
    concurrency: Math.floor(parsePositive('concurrency', values.concurrency, 1)),
    rate,
    durationMs: requests === undefined ? parseDuration('duration', values.duration ?? '10s') : undefined,
    requests,
    warmupMs: values.warmup === undefined ? 0 : parseDuration('warmup', values.warmup),
    timeoutMs: parseDuration('timeout', values.timeout ?? '10s'),
    threads: Math.floor(parsePositive('threads', values.threads, availableParallelism())),
    request,
  };
}
