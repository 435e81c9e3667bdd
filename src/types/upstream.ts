/**
 * Upstream — clusters, hosts, load balancers, health checks, circuit breakers and connection pools;
 * the bottom half of the PROXY layer.
 *
 * ▶ PROXY    phase machine, router, CLUSTERS, POOLS
 *   STREAM   stream ids, stream filters
 *   PROTOCOL codecs: bytes <-> headers/body/trailers
 *   NET/IO   listeners, connections, network filter chains
 *
 *   ChooseHost phase: ClusterManager.chooseHost(cluster, ctx) ─ LoadBalancer over healthy hosts ─▶ Host
 *   WaitNotify:       ClusterManager.connPool(host, factory).acquire(waiter) ─▶ UpstreamClient
 *                     (ClientFactory is the protocol's: HTTP/1.1 now, HTTP/2, bolt, dubbo later)
 *
 * Everything here is per worker: each worker builds its own ClusterManager from the same config, so
 * host stats, breakers and pools need no locks. The config these are built from is the schema's
 * output (src/config/types.ts: ClusterConfig, HostConfig, …); nothing here restates it.
 */
import type { Http2Settings } from './http2.js';
import type { RingsideError } from './errors.js';

// ───────────────────────────── hosts and load balancing ─────────────────────────────

/** Live counters of one host on this worker; pools and the proxy update them, LBs read them. */
export interface HostStats {
  activeRequests: number;
  activeConnections: number;
  totalRequests: number;
  totalConnections: number;
  connectFailures: number;
}

export interface Host {
  readonly clusterName: string;
  /** "host:port" as configured. */
  readonly address: string;
  /** Host part of the address, without IPv6 brackets (what net.connect wants); '' for a socket host. */
  readonly host: string;
  /** 0 for a socket host. */
  readonly port: number;
  /** A dRPC host (`drpc:/path.sock`): the SOCK_SEQPACKET socket the drpc upstream client dials. */
  readonly socketPath?: string | undefined;
  /** config `hostname`, else the address; for logs and Host headers of health checks. */
  readonly hostname: string;
  readonly weight: number;
  /** False while active health checking has ejected the host. */
  readonly healthy: boolean;
  readonly stats: HostStats;
}

/** The hosts a load balancer picks from, kept current as health checks eject and restore hosts. */
export interface HostSet {
  readonly hosts: readonly Host[];
  /** A new array whenever health changes, so an LB can cache state per array identity. */
  readonly healthyHosts: readonly Host[];
}

/** What the proxy knows about a request when it picks a host. */
export interface LoadBalancerContext {
  /** Key for consistent-hash balancers (LB_MAGLEV, LB_RING_HASH), from the route's hash_policy. */
  readonly hashKey?: string | undefined;
  /** Request header lookup by lower-case name, for balancers that route on headers. */
  header?(name: string): string | undefined;
  /** A host to avoid if another healthy one exists: the one a failed try used. */
  readonly excludeHost?: Host | undefined;
}

/** One per cluster per worker. chooseHost does no I/O and never throws. */
export interface LoadBalancer {
  /** Called in the ChooseHost phase; undefined when the cluster has no healthy host. */
  chooseHost(ctx: LoadBalancerContext | undefined): Host | undefined;
}

/** Registered by MOSN lb_type name; called once per cluster when the ClusterManager is built. */
export interface LoadBalancerFactory {
  create(hostSet: HostSet, opts: { readonly random: () => number }): LoadBalancer;
}

// ───────────────────────────── circuit breakers ─────────────────────────────

export type CircuitBreakerResource = 'max_connections' | 'max_pending_requests' | 'max_requests' | 'max_retries';

export interface CircuitBreakerStats {
  readonly connections: number;
  readonly pendingRequests: number;
  readonly requests: number;
  readonly retries: number;
  /** Times each resource refused an acquire. */
  readonly overflows: Readonly<Record<CircuitBreakerResource, number>>;
}

/**
 * Per cluster per worker. Each tryAcquire answers undefined when granted (and the caller then owes
 * exactly one matching release) or an OVERFLOW RingsideError whose message names the limit.
 */
export interface CircuitBreaker {
  tryAcquireConnection(): RingsideError | undefined;
  releaseConnection(): void;
  tryAcquirePending(): RingsideError | undefined;
  releasePending(): void;
  tryAcquireRequest(): RingsideError | undefined;
  releaseRequest(): void;
  tryAcquireRetry(): RingsideError | undefined;
  releaseRetry(): void;
  stats(): CircuitBreakerStats;
}

