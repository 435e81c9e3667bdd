/**
 * Cluster types by MOSN name. A type decides where a cluster's hosts come from: SIMPLE and STATIC
 * take `hosts[]` as written.
 */
import type { Registry } from '../common/registry.js';
import type { ClusterConfig } from '../types/config.js';

/** Where one cluster's hosts come from. */
export interface HostSource {
  /** Starts discovery; `update` receives the full host list whenever it changes. */
  start(update: (hosts: readonly ClusterConfig['hosts'][number][]) => void): void;
  stop(): void;
}

export interface ClusterTypeFactory {
  /** null: the configured hosts are the hosts, for good. */
  hostSource(cfg: ClusterConfig): HostSource | null;
}

const staticHosts: ClusterTypeFactory = { hostSource: () => null };

export function registerBuiltinClusterTypes(registry: Registry<ClusterTypeFactory>): void {
  registry.register('SIMPLE', staticHosts);
  registry.register('STATIC', staticHosts);
}
