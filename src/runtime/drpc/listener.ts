/**
 * A `drpc:/path.sock` listener: a DomainSocketServer serving the runtime module (10) on worker 0 (one
 * fd per path, as with Unix listeners). It is a listener of the Net/IO layer — listener filters and
 * max_connections apply to its sessions, its counters appear in the listener stats, drain stops its
 * accepting and removes the socket file — but its sessions are dRPC sessions, not byte-stream
 * Connections, so no network filter chain runs on them.
 */
import { logger } from '../../common/log.js';
import { DomainSocketServer } from '../../drpc/index.js';
import type { ListenerStats } from '../../types/network.js';
import { ListenerBase, type ListenerSettings } from '../../network/listeners/base.js';
import { runtimeModule, type RuntimeModuleDeps } from './runtime-module.js';

const log = logger('runtime.drpc');

export interface DrpcListenerOptions extends ListenerSettings {
  socketPath: string;
  socketMode: number;
  maxMessageBytes: number;
  module: Omit<RuntimeModuleDeps, 'socketPath'>;
}

export class DrpcRuntimeListener extends ListenerBase {
  readonly #socketPath: string;
  readonly #server: DomainSocketServer;

  constructor(opts: DrpcListenerOptions) {
    super(opts);
    this.#socketPath = opts.socketPath;
    this.#server = new DomainSocketServer(opts.socketPath, {
      socketMode: opts.socketMode,
      maxMessageBytes: opts.maxMessageBytes,
      maxSessions: opts.maxConnections ?? 0,
      // Listener filters see each session as a connection from "unix".
      admit: () => this.admit('unix', this.address),
    });
    this.#server.registerModule(runtimeModule({ ...opts.module, socketPath: opts.socketPath }));
  }

  get address(): string {
    return `drpc:${this.#socketPath}`;
  }

  start(): Promise<void> {
    try {
      this.#server.start();
    } catch (err) {
      return Promise.reject(new Error(`listener ${this.name}: ${(err as Error).message}`, { cause: err }));
    }
    this.accepting = true;
    log.debug(`listener ${this.name}: dRPC on ${this.#socketPath}`);
    return Promise.resolve();
  }

  stopAccepting(): Promise<void> {
    this.accepting = false;
    if (this.#server.listening) {
      this.#server.stopAccepting();
      this.notifyClosed();
    }
    return Promise.resolve();
  }

  override closeConnections(reason: string): void {
    this.#server.closeSessions(reason);
  }

  override get activeConnections(): number {
    return this.#server.stats().activeSessions;
  }

  override stats(): ListenerStats {
    const s = this.#server.stats();
    return { name: this.name, address: this.address, activeConnections: s.activeSessions, totalConnections: s.totalSessions, rejectedConnections: s.rejectedSessions };
  }
}
