/**
 * Where `ringside tune` sends load when no --target is given, read from the sidecar config: the first
 * listener whose filter chain has a `proxy` filter with an HTTP/1 downstream, else the Dapr HTTP
 * API's invoke URL for the seed's GetUser call. Addresses come from the ready line when the sidecar
 * printed one for that listener (it knows the real port when the config says :0).
 */

export interface DerivedTarget {
  url: string;
  method: string | undefined;
  body: string | undefined;
  why: string;
}

const SEED_INVOKE = '/v1.0/invoke/org.apache.dubbo.samples.UserProvider/method/GetUser';
const SEED_BODY = '{"jsonrpc":"2.0","method":"GetUser","params":["A003"],"id":9527}';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function deriveTarget(config: unknown, listeners: ReadonlyMap<string, string>): DerivedTarget {
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
      return { url: `http://${hostPort}/`, method: undefined, body: undefined, why: `listener "${name}" (proxy filter, HTTP1 downstream)` };
    }
  }
  const dapr = obj(obj(obj(config)?.ringside)?.dapr);
  const port = typeof dapr?.http_port === 'number' ? dapr.http_port : 3500;
  return { url: `http://127.0.0.1:${port}${SEED_INVOKE}`, method: 'POST', body: SEED_BODY, why: `Dapr HTTP API on port ${port} (no HTTP1 proxy listener in the config)` };
}

function toHostPort(address: string): string | undefined {
  const m = /^(.*):(\d+)$/.exec(address);
  if (m === null || m[1] === '') return undefined;
  const host = m[1] === '0.0.0.0' || m[1] === '::' || m[1] === '[::]' ? '127.0.0.1' : m[1]!;
  return `${host}:${m[2]}`;
}
