/**
 * Where `ringside tune` sends load when no --target is given, read from the sidecar config: the first
 * listener whose filter chain has a `proxy` filter with an HTTP/1 downstream on a TCP address, else
 * the Dapr HTTP API's invoke URL for the seed's GetUser call. HTTP/2 load (`-p h2`, `-p grpc`) goes to
 * the first `proxy` listener on a TCP address whose downstream speaks HTTP/2 (`Http2` or `Auto`). Addresses come from the ready line when
 * the sidecar printed one for that listener (it knows the real port when the config says :0).
 *
 * The embedded default config has only an in-process HTTP1 proxy listener (the runtime's egress),
 * which no URL reaches, so its target is the Dapr HTTP invoke URL on 127.0.0.1:3500.
 */
import { LISTENER_ADDRESS, formatHostPort, parseAddress } from '../../common/address.js';

export interface DerivedTarget {
  url: string;
  method: string | undefined;
  body: string | undefined;
  /** Extra request headers (the Dapr API token when the config sets one). */
  headers: [string, string][];
  why: string;
}

const SEED_INVOKE = '/v1.0/invoke/org.apache.dubbo.samples.UserProvider/method/GetUser';
const SEED_BODY = '{"jsonrpc":"2.0","method":"GetUser","params":["A003"],"id":9527}';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Load protocols that speak HTTP/2 with prior knowledge: they need an Http2 (or Auto) proxy listener. */
const HTTP2_LOAD = new Set(['h2', 'grpc']);

export function deriveTarget(config: unknown, listeners: ReadonlyMap<string, string>, protocol = 'http1'): DerivedTarget {
  if (HTTP2_LOAD.has(protocol)) return http2Target(config, listeners, protocol);
  for (const server of arr(obj(config)?.servers)) {
    for (const l of arr(obj(server)?.listeners)) {
      const listener = obj(l);
      if (listener === undefined) continue;
      const isHttpProxy = arr(listener.filter_chains).some((fc) =>
        arr(obj(fc)?.filters).some((f) => {
          const filter = obj(f);
          const downstream = obj(filter?.config)?.downstream_protocol;
          return filter?.type === 'proxy' && typeof downstream === 'string' && /^http1?$/i.test(downstream);
        }),
      );
      if (!isHttpProxy) continue;
      const name = typeof listener.name === 'string' ? listener.name : '';
      const address = listeners.get(name) ?? (typeof listener.address === 'string' ? listener.address : '');
      const hostPort = toHostPort(address);
      if (hostPort === undefined) continue; // in-process or Unix-socket listener: not reachable by URL
      return { url: `http://${hostPort}/`, method: undefined, body: undefined, headers: [], why: `listener "${name}" (proxy filter, HTTP1 downstream)` };
    }
  }
  const dapr = obj(obj(obj(config)?.ringside)?.dapr);
  const token = typeof dapr?.api_token === 'string' && dapr.api_token !== '' ? dapr.api_token : process.env['DAPR_API_TOKEN'] || undefined;
  const tokenHeaders: [string, string][] = token === undefined ? [] : [['dapr-api-token', token]];
  // A listener the config declares with the dapr_http filter itself.
  for (const l of listenersOf(config)) {
    if (!l.filterTypes.includes('dapr_http')) continue;
    const hostPort = toHostPort(listeners.get(l.name) ?? l.address);
    if (hostPort === undefined) continue;
    return { url: `http://${hostPort}${SEED_INVOKE}`, method: 'POST', body: SEED_BODY, headers: tokenHeaders, why: `listener "${l.name}" (dapr_http filter): the demo GetUser invoke` };
  }
  // The sidecar's own report of where the Dapr HTTP API listens wins over the config's figure.
  const reported = toHostPort(listeners.get('dapr_http') ?? '');
  if (dapr?.enabled !== true && reported === undefined) {
    throw new Error('no load target in the config: no HTTP1 proxy listener on a TCP address and the Dapr API is off (ringside.dapr.enabled); give --target URL');
  }
  const port = typeof dapr?.http_port === 'number' ? dapr.http_port : 3500;
  const hostPort = reported ?? `127.0.0.1:${port}`;
  return {
    url: `http://${hostPort}${SEED_INVOKE}`,
    method: 'POST',
    body: SEED_BODY,
    headers: tokenHeaders,
    why: `Dapr HTTP invoke of the demo GetUser call on ${hostPort} (no HTTP1 proxy listener on a TCP address in the config)`,
  };
}

function http2Target(config: unknown, listeners: ReadonlyMap<string, string>, protocol: string): DerivedTarget {
  for (const server of arr(obj(config)?.servers)) {
    for (const l of arr(obj(server)?.listeners)) {
      const listener = obj(l);
      if (listener === undefined) continue;
      const downstream = arr(listener.filter_chains)
        .flatMap((fc) => arr(obj(fc)?.filters).map(obj))
        .map((f) => (f?.type === 'proxy' ? obj(f.config)?.downstream_protocol : undefined))
        .find((d) => typeof d === 'string' && /^(http2|auto)$/i.test(d));
      if (downstream === undefined) continue;
      const name = typeof listener.name === 'string' ? listener.name : '';
      const hostPort = toHostPort(listeners.get(name) ?? (typeof listener.address === 'string' ? listener.address : ''));
      if (hostPort === undefined) continue;
      return { url: `http://${hostPort}/`, method: undefined, body: undefined, headers: [], why: `listener "${name}" (proxy filter, ${String(downstream)} downstream)` };
    }
  }
  throw new Error(`no load target in the config for -p ${protocol}: no proxy listener with an Http2 or Auto downstream on a TCP address; give --target URL`);
}

function listenersOf(config: unknown): { name: string; address: string; filterTypes: string[] }[] {
  const out: { name: string; address: string; filterTypes: string[] }[] = [];
  for (const server of arr(obj(config)?.servers)) {
    for (const l of arr(obj(server)?.listeners)) {
      const listener = obj(l);
      if (listener === undefined) continue;
      const filterTypes = arr(listener.filter_chains).flatMap((fc) => arr(obj(fc)?.filters).map((f) => String(obj(f)?.type ?? '')));
      out.push({ name: typeof listener.name === 'string' ? listener.name : '', address: typeof listener.address === 'string' ? listener.address : '', filterTypes });
    }
  }
  return out;
}

export function toHostPort(address: string): string | undefined {
  if (address.trim().startsWith(':')) return undefined;
  const r = parseAddress(address, LISTENER_ADDRESS);
  if (!r.ok || r.value.kind !== 'tcp') return undefined;
  const { host, port } = r.value;
  return host === '0.0.0.0' || host === '::' ? `127.0.0.1:${port}` : formatHostPort(host, port);
}
