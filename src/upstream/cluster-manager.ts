/**
 * The ClusterManager of one worker, built once from `cluster_manager.clusters`: per cluster its
 * hosts, load balancer, circuit breaker and health checker, and per host (and client factory) a
 * connection pool. Health checks start with start() and end with stop(), so a worker controls when
 * probes begin and tests can build a manager without timers.
 */
import type { Http2Settings } from '../types/http2.js';
import type { Registry } from '../common/registry.js';
import type { ClusterConfig, ClusterManagerConfig, HostConfig } from '../config/types.js';
import { logger } from '../common/log.js';
import type {
  CircuitBreaker,
  ClientFactory,
  Cluster,
  ConnectionPool,
  ConnectionPoolStats,
  Host,
  HostHealthListener,
  HostSet,
  LoadBalancer,
  LoadBalancerContext,
  LoadBalancerFactory,
} from '../types/upstream.js';
import { ClusterCircuitBreaker } from './circuit-breaker.js';
import { HealthChecker, type ProbeDialing } from './health-check.js';
import { MutableHostSet, UpstreamHost } from './host.js';
import { registerBuiltinClusterTypes, type ClusterTypeFactory, type HostSource } from './cluster-types.js';
import { Registry as RegistryClass } from '../common/registry.js';
import { HostConnectionPool } from './pool.js';
import { MultiplexConnectionPool } from './multiplex-pool.js';

const log = logger('upstream');

/** Used when the caller passes no cluster type registry (tests building a manager by hand). */
function defaultClusterTypes(): Registry<ClusterTypeFactory> {
  const r = new RegistryClass<ClusterTypeFactory>('cluster type');
  registerBuiltinClusterTypes(r);
  return r;
}

/** A cluster's `http2` block as engine settings (only the keys it sets). */
function http2Overrides(h: ClusterConfig['http2']): Partial<Http2Settings> | undefined {
  if (h === undefined) return undefined;
  return {
    ...(h.max_concurrent_streams !== undefined ? { maxConcurrentStreams: h.max_concurrent_streams } : {}),
    ...(h.initial_stream_window_size !== undefined ? { initialStreamWindowSize: h.initial_stream_window_size } : {}),
    ...(h.initial_connection_window_size !== undefined ? { initialConnectionWindowSize: h.initial_connection_window_size } : {}),
    ...(h.max_frame_size !== undefined ? { maxFrameSize: h.max_frame_size } : {}),
    ...(h.max_header_list_size !== undefined ? { maxHeaderListSize: h.max_header_list_size } : {}),
  };
}

class ClusterImpl implements Cluster {
  readonly name: string;
  readonly lbType: string;
  readonly connectTimeoutMs: number;
  readonly maxRequestsPerConnection: number;
  readonly idleTimeoutMs: number;
  readonly hostSet: HostSet;
  readonly hostSource: HostSource | null;
  readonly circuitBreaker: CircuitBreaker;
  readonly http2Settings: Partial<Http2Settings> | undefined;
  readonly healthChecker: HealthChecker | undefined;
  readonly #set: MutableHostSet;
  readonly #lb: LoadBalancer;
  /** Pools per host, per client factory (one factory per upstream protocol). */
  readonly pools = new Map<ClientFactory, Map<Host, ConnectionPool>>();

  constructor(
    cfg: ClusterConfig,
    path: string,
    lbs: Registry<LoadBalancerFactory>,
    types: Registry<ClusterTypeFactory>,
    random: () => number,
    onHealth: HostHealthListener,
    defaultMaxPending: number | undefined,
    probeDialing: () => ProbeDialing = () => ({}),
  ) {
    this.name = cfg.name;
    const type = types.get(cfg.type);
    if (type === undefined) throw new Error(`${path}.type: unknown cluster type "${cfg.type}" (known: ${types.names().join(', ')})`);
    this.hostSource = type.hostSource(cfg);
    this.idleTimeoutMs = nonNegative(cfg.idle_timeout, `${path}.idle_timeout`);
    this.#path = path;
    this.lbType = cfg.lb_type;
    const lbFactory = lbs.get(cfg.lb_type);
    if (lbFactory === undefined) {
      throw new Error(`${path}.lb_type: unknown load balancer "${cfg.lb_type}" (known: ${lbs.names().join(', ') || 'none'})`);
    }
    this.connectTimeoutMs = nonNegative(cfg.connect_timeout, `${path}.connect_timeout`);
    this.maxRequestsPerConnection = nonNegative(cfg.max_request_per_conn, `${path}.max_request_per_conn`);
    this.http2Settings = http2Overrides(cfg.http2);
    // A DNS cluster starts with no host: its names become hosts once they resolve.
    const hosts = this.hostSource !== null ? [] : cfg.hosts.map((h, i) => new UpstreamHost(cfg.name, h, `${path}.hosts[${i}]`));
    const seen = new Set<string>();
    cfg.hosts.forEach((h, i) => {
      if (seen.has(h.address)) throw new Error(`${path}.hosts[${i}].address: duplicate host "${h.address}"`);
      seen.add(h.address);
    });
    this.#set = new MutableHostSet(hosts);
    this.hostSet = this.#set;
    this.#lb = lbFactory.create(this.#set, { random });
    // ringside.limits.max_pending_requests bounds the queue of a cluster whose breaker sets none.
    const breakers = cfg.circuit_breakers;
    const pending = breakers?.max_pending_requests ?? defaultMaxPending;
    this.circuitBreaker = new ClusterCircuitBreaker(
      cfg.name,
      pending === undefined ? breakers : { ...breakers, max_pending_requests: pending },
      `${path}.circuit_breakers`,
    );
    this.healthChecker =
      cfg.health_check === undefined
        ? undefined
        : new HealthChecker(
            cfg.health_check,
            hosts,
            (host, healthy, reason) => {
              if (!(host as UpstreamHost).setHealthy(healthy)) return;
              this.#set.refresh();
              onHealth(host, healthy, reason);
            },
            `${path}.health_check`,
            random,
            probeDialing,
          );
  }

