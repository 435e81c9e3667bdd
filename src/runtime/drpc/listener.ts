/**
 * A `drpc:/path.sock` listener: a DomainSocketServer serving the runtime module (10) on worker 0 (one
 * fd per path, as with Unix listeners). It is a listener of the Net/IO layer — listener filters and
 * max_connections apply to its sessions, its counters appear in the listener stats, drain stops its
 * accepting and removes the socket file — but its sessions are dRPC sessions, not byte-stream
 * Connections, so no network filter chain runs on them.
 *
 * Why the server is loaded in start(): the dRPC server and the runtime module bring protobufjs,
 * grpc-js helpers and the libc binding; every thread that builds the extension registry (the main
 * thread validating a config, each worker) would pay for them at import time, and only a worker that
 * serves a drpc: listener needs them.
 */
import { logger } from '../../common/log.js';
import type { DomainSocketServer } from '../../drpc/index.js';
import type { ListenerStats } from '../../types/network.js';
import { ListenerBase, type ListenerSettings } from '../../network/listeners/base.js';
import type { RuntimeModuleDeps } from './runtime-module.js';

const log = logger('runtime.drpc');

export interface DrpcListenerOptions extends ListenerSettings {
  socketPath: string;
  socketMode: number;
  maxMessageBytes: number;
  module: Omit<RuntimeModuleDeps, 'socketPath'>;
}

export class DrpcRuntimeListener extends ListenerBase {
  readonly #socketPath: string;
  readonly #opts: DrpcListenerOptions;
  #server: DomainSocketServer | null = null;

  constructor(opts: DrpcListenerOptions) {
    super(opts);
    this.#socketPath = opts.socketPath;
    this.#opts = opts;
  }

  get address(): string {
    return `drpc:${this.#socketPath}`;
  }

  async start(): Promise<void> {
    const [{ DomainSocketServer }, { runtimeModule }] = await Promise.all([import('../../drpc/index.js'), import('./runtime-module.js')]);
    const opts = this.#opts;
    try {
      if (this.#server === null) {
        this.#server = new DomainSocketServer(opts.socketPath, {
          socketMode: opts.socketMode,
          maxMessageBytes: opts.maxMessageBytes,
          maxSessions: opts.maxConnections ?? 0,
          // Listener filters see each session as a connection from "unix".
          admit: () => this.admit('unix', this.address),
        });
        this.#server.registerModule(runtimeModule({ ...opts.module, socketPath: opts.socketPath }));
      }
      this.#server.start();
    } catch (err) {
      throw new Error(`listener ${this.name}: ${(err as Error).message}`, { cause: err });
    }
    this.accepting = true;
    log.debug(`listener ${this.name}: dRPC on ${this.#socketPath}`);
  }

  stopAccepting(): Promise<void> {
    this.accepting = false;
    if (this.#server?.listening === true) {
      this.#server.stopAccepting();
      this.notifyClosed();
    }
    return Promise.resolve();
  }

  override closeConnections(reason: string): void {
    this.#server?.closeSessions(reason);
  }

  override get activeConnections(): number {
    return this.#server?.stats().activeSessions ?? 0;
  }

  override stats(): ListenerStats {
    const s = this.#server?.stats() ?? { activeSessions: 0, totalSessions: 0, rejectedSessions: 0 };
    return { name: this.name, address: this.address, activeConnections: s.activeSessions, totalConnections: s.totalSessions, rejectedConnections: s.rejectedSessions };
  }
}
