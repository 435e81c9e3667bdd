/**
 * The config rules dRPC adds, checked by the loader with the rest of the whole-config checks
 * (src/config/semantic.ts), so a config that would misuse a dRPC socket fails start-up with its JSON
 * path instead of failing calls later:
 *
 *   - a drpc:/path listener has no TLS and runs exactly one filter: `drpc` (the runtime API) or `proxy` with
 *     downstream_protocol drpc and upstream_protocol drpc (or none);
 *   - downstream_protocol drpc only on a drpc:/path listener; listener `socket_mode` only on a
 *     drpc:/path listener with the proxy filter (the drpc filter has its own socket_mode);
 *   - a cluster's hosts are all drpc:/path sockets or all host:port, and a dRPC cluster has no
 *     health_check (the checkers dial TCP);
 *   - a route's clusters match the protocol it sends: dRPC clusters for upstream drpc, TCP clusters
 *     for every other protocol.
 */
import type { ConfigIssue } from '../../types/extension.js';
import type { RingsideConfig } from '../../config/types.js';
import { proxyProtocols, type ProxyFilterConfig } from '../../config/filters.js';
import { DRPC_PROTOCOL } from './frames.js';

interface ProxyUse {
  router: string;
  upstream: string;
  path: string;
}

function proxyConfigOf(raw: unknown): ProxyFilterConfig | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const c = raw as Partial<ProxyFilterConfig>;
  if (typeof c.router_config_name !== 'string') return undefined;
  return {
    router_config_name: c.router_config_name,
    downstream_protocol: typeof c.downstream_protocol === 'string' ? c.downstream_protocol : 'Auto',
    ...(typeof c.upstream_protocol === 'string' ? { upstream_protocol: c.upstream_protocol } : {}),
    ...(c.extend_config !== undefined ? { extend_config: c.extend_config } : {}),
  };
}

export function checkDrpcConfig(config: RingsideConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const uses: ProxyUse[] = [];
  config.servers.forEach((server, s) =>
    server.listeners.forEach((l, i) => {
      const path = `servers[${s}].listeners[${i}]`;
      const isDrpc = l.endpoint.kind === 'drpc' && l.bind_port;
      const filters = l.filter_chains[0]?.filters ?? [];
      const types = filters.map((f) => f.type);
      if (isDrpc && (filters.length !== 1 || (types[0] !== 'drpc' && types[0] !== 'proxy'))) {
        issues.push({ path: `${path}.filter_chains[0].filters`, message: `a drpc: listener takes exactly one filter, "drpc" (the runtime API) or "proxy" (got ${types.join(', ') || 'none'})` });
      }
      if (isDrpc) {
        l.filter_chains.forEach((c, ci) => {
          if (c.tls_context !== undefined || (c.tls_context_set ?? []).length > 0) {
            issues.push({ path: `${path}.filter_chains[${ci}].${c.tls_context !== undefined ? 'tls_context' : 'tls_context_set'}`, message: 'TLS does not apply to a drpc: listener (a local SOCK_SEQPACKET socket; its file mode decides who may connect)' });
          }
        });
      }
      if (l.socket_mode !== undefined && !(isDrpc && types[0] === 'proxy')) {
        issues.push({
          path: `${path}.socket_mode`,
          message: isDrpc ? 'a drpc: listener with the drpc filter takes its socket_mode in the filter config' : 'socket_mode applies to drpc:/path listeners only',
        });
      }
      l.filter_chains.forEach((chain, ci) =>
        chain.filters.forEach((f, j) => {
          if (f.type !== 'proxy') return;
          const p = proxyConfigOf(f.config);
          if (p === undefined) return; // the proxy filter's own spec reports it
          const at = `${path}.filter_chains[${ci}].filters[${j}].config`;
          const { downstream, upstream } = proxyProtocols(p);
          if (isDrpc && downstream !== DRPC_PROTOCOL) {
            issues.push({ path: `${at}.downstream_protocol`, message: `a drpc: listener serves dRPC sessions: downstream_protocol must be "drpc" (got "${downstream}")` });
          } else if (!isDrpc && downstream === DRPC_PROTOCOL) {
            issues.push({ path: `${at}.downstream_protocol`, message: 'downstream_protocol drpc is served on a drpc:/path listener (SOCK_SEQPACKET), not on a byte-stream one' });
          }
          if ((downstream === DRPC_PROTOCOL) !== (upstream === DRPC_PROTOCOL) && upstream !== 'Auto') {
            issues.push({ path: `${at}.upstream_protocol`, message: `"${downstream}" requests cannot be sent upstream as "${upstream}" (no transcoding to or from dRPC)` });
          }
          uses.push({ router: p.router_config_name, upstream, path: at });
        }),
      );
    }),
  );

  const drpcClusters = new Map<string, boolean>();
  config.cluster_manager.clusters.forEach((c, i) => {
    const path = `cluster_manager.clusters[${i}]`;
    const kinds = c.hosts.map((h) => h.endpoint.kind === 'drpc');
    const isDrpc = kinds.some((k) => k);
    drpcClusters.set(c.name, isDrpc);
    if (!isDrpc) return;
    kinds.forEach((k, j) => {
      if (!k) issues.push({ path: `${path}.hosts[${j}].address`, message: `cluster "${c.name}" has dRPC hosts (drpc:/path); every host must be one` });
    });
    if (c.health_check !== undefined) issues.push({ path: `${path}.health_check`, message: 'health checks dial TCP; a cluster of dRPC hosts (drpc:/path) cannot have one' });
  });

  config.servers.forEach((server, s) =>
    server.routers.forEach((r, ri) => {
      const users = uses.filter((u) => u.router === r.router_config_name);
      if (users.length === 0) return;
      r.virtual_hosts.forEach((vh, vi) =>
        vh.routers.forEach((route, i) => {
          const action = route.route;
          if (action === undefined) return;
          const path = `servers[${s}].routers[${ri}].virtual_hosts[${vi}].routers[${i}].route`;
          const names = action.cluster_name !== undefined ? [action.cluster_name] : (action.weighted_clusters ?? []).map((w) => w.name);
          for (const u of users) {
            const protocol = action.upstream_protocol ?? u.upstream;
            if (protocol === 'Auto') continue;
            for (const name of names) {
              const isDrpc = drpcClusters.get(name);
              if (isDrpc === undefined || isDrpc === (protocol === DRPC_PROTOCOL)) continue;
              issues.push({
                path: `${path}.${action.cluster_name !== undefined ? 'cluster_name' : 'weighted_clusters'}`,
                message: isDrpc
                  ? `cluster "${name}" has dRPC hosts (drpc:/path) but the proxy at ${u.path} sends ${protocol} to it; use upstream_protocol drpc`
                  : `the proxy at ${u.path} sends dRPC calls to cluster "${name}", whose hosts are not dRPC sockets (drpc:/path)`,
              });
            }
          }
        }),
      );
    }),
  );
  return issues;
}