  readonly #path: string;

  /**
   * The host list changed (DNS): hosts whose address stays keep their object (stats, health, pools);
   * pools of hosts that left are drained.
   */
  setHosts(configs: readonly HostConfig[]): void {
    const byAddress = new Map(this.#set.hosts.map((h) => [h.address, h]));
    const next = configs.map((c, i) => byAddress.get(c.address) ?? new UpstreamHost(this.name, c, `${this.#path}.hosts[${i}]`));
    const kept = new Set(next);
    for (const byHost of this.pools.values()) {
      for (const [host, pool] of byHost) {
        if (kept.has(host as UpstreamHost)) continue;
        byHost.delete(host);
        void pool.drain();
      }
    }
    this.#set.replace(next);
    this.healthChecker?.setHosts(next);
  }

  chooseHost(ctx?: LoadBalancerContext): Host | undefined {
    const host = this.#lb.chooseHost(ctx);
    const avoid = ctx?.excludeHost;
    if (avoid === undefined || host !== avoid || this.#set.healthyHosts.length < 2) return host;
    // One more pick, then any other healthy host: a retry should not land where the try failed.
    const again = this.#lb.chooseHost(ctx);
    if (again !== avoid) return again;
    return this.#set.healthyHosts.find((h) => h !== avoid);
  }
}

/** Whether `cfg` differs from the config JSON `before` in its hosts alone. */
function sameButHosts(before: string | undefined, cfg: ClusterConfig): boolean {
  if (before === undefined) return false;
  const { hosts: _old, ...rest } = JSON.parse(before) as ClusterConfig;
  const { hosts: _new, ...now } = cfg;
  return JSON.stringify(rest) === JSON.stringify(now);
}

/** A staged cluster table (ClusterManager.prepare). */
export interface ClusterTablePlan {
  /** Clusters added, replaced or removed. */
  readonly changed: string[];
  start(): Promise<void>;
  swap(): void;
  abort(): void;
}

function retireCluster(c: ClusterImpl): void {
  c.hostSource?.stop();
  c.healthChecker?.stop();
  for (const byHost of c.pools.values()) for (const pool of byHost.values()) void pool.drain();
}

/** Starts a cluster's discovery and health checks; resolves after its first DNS answer. */
function startCluster(c: ClusterImpl): Promise<void> {
  const first = c.hostSource === null ? Promise.resolve() : c.hostSource.start((hosts) => c.setHosts(hosts));
  c.healthChecker?.start();
  return first;
}

function nonNegative(v: number | undefined, path: string): number {
  if (v === undefined) return 0;
  if (!Number.isFinite(v) || v < 0) throw new Error(`${path}: must be a non-negative number, got ${v}`);
  return v;
}

export interface ClusterManagerOptions {
  /** The worker's load balancer registry, filled by registerBuiltinLoadBalancers at the composition root. */
  readonly loadBalancers: Registry<LoadBalancerFactory>;
  /** Uniform [0, 1) source for the balancers; tests inject a fixed sequence. */
  readonly random?: () => number;
  /** Cluster types by name (registerBuiltinClusterTypes at the composition root); default: the built-in ones. */
  readonly clusterTypes?: Registry<ClusterTypeFactory>;
  /** Longest wait for a pooled connection, in ms, before TIMEOUT; default: none (route timeouts apply). */
  readonly poolQueueTimeoutMs?: number;
  /** Pending-request bound of clusters whose circuit breaker sets none (ringside.limits.max_pending_requests). */
  readonly defaultMaxPendingRequests?: number;
  /** JSON path prefix for error messages. */
  readonly path?: string;
}

export interface ClusterStats {
  readonly name: string;
  readonly hosts: readonly {
    address: string;
    healthy: boolean;
    activeRequests: number;
    activeConnections: number;
    totalRequests: number;
    connectFailures: number;
  }[];
  readonly circuitBreaker: ReturnType<CircuitBreaker['stats']>;
  readonly pools: readonly ConnectionPoolStats[];
}

export class ClusterManager {
  #clusters = new Map<string, ClusterImpl>();
  /** Each cluster's config as JSON, so a reload rebuilds only the clusters whose config changed. */
  #configs = new Map<string, string>();
  readonly #healthListeners: HostHealthListener[] = [];
  readonly #poolQueueTimeoutMs: number;
  readonly #build: (cfg: ClusterConfig, path: string) => ClusterImpl;
  readonly #base: string;
  #started = false;
  #probeDialing: ProbeDialing = {};

  /** Throws an Error naming the JSON path and the reason when a cluster cannot be built. */
  constructor(config: ClusterManagerConfig | undefined, opts: ClusterManagerOptions) {
    const random = opts.random ?? Math.random;
    this.#base = opts.path ?? 'cluster_manager.clusters';
    const types = opts.clusterTypes ?? defaultClusterTypes();
    this.#poolQueueTimeoutMs = opts.poolQueueTimeoutMs ?? 0;
    const onHealth: HostHealthListener = (host, healthy, reason) => {
      log.info(`host ${host.address} of cluster ${host.clusterName} is ${healthy ? 'healthy again' : 'ejected'}: ${reason}`);
      for (const l of this.#healthListeners) l(host, healthy, reason);
    };
    const probes = (): ProbeDialing => this.#probeDialing;
    this.#build = (cfg, path) => new ClusterImpl(cfg, path, opts.loadBalancers, types, random, onHealth, opts.defaultMaxPendingRequests, probes);
    (config?.clusters ?? []).forEach((cfg, i) => {
      const path = `${this.#base}[${i}]`;
      if (this.#clusters.has(cfg.name)) throw new Error(`${path}.name: duplicate cluster "${cfg.name}"`);
      this.#clusters.set(cfg.name, this.#build(cfg, path));
      this.#configs.set(cfg.name, JSON.stringify(cfg));
    });
  }

  /**
   * A new set of clusters, built (throwing, with nothing changed, when one cannot be) and returned as
   * a plan. Clusters whose config is unchanged keep their object — hosts, health, breaker counts and
   * pooled connections. start() begins the new clusters' discovery and health checks and waits for
   * their first DNS answer; swap() puts the whole table in force in one assignment (the next ChooseHost
   * sees it); replaced and removed clusters stop probing and their pools drain, so a request already
   * holding a pool finishes on it. abort() instead drops the new clusters.
   */
  prepare(config: ClusterManagerConfig | undefined): ClusterTablePlan {
    const next = new Map<string, ClusterImpl>();
    const configs = new Map<string, string>();
    const fresh: ClusterImpl[] = [];
    const rehost: [ClusterImpl, readonly HostConfig[]][] = [];
    const changed: string[] = [];
    (config?.clusters ?? []).forEach((cfg, i) => {
      const path = `${this.#base}[${i}]`;
      if (next.has(cfg.name)) throw new Error(`${path}.name: duplicate cluster "${cfg.name}"`);
      const json = JSON.stringify(cfg);
      const old = this.#clusters.get(cfg.name);
      let cluster = old;
      const before = this.#configs.get(cfg.name);
      if (old !== undefined && before !== json && old.hostSource === null && sameButHosts(before, cfg)) {
        // Only the host list changed (EDS): the cluster keeps its object; hosts are replaced at the swap.
        rehost.push([old, cfg.hosts]);
        changed.push(cfg.name);
      } else if (old === undefined || before !== json) {
        cluster = this.#build(cfg, path);
        fresh.push(cluster);
        changed.push(cfg.name);
      }
      next.set(cfg.name, cluster!);
      configs.set(cfg.name, json);
    });
    const retired = [...this.#clusters.values()].filter((c) => next.get(c.name) !== c);
    for (const c of retired) if (!next.has(c.name)) changed.push(c.name);
    return {
      changed,
      start: async () => {
        if (this.#started) await Promise.all(fresh.map((c) => startCluster(c)));
      },
      swap: () => {
        this.#clusters = next;
        this.#configs = configs;
        for (const [c, hosts] of rehost) c.setHosts(hosts);
        for (const c of retired) retireCluster(c);
      },
      abort: () => {
        for (const c of fresh) retireCluster(c);
      },
    };
  }

  /**
   * Replaces the hosts of cluster `name` (endpoint discovery: EDS). Hosts whose address stays keep
   * their object (stats, health, pools); pools of hosts that left drain. False when no such cluster.
   */
  setHosts(name: string, hosts: readonly HostConfig[]): boolean {
    const cluster = this.#clusters.get(name);
    if (cluster === undefined) return false;
    cluster.setHosts(hosts);
    return true;
  }

  getCluster(name: string): Cluster | undefined {
    return this.#clusters.get(name);
  }

  /** The cluster's connect_timeout (tcp_proxy dials through it). */
  connectTimeoutMs(name: string): number | undefined {
    return this.#clusters.get(name)?.connectTimeoutMs;
  }

  names(): string[] {
    return [...this.#clusters.keys()];
  }

  /**
   * Called in the ChooseHost phase (and by tcp_proxy per connection); undefined when the cluster is
   * unknown or has no healthy host — getCluster tells the two apart.
   */
  chooseHost(clusterName: string, ctx?: LoadBalancerContext): Host | undefined {
    return this.#clusters.get(clusterName)?.chooseHost(ctx);
  }

  /** The pool of `host` for `factory`'s protocol, made on first use. */
  connPool(host: Host, factory: ClientFactory): ConnectionPool {
    const cluster = this.#clusters.get(host.clusterName);
    if (cluster === undefined) throw new Error(`host ${host.address} belongs to no cluster of this manager`);
    let byHost = cluster.pools.get(factory);
    if (byHost === undefined) {
      byHost = new Map();
      cluster.pools.set(factory, byHost);
    }
    let pool = byHost.get(host);
    if (pool === undefined) {
      // Request-id protocols share a few connections per host; HTTP/1.1 needs one per request in flight.
      pool = factory.multiplexed === true
        ? new MultiplexConnectionPool(host, {
            factory,
            breaker: cluster.circuitBreaker,
            maxRequestsPerConnection: cluster.maxRequestsPerConnection,
            queueTimeoutMs: this.#poolQueueTimeoutMs,
            idleTimeoutMs: cluster.idleTimeoutMs,
          })
        : new HostConnectionPool(host, {
            factory,
            breaker: cluster.circuitBreaker,
            maxRequestsPerConnection: cluster.maxRequestsPerConnection,
            queueTimeoutMs: this.#poolQueueTimeoutMs,
            idleTimeoutMs: cluster.idleTimeoutMs,
          });
      byHost.set(host, pool);
    }
    return pool;
  }

  /** Observes ejections and restorations (stats, admin API); never changes the flow. */
  onHostHealthChange(listener: HostHealthListener): void {
    this.#healthListeners.push(listener);
  }

  /**
   * How health checks dial on this worker: its run loop and its clusters' TLS, the same the pools'
   * client factories get (set before start(); the main thread's validation build never probes).
   */
  setProbeDialing(dialing: ProbeDialing): void {
    this.#probeDialing = dialing;
  }

  /**
   * Starts host discovery (DNS clusters) and active health checks. Resolves once every DNS cluster
   * finished its first resolution, so a worker starts accepting with its hosts known.
   */
  async start(): Promise<void> {
    this.#started = true;
    await Promise.all([...this.#clusters.values()].map((c) => startCluster(c)));
  }

  /** Stops discovery and health checks (timers cleared, probes aborted). Pools are left to drain()/close(). */
  stop(): void {
    for (const c of this.#clusters.values()) {
      c.hostSource?.stop();
      c.healthChecker?.stop();
    }
  }

  /** Stops health checks and lets every pool finish its in-flight requests. */
  async drain(): Promise<void> {
    this.stop();
    await Promise.all(this.#allPools().map((p) => p.drain()));
  }

  /** Stops health checks and closes every pooled connection at once. */
  close(): void {
    this.stop();
    for (const p of this.#allPools()) p.close();
  }

  stats(): ClusterStats[] {
    return [...this.#clusters.values()].map((c) => ({
      name: c.name,
      hosts: c.hostSet.hosts.map((h) => ({
        address: h.address,
        healthy: h.healthy,
        activeRequests: h.stats.activeRequests,
        activeConnections: h.stats.activeConnections,
        totalRequests: h.stats.totalRequests,
        connectFailures: h.stats.connectFailures,
      })),
      circuitBreaker: c.circuitBreaker.stats(),
      pools: [...c.pools.values()].flatMap((m) => [...m.values()].map((p) => p.stats())),
    }));
  }

  #allPools(): ConnectionPool[] {
    return [...this.#clusters.values()].flatMap((c) => [...c.pools.values()].flatMap((m) => [...m.values()]));
  }
}
