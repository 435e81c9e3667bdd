/**
 * The xDS state of the world → the dynamic part of Ringside's config. Listeners whose RDS route
 * configuration has not arrived are left out until it does (Envoy calls them warming); EDS clusters
 * take their hosts from the ClusterLoadAssignment of their service name (none until it arrives).
 * Every fragment remembers which resource it came from, so a validation issue is reported against
 * the resource (and the NACK names it).
 */
import type { EnvoyProtos } from './protos.js';
import type { ResourceType } from './type-urls.js';
import { TYPE } from './type-urls.js';
import { XdsFieldError, convertCluster, convertListener, convertRouteConfiguration, hostsOf } from './convert.js';

type Obj = Record<string, unknown>;

/** Decoded resources by name, per type, as the control plane last sent them (accepted ones). */
export interface XdsState {
  listeners: Map<string, Obj>;
  routes: Map<string, Obj>;
  clusters: Map<string, Obj>;
  endpoints: Map<string, Obj>;
}

export function emptyState(): XdsState {
  return { listeners: new Map(), routes: new Map(), clusters: new Map(), endpoints: new Map() };
}

export function copyState(s: XdsState): XdsState {
  return { listeners: new Map(s.listeners), routes: new Map(s.routes), clusters: new Map(s.clusters), endpoints: new Map(s.endpoints) };
}

export interface Origin {
  type: ResourceType;
  name: string;
}

/** The config fragments xDS contributes, appended to the file's own. */
export interface DynamicFragments {
  listeners: Obj[];
  routers: Obj[];
  clusters: Obj[];
  /** origins.listeners[i] is where fragments.listeners[i] came from, and so on. */
  origins: { listeners: Origin[]; routers: Origin[]; clusters: Origin[] };
}

export function emptyFragments(): DynamicFragments {
  return { listeners: [], routers: [], clusters: [], origins: { listeners: [], routers: [], clusters: [] } };
}

/** A resource that cannot be converted. */
export class XdsResourceError extends Error {
  readonly origin: Origin;
  constructor(origin: Origin, detail: string) {
    super(`${shortType(origin.type)} "${origin.name}": ${detail}`);
    this.origin = origin;
  }
}

export function shortType(t: ResourceType): string {
  return t.slice(t.lastIndexOf('.') + 1);
}

export interface Composed {
  fragments: DynamicFragments;
  /** RouteConfiguration names the listeners need (RDS subscription). */
  rds: string[];
  /** ClusterLoadAssignment names the EDS clusters need (EDS subscription). */
  eds: string[];
  /** Listeners waiting for their route configuration. */
  warming: string[];
  warnings: string[];
}

function guard<T>(origin: Origin, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof XdsFieldError) throw new XdsResourceError(origin, err.message);
    throw new XdsResourceError(origin, err instanceof Error ? err.message : String(err));
  }
}

export function compose(state: XdsState, protos: EnvoyProtos): Composed {
  const out: Composed = { fragments: emptyFragments(), rds: [], eds: [], warming: [], warnings: [] };
  const f = out.fragments;
  const note = (origin: Origin, warnings: string[]): void => {
    for (const w of warnings) out.warnings.push(`${shortType(origin.type)} "${origin.name}": ${w}`);
  };
  const rds = new Set<string>();
  const eds = new Set<string>();
  for (const [name, l] of state.listeners) {
    const origin = { type: TYPE.listener, name };
    const c = guard(origin, () => convertListener(l, protos));
    note(origin, c.warnings);
    if (c.value.inlineRouter !== undefined) {
      f.routers.push(c.value.inlineRouter);
      f.origins.routers.push(origin);
    }
    if (c.value.rds !== undefined) {
      rds.add(c.value.rds);
      if (!state.routes.has(c.value.rds)) {
        out.warming.push(name);
        continue;
      }
    }
    f.listeners.push(c.value.listener);
    f.origins.listeners.push(origin);
  }
  for (const [name, rc] of state.routes) {
    if (!rds.has(name)) continue;
    const origin = { type: TYPE.route, name };
    const c = guard(origin, () => convertRouteConfiguration(rc));
    note(origin, c.warnings);
    f.routers.push(c.value);
    f.origins.routers.push(origin);
  }
  for (const [name, cl] of state.clusters) {
    const origin = { type: TYPE.cluster, name };
    const c = guard(origin, () => convertCluster(cl, protos));
    note(origin, c.warnings);
    const cluster = c.value.cluster;
    if (c.value.eds !== undefined) {
      const service = c.value.eds;
      eds.add(service);
      const cla = state.endpoints.get(service);
      if (cla !== undefined) {
        const hosts = guard({ type: TYPE.endpoint, name: service }, () => hostsOf(cla, ''));
        cluster['hosts'] = hosts;
        if (cluster['lb_type'] === 'LB_ROUNDROBIN' && hosts.some((h) => h['weight'] !== 1)) cluster['lb_type'] = 'LB_WEIGHTED_ROUNDROBIN';
      }
    }
    f.clusters.push(cluster);
    f.origins.clusters.push(origin);
  }
  out.rds = [...rds].sort();
  out.eds = [...eds].sort();
  return out;
}
