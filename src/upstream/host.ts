/**
 * Hosts and host sets of a cluster. A host's health flag is written only by its cluster (on health
 * check verdicts); the host set then swaps in a new healthy array so load balancers can notice the
 * change by identity without being told.
 */
import type { Host, HostSet, HostStats } from '../types/upstream.js';
import type { HostConfig } from '../config/types.js';

export class UpstreamHost implements Host {
  readonly clusterName: string;
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly socketPath: string | undefined;
  readonly hostname: string;
  readonly weight: number;
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
    // The loader parsed the address (src/common/address.ts): host:port, or a dRPC socket path.
    const ep = cfg.endpoint;
    if (ep.kind === 'drpc') {
      this.host = '';
      this.port = 0;
      this.socketPath = ep.path;
    } else if (ep.kind === 'tcp') {
      this.host = ep.host;
      this.port = ep.port;
      this.socketPath = undefined;
    } else {
      throw new Error(`${path}.address: expected host:port or drpc:/path, got "${cfg.address}"`);
    }
    this.hostname = cfg.hostname ?? cfg.address;
    const weight = cfg.weight ?? 1;
    // MOSN's bounds: weights are small integers so weighted balancers stay cheap and fair.
    if (!Number.isInteger(weight) || weight < 1 || weight > 128) {
      throw new Error(`${path}.weight: must be an integer in 1..128, got ${weight}`);
    }
    this.weight = weight;
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
