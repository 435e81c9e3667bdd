/**
 * The routing half of a worker's data plane — routers and the cluster manager — built from the
 * validated config. One function, used twice: src/assembly.ts builds it on every worker, and the
 * main thread's loader builds it once without starting it (ConfigCatalog.dryBuild), so whatever the
 * builders refuse is a config error at its JSON path before any worker starts.
 */
import type { ConfigIssue } from './types/extension.js';
import type { Registry } from './common/registry.js';
import type { LoadBalancerFactory } from './types/upstream.js';
import type { RingsideConfig } from './config/types.js';
import { Routers } from './router/router.js';
import { ClusterManager } from './upstream/cluster-manager.js';
import type { ClusterTypeFactory } from './upstream/cluster-types.js';

export interface RoutingExtensions {
  readonly loadBalancers: Registry<LoadBalancerFactory>;
  readonly clusterTypes: Registry<ClusterTypeFactory>;
}

export interface Routing {
  readonly routers: Routers;
  readonly clusterManager: ClusterManager;
}

function buildClusterManager(config: RingsideConfig, ext: RoutingExtensions): ClusterManager {
  return new ClusterManager(config.cluster_manager, {
    loadBalancers: ext.loadBalancers,
    clusterTypes: ext.clusterTypes,
    path: 'cluster_manager.clusters',
    defaultMaxPendingRequests: config.ringside.limits.max_pending_requests,
  });
}

export function buildRouting(config: RingsideConfig, ext: RoutingExtensions): Routing {
  // Router names are unique across servers (the loader checks), so one table serves every listener.
  return { routers: new Routers(config.servers.flatMap((s) => s.routers)), clusterManager: buildClusterManager(config, ext) };
}

/** A builder's error reads `json.path: reason`; anything else is reported at the root. */
function issueOf(err: unknown): ConfigIssue {
  const message = err instanceof Error ? err.message : String(err);
  const m = /^([A-Za-z_][\w.[\]]*): ([\s\S]+)$/.exec(message);
  return m === null ? { path: '', message } : { path: m[1]!, message: m[2]! };
}

/** What the workers' builders refuse in `config`, each at its path (routers per server, so paths are exact). */
export function routingIssues(config: RingsideConfig, ext: RoutingExtensions): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  config.servers.forEach((server, s) => {
    try {
      new Routers(server.routers, { path: `servers[${s}].routers` });
    } catch (err) {
      issues.push(issueOf(err));
    }
  });
  try {
    // Built, never started: no DNS lookups, health checks or sockets.
    buildClusterManager(config, ext).close();
  } catch (err) {
    issues.push(issueOf(err));
  }
  return issues;
}
