/**
 * A real `ringside start` with an HTTP proxy listener in front of a local upstream, for the metrics
 * and Prometheus tests: routes `/ok` to cluster `up` (a Node HTTP server on port 0) and `/dead` to
 * cluster `dead` (a port nothing listens on, so every try fails to connect); a `tcp_proxy` listener
 * `tcp` forwards to cluster `tcp_dead` (the same dead port, two connect attempts).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChild, type Child } from '../supervisor/helpers.js';

const main = new URL('../../src/cli/main.js', import.meta.url).pathname;

export interface Sidecar {
  child: Child;
  /** host:port of the proxy listener. */
  proxy: string;
  /** host:port of the tcp_proxy listener. */
  tcp: string;
  /** host:port of the admin listener. */
  admin: string;
  close(): Promise<void>;
}

/** A port no one listens on: bound by the OS, then released. */
export async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function startProxySidecar(workers: number, extraRingside: Record<string, unknown> = {}, env: Record<string, string> = {}): Promise<Sidecar> {
  const upstream: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const upPort = (upstream.address() as AddressInfo).port;
  const deadPort = await freePort();
  const routes = [
    { match: { prefix: '/ok' }, route: { cluster_name: 'up' } },
    { match: { prefix: '/dead' }, route: { cluster_name: 'dead' } },
  ];
  const config = {
    servers: [
      {
        routers: [{ router_config_name: 'r', virtual_hosts: [{ name: 'vh', domains: ['*'], routers: routes }] }],
        listeners: [
          {
            name: 'edge',
            address: '127.0.0.1:0',
            bind_port: true,
            filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'Http1', upstream_protocol: 'Http1', router_config_name: 'r' } }] }],
          },
          {
            name: 'tcp',
            address: '127.0.0.1:0',
            bind_port: true,
            filter_chains: [{ filters: [{ type: 'tcp_proxy', config: { cluster: 'tcp_dead', max_connect_attempts: 2 } }] }],
          },
        ],
      },
    ],
    cluster_manager: {
      clusters: [
        { name: 'up', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: `127.0.0.1:${upPort}` }] },
        { name: 'dead', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: `127.0.0.1:${deadPort}` }] },
        { name: 'tcp_dead', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: `127.0.0.1:${deadPort}` }] },
      ],
    },
    ringside: { admin: { address: '127.0.0.1:0' }, drain_timeout: 500, ...extraRingside },
  };
  const file = join(mkdtempSync(join(tmpdir(), 'ringside-obs-')), 'sidecar.json');
  writeFileSync(file, JSON.stringify(config));
  const child = startChild(main, ['start', '-c', file, '--workers', String(workers)], env);
  try {
    const ready = await child.waitStdout(/^ringside ready:/, 20_000);
    const proxy = /edge@([^,\s]+)/.exec(ready)![1]!;
    const tcp = /tcp@([^,\s]+)/.exec(ready)![1]!;
    const admin = /admin listening on ([^\s"]+)/.exec(child.stderr())![1]!;
    return {
      child,
      proxy,
      tcp,
      admin,
      close: async () => {
        child.kill();
        await child.exited;
        await new Promise<void>((r) => upstream.close(() => r()));
      },
    };
  } catch (err) {
    child.kill();
    upstream.close();
    throw err;
  }
}

/** One request on its own connection (agent: false), so SO_REUSEPORT spreads them over the workers. */
export function get(url: string): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The value of one sample in a Prometheus text exposition, or undefined when the series is absent. */
export function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}
