/**
 * What every listener kind shares: listener filters, the max_connections limit, event listeners,
 * building a Connection with its filter chain, and the per-listener counters.
 */
import { FilterStatus, CloseMode } from '../../types/network.js';
import type {
  Connection,
  FilterChainBuilder,
  Listener,
  ListenerEventListener,
  ListenerFilter,
  ListenerStats,
} from '../../types/network.js';
import type { RunLoop } from '../../types/actor.js';
import type { Socket } from 'node:net';
import type { RingEndpoint } from '../../types/ring.js';
import { logger } from '../../common/log.js';
import { ConnectionImpl } from '../connection/connection.js';
import type { ConnectionOptions } from '../connection/connection.js';
import type { ReadMode } from '../connection/wire.js';
import type { DownstreamTls } from '../tls/downstream.js';

const log = logger('network');

/** The per-connection constructor a network filter factory returned. */
export type ChainInstaller = (connection: Connection, chain: FilterChainBuilder) => void;

export interface ListenerSettings {
  name: string;
  address: string;
  runLoop: RunLoop;
  /** One installer per configured filter, in order. */
  filterChain: ChainInstaller[];
  listenerFilters?: ListenerFilter[];
  eventListeners?: ListenerEventListener[];
  /** 0 or absent: none. */
  idleTimeoutMs?: number;
  /** 0 or absent: unlimited. */
  maxConnections?: number;
  /** Sockets only: 'onread' static buffers (default) or 'data' events. */
  readMode?: ReadMode;
  /**
   * TLS on accepted sockets: the handshake runs before the connection is built, and the SNI picks
   * one of `chains` (one installer list per configured filter chain; `filterChain` is then unused).
   */
  tls?: { downstream: DownstreamTls; chains: ChainInstaller[][] };
}

export type AcceptResult = { ok: true; connection: ConnectionImpl } | { ok: false; refused: string };

export abstract class ListenerBase implements Listener {
  readonly name: string;
  readonly #settings: ListenerSettings;
  readonly #listenerFilters: ListenerFilter[];
  readonly #eventListeners: ListenerEventListener[];
  readonly #active = new Set<ConnectionImpl>();
  #total = 0;
  #rejected = 0;
  protected accepting = false;

  constructor(settings: ListenerSettings) {
    this.name = settings.name;
    this.#settings = settings;
    this.#listenerFilters = [...(settings.listenerFilters ?? [])];
    this.#eventListeners = [...(settings.eventListeners ?? [])];
    const tls = settings.tls;
    if (tls !== undefined) {
      // node:tls decrypts into its own buffers, so a TLS connection reads through 'data' events.
      tls.downstream.onSecure((socket, chain) => this.#install(ConnectionImpl.fromAcceptedSocket(socket, { ...this.#connectionOptions(), readMode: 'data' }), tls.chains[chain]));
    }
  }

  /** Subclasses call these when they start and stop accepting: certificate files are watched meanwhile. */
  protected startTls(): void {
    this.#settings.tls?.downstream.start();
  }

  protected stopTls(): void {
    this.#settings.tls?.downstream.stop();
  }

  abstract get address(): string;
  abstract start(): Promise<void>;
  abstract stopAccepting(): Promise<void>;

  addListenerFilter(filter: ListenerFilter): void {
    this.#listenerFilters.push(filter);
  }

  addEventListener(listener: ListenerEventListener): void {
    this.#eventListeners.push(listener);
  }

  get activeConnections(): number {
    return this.#active.size;
  }

  /** Live connections, for drain logic and tests. */
  connections(): ConnectionImpl[] {
    return [...this.#active];
  }

  closeConnections(reason: string): void {
    for (const c of [...this.#active]) c.close(CloseMode.NoFlush, reason);
  }

  stats(): ListenerStats {
    for (const c of this.#active) c.pollTaken();
    return {
      name: this.name,
      address: this.address,
      activeConnections: this.#active.size,
      totalConnections: this.#total,
      rejectedConnections: this.#rejected,
    };
  }

  /** Tells event listeners the listener stopped accepting. */
  protected notifyClosed(): void {
    for (const l of this.#eventListeners) {
      try {
        l.onClose?.(this.name);
      } catch (err) {
        log.error(`listener ${this.name}: event listener threw in onClose`, err);
      }
    }
  }

  /** Listener filters, then the limit; on refusal the caller disposes of the transport. */
  protected admit(remoteAddress: string, localAddress: string): string | null {
    if (!this.accepting) return `listener ${this.name} is not accepting`;
    const info = { remoteAddress, localAddress, listenerName: this.name };
    for (const f of this.#listenerFilters) {
      let status: FilterStatus;
      try {
        status = f.onAccept(info);
      } catch (err) {
        log.error(`listener ${this.name}: listener filter threw; refusing`, err);
        status = FilterStatus.Stop;
      }
      if (status === FilterStatus.Stop) {
        this.#rejected++;
        return 'refused by a listener filter';
      }
    }
    const max = this.#settings.maxConnections ?? 0;
    // Handshakes in progress hold a socket too.
    if (max > 0 && this.#active.size + (this.#settings.tls?.downstream.pending ?? 0) >= max) {
      this.#rejected++;
      return `max_connections (${max}) reached`;
    }
    return null;
  }

  protected acceptSocket(socket: Socket): void {
    const remote = socket.remoteAddress === undefined ? 'unix' : `${socket.remoteAddress}:${socket.remotePort}`;
    const local = socket.localAddress === undefined ? this.address : `${socket.localAddress}:${socket.localPort}`;
    const refused = this.admit(remote, local);
    if (refused !== null) {
      log.debug(`listener ${this.name}: refused ${remote}: ${refused}`);
      socket.on('error', () => {}); // a reset while closing is expected
      socket.destroy();
      return;
    }
    const tls = this.#settings.tls;
    if (tls !== undefined) tls.downstream.accept(socket);
    else this.#install(ConnectionImpl.fromAcceptedSocket(socket, this.#connectionOptions()));
  }

  protected acceptRing(endpoint: RingEndpoint): AcceptResult {
    const refused = this.admit(`pipe:${endpoint.pipeId}`, this.address);
    if (refused !== null) return { ok: false, refused };
    const conn = ConnectionImpl.fromRingEndpoint(endpoint, this.#connectionOptions());
    this.#install(conn);
    return { ok: true, connection: conn };
  }

  #connectionOptions(): ConnectionOptions {
    const s = this.#settings;
    return {
      listenerName: this.name,
      runLoop: s.runLoop,
      ...(s.readMode !== undefined ? { readMode: s.readMode } : {}),
      ...(s.idleTimeoutMs !== undefined ? { idleTimeoutMs: s.idleTimeoutMs } : {}),
      onFinished: (c: ConnectionImpl) => this.#active.delete(c),
    };
  }

  #install(conn: ConnectionImpl, chain: readonly ChainInstaller[] = this.#settings.filterChain): void {
    this.#active.add(conn);
    this.#total++;
    for (const l of this.#eventListeners) {
      try {
        l.onAccept?.(conn);
      } catch (err) {
        log.error(`listener ${this.name}: event listener threw in onAccept`, err);
      }
    }
    try {
      for (const install of chain) install(conn, conn.filters);
      conn.initializeFilters();
    } catch (err) {
      // A filter that throws while setting up fails this connection only.
      log.error(`listener ${this.name}: filter chain setup failed for connection ${conn.id}`, err);
      conn.close(CloseMode.NoFlush, 'filter chain setup failed');
    }
  }
}
