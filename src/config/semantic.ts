/**
 * Checks that need the whole config at once: names that must be unique, names that must refer to
 * something, and the known filter configs (`proxy`, `tcp_proxy`, `grpc`) validated in place so a bad
 * filter config fails start-up with its path instead of failing later on a worker.
 */
import type { FilterConfig, RingsideConfig, RouteActionConfig } from '../types/config.js';
import { childPath, type ConfigIssue } from './errors.js';
import { knownFilterConfigs, type GrpcFilterConfig, type ProxyFilterConfig, type TcpProxyFilterConfig } from './filters.js';
import { validate, valueAt, type Validated } from './validate.js';

export interface SemanticResult {
  errors: ConfigIssue[];
  warnings: string[];
}

function known(names: Iterable<string>): string {
  const list = [...names];
  return list.length === 0 ? 'none defined' : `known: ${list.join(', ')}`;
}

/** Records the first path of each name; a second use is an error naming both places. */
class NameTable {
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
  names(): IterableIterator<string> {
    return this.#first.keys();
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

export function checkSemantics(config: RingsideConfig, raw: unknown): SemanticResult {
  const errors: ConfigIssue[] = [];
  const warnings: string[] = [];
  const listeners = new NameTable('listener name');
  const addresses = new NameTable('listener address');
  const routers = new NameTable('router_config_name');
  const clusters = new NameTable('cluster name');

  config.cluster_manager.clusters.forEach((c, i) => {
    const path = `cluster_manager.clusters[${i}]`;
    clusters.add(c.name, `${path}.name`, errors);
    if (c.hosts.length === 0) warnings.push(`${path}.hosts: cluster "${c.name}" has no hosts; requests routed to it get 503`);
    const breakers = valueAt(raw, ['cluster_manager', 'clusters', i, 'circuit_breakers']);
    if (Array.isArray(breakers) && breakers.length > 1) warnings.push(`${path}.circuit_breakers: only the first thresholds entry is used`);
  });

  config.servers.forEach((server, s) => {
    server.routers.forEach((r, i) => routers.add(r.router_config_name, `servers[${s}].routers[${i}].router_config_name`, errors));
    server.listeners.forEach((l, i) => {
      const path = `servers[${s}].listeners[${i}]`;
      listeners.add(l.name, `${path}.name`, errors);
      const ep = l.endpoint;
      // Port 0 binds a fresh port each time, so two listeners on port 0 never collide.
      if (l.bind_port && ep.kind === 'tcp' && ep.port !== 0) addresses.add(`${ep.host}:${ep.port}`, `${path}.address`, errors);
      if (l.bind_port && ep.kind === 'unix') addresses.add(ep.path, `${path}.address`, errors);
    });
  });

  config.servers.forEach((server, s) =>
    server.routers.forEach((r, ri) =>
      r.virtual_hosts.forEach((vh, vi) =>
        vh.routers.forEach((route, i) => {
          if (route.route === undefined) return;
          const path = `servers[${s}].routers[${ri}].virtual_hosts[${vi}].routers[${i}].route`;
          checkRouteClusters(route.route, path, raw, clusters, errors);
        }),
      ),
    ),
  );

  const filterCtx: FilterCheckContext = { routers, clusters, listeners, errors, warnings };
  config.servers.forEach((server) =>
    server.listeners.forEach((l) => l.filter_chains.forEach((chain) => chain.filters.forEach((f) => checkFilter(f, filterCtx)))),
  );
  return { errors, warnings };
}

function checkRouteClusters(route: RouteActionConfig, path: string, raw: unknown, clusters: NameTable, errors: ConfigIssue[]): void {
  if (route.cluster_name !== undefined && !clusters.has(route.cluster_name)) {
    errors.push({ path: `${path}.cluster_name`, message: `no cluster named "${route.cluster_name}" (${known(clusters.names())})` });
  }
  const weighted = route.weighted_clusters;
  if (weighted === undefined) return;
  // Report paths in the spelling the file used: MOSN's bare array or the {clusters: [...]} wrapper.
  const wrapped = !Array.isArray(valueAt(raw, [...segmentsOf(path), 'weighted_clusters']));
  const base = wrapped ? `${path}.weighted_clusters.clusters` : `${path}.weighted_clusters`;
  weighted.forEach((w, i) => {
    if (!clusters.has(w.name)) errors.push({ path: `${base}[${i}].cluster.name`, message: `no cluster named "${w.name}" (${known(clusters.names())})` });
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

interface FilterCheckContext {
  routers: NameTable;
  clusters: NameTable;
  listeners: NameTable;
  errors: ConfigIssue[];
  warnings: string[];
}

function checkFilter(f: FilterConfig, ctx: FilterCheckContext): void {
  switch (f.type) {
    case 'proxy': {
      const { pair, ignored } = knownFilterConfigs.proxy;
      const r = report(validate(pair, f.config, f.path, ignored), ctx);
      if (r !== undefined) checkProxy(r, f.path, ctx);
      return;
    }
    case 'tcp_proxy': {
      const { pair, ignored } = knownFilterConfigs.tcp_proxy;
      const r = report(validate(pair, f.config, f.path, ignored), ctx);
      if (r !== undefined) checkTcpProxy(r, f.path, ctx);
      return;
    }
    case 'grpc': {
      const { pair, ignored } = knownFilterConfigs.grpc;
      const r = report(validate(pair, f.config, f.path, ignored), ctx);
      if (r !== undefined) checkGrpc(r, f.path, ctx);
      return;
    }
    default:
      // Other filters are validated by their factories when workers build the chains.
      return;
  }
}

function report<T>(r: Validated<T>, ctx: FilterCheckContext): T | undefined {
  ctx.warnings.push(...r.warnings);
  if (r.ok) return r.value;
  ctx.errors.push(...r.issues);
  return undefined;
}

function checkProxy(p: ProxyFilterConfig, path: string, ctx: FilterCheckContext): void {
  if (!ctx.routers.has(p.router_config_name)) {
    ctx.errors.push({ path: childPath(path, 'router_config_name'), message: `no router named "${p.router_config_name}" (${known(ctx.routers.names())})` });
  }
}

function checkTcpProxy(t: TcpProxyFilterConfig, path: string, ctx: FilterCheckContext): void {
  const refs: [string, string][] = t.cluster === undefined ? [] : [[t.cluster, childPath(path, 'cluster')]];
  t.routes.forEach((r, i) => refs.push([r.cluster, childPath(path, 'routes', i, 'cluster')]));
  for (const [name, at] of refs) {
    if (!ctx.clusters.has(name)) ctx.errors.push({ path: at, message: `no cluster named "${name}" (${known(ctx.clusters.names())})` });
  }
}

function checkGrpc(g: GrpcFilterConfig, path: string, ctx: FilterCheckContext): void {
  // Unknown channel listeners are a warning, not an error: the invoker answers such calls with a gRPC
  // status, and a host:port channel dials out over TCP instead.
  g.grpc_config.rpcs?.mosn.config.channel.forEach((c, i) => {
    if (!c.listener.includes(':') && !c.listener.startsWith('/') && !ctx.listeners.has(c.listener)) {
      ctx.warnings.push(
        `${childPath(path, 'grpc_config', 'rpcs', 'mosn', 'config', 'channel', i, 'listener')}: no listener named "${c.listener}" (${known(ctx.listeners.names())}); calls through this channel will fail`,
      );
    }
  });
}
