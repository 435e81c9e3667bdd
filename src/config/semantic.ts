/**
 * Checks that need the whole config, and the build's catalog of extensions, at once: names that must
 * be unique, names that must refer to something, and every extension's `type` and `config` —
 * network filters, listener filters, stream filters, load balancers, cluster types, codecs, channel
 * protocols, invoker callbacks — validated through the spec registered with it, so a bad value fails
 * start-up with its path instead of killing a worker later.
 */
import type { ConfigCatalog, ConfigIssue, ConfigRefs, NameSet, SpecTable } from '../types/extension.js';
import type { FilterConfig, RingsideConfig, RouteActionConfig } from './types.js';
import { known } from './filters.js';
import { CHANNEL_ADDRESS, parseAddress } from '../common/address.js';
import { specPair } from './kit.js';
import { validate, valueAt } from './validate.js';
import { checkDrpcConfig } from '../protocol/drpc/config-rules.js';

export interface SemanticResult {
  errors: ConfigIssue[];
  warnings: string[];
}

/** Records the first path of each name; a second use is an error naming both places. */
class NameTable implements NameSet {
  readonly #kind: string;
  readonly #first = new Map<string, string>();
  constructor(kind: string) {
    this.#kind = kind;
  }
  add(name: string, path: string, errors: ConfigIssue[]): void {
    const first = this.#first.get(name);
    if (first === undefined) this.#first.set(name, path);
    else errors.push({ path, message: `duplicate ${this.#kind} "${name}" (first at ${first})` });
  }
  has(name: string): boolean {
    return this.#first.has(name);
  }
  names(): string[] {
    return [...this.#first.keys()];
  }
}

/** Fills in each filter's `path` (the JSON path of its config) for the factories' messages. */
export function assignFilterPaths(config: RingsideConfig): void {
  config.servers.forEach((server, s) =>
    server.listeners.forEach((l, i) => {
      const base = `servers[${s}].listeners[${i}]`;
      const set = (f: FilterConfig, at: string): void => {
        f.path = `${at}.config`;
      };
      l.listener_filters.forEach((f, j) => set(f, `${base}.listener_filters[${j}]`));
      l.stream_filters.forEach((f, j) => set(f, `${base}.stream_filters[${j}]`));
      l.filter_chains.forEach((c, ci) => c.filters.forEach((f, j) => set(f, `${base}.filter_chains[${ci}].filters[${j}]`)));
    }),
  );
}

export function checkSemantics(config: RingsideConfig, raw: unknown, catalog: ConfigCatalog): SemanticResult {
  const errors: ConfigIssue[] = [];
  const warnings: string[] = [];
  const listeners = new NameTable('listener name');
  const addresses = new NameTable('listener address');
  const routers = new NameTable('router_config_name');
  const clusters = new NameTable('cluster name');

  // MOSN has one default logger per process; servers[0] sets it, a later server cannot change it.
  config.servers.slice(1).forEach((s, i) => {
    const first = config.servers[0]!;
    if (s.default_log_level !== undefined && s.default_log_level !== first.default_log_level) {
      warnings.push(`servers[${i + 1}].default_log_level: ignored: the process logs at servers[0]'s level (one default logger per process)`);
    }
    if (s.default_log_path !== undefined && s.default_log_path !== first.default_log_path) {
      warnings.push(`servers[${i + 1}].default_log_path: ignored: the process logs where servers[0] says (one default logger per process)`);
    }
  });

  config.cluster_manager.clusters.forEach((c, i) => {
    const path = `cluster_manager.clusters[${i}]`;
    clusters.add(c.name, `${path}.name`, errors);
    const discovered = c.type === 'GEERPC_REGISTRY' || c.type === 'GEERPC_ETCD';
    if (c.hosts.length === 0 && !discovered) warnings.push(`${path}.hosts: cluster "${c.name}" has no hosts; requests routed to it get 503`);
    geerpcDiscoveryIssues(c, path, errors);
    if (c.type === 'STRICT_DNS' || c.type === 'LOGICAL_DNS') {
      c.hosts.forEach((h, j) => {
        if (h.endpoint.kind !== 'tcp') errors.push({ path: `${path}.hosts[${j}].address`, message: `a ${c.type} cluster resolves host names: expected host:port, got a socket path` });
      });
    }
    const seen = new NameTable('host');
    c.hosts.forEach((h, j) => seen.add(h.address, `${path}.hosts[${j}].address`, errors));
    const breakers = valueAt(raw, ['cluster_manager', 'clusters', i, 'circuit_breakers']);
    if (Array.isArray(breakers) && breakers.length > 1) warnings.push(`${path}.circuit_breakers: only the first thresholds entry is used`);
  });

  config.servers.forEach((server, s) => {
    server.routers.forEach((r, i) => routers.add(r.router_config_name, `servers[${s}].routers[${i}].router_config_name`, errors));
    server.listeners.forEach((l, i) => {
      const path = `servers[${s}].listeners[${i}]`;
      listeners.add(l.name, `${path}.name`, errors);
      if (l.access_logs.length > 0 && !l.filter_chains.some((c) => c.filters.some((f) => f.type === 'proxy'))) {
        warnings.push(`${path}.access_logs: only the proxy filter writes access logs and this listener has none; nothing will be logged`);
      }
      const ep = l.endpoint;
      // Port 0 binds a fresh port each time, so two listeners on port 0 never collide.
      if (l.bind_port && ep.kind === 'tcp' && ep.port !== 0) addresses.add(`${ep.host}:${ep.port}`, `${path}.address`, errors);
      if (l.bind_port && (ep.kind === 'unix' || ep.kind === 'drpc')) addresses.add(ep.path, `${path}.address`, errors);
    });
  });

  config.servers.forEach((server, s) =>
    server.routers.forEach((r, ri) =>
      r.virtual_hosts.forEach((vh, vi) =>
        vh.routers.forEach((route, i) => {
          if (route.route === undefined) return;
          const path = `servers[${s}].routers[${ri}].virtual_hosts[${vi}].routers[${i}].route`;
          checkRouteClusters(route.route, path, raw, clusters, errors);
          const up = route.route.upstream_protocol;
          if (up !== undefined && !catalog.upstreamProtocols.has(up)) {
            errors.push({ path: `${path}.upstream_protocol`, message: `no upstream client speaks "${up}" (${known(catalog.upstreamProtocols)})` });
          }
        }),
      ),
    ),
  );

  // A bare name is an in-process listener of this file; host:port and socket paths dial out.
  const proxyTarget = config.ringside.dapr.grpc_proxy?.listener;
  if (proxyTarget !== undefined) {
    const where = parseAddress(proxyTarget, CHANNEL_ADDRESS);
    if (where.ok && where.value.kind === 'inprocess' && !listeners.has(proxyTarget)) {
      errors.push({ path: 'ringside.dapr.grpc_proxy.listener', message: `no listener named "${proxyTarget}" (${known(listeners)})` });
    }
  }

  errors.push(...checkDrpcConfig(config));

  const refs: ConfigRefs = { routers, clusters, listeners, catalog };
  const out = { errors, warnings };
  config.servers.forEach((server) =>
    server.listeners.forEach((l) => {
      l.listener_filters.forEach((f) => checkExtension('listener filter', catalog.listenerFilters, f, refs, out));
      l.stream_filters.forEach((f) => checkExtension('stream filter', catalog.streamFilters, f, refs, out));
      l.filter_chains.forEach((chain) => chain.filters.forEach((f) => checkExtension('network filter', catalog.networkFilters, f, refs, out)));
    }),
  );
  return out;
}

function checkRouteClusters(route: RouteActionConfig, path: string, raw: unknown, clusters: NameTable, errors: ConfigIssue[]): void {
  if (route.cluster_name !== undefined && !clusters.has(route.cluster_name)) {
    errors.push({ path: `${path}.cluster_name`, message: `no cluster named "${route.cluster_name}" (${known(clusters)})` });
  }
  const weighted = route.weighted_clusters;
  if (weighted === undefined) return;
  // Report paths in the spelling the file used: MOSN's bare array or the {clusters: [...]} wrapper.
  const wrapped = !Array.isArray(valueAt(raw, [...segmentsOf(path), 'weighted_clusters']));
  const base = wrapped ? `${path}.weighted_clusters.clusters` : `${path}.weighted_clusters`;
  weighted.forEach((w, i) => {
    if (!clusters.has(w.name)) errors.push({ path: `${base}[${i}].cluster.name`, message: `no cluster named "${w.name}" (${known(clusters)})` });
  });
  if (weighted.reduce((sum, w) => sum + w.weight, 0) === 0) {
    errors.push({ path: `${path}.weighted_clusters`, message: 'cluster weights add up to 0; at least one weight must be positive' });
  }
}

/** Splits a path built by this module (identifier keys and numeric indices only) back into segments. */
function segmentsOf(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([A-Za-z_$][A-Za-z0-9_$-]*)|\[(\d+)\]/g)) out.push(m[1] !== undefined ? m[1] : Number(m[2]));
  return out;
}

