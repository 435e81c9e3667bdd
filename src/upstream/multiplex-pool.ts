/**
 * The connection pool of one host for a request-id protocol (bolt, boltv2, dubbo) on one worker: a
 * few connections, each carrying many requests at once (MOSN's multiplex pool mode).
 *
 *   acquire ─▶ request slot (breaker) ─▶ the least loaded connection with room ─▶ onPoolReady (same tick)
 *                                          │ none
 *                                          ▼
 *                pending slot (breaker) ─▶ FIFO queue (bounded, wait timeout) ─▶ one dial, if the
 *                                          host has fewer than `maxConnections` and none is dialing
 *   a response (client.onIdle) ─▶ the next waiter on that connection
 *   client.onClose ─▶ forgotten (its client failed the requests it carried); waiters left get a dial
 *
 * Unlike the HTTP/1.1 pool, which dials once per waiting request because a connection carries one,
 * a burst of requests to a new host waits for a single dial and then shares that connection: a
 * thousand concurrent first calls open one connection, not a thousand.
 */
import { RingsideError } from '../common/errors.js';
import { enabled, logger } from '../common/log.js';
import type {
  CircuitBreaker,
  ClientFactory,
  ConnectionPool,
  ConnectionPoolStats,
  Host,
  PoolWaiter,
  UpstreamClient,
  UpstreamClientEvents,
} from '../types/upstream.js';

const log = logger('upstream.mpool');

/** Connections per host per worker unless configured otherwise (MOSN multiplex: one). */
export const DEFAULT_MULTIPLEX_CONNECTIONS = 1;

export interface MultiplexPoolOptions {
  readonly factory: ClientFactory;
  readonly breaker: CircuitBreaker;
  /** Most connections to the host; one more is dialed only when every one is full. */
  readonly maxConnections?: number | undefined;
  /** Longest wait in the queue, in ms, before TIMEOUT; 0: no bound. */
  readonly queueTimeoutMs?: number | undefined;
  /** Requests one connection carries before it takes no more and closes once answered; 0: unlimited. */
  readonly maxRequestsPerConnection?: number | undefined;
  /** A connection carrying no request this long is closed; 0: kept. */
  readonly idleTimeoutMs?: number | undefined;
}

const enum State {
  Open,
  Draining,
  Closed,
}

class Conn {
  client: UpstreamClient | undefined = undefined;
  /** Requests handed out on it and not yet answered. */
  leases = 0;
  /** Requests handed out on it in all, for max_request_per_conn. */
  handed = 0;
  gone = false;
  idleSince = Date.now();
  readonly holdsSlot: boolean;
  readonly events: UpstreamClientEvents;
  constructor(pool: MultiplexConnectionPool, holdsSlot: boolean) {
    this.holdsSlot = holdsSlot;
    this.events = {
      onIdle: () => pool.onClientIdle(this),
      onClose: (reason) => pool.onClientClose(this, reason),
    };
  }
}

interface Waiting {
  readonly waiter: PoolWaiter;
  readonly deadline: number;
}

export class MultiplexConnectionPool implements ConnectionPool {
  readonly host: Host;
  readonly #factory: ClientFactory;
  readonly #breaker: CircuitBreaker;
  readonly #maxConnections: number;
  readonly #queueTimeoutMs: number;
  readonly #idleTimeoutMs: number;
  readonly #maxPerConn: number;
  readonly #conns: Conn[] = [];
  readonly #queue: Waiting[] = [];
  #dialing = 0;
  #state = State.Open;
  #queueTimer: NodeJS.Timeout | undefined;
  #idleSweep: NodeJS.Timeout | undefined;
  #drained: (() => void) | undefined;
  #drainPromise: Promise<void> | undefined;
  #totalConnects = 0;
  #connectFailures = 0;
  #totalRequests = 0;
  #queueTimeouts = 0;
  #overflows = 0;

  constructor(host: Host, opts: MultiplexPoolOptions) {
    this.host = host;
    this.#factory = opts.factory;
    this.#breaker = opts.breaker;
    this.#maxConnections = Math.max(1, opts.maxConnections ?? DEFAULT_MULTIPLEX_CONNECTIONS);
    this.#queueTimeoutMs = opts.queueTimeoutMs ?? 0;
    this.#idleTimeoutMs = opts.idleTimeoutMs ?? 0;
    this.#maxPerConn = opts.maxRequestsPerConnection ?? 0;
  }

