/**
 * Cluster types by MOSN / Envoy name. A type decides where a cluster's hosts come from:
 *
 *   SIMPLE, STATIC  `hosts[]` as written (a host name is resolved by each connect).
 *   STRICT_DNS      every `hosts[]` name is resolved now and every `dns_refresh_rate`; each address
 *                   it resolves to is a host of its own (same weight and metadata), so a name with
 *                   three A records balances over three hosts, and hosts that leave DNS leave the set.
 *   LOGICAL_DNS     the same schedule, but only the first address of each name is used: one host per
 *                   configured entry, whose address follows DNS (for large, changing name sets).
 *
 * Resolution uses the system resolver (getaddrinfo, so /etc/hosts applies). A failed lookup keeps
 * that name's last known addresses, as Envoy does; until the first one succeeds the name has none.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { Registry } from '../common/registry.js';
import { logger } from '../common/log.js';
import { formatHostPort, splitHostPort } from '../common/address.js';
import type { ClusterConfig, HostConfig } from '../config/types.js';

const log = logger('upstream.dns');

/** Where one cluster's hosts come from. */
export interface HostSource {
  /** Starts discovery; `update` receives the full host list whenever it changes. Resolves after the first round. */
  start(update: (hosts: readonly HostConfig[]) => void): Promise<void>;
  stop(): void;
}

export interface ClusterTypeFactory {
  /** null: the configured hosts are the hosts, for good. */
  hostSource(cfg: ClusterConfig): HostSource | null;
}

export type Lookup = (name: string, family: 0 | 4 | 6) => Promise<readonly string[]>;

export const systemLookup: Lookup = (name, family) =>
  new Promise((resolve, reject) => {
    dnsLookup(name, { all: true, family, verbatim: true }, (err, addresses: LookupAddress[]) => {
      if (err !== null) reject(err);
      else resolve(addresses.map((a) => a.address));
    });
  });

const FAMILY: Record<string, 0 | 4 | 6> = { AUTO: 0, V4_ONLY: 4, V6_ONLY: 6 };

class DnsHostSource implements HostSource {
  readonly #cfg: ClusterConfig;
  readonly #firstOnly: boolean;
  readonly #lookup: Lookup;
  /** Last known addresses per configured entry. */
  readonly #known: (readonly string[])[];
  #timer: NodeJS.Timeout | undefined;
  #last = '';
  #stopped = false;

  constructor(cfg: ClusterConfig, firstOnly: boolean, lookup: Lookup) {
    this.#cfg = cfg;
    this.#firstOnly = firstOnly;
    this.#lookup = lookup;
    this.#known = cfg.hosts.map(() => []);
  }

  async start(update: (hosts: readonly HostConfig[]) => void): Promise<void> {
    this.#stopped = false;
    await this.#round(update);
    if (this.#stopped) return;
    const every = this.#cfg.dns_refresh_rate ?? 5000;
    this.#timer = setInterval(() => void this.#round(update), Math.max(1, every));
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #round(update: (hosts: readonly HostConfig[]) => void): Promise<void> {
    const family = FAMILY[this.#cfg.dns_lookup_family ?? 'AUTO'] ?? 0;
    await Promise.all(
      this.#cfg.hosts.map(async (h, i) => {
        const host = splitHostPort(h.address)?.host ?? h.address;
        try {
          const ips = await this.#lookup(host, family);
          this.#known[i] = this.#firstOnly ? ips.slice(0, 1) : [...new Set(ips)];
        } catch (err) {
          log.warn(`cluster ${this.#cfg.name}: cannot resolve "${host}" (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); keeping ${this.#known[i]!.length} known address(es)`);
        }
      }),
    );
    if (this.#stopped) return;
    const hosts: HostConfig[] = [];
    const seen = new Set<string>();
    this.#cfg.hosts.forEach((h, i) => {
      const { host, port } = splitHostPort(h.address) ?? { host: h.address, port: 0 };
      for (const ip of this.#known[i]!) {
        const address = formatHostPort(ip, port);
        if (seen.has(address)) continue;
        seen.add(address);
        hosts.push({ ...h, address, hostname: h.hostname ?? host, endpoint: { kind: 'tcp', host: ip, port } });
      }
    });
    const key = hosts.map((h) => h.address).join(',');
    if (key === this.#last) return;
    this.#last = key;
    log.info(`cluster ${this.#cfg.name}: ${hosts.length} host(s) from DNS: ${key || 'none'}`);
    update(hosts);
  }
}

const staticHosts: ClusterTypeFactory = { hostSource: () => null };

/** `lookup` is the system resolver unless a test passes its own. */
export function registerBuiltinClusterTypes(registry: Registry<ClusterTypeFactory>, lookup: Lookup = systemLookup): void {
  registry.register('SIMPLE', staticHosts);
  registry.register('STATIC', staticHosts);
  registry.register('STRICT_DNS', { hostSource: (cfg) => new DnsHostSource(cfg, false, lookup) });
  registry.register('LOGICAL_DNS', { hostSource: (cfg) => new DnsHostSource(cfg, true, lookup) });
}