/** One extension use: its type must be registered, its config must pass the spec registered with it. */
function checkExtension(kind: string, table: SpecTable, f: FilterConfig, refs: ConfigRefs, out: SemanticResult): void {
  // f.path is `<entry>.config`; the type sits next to it.
  const entry = f.path.slice(0, -'.config'.length);
  if (!table.has(f.type)) {
    out.errors.push({ path: `${entry}.type`, message: `unknown ${kind} "${f.type}" (${known(table)})` });
    return;
  }
  const spec = table.spec(f.type);
  if (spec === undefined) {
    if (!isEmptyConfig(f.config)) out.errors.push({ path: f.path, message: `${kind} "${f.type}" takes no config` });
    return;
  }
  const r = validate(specPair(spec), f.config, f.path, spec.ignored ?? {});
  out.warnings.push(...r.warnings);
  if (!r.ok) {
    out.errors.push(...r.issues);
    return;
  }
  if (spec.check !== undefined) out.errors.push(...spec.check(r.value, f.path, refs));
  if (spec.warn !== undefined) out.warnings.push(...spec.warn(r.value, f.path));
}

function isEmptyConfig(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'object' && Object.keys(v).length === 0);
}

/** A geerpc cluster names exactly the source its type reads, and takes its hosts only from there. */
function geerpcDiscoveryIssues(c: RingsideConfig['cluster_manager']['clusters'][number], path: string, errors: ConfigIssue[]): void {
  const d = c.geerpc_discovery;
  const at = `${path}.geerpc_discovery`;
  if (c.type === 'GEERPC_REGISTRY' || c.type === 'GEERPC_ETCD') {
    if (c.hosts.length > 0) errors.push({ path: `${path}.hosts`, message: `a ${c.type} cluster's hosts come from geerpc_discovery; remove hosts` });
    if (c.type === 'GEERPC_REGISTRY') {
      if (d?.registry_url === undefined) errors.push({ path: `${at}.registry_url`, message: 'a GEERPC_REGISTRY cluster needs the registry URL' });
      if (d !== undefined && d.etcd_endpoints.length > 0) errors.push({ path: `${at}.etcd_endpoints`, message: 'read only by GEERPC_ETCD clusters' });
    } else {
      if (d === undefined || d.etcd_endpoints.length === 0) errors.push({ path: `${at}.etcd_endpoints`, message: 'a GEERPC_ETCD cluster needs at least one etcd endpoint' });
      if (d?.registry_url !== undefined) errors.push({ path: `${at}.registry_url`, message: 'read only by GEERPC_REGISTRY clusters' });
    }
  } else if (d !== undefined) {
    errors.push({ path: at, message: `read only by GEERPC_REGISTRY and GEERPC_ETCD clusters (this one is ${c.type})` });
  }
}