// ───────────────────────────── connection pools ─────────────────────────────

/** What a client tells its pool; the pool passes one such object to each connection it makes. */
export interface UpstreamClientEvents {
  /** Called when a request the client carried has finished and the client can carry another. */
  onIdle(): void;
  /**
   * Called once when the connection is gone (peer close, reset, error, or close()). Requests still
   * in flight on it are the client's to fail; the pool only forgets the connection.
   */
  onClose(reason: string): void;
}

/** One connection to a host that carries requests, whatever the protocol. */
export interface UpstreamClient {
  /**
   * True when it can take one more request now. HTTP/1.1: no request in flight and no
   * `Connection: close` seen; HTTP/2: streams left and no GOAWAY.
   */
  readonly available: boolean;
  /** Most requests it carries at once: 1 for HTTP/1.1, the peer's stream limit for HTTP/2. */
  readonly capacity: number;
  readonly closed: boolean;
  /** Closes the connection (in-flight requests fail); onClose follows. */
  close(reason: string): void;
}

export type ConnectCallback = (err: RingsideError | undefined, client: UpstreamClient | undefined) => void;

/**
 * The protocol's way to make clients; the proxy layer provides one per upstream protocol per worker.
 * Callback style so a connect costs no promise.
 */
export interface ClientFactory {
  /** Clients carry many requests at once by request id: pools of this factory are multiplexed pools. */
  readonly multiplexed?: boolean;
  /**
   * Called by a pool when it needs one more connection. Calls done exactly once, with a client
   * ready for requests, or with a CONNECT_FAILED error (retryable).
   */
  connect(host: Host, events: UpstreamClientEvents, done: ConnectCallback): void;
}

/** Whoever waits for a connection: the proxy's upstream request implements it. */
export interface PoolWaiter {
  /** Called once with a client reserved for this request; send on it, or give it back with release(). */
  onPoolReady(client: UpstreamClient): void;
  /** Called once when no client will come: OVERFLOW, TIMEOUT (queue wait), CONNECT_FAILED, UNAVAILABLE. */
  onPoolFailure(err: RingsideError): void;
}

export interface ConnectionPoolStats {
  readonly host: string;
  /** Connected clients (idle + busy). */
  readonly connections: number;
  readonly connecting: number;
  readonly idle: number;
  readonly busy: number;
  readonly pending: number;
  readonly totalConnects: number;
  readonly connectFailures: number;
  readonly totalRequests: number;
  readonly queueTimeouts: number;
  readonly overflows: number;
}

/** Connections to one host for one protocol on one worker. */
export interface ConnectionPool {
  readonly host: Host;
  /**
   * Called in the WaitNotify phase. Exactly one of the waiter's callbacks runs, possibly before
   * acquire returns (an idle client at hand, or an immediate overflow), unless cancel() is called first.
   */
  acquire(waiter: PoolWaiter): void;
  /** Withdraws a waiter that is still queued (downstream gone, route timeout); false when not queued. */
  cancel(waiter: PoolWaiter): boolean;
  /** Gives back a client handed out by acquire whose request was never sent. */
  release(client: UpstreamClient): void;
  /** Stops taking requests, closes idle clients now and busy ones when they finish; resolves when none is left. */
  drain(): Promise<void>;
  /** Closes every client at once and fails every waiter with UNAVAILABLE. */
  close(): void;
  stats(): ConnectionPoolStats;
}

// ───────────────────────────── clusters ─────────────────────────────

export interface Cluster {
  readonly name: string;
  readonly lbType: string;
  readonly connectTimeoutMs: number;
  /** 0: unlimited. */
  readonly maxRequestsPerConnection: number;
  readonly hostSet: HostSet;
  readonly circuitBreaker: CircuitBreaker;
  /** The cluster's `http2` overrides of ringside.http2 for connections to its hosts (Http2 upstreams). */
  readonly http2Settings?: Partial<Http2Settings> | undefined;
  /** Called in the ChooseHost phase; honours ctx.excludeHost when another healthy host exists. */
  chooseHost(ctx?: LoadBalancerContext): Host | undefined;
}

export type HostHealthListener = (host: Host, healthy: boolean, reason: string) => void;
