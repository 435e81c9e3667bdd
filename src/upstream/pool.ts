/**
 * The connection pool of one host for one protocol on one worker, generic over the protocol's
 * UpstreamClient (HTTP/1.1 now; HTTP/2, bolt, dubbo later), so the pool never branches on protocol.
 *
 *   acquire ─▶ request slot (breaker) ─▶ ready client? ─yes─▶ onPoolReady (same tick)
 *                                          │ no
 *                                          ▼
 *                pending slot (breaker) ─▶ FIFO queue (bounded, wait timeout) ─▶ dial if needed
 *   client.onIdle ─▶ next waiter, else back on the ready stack (LIFO: the warmest connection first)
 *   client.onClose ─▶ forgotten; waiters left get a new dial
 *
 * The pool counts leases per connection itself and never relies on `available` alone: between a
 * hand-out and the request's first byte the client still looks free, and a second hand-out then
 * would put two requests on one HTTP/1.1 connection.
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

const log = logger('upstream.pool');

export interface ConnectionPoolOptions {
  readonly factory: ClientFactory;
  /** The cluster's breaker: max_connections, max_pending_requests and max_requests are taken here. */
  readonly breaker: CircuitBreaker;
  /** Requests one connection carries before it is closed and replaced; 0: unlimited. */
  readonly maxRequestsPerConnection?: number | undefined;
  /** Longest wait in the queue, in ms, before TIMEOUT; 0: no bound (the route timeout still applies). */
  readonly queueTimeoutMs?: number | undefined;
  /** The cluster's idle_timeout: a connection carrying no request this long is closed; 0: kept. */
  readonly idleTimeoutMs?: number | undefined;
}

const enum State {
  Open,
  Draining,
  Closed,
}

class Entry {
  client: UpstreamClient | undefined = undefined;
  leases = 0;
  /** Requests handed out on this connection, for max_request_per_conn. */
  handed = 0;
  inReady = false;
  gone = false;
  /** When the last lease ended (Date.now()), for the idle sweep. */
  idleSince = Date.now();
  readonly holdsSlot: boolean;
  readonly events: UpstreamClientEvents;
  constructor(pool: HostConnectionPool, holdsSlot: boolean) {
    this.holdsSlot = holdsSlot;
    // One small object per connection (not per request) binds client events to their entry.
    this.events = {
      onIdle: () => pool.onClientIdle(this),
      onClose: (reason) => pool.onClientClose(this, reason),
    };
  }
}

interface Pending {
  readonly waiter: PoolWaiter;
  readonly deadline: number;
}

export class HostConnectionPool implements ConnectionPool {
  readonly host: Host;
  readonly #factory: ClientFactory;
  readonly #breaker: CircuitBreaker;
  readonly #maxPerConn: number;
  readonly #queueTimeoutMs: number;
  readonly #entries = new Map<UpstreamClient, Entry>();
  readonly #ready: Entry[] = [];
  #queue: (Pending | undefined)[] = [];
  #head = 0;
  #pending = 0;
  #connecting = 0;
  /** Capacity of the last client that connected: how many waiters one dial is expected to serve. */
  #lastCapacity = 1;
  #queueTimer: NodeJS.Timeout | undefined;
  #state = State.Open;
  #drained: (() => void) | undefined;
  #drainPromise: Promise<void> | undefined;
  #totalConnects = 0;
  #connectFailures = 0;
  #totalRequests = 0;
  #queueTimeouts = 0;
  #overflows = 0;
  readonly #timeoutError: RingsideError;
  readonly #idleTimeoutMs: number;
  #idleSweep: NodeJS.Timeout | undefined;

  constructor(host: Host, opts: ConnectionPoolOptions) {
    this.host = host;
    this.#factory = opts.factory;
    this.#breaker = opts.breaker;
    this.#maxPerConn = opts.maxRequestsPerConnection ?? 0;
    this.#queueTimeoutMs = opts.queueTimeoutMs ?? 0;
    this.#idleTimeoutMs = opts.idleTimeoutMs ?? 0;
    this.#timeoutError = new RingsideError(
      'TIMEOUT',
      'upstream',
      `no connection to ${host.address} (cluster ${host.clusterName}) within ${this.#queueTimeoutMs} ms`,
      { retryable: true },
    );
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
    const ready = this.#popReady();
    if (ready !== undefined) {
      this.#lease(ready, waiter);
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
    this.#pending++;
    this.#armQueueTimer();
    this.#maybeConnect();
  }

  cancel(waiter: PoolWaiter): boolean {
    const q = this.#queue;
    for (let i = this.#head; i < q.length; i++) {
      if (q[i]?.waiter === waiter) {
        q[i] = undefined;
        this.#pending--;
        this.#breaker.releasePending();
        this.#breaker.releaseRequest();
        this.#compactQueue();
        this.#checkDrained();
        return true;
      }
    }
    return false;
  }

  release(client: UpstreamClient): void {
    const e = this.#entries.get(client);
    if (e === undefined || e.leases === 0) return;
    // The request never went out: it does not count towards max_request_per_conn.
    e.handed--;
    this.#endLease(e);
  }

