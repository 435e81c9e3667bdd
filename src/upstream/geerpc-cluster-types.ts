/**
 * Cluster types whose hosts are geerpc servers, found the way geerpc's XClient finds them:
 *
 *   GEERPC_REGISTRY  `geerpc_registry.url`: a GeeRegistry, read every `refresh_interval` (10 s, the
 *                    XClient's default). Its answer lists only servers whose heartbeat is fresh
 *                    (within the registry's timeout, 5 min by default), so a server that stops
 *                    heartbeating leaves the cluster at the first read after the registry expires it.
 *   GEERPC_ETCD      `geerpc_etcd.endpoints` and `prefix`: the prefix is listed, then watched. A
 *                    server's key lives under its lease; when its keepalives stop, etcd deletes the
 *                    key within the TTL and the watch takes the host out.
 *
 * Either way a failed read (registry unreachable, etcd down) keeps the last known hosts; the outage
 * is logged once when it starts and once when it ends, and counted
 * (upstream.geerpc_discovery.outages). A worker starts serving after the first answer, or after
 * `first_fetch_timeout` without one (hosts then arrive with the first answer).
 *
 * Entries are geerpc addresses: `tcp@host:port` (and a bare host:port) become hosts; `http@` and
 * `unix@` servers cannot be reached by the proxy's geerpc client (it dials TCP and sends the Option
 * at once), so they are left out and logged.
 */
import type { Registry } from '../common/registry.js';
import { counter } from '../common/counters.js';
import { logger } from '../common/log.js';
import type { ClusterConfig, HostConfig } from '../config/types.js';
import { GeeRegistryDiscovery } from '../geerpc/discovery.js';
import type { EtcdDiscovery } from '../geerpc/etcd.js';
import type { ClusterTypeFactory, HostSource } from './cluster-types.js';

const log = logger('upstream.geerpc');
const outages = counter('upstream.geerpc_discovery.outages');

export const GEERPC_REGISTRY = 'GEERPC_REGISTRY';
export const GEERPC_ETCD = 'GEERPC_ETCD';

/** A geerpc server address as a host of the cluster; a string says why it cannot be one. */
export function hostOfServer(server: string): HostConfig | string {
  const at = server.indexOf('@');
  const protocol = at < 0 ? 'tcp' : server.slice(0, at);
  const rest = at < 0 ? server : server.slice(at + 1);
  if (protocol !== 'tcp') return `${protocol}@ servers are not reached by the proxy (tcp@ only)`;
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(rest);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port < 1 || port > 65535) return 'not host:port';
  const host = m[1] ?? m[2]!;
  return { address: m[1] !== undefined ? `[${host}]:${port}` : `${host}:${port}`, weight: 1, endpoint: { kind: 'tcp', host, port } } as HostConfig;
}

/** Shared by both sources: the server list → hosts, published when it changes; outages tracked. */
abstract class GeerpcHostSource implements HostSource {
  protected readonly cfg: ClusterConfig;
  #update: ((hosts: readonly HostConfig[]) => void) | undefined;
  #last: string | undefined;
  #down = false;
  #firstAnswer: (() => void) | undefined;
  protected stopped = false;

  constructor(cfg: ClusterConfig) {
    this.cfg = cfg;
  }

  protected abstract what(): string;
  protected abstract begin(): void;
  protected abstract end(): void;

