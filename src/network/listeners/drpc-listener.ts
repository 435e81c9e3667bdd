/**
 * A `drpc:/path.sock` listener whose sessions run a network filter chain: the `proxy` filter with
 * downstream_protocol drpc. It applies DAOS's stale-socket rule and the file mode before it listens,
 * accepts on the thread's dRPC reactor (src/drpc/reactor.ts) and wraps each session in a
 * PacketConnection, so listener filters, max_connections, the listener counters and drain work as
 * on any listener. Like Unix listeners it is served by worker 0 only (one fd per path).
 *
 * (A drpc: listener with the runtime's `drpc` filter is a DomainSocketServer instead:
 * src/runtime/drpc/listener.ts.)
 */
import { unlinkSync } from 'node:fs';
import { CloseMode } from '../../types/network.js';
import type { ListenerStats } from '../../types/network.js';
import { logger } from '../../common/log.js';
import { errnoName, loadLibc, POLLIN } from '../../drpc/libc.js';
import { threadReactor, type Reactor } from '../../drpc/reactor.js';
import { acceptSeqpacket, listenSeqpacket } from '../../drpc/sockets.js';
import { ListenerBase, type ListenerSettings } from './base.js';
import { PacketConnection } from './packet-connection.js';
import { loadDrpcStream } from '../../stream/drpc/index.js';

const log = logger('network');

export interface DrpcListenerOptions extends ListenerSettings {
  socketPath: string;
  /** File mode of the socket file (listener `socket_mode`, default 0600). */
  socketMode: number;
  backlog?: number;
  reactor?: Reactor;
}

export class DrpcListener extends ListenerBase {
  readonly #opts: DrpcListenerOptions;
  readonly #reactor: Reactor;
  readonly #sessions = new Set<PacketConnection>();
  #fd = -1;
  #total = 0;
  #rejected = 0;

  constructor(opts: DrpcListenerOptions) {
    super(opts);
    this.#opts = opts;
    this.#reactor = opts.reactor ?? threadReactor();
  }

  get address(): string {
    return `drpc:${this.#opts.socketPath}`;
  }

  async start(): Promise<void> {
    if (this.#fd >= 0) return;
    // The dRPC stream connection (and protobufjs with it) loads here, on the worker that serves the socket.
    await loadDrpcStream();
    try {
      this.#fd = listenSeqpacket(this.#opts.socketPath, this.#opts.socketMode, this.#opts.backlog ?? 128);
    } catch (err) {
      throw new Error(`listener ${this.name}: ${(err as Error).message}`, { cause: err });
    }
    this.#reactor.add(this.#fd, POLLIN, { onReady: () => this.#acceptAll() });
    this.accepting = true;
  }

  stopAccepting(): Promise<void> {
    this.accepting = false;
    const fd = this.#fd;
    if (fd < 0) return Promise.resolve();
    this.#fd = -1;
    this.#reactor.remove(fd);
    loadLibc().close(fd);
    try {
      unlinkSync(this.#opts.socketPath);
    } catch {
      // already gone (an operator removed it)
    }
    this.notifyClosed();
    return Promise.resolve();
  }

  override closeConnections(reason: string): void {
    for (const s of [...this.#sessions]) s.close(CloseMode.NoFlush, reason);
  }

  override get activeConnections(): number {
    return this.#sessions.size;
  }

  override stats(): ListenerStats {
    return { name: this.name, address: this.address, activeConnections: this.#sessions.size, totalConnections: this.#total, rejectedConnections: this.#rejected };
  }

  #acceptAll(): void {
    while (this.#fd >= 0) {
      const r = acceptSeqpacket(this.#fd);
      if (r === null) return;
      if ('errno' in r) {
        log.error(`listener ${this.name}: accept failed: ${errnoName(r.errno)}`);
        return;
      }
      const max = this.#opts.maxConnections ?? 0;
      const refused = max > 0 && this.#sessions.size >= max ? `max_connections (${max}) reached` : this.admit('unix', this.address);
      if (refused !== null) {
        this.#rejected++;
        log.debug(`listener ${this.name}: refused a dRPC session: ${refused}`);
        loadLibc().close(r.fd);
        continue;
      }
      this.#install(r.fd);
    }
  }

  #install(fd: number): void {
    const conn = new PacketConnection(fd, {
      listenerName: this.name,
      localAddress: this.address,
      runLoop: this.#opts.runLoop,
      reactor: this.#reactor,
      onFinished: (c) => this.#sessions.delete(c),
    });
    this.#sessions.add(conn);
    this.#total++;
    try {
      for (const install of this.#opts.filterChain) install(conn, conn.filters);
      conn.initializeFilters();
    } catch (err) {
      log.error(`listener ${this.name}: filter chain setup failed for drpc session ${conn.id}`, err);
      conn.close(CloseMode.NoFlush, 'filter chain setup failed');
    }
  }
}
