/**
 * Shared by the proxy fuzz batch, the fault tests and the overload test: a real `ringside start`
 * (real worker threads, real sockets on port 0) in a child process, and an upstream that logs the
 * exact bytes it receives and parses them with the strict reference parser.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChild, type Child } from '../supervisor/helpers.js';
import { parseRequests, type RefLimits, type RefMessage } from './targets/http1-reference.js';

const main = new URL('../../src/cli/main.js', import.meta.url).pathname;

export interface Sidecar {
  child: Child;
  /** host:port of each listener by name. */
  listeners: Map<string, string>;
  admin: string;
  /** Resident set size of the sidecar process (all its threads), from /proc. */
  rssBytes(): number;
  stop(): Promise<void>;
}

export function writeConfig(config: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ringside-fuzz-')), 'sidecar.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

/** One HTTP/1.1 proxy listener `edge` routing every path to the cluster `up`. */
export function proxySidecarConfig(upstreams: string[], opts: { limits?: Record<string, unknown>; cluster?: Record<string, unknown>; ringside?: Record<string, unknown>; route?: Record<string, unknown> } = {}): unknown {
  return {
    servers: [
      {
        routers: [
          {
            router_config_name: 'r',
            virtual_hosts: [{ name: 'all', domains: ['*'], routers: [{ match: { regex: '.*' }, route: { cluster_name: 'up', ...opts.route } }] }],
          },
        ],
        listeners: [
          {
            name: 'edge',
            address: '127.0.0.1:0',
            bind_port: true,
            filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'Http1', upstream_protocol: 'Http1', router_config_name: 'r' } }] }],
          },
        ],
      },
    ],
    cluster_manager: {
      clusters: [{ name: 'up', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: upstreams.map((address) => ({ address })), ...opts.cluster }],
    },
    ringside: { admin: { address: '127.0.0.1:0' }, drain_timeout: 5000, ...(opts.limits ? { limits: opts.limits } : {}), ...opts.ringside },
  };
}

export async function startSidecar(config: unknown, opts: { workers?: number; env?: Record<string, string> } = {}): Promise<Sidecar> {
  const file = writeConfig(config);
  const child = startChild(main, ['start', '-c', file, '--workers', String(opts.workers ?? 2)], { RINGSIDE_LOG: 'info', ...opts.env });
  const ready = await child.waitStdout(/^ringside ready:/, 30_000);
  const listeners = new Map<string, string>();
  for (const part of ready.replace(/^.*listeners=/, '').split(',')) {
    const at = part.indexOf('@');
    if (at > 0) listeners.set(part.slice(0, at), part.slice(at + 1));
  }
  const admin = /admin listening on ([^\s"]+)/.exec(child.stderr())?.[1] ?? '';
  return {
    child,
    listeners,
    admin,
    rssBytes() {
      const status = readFileSync(`/proc/${child.proc.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
    },
    async stop() {
      if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
      child.proc.kill('SIGTERM');
      const t = setTimeout(() => child.kill(), 8000);
      await child.exited;
      clearTimeout(t);
    },
  };
}

export interface LoggedRequest {
  readonly message: RefMessage;
  /** Connection it arrived on, and its position there. */
  readonly connection: number;
  readonly index: number;
}

/**
 * An upstream that keeps every byte it receives, parses it with the strict reference parser and
 * answers each complete request `200` with `x-up: <n>` (n counts requests across connections).
 * Anything the parser rejects is recorded in `malformed`: Ringside must only ever forward valid HTTP.
 */
export class LoggingUpstream {
  readonly server: net.Server;
  readonly requests: LoggedRequest[] = [];
  readonly malformed: { connection: number; bytes: string; reason: string }[] = [];
  readonly sockets = new Set<net.Socket>();
  address = '';
  #connections = 0;

  constructor(readonly limits: RefLimits = { maxHeaderBytes: 1 << 20, maxHeaders: 1000, maxBodyBytes: 1 << 26, maxRequestLineBytes: 1 << 20 }) {
    this.server = net.createServer((socket) => this.#serve(socket));
  }

  async listen(port = 0): Promise<this> {
    this.server.listen(port, '127.0.0.1');
    await once(this.server, 'listening');
    this.address = `127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
    return this;
  }

  #serve(socket: net.Socket): void {
    const id = ++this.#connections;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    let bytes = Buffer.alloc(0);
    let answered = 0;
    socket.on('data', (d: Buffer) => {
      if (socket.writableEnded) return;
      bytes = Buffer.concat([bytes, d]);
      const parsed = parseRequests(bytes, this.limits);
      for (; answered < parsed.messages.length; answered++) {
        const message = parsed.messages[answered]!;
        this.requests.push({ message, connection: id, index: answered });
        const n = this.requests.length;
        socket.write(`HTTP/1.1 200 OK\r\nx-up: ${n}\r\nContent-Length: 2\r\n\r\nup`);
      }
      if (parsed.end.kind === 'error') {
        this.malformed.push({ connection: id, bytes: bytes.toString('latin1'), reason: `${parsed.end.status} ${parsed.end.reason}` });
        socket.end(); // after the answers already written
      }
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }
}