  start(update: (hosts: readonly HostConfig[]) => void): Promise<void> {
    this.stopped = false;
    this.#update = update;
    const waitMs = this.firstFetchTimeoutMs();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        log.warn(`cluster ${this.cfg.name}: no answer from ${this.what()} within ${waitMs} ms; serving without hosts until one arrives`);
        resolve();
      }, waitMs);
      timer.unref();
      this.#firstAnswer = () => {
        clearTimeout(timer);
        resolve();
      };
      this.begin();
    });
  }

  stop(): void {
    this.stopped = true;
    this.#firstAnswer?.();
    this.#firstAnswer = undefined;
    this.end();
  }

  protected firstFetchTimeoutMs(): number {
    return this.cfg.geerpc_discovery!.first_fetch_timeout;
  }

  /** A full list of servers from the source. */
  protected servers(list: readonly string[]): void {
    if (this.stopped) return;
    if (this.#down) {
      this.#down = false;
      log.info(`cluster ${this.cfg.name}: ${this.what()} answers again`);
    }
    const hosts: HostConfig[] = [];
    const skipped: string[] = [];
    const seen = new Set<string>();
    for (const s of list) {
      const h = hostOfServer(s);
      if (typeof h === 'string') skipped.push(`${s} (${h})`);
      else if (!seen.has(h.address)) {
        seen.add(h.address);
        hosts.push(h);
      }
    }
    const key = hosts.map((h) => h.address).join(',');
    const first = this.#firstAnswer;
    this.#firstAnswer = undefined;
    if (key !== this.#last) {
      this.#last = key;
      if (skipped.length > 0) log.warn(`cluster ${this.cfg.name}: left out ${skipped.join(', ')}`);
      log.info(`cluster ${this.cfg.name}: ${hosts.length} host(s) from ${this.what()}: ${key || 'none'}`);
      this.#update?.(hosts);
    }
    first?.();
  }

  /** The source did not answer: the hosts stay as they are. */
  protected outage(reason: string): void {
    if (this.stopped || this.#down) return;
    this.#down = true;
    outages.inc();
    log.warn(`cluster ${this.cfg.name}: ${this.what()} unreachable (${reason}); keeping the last known hosts (${this.#last === undefined ? 'none yet' : this.#last || 'none'})`);
  }
}

class RegistryHostSource extends GeerpcHostSource {
  #timer: NodeJS.Timeout | undefined;
  #discovery: GeeRegistryDiscovery | undefined;

  protected what(): string {
    return `the registry ${this.cfg.geerpc_discovery!.registry_url}`;
  }

  protected begin(): void {
    const d = this.cfg.geerpc_discovery!;
    // refreshMs 0: every read goes to the registry; the timer paces them.
    this.#discovery = new GeeRegistryDiscovery(d.registry_url!, 0);
    void this.#read();
    this.#timer = setInterval(() => void this.#read(), Math.max(1, d.refresh_interval));
    this.#timer.unref();
  }

  protected end(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #read(): Promise<void> {
    const d = this.#discovery!;
    try {
      await d.refresh();
    } catch (err) {
      this.outage((err as Error).message);
      return;
    }
    this.servers(await d.getAll().catch(() => []));
  }
}

class EtcdHostSource extends GeerpcHostSource {
  #discovery: EtcdDiscovery | undefined;
  #retry: NodeJS.Timeout | undefined;

  protected what(): string {
    const d = this.cfg.geerpc_discovery!;
    return `etcd ${d.etcd_endpoints.join(',')} prefix ${d.etcd_prefix}`;
  }

  protected begin(): void {
    void this.#open();
  }

  protected end(): void {
    clearTimeout(this.#retry);
    const d = this.#discovery;
    this.#discovery = undefined;
    void d?.close();
  }

  async #open(): Promise<void> {
    const d = this.cfg.geerpc_discovery!;
    // etcd3 (and grpc-js under it) load only in workers whose config has an etcd cluster.
    const { EtcdDiscovery } = await import('../geerpc/etcd.js');
    if (this.stopped) return;
    const discovery = new EtcdDiscovery({
      hosts: d.etcd_endpoints,
      prefix: d.etcd_prefix,
      dialTimeoutMs: d.first_fetch_timeout,
      onChange: (servers) => this.servers(servers),
      onOutage: (reason) => this.outage(reason),
    });
    this.#discovery = discovery;
    this.#list(discovery);
  }

  #list(discovery: EtcdDiscovery): void {
    discovery.getAll().then(
      (servers) => this.servers(servers),
      (err: unknown) => {
        if (this.stopped || this.#discovery !== discovery) return;
        this.outage((err as Error).message);
        // etcd was not reached for the first listing: try again (the watch starts with it).
        this.#retry = setTimeout(() => this.#list(discovery), Math.max(100, this.cfg.geerpc_discovery!.refresh_interval));
        this.#retry.unref();
      },
    );
  }
}

export function registerGeerpcClusterTypes(registry: Registry<ClusterTypeFactory>): void {
  registry.register(GEERPC_REGISTRY, { hostSource: (cfg) => new RegistryHostSource(cfg) });
  registry.register(GEERPC_ETCD, { hostSource: (cfg) => new EtcdHostSource(cfg) });
}
