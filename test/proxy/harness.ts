/**
 * Builds one worker's data plane in this thread from a config object — the same assembly a worker
 * runs — with real listeners on port 0 and real upstream servers, so proxy tests exercise every layer.
 */
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { ActorRunLoop } from '../../src/actor/run-loop.js';
import { assembleDataplane } from '../../src/assembly.js';
import { configCatalog, createExtensions } from '../../src/extensions.js';
import { parseConfig } from '../../src/config/load.js';
import type { WorkerDeps, WorkerNetwork } from '../../src/worker/network-port.js';

export interface Dataplane {
  network: WorkerNetwork;
  /** host:port of each listener by name. */
  addresses: Map<string, string>;
  close(): Promise<void>;
}

export async function startDataplane(
  json: unknown,
  opts: { extensions?: ReturnType<typeof createExtensions>; runLoop?: ActorRunLoop; worker?: Omit<WorkerDeps, 'runLoop'> } = {},
): Promise<Dataplane> {
  const extensions = opts.extensions ?? createExtensions();
  const { config } = parseConfig(json, 'test config', { cores: 1, env: {}, catalog: configCatalog(extensions) });
  const network = assembleDataplane({
    workerIndex: 0,
    workerCount: 1,
    config,
    worker: { ...opts.worker, runLoop: opts.runLoop ?? new ActorRunLoop() },
  }, extensions);
  const ready = await network.start([]);
  return {
    network,
    addresses: new Map(ready.map((r) => [r.name, r.address])),
    async close() {
      await network.stopAccepting();
      network.closeConnections('test over');
    },
  };
}

/** A proxy config with one HTTP/1.1 listener, one router and the given clusters. */
export function proxyConfig(opts: {
  routes: unknown[];
  clusters: unknown[];
  streamFilters?: unknown[];
}): unknown {
  return {
    servers: [
      {
        routers: [{ router_config_name: 'r', virtual_hosts: [{ name: 'vh', domains: ['*'], routers: opts.routes }] }],
        listeners: [
          {
            name: 'ingress',
            address: '127.0.0.1:0',
            bind_port: true,
            filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'Http1', upstream_protocol: 'Http1', router_config_name: 'r' } }] }],
            stream_filters: opts.streamFilters ?? [],
          },
        ],
      },
    ],
    cluster_manager: { clusters: opts.clusters },
  };
}

export function cluster(name: string, addresses: string[], extra: Record<string, unknown> = {}): unknown {
  return { name, type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: addresses.map((address) => ({ address })), ...extra };
}

export interface Upstream {
  address: string;
  server: http.Server;
  /** Connections the upstream accepted (keep-alive reuse shows as fewer). */
  connections: number;
  requests: http.IncomingMessage[];
  close(): Promise<void>;
}

export async function startUpstream(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<Upstream> {
  const server = http.createServer((req, res) => {
    up.requests.push(req);
    handler(req, res);
  });
  const up: Upstream = {
    address: '',
    server,
    connections: 0,
    requests: [],
    async close() {
      server.closeAllConnections();
      server.close();
    },
  };
  server.on('connection', () => up.connections++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  up.address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return up;
}

/** A port nothing listens on (bound and closed at once). */
export async function deadAddress(): Promise<string> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as net.AddressInfo).port;
  s.close();
  await once(s, 'close');
  return `127.0.0.1:${port}`;
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

export function request(address: string, opts: { method?: string; path?: string; headers?: Record<string, string>; body?: string; keepAlive?: boolean } = {}): Promise<Reply> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host, port: Number(port), method: opts.method ?? 'GET', path: opts.path ?? '/', headers: opts.headers ?? {}, agent: opts.keepAlive === false ? false : agent },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Sends raw bytes and collects everything until the server closes (or `ms` passes). */
export async function rawExchange(address: string, bytes: string, ms = 2000): Promise<{ text: string; closed: boolean }> {
  const [host, port] = address.split(':');
  const socket = net.connect(Number(port), host);
  await once(socket, 'connect');
  socket.write(bytes);
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (text += d));
  const closed = await Promise.race([
    once(socket, 'close').then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), ms)),
  ]);
  socket.destroy();
  return { text, closed };
}
