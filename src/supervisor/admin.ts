/**
 * The admin endpoint, bound on the main thread — the one exception to "main accepts no traffic", for
 * control only, on 127.0.0.1 by default:
 *
 *   GET  /ready  200 once every listener accepts (stage running), 503 otherwise
 *   GET  /stats  the workers' WorkerStats plus their sum, collected over comlink
 *   GET  /metrics  Prometheus text format, every worker aggregated (src/observability/)
 *   GET  /api/v1/config_dump  the running config as JSON, secrets redacted (MOSN's config_dump);
 *                             its version in the x-ringside-config-version header
 *   POST /reload  re-reads the config file and applies it (as SIGHUP): 200 applied or unchanged,
 *                 400 invalid (nothing changed; issues with their JSON paths), 500 a worker failed
 *   POST /drain  starts the same graceful drain as SIGTERM; answers 202 at once
 *   POST /test/crash?worker=i&mode=throw|fatal   only with RINGSIDE_TEST_HOOKS=1
 *
 * Every route sits behind AdminGuard (admin-guard.ts): Host must name this endpoint, foreign Origins
 * and simple-form POSTs are refused, and a non-loopback bind is warned about at start.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { logger } from '../common/log.js';
import { ADMIN_ADDRESS, parseAddress } from '../common/address.js';
import { AdminGuard, adminExposureWarning } from './admin-guard.js';
import type { ReloadOutcome } from './reload.js';

const log = logger('admin');

export interface AdminBackend {
  ready(): boolean;
  stats(): Promise<unknown>;
  metrics(): Promise<{ contentType: string; body: string }>;
  configDump(): unknown;
  /** The config version in force (header x-ringside-config-version on config_dump). */
  configVersion?: () => number;
  /** Re-reads and applies the config file (POST /reload). */
  reload?: (reason: string) => Promise<ReloadOutcome>;
  drain(reason: string): void;
  /** Present only when test hooks are on. */
  crash?: (worker: number, mode: 'throw' | 'fatal') => Promise<void>;
}

export class AdminServer {
  readonly #server: Server;
  readonly #backend: AdminBackend;
  /** Set once bound: the Host/Origin rules depend on the address actually bound. */
  #guard: AdminGuard | null = null;

  constructor(backend: AdminBackend) {
    this.#backend = backend;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        log.warn(`${req.method} ${req.url} failed`, err);
        send(res, 500, { error: err instanceof Error ? err.message : String(err) });
      });
    });
    // Admin calls are rare and short; never let an idle admin client hold shutdown.
    this.#server.keepAliveTimeout = 1000;
  }

  /** Binds `host:port`; resolves with the bound address (port 0 picks one). */
  listen(address: string): Promise<string> {
    const { host, port } = splitHostPort(address);
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        const a = this.#server.address() as AddressInfo;
        this.#guard = new AdminGuard(host, a.address, a.port);
        const warning = adminExposureWarning(a.address, a.port);
        if (warning !== null) log.warn(warning);
        resolve(`${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // In front of every route, including ones added later.
    const refusal = this.#guard === null ? { status: 503, error: 'not listening yet' } : this.#guard.check(req.method ?? '', req.headers);
    if (refusal !== null) return send(res, refusal.status, { error: refusal.error });
    const url = new URL(req.url ?? '/', 'http://admin');
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'GET /ready':
        return send(res, this.#backend.ready() ? 200 : 503, { ready: this.#backend.ready() });
      case 'GET /stats':
        return send(res, 200, await this.#backend.stats());
      case 'GET /metrics': {
        const { contentType, body } = await this.#backend.metrics();
        if (res.headersSent) return;
        res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      case 'GET /api/v1/config_dump': {
        const version = this.#backend.configVersion?.();
        return send(res, 200, this.#backend.configDump(), version === undefined ? {} : { 'x-ringside-config-version': String(version) });
      }
      case 'POST /reload': {
        const reload = this.#backend.reload;
        if (reload === undefined) return send(res, 404, { error: 'not found' });
        const outcome = await reload('admin POST /reload');
        const status = outcome.result === 'invalid' ? 400 : outcome.result === 'failed' ? 500 : 200;
        return send(res, status, outcome);
      }
      case 'POST /drain':
        send(res, 202, { draining: true });
        this.#backend.drain('admin POST /drain');
        return;
      case 'POST /test/crash': {
        const crash = this.#backend.crash;
        if (crash === undefined) return send(res, 404, { error: 'not found' });
        const mode = url.searchParams.get('mode') === 'fatal' ? 'fatal' : 'throw';
        await crash(Number(url.searchParams.get('worker') ?? '0'), mode);
        return send(res, 202, { crashing: true });
      }
      default:
        return send(res, 404, { error: 'not found' });
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const data = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

/** "127.0.0.1:34901", "[::1]:0", ":8080" (all interfaces), read with the one address grammar. */
export function splitHostPort(address: string): { host: string | undefined; port: number } {
  const r = parseAddress(address, ADMIN_ADDRESS);
  if (!r.ok || r.value.kind !== 'tcp') throw new Error(`admin address "${address}": ${r.ok ? 'expected host:port' : r.message}`);
  return { host: address.trim().startsWith(':') ? undefined : r.value.host, port: r.value.port };
}