  drain(): Promise<void> {
    if (this.#drainPromise !== undefined) return this.#drainPromise;
    this.#drainPromise = new Promise<void>((resolve) => (this.#drained = resolve));
    if (this.#state === State.Open) this.#state = State.Draining;
    for (const e of [...this.#entries.values()]) {
      if (e.leases === 0 && this.#pending === 0) e.client!.close('pool draining');
    }
    this.#checkDrained();
    return this.#drainPromise;
  }

  /**
   * One timer per pool, running only while it has connections: every quarter of idle_timeout it
   * closes those idle for the whole timeout, so a connection lives at most 1.25 × the timeout idle
   * and requests never touch a timer.
   */
  #armIdleSweep(): void {
    if (this.#idleTimeoutMs <= 0 || this.#idleSweep !== undefined) return;
    const every = Math.max(10, this.#idleTimeoutMs / 4);
    this.#idleSweep = setInterval(() => {
      const now = Date.now();
      for (const e of [...this.#entries.values()]) {
        if (e.leases === 0 && now - e.idleSince >= this.#idleTimeoutMs) e.client!.close(`idle for ${this.#idleTimeoutMs} ms (cluster idle_timeout)`);
      }
      if (this.#entries.size === 0 && this.#connecting === 0) {
        clearInterval(this.#idleSweep);
        this.#idleSweep = undefined;
      }
    }, every);
    this.#idleSweep.unref();
  }

  close(): void {
    clearInterval(this.#idleSweep);
    this.#idleSweep = undefined;
    this.#state = State.Closed;
    this.#failQueued(this.#unavailable());
    for (const e of [...this.#entries.values()]) e.client!.close('pool closed');
    this.#checkDrained();
  }

  stats(): ConnectionPoolStats {
    let idle = 0;
    for (const e of this.#entries.values()) if (e.leases === 0) idle++;
    return {
      host: this.host.address,
      connections: this.#entries.size,
      connecting: this.#connecting,
      idle,
      busy: this.#entries.size - idle,
      pending: this.#pending,
      totalConnects: this.#totalConnects,
      connectFailures: this.#connectFailures,
      totalRequests: this.#totalRequests,
      queueTimeouts: this.#queueTimeouts,
      overflows: this.#overflows,
    };
  }

  // ───────────── client events (through each Entry's events object) ─────────────

  /** A request on this connection finished; the client can take another. */
  onClientIdle(e: Entry): void {
    if (e.gone || e.leases === 0) return;
    this.#endLease(e);
  }

  onClientClose(e: Entry, reason: string): void {
    if (e.gone || e.client === undefined) return; // before connect completed, done() reports it
    e.gone = true;
    this.#entries.delete(e.client);
    if (e.inReady) {
      const i = this.#ready.indexOf(e);
      if (i !== -1) this.#ready.splice(i, 1);
      e.inReady = false;
    }
    const stats = this.host.stats;
    stats.activeConnections--;
    if (e.holdsSlot) this.#breaker.releaseConnection();
    // Requests in flight fail in the client (it carries them); here only their counts are returned.
    for (; e.leases > 0; e.leases--) {
      stats.activeRequests--;
      this.#breaker.releaseRequest();
    }
    if (enabled('debug')) log.debug(`connection to ${this.host.address} closed: ${reason}`);
    if (this.#pending > 0) this.#maybeConnect();
    this.#checkDrained();
  }

  // ───────────── internals ─────────────

  #usable(e: Entry): boolean {
    const c = e.client!;
    return (
      !e.gone &&
      !c.closed &&
      c.available &&
      e.leases < c.capacity &&
      (this.#maxPerConn === 0 || e.handed < this.#maxPerConn)
    );
  }

  #popReady(): Entry | undefined {
    const ready = this.#ready;
    while (ready.length > 0) {
      const e = ready.pop()!;
      e.inReady = false;
      if (this.#usable(e)) return e;
    }
    return undefined;
  }

  /** Hands a connection to a waiter whose request slot is already held. */
  #lease(e: Entry, waiter: PoolWaiter): void {
    e.leases++;
    e.handed++;
    this.#totalRequests++;
    this.host.stats.activeRequests++;
    this.host.stats.totalRequests++;
    // A multiplexing client with streams left stays on the ready stack for the next request.
    if (!e.inReady && this.#usable(e)) {
      e.inReady = true;
      this.#ready.push(e);
    }
    waiter.onPoolReady(e.client!);
  }

  #endLease(e: Entry): void {
    e.leases--;
    if (e.leases === 0 && this.#idleTimeoutMs > 0) e.idleSince = Date.now();
    this.host.stats.activeRequests--;
    this.#breaker.releaseRequest();
    this.#place(e);
  }

  /** Decides what a connection with room does next: recycle, serve the queue, or wait on the ready stack. */
  #place(e: Entry): void {
    if (e.gone) return;
    const c = e.client!;
    if (e.leases === 0 && this.#maxPerConn > 0 && e.handed >= this.#maxPerConn) {
      c.close('max_request_per_conn reached');
      return;
    }
    while (this.#pending > 0 && this.#usable(e)) {
      const p = this.#dequeue();
      this.#breaker.releasePending();
      this.#lease(e, p.waiter);
      if (e.gone) return;
    }
    if (this.#state !== State.Open && e.leases === 0 && this.#pending === 0) {
      c.close(this.#state === State.Draining ? 'pool draining' : 'pool closed');
      return;
    }
    if (!e.inReady && this.#usable(e)) {
      e.inReady = true;
      this.#ready.push(e);
    }
  }

  /** Dials while queued waiters outnumber what the dials in progress are expected to serve. */
  #maybeConnect(): void {
    while (this.#state !== State.Closed && this.#pending > this.#connecting * this.#lastCapacity) {
      let holdsSlot = true;
      if (this.#breaker.tryAcquireConnection() !== undefined) {
        // As Envoy does: a host with no connection at all may open one past the limit, or its
        // waiters would starve behind connections held by other hosts of the cluster.
        if (this.#entries.size + this.#connecting > 0) return;
        holdsSlot = false;
      }
      this.#dial(new Entry(this, holdsSlot));
    }
  }

  #dial(e: Entry): void {
    this.#connecting++;
    this.#factory.connect(this.host, e.events, (err, client) => {
      this.#connecting--;
      if (err !== undefined || client === undefined) {
        this.#onConnectFailed(e, err);
        return;
      }
      if (this.#state === State.Closed) {
        if (e.holdsSlot) this.#breaker.releaseConnection();
        e.gone = true;
        client.close('pool closed');
        this.#checkDrained();
        return;
      }
      e.client = client;
      this.#entries.set(client, e);
      this.#totalConnects++;
      this.#lastCapacity = Math.max(1, client.capacity);
      this.host.stats.activeConnections++;
      this.host.stats.totalConnections++;
      e.idleSince = Date.now();
      this.#armIdleSweep();
      this.#place(e);
    });
  }

  #onConnectFailed(e: Entry, err: RingsideError | undefined): void {
    e.gone = true;
    if (e.holdsSlot) this.#breaker.releaseConnection();
    this.#connectFailures++;
    this.host.stats.connectFailures++;
    const error =
      err ?? new RingsideError('CONNECT_FAILED', 'upstream', `connect to ${this.host.address} failed`, { retryable: true });
    // The dial was made for the oldest waiter; it learns first. If nothing else could serve the
    // rest (no connection, no other dial), they fail too rather than wait for a host that is down.
    if (this.#pending > 0) this.#failOne(this.#dequeue(), error);
    if (this.#entries.size === 0 && this.#connecting === 0) this.#failQueued(error);
    this.#checkDrained();
  }

  #dequeue(): Pending {
    const q = this.#queue;
    let p: Pending | undefined;
    while (p === undefined) p = q[this.#head++];
    q[this.#head - 1] = undefined;
    this.#pending--;
    this.#compactQueue();
    return p;
  }

  #compactQueue(): void {
    if (this.#pending === 0) {
      this.#queue = [];
      this.#head = 0;
      if (this.#queueTimer !== undefined) {
        clearTimeout(this.#queueTimer);
        this.#queueTimer = undefined;
      }
    } else if (this.#head > 64 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #failOne(p: Pending, err: RingsideError): void {
    this.#breaker.releasePending();
    this.#breaker.releaseRequest();
    p.waiter.onPoolFailure(err);
  }

  #failQueued(err: RingsideError): void {
    while (this.#pending > 0) this.#failOne(this.#dequeue(), err);
  }

  /** One timer for the whole queue: waiters share one timeout, so the head always expires first. */
  #armQueueTimer(): void {
    if (this.#queueTimer !== undefined || this.#pending === 0 || this.#queueTimeoutMs === 0) return;
    let head: Pending | undefined;
    for (let i = this.#head; head === undefined && i < this.#queue.length; i++) head = this.#queue[i];
    if (head === undefined) return;
    this.#queueTimer = setTimeout(() => this.#expire(), Math.max(0, head.deadline - Date.now()));
  }

  #expire(): void {
    this.#queueTimer = undefined;
    const now = Date.now();
    while (this.#pending > 0) {
      let head: Pending | undefined;
      while (head === undefined) head = this.#queue[this.#head] ?? (this.#head++, undefined);
      if (head.deadline > now) break;
      this.#queueTimeouts++;
      this.#failOne(this.#dequeue(), this.#timeoutError);
    }
    this.#armQueueTimer();
    this.#checkDrained();
  }

  #unavailable(): RingsideError {
    return new RingsideError('UNAVAILABLE', 'internal', `connection pool for ${this.host.address} is shutting down`, {
      retryable: true,
    });
  }

  #checkDrained(): void {
    if (this.#drained === undefined) return;
    if (this.#entries.size === 0 && this.#connecting === 0 && this.#pending === 0) {
      const done = this.#drained;
      this.#drained = undefined;
      done();
    }
  }
}
