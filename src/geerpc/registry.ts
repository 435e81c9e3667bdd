/**
 * The GeeRegistry: a tiny HTTP registry at /_geerpc_/registry.
 *   GET  → `X-Geerpc-Servers: a,b,c` (alive servers, sorted, comma-joined; expired ones dropped);
 *   POST with `X-Geerpc-Server: tcp@host:port` → a heartbeat that (re)registers it; without → 500;
 *   other methods → 405.
 * A server stays alive `timeoutMs` after its last heartbeat (5 min by default; 0 = forever), and
 * startHeartbeat() sends one at once and then every intervalMs (4 min by default).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { logger } from '../common/log.js';

const log = logger('geerpc.registry');

export const DEFAULT_REGISTRY_PATH = '/_geerpc_/registry';
export const DEFAULT_REGISTRY_TIMEOUT_MS = 5 * 60_000;
export const DEFAULT_HEARTBEAT_MS = DEFAULT_REGISTRY_TIMEOUT_MS - 60_000;

export interface RegistryOptions {
  timeoutMs?: number;
  path?: string;
  /** The clock, injectable so expiry can be shown without waiting minutes. */
  now?: () => number;
}

export class Registry {
  readonly #servers = new Map<string, number>();
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly path: string;

  constructor(opts: RegistryOptions = {}) {
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_REGISTRY_TIMEOUT_MS;
    this.#now = opts.now ?? Date.now;
    this.path = opts.path ?? DEFAULT_REGISTRY_PATH;
  }

  putServer(addr: string): void {
    this.#servers.set(addr, this.#now());
  }

  /** Alive servers, sorted; expired entries are removed as a side effect, as in Go's registry. */
  aliveServers(): string[] {
    const now = this.#now();
    const alive: string[] = [];
    for (const [addr, seen] of this.#servers) {
      if (this.#timeoutMs === 0 || seen + this.#timeoutMs > now) alive.push(addr);
      else this.#servers.delete(addr);
    }
    return alive.sort();
  }

  /** The request handler for the registry path (any other path answers 404). */
  handle(req: IncomingMessage, res: ServerResponse): void {
    if ((req.url ?? '').split('?')[0] !== this.path) {
      res.writeHead(404).end();
      return;
    }
    switch (req.method) {
      case 'GET':
        res.writeHead(200, { 'X-Geerpc-Servers': this.aliveServers().join(',') }).end();
        return;
      case 'POST': {
        const addr = req.headers['x-geerpc-server'];
        if (typeof addr !== 'string' || addr.trim() === '') {
          res.writeHead(500).end();
          return;
        }
        this.putServer(addr.trim());
        res.writeHead(200).end();
        return;
      }
      default:
        res.writeHead(405).end();
    }
  }

  /** Serves the registry on host:port; resolves with its URL (real port when 0 was asked for). */
  async listen(host: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
    const srv = createServer((req, res) => {
      req.resume();
      this.handle(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, host, resolve);
    });
    const bound = (srv.address() as { port: number }).port;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}${this.path}`;
    return {
      url,
      close: () =>
        new Promise((resolve) => {
          srv.close(() => resolve());
          srv.closeAllConnections();
        }),
    };
  }
}

export interface Heartbeat {
  /** Heartbeats sent and failed so far. */
  readonly stats: { sent: number; failed: number };
  stop(): void;
}

/** POSTs `X-Geerpc-Server: addr` to the registry now and every intervalMs; failures are logged and retried. */
export function startHeartbeat(registryUrl: string, addr: string, intervalMs = DEFAULT_HEARTBEAT_MS): Heartbeat {
  const stats = { sent: 0, failed: 0 };
  const beat = async (): Promise<void> => {
    try {
      const res = await fetch(registryUrl, { method: 'POST', headers: { 'X-Geerpc-Server': addr }, signal: AbortSignal.timeout(Math.max(1000, Math.min(intervalMs, 10_000))) });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`registry answered ${res.status}`);
      stats.sent++;
    } catch (err) {
      stats.failed++;
      log.warn(`rpc server: heart beat err: ${(err as Error).message}`, addr);
    }
  };
  void beat();
  const timer = setInterval(() => void beat(), intervalMs);
  timer.unref();
  return { stats, stop: () => clearInterval(timer) };
}