  acquire(waiter: PoolWaiter): void {
    if (this.#state !== State.Open) {
      waiter.onPoolFailure(this.#unavailable());
      return;
    }
    let err = this.#breaker.tryAcquireRequest();
    if (err !== undefined) {
      this.#overflows++;
      waiter.onPoolFailure(err);
      return;
    }
    const c = this.#pick();
    if (c !== undefined) {
      this.#lease(c, waiter);
      return;
    }
    err = this.#breaker.tryAcquirePending();
    if (err !== undefined) {
      this.#breaker.releaseRequest();
      this.#overflows++;
      waiter.onPoolFailure(err);
      return;
    }
    this.#queue.push({ waiter, deadline: this.#queueTimeoutMs > 0 ? Date.now() + this.#queueTimeoutMs : Infinity });
    this.#armQueueTimer();
    this.#maybeDial();
  }

  cancel(waiter: PoolWaiter): boolean {
    const i = this.#queue.findIndex((w) => w.waiter === waiter);
    if (i === -1) return false;
    this.#queue.splice(i, 1);
    this.#breaker.releasePending();
    this.#breaker.releaseRequest();
    this.#checkDrained();
    return true;
  }

  release(client: UpstreamClient): void {
    const c = this.#conns.find((x) => x.client === client);
    if (c !== undefined && c.leases > 0) {
      c.handed--; // never sent: not counted towards max_request_per_conn
      this.#endLease(c);
    }
  }

  drain(): Promise<void> {
    if (this.#drainPromise !== undefined) return this.#drainPromise;
    this.#drainPromise = new Promise<void>((resolve) => (this.#drained = resolve));
    if (this.#state === State.Open) this.#state = State.Draining;
    for (const c of [...this.#conns]) if (c.leases === 0 && this.#queue.length === 0) c.client!.close('pool draining');
    this.#checkDrained();
    return this.#drainPromise;
  }

  close(): void {
    clearInterval(this.#idleSweep);
    this.#idleSweep = undefined;
    this.#state = State.Closed;
    this.#failQueued(this.#unavailable());
    for (const c of [...this.#conns]) c.client!.close('pool closed');
    this.#checkDrained();
  }

  stats(): ConnectionPoolStats {
    let idle = 0;
    for (const c of this.#conns) if (c.leases === 0) idle++;
    return {
      host: this.host.address,
      connections: this.#conns.length,
      connecting: this.#dialing,
      idle,
      busy: this.#conns.length - idle,
      pending: this.#queue.length,
      totalConnects: this.#totalConnects,
      connectFailures: this.#connectFailures,
      totalRequests: this.#totalRequests,
      queueTimeouts: this.#queueTimeouts,
      overflows: this.#overflows,
    };
  }

  // ── client events ──
  onClientIdle(c: Conn): void {
    if (c.gone || c.leases === 0) return;
    this.#endLease(c);
  }

  onClientClose(c: Conn, reason: string): void {
    if (c.gone || c.client === undefined) return;
    c.gone = true;
    const i = this.#conns.indexOf(c);
    if (i !== -1) this.#conns.splice(i, 1);
    const stats = this.host.stats;
    stats.activeConnections--;
    if (c.holdsSlot) this.#breaker.releaseConnection();
    // The client failed its in-flight requests itself; here only their counts come back.
    for (; c.leases > 0; c.leases--) {
      stats.activeRequests--;
      this.#breaker.releaseRequest();
    }
    if (enabled('debug')) log.debug(`connection to ${this.host.address} closed: ${reason}`);
    if (this.#queue.length > 0) this.#maybeDial();
    this.#checkDrained();
  }

  // ── internals ──
  #usable(c: Conn): boolean {
    const client = c.client!;
    return !c.gone && !client.closed && client.available && c.leases < client.capacity && (this.#maxPerConn === 0 || c.handed < this.#maxPerConn);
  }

  /** The least loaded connection with room, so load spreads over the connections there are. */
  #pick(): Conn | undefined {
    let best: Conn | undefined;
    for (const c of this.#conns) if (this.#usable(c) && (best === undefined || c.leases < best.leases)) best = c;
    return best;
  }

  #lease(c: Conn, waiter: PoolWaiter): void {
    c.leases++;
    c.handed++;
    this.#totalRequests++;
    this.host.stats.activeRequests++;
    this.host.stats.totalRequests++;
    waiter.onPoolReady(c.client!);
  }

  #endLease(c: Conn): void {
    c.leases--;
    if (c.leases === 0) c.idleSince = Date.now();
    this.host.stats.activeRequests--;
    this.#breaker.releaseRequest();
    if (c.leases === 0 && !c.gone && this.#maxPerConn > 0 && c.handed >= this.#maxPerConn) {
      c.client!.close('max_request_per_conn reached');
      return;
    }
    this.#serveQueue();
    if (this.#state !== State.Open && c.leases === 0 && this.#queue.length === 0 && !c.gone) {
      c.client!.close(this.#state === State.Draining ? 'pool draining' : 'pool closed');
    }
  }

  #serveQueue(): void {
    while (this.#queue.length > 0) {
      const c = this.#pick();
      if (c === undefined) break;
      const w = this.#queue.shift()!;
      this.#breaker.releasePending();
      this.#lease(c, w.waiter);
    }
    if (this.#queue.length === 0 && this.#queueTimer !== undefined) {
      clearTimeout(this.#queueTimer);
      this.#queueTimer = undefined;
    }
    if (this.#queue.length > 0) this.#maybeDial();
  }

  /** One dial at a time, and only while the host has fewer usable connections than allowed. */
  #maybeDial(): void {
    if (this.#state === State.Closed || this.#dialing > 0) return;
    // Connections retiring under max_request_per_conn (or gone away) do not count against the bound.
    let live = 0;
    for (const c of this.#conns) if (this.#maxPerConn === 0 || c.handed < this.#maxPerConn) live++;
    if (live >= this.#maxConnections) return;
    let holdsSlot = true;
    if (this.#breaker.tryAcquireConnection() !== undefined) {
      // As the HTTP/1.1 pool: a host with no connection may open one past max_connections.
      if (this.#conns.length > 0) return;
      holdsSlot = false;
    }
    this.#dial(new Conn(this, holdsSlot));
  }

  #dial(c: Conn): void {
    this.#dialing++;
    this.#factory.connect(this.host, c.events, (err, client) => {
      this.#dialing--;
      if (err !== undefined || client === undefined) {
        this.#onConnectFailed(c, err);
        return;
      }
      if (this.#state === State.Closed) {
        if (c.holdsSlot) this.#breaker.releaseConnection();
        c.gone = true;
        client.close('pool closed');
        this.#checkDrained();
        return;
      }
      c.client = client;
      this.#conns.push(c);
      this.#totalConnects++;
      this.host.stats.activeConnections++;
      this.host.stats.totalConnections++;
      c.idleSince = Date.now();
      this.#armIdleSweep();
      this.#serveQueue();
    });
  }

  #onConnectFailed(c: Conn, err: RingsideError | undefined): void {
    c.gone = true;
    if (c.holdsSlot) this.#breaker.releaseConnection();
    this.#connectFailures++;
    this.host.stats.connectFailures++;
    const error = err ?? new RingsideError('CONNECT_FAILED', 'upstream', `connect to ${this.host.address} failed`, { retryable: true });
    // Nothing else will serve the waiters unless a connection is up: they fail now.
    if (this.#conns.length === 0) this.#failQueued(error);
    else this.#serveQueue();
    this.#checkDrained();
  }

  #failQueued(err: RingsideError): void {
    const q = this.#queue.splice(0);
    if (this.#queueTimer !== undefined) {
      clearTimeout(this.#queueTimer);
      this.#queueTimer = undefined;
    }
    for (const w of q) {
      this.#breaker.releasePending();
      this.#breaker.releaseRequest();
      w.waiter.onPoolFailure(err);
    }
  }

  #armQueueTimer(): void {
    if (this.#queueTimer !== undefined || this.#queue.length === 0 || this.#queueTimeoutMs === 0) return;
    const head = this.#queue[0]!;
    this.#queueTimer = setTimeout(() => this.#expire(), Math.max(0, head.deadline - Date.now()));
  }

  #expire(): void {
    this.#queueTimer = undefined;
    const now = Date.now();
    const err = new RingsideError('TIMEOUT', 'upstream', `no connection to ${this.host.address} (cluster ${this.host.clusterName}) within ${this.#queueTimeoutMs} ms`, { retryable: true });
    while (this.#queue.length > 0 && this.#queue[0]!.deadline <= now) {
      const w = this.#queue.shift()!;
      this.#queueTimeouts++;
      this.#breaker.releasePending();
      this.#breaker.releaseRequest();
      w.waiter.onPoolFailure(err);
    }
    this.#armQueueTimer();
    this.#checkDrained();
  }

  /** Every quarter of idle_timeout, connections idle for the whole of it are closed. */
  #armIdleSweep(): void {
    if (this.#idleTimeoutMs <= 0 || this.#idleSweep !== undefined) return;
    this.#idleSweep = setInterval(() => {
      const now = Date.now();
      for (const c of [...this.#conns]) {
        if (c.leases === 0 && now - c.idleSince >= this.#idleTimeoutMs) c.client!.close(`idle for ${this.#idleTimeoutMs} ms (cluster idle_timeout)`);
      }
      if (this.#conns.length === 0 && this.#dialing === 0) {
        clearInterval(this.#idleSweep);
        this.#idleSweep = undefined;
      }
    }, Math.max(10, this.#idleTimeoutMs / 4));
    this.#idleSweep.unref();
  }

  #unavailable(): RingsideError {
    return new RingsideError('UNAVAILABLE', 'internal', `connection pool for ${this.host.address} is shutting down`, { retryable: true });
  }

  #checkDrained(): void {
    if (this.#drained === undefined) return;
    if (this.#conns.length === 0 && this.#dialing === 0 && this.#queue.length === 0) {
      const done = this.#drained;
      this.#drained = undefined;
      done();
    }
  }
}
