/**
 * Hosts and host sets of a cluster. A host's health flag is written only by its cluster (on health
 * check verdicts); the host set then swaps in a new healthy array so load balancers can notice the
 * change by identity without being told.
 */
import type { Host, HostConfig, HostSet, HostStats } from '../types/upstream.js';

export interface HostAddress {
  readonly host: string;
  readonly port: number;
}

/** Parses "host:port" and "[v6]:port"; throws a message without the JSON path (callers add it). */
export function parseAddress(address: string): HostAddress {
  let host: string;
  let portText: string;
  if (address.startsWith('[')) {
    const close = address.indexOf(']');
    if (close === -1 || address.charCodeAt(close + 1) !== 58 /* : */) throw new Error(`"${address}" is not [ipv6]:port`);
    host = address.slice(1, close);
    portText = address.slice(close + 2);
  } else {
    const colon = address.lastIndexOf(':');
    if (colon <= 0 || address.indexOf(':') !== colon) throw new Error(`"${address}" is not host:port`);
    host = address.slice(0, colon);
    portText = address.slice(colon + 1);
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw new Error(`"${address}" has no valid port`);
  return { host, port };
}

export class UpstreamHost implements Host {
  readonly clusterName: string;
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly hostname: string;
  readonly weight: number;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly stats: HostStats = {
    activeRequests: 0,
    activeConnections: 0,
    totalRequests: 0,
    totalConnections: 0,
    connectFailures: 0,
  };
  #healthy = true;

  constructor(clusterName: string, cfg: HostConfig, path: string) {
    this.clusterName = clusterName;
    this.address = cfg.address;
    let parsed: HostAddress;
    try {
      parsed = parseAddress(cfg.address);
    } catch (err) {
      throw new Error(`${path}.address: ${(err as Error).message}`);
    }
    this.host = parsed.host;
    this.port = parsed.port;
    this.hostname = cfg.hostname ?? cfg.address;
    const weight = cfg.weight ?? 1;
    // MOSN's bounds: weights are small integers so weighted balancers stay cheap and fair.
    if (!Number.isInteger(weight) || weight < 1 || weight > 128) {
      throw new Error(`${path}.weight: must be an integer in 1..128, got ${weight}`);
    }
    this.weight = weight;
    this.metadata = cfg.metadata ?? {};
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  /** Only the owning cluster calls this; answers whether the flag changed. */
  setHealthy(healthy: boolean): boolean {
    if (this.#healthy === healthy) return false;
    this.#healthy = healthy;
    return true;
  }
}

export class MutableHostSet implements HostSet {
  hosts: readonly UpstreamHost[];
  #healthy: readonly Host[];

  constructor(hosts: readonly UpstreamHost[]) {
    this.hosts = hosts;
    this.#healthy = hosts.filter((h) => h.healthy);
  }

  get healthyHosts(): readonly Host[] {
    return this.#healthy;
  }

  /** A new host list (DNS): balancers see a new healthy array and rebuild what they keep. */
  replace(hosts: readonly UpstreamHost[]): void {
    this.hosts = hosts;
    this.refresh();
  }

  /** Called after a host's health flag changed; builds a fresh array (rare: health transitions). */
  refresh(): void {
    this.#healthy = this.hosts.filter((h) => h.healthy);
  }
}
