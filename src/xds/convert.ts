/**
 * Envoy v3 resources → Ringside's MOSN-shaped config JSON (the same shapes a config file holds), as
 * MOSN's pkg/xds conversion does. What has no Ringside meaning is refused with the field's path inside
 * the resource (the NACK's error_detail names it); what is harmless is converted and warned about.
 * The output is then validated by the same loader as a file (src/config), so a converted resource
 * gets exactly the checks a hand-written one gets.
 */
import type { EnvoyProtos } from './protos.js';
import { HCM_TYPE, ROUTER_TYPE, TCP_PROXY_TYPE } from './type-urls.js';
import { downstreamTls, upstreamTls } from './tls.js';
import { XdsFieldError } from './field-error.js';

export { XdsFieldError } from './field-error.js';

type Obj = Record<string, unknown>;

export interface Converted<T> {
  value: T;
  warnings: string[];
}

const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' ? (v as Obj) : {});
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
/** google.protobuf.UInt32Value and friends. */
const wrapped = (v: unknown): number | undefined => {
  const n = obj(v)['value'];
  return typeof n === 'number' ? n : undefined;
};

/** google.protobuf.Duration → milliseconds. */
export function durationMs(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const d = obj(v);
  const s = Number(d['seconds'] ?? 0);
  const n = Number(d['nanos'] ?? 0);
  return Math.round(s * 1000 + n / 1e6);
}

function warnUnknown(o: Obj, known: readonly string[], path: string, warnings: string[]): void {
  for (const key of Object.keys(o)) if (!known.includes(key)) warnings.push(`${path}${path === '' ? '' : '.'}${key}: not acted on by Ringside`);
}

function socketAddress(a: unknown, path: string): string {
  const addr = obj(a);
  const pipe = obj(addr['pipe']);
  if (str(pipe['path']) !== undefined) return str(pipe['path'])!;
  const sa = obj(addr['socket_address']);
  const host = str(sa['address']);
  if (host === undefined) throw new XdsFieldError(`${path}.socket_address.address`, 'an address is required');
  if (sa['protocol'] === 'UDP') throw new XdsFieldError(`${path}.socket_address.protocol`, 'UDP is not supported');
  if (str(sa['named_port']) !== undefined) throw new XdsFieldError(`${path}.socket_address.named_port`, 'named ports are not supported; use port_value');
  const port = Number(sa['port_value'] ?? 0);
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** What an LDS Listener becomes, with the RDS name it waits for (if any). */
export interface ConvertedListener {
  listener: Obj;
  /** A router carried inline (http_connection_manager.route_config). */
  inlineRouter?: Obj;
  /** The RouteConfiguration it takes over RDS. */
  rds?: string;
}

export function convertListener(l: Obj, protos: EnvoyProtos): Converted<ConvertedListener> {
  const warnings: string[] = [];
  const name = str(l['name']);
  if (name === undefined) throw new XdsFieldError('name', 'a listener needs a name');
  warnUnknown(l, ['name', 'address', 'filter_chains', 'stat_prefix', 'traffic_direction'], '', warnings);
  const address = socketAddress(l['address'], 'address');
  const chains = arr(l['filter_chains']);
  if (chains.length === 0) throw new XdsFieldError('filter_chains', 'a listener needs a filter chain');
  if (chains.length > 1) throw new XdsFieldError('filter_chains[1]', 'Ringside serves one filter chain per listener');
  const chain = chains[0]!;
  if (Object.keys(obj(chain['filter_chain_match'])).length > 0) {
    throw new XdsFieldError('filter_chains[0].filter_chain_match', 'filter chain matching is not supported');
  }
  const tlsContext = chain['transport_socket'] === undefined ? undefined : downstreamTls(chain['transport_socket'], 'filter_chains[0].transport_socket', protos, warnings);
  const filters = arr(chain['filters']);
  if (filters.length !== 1) throw new XdsFieldError('filter_chains[0].filters', `expected one network filter (http_connection_manager or tcp_proxy), got ${filters.length}`);
  const f = filters[0]!;
  const fpath = 'filter_chains[0].filters[0]';
  const typed = obj(f['typed_config']);
  const typeUrl = str(typed['type_url']);
  if (typeUrl === undefined) throw new XdsFieldError(`${fpath}.typed_config`, 'a filter needs a typed_config');
  let config: Obj;
  try {
    config = protos.unpack(typed as { type_url: string; value: Uint8Array });
  } catch (err) {
    throw new XdsFieldError(`${fpath}.typed_config`, (err as Error).message);
  }
  const out: ConvertedListener = { listener: { name, address, bind_port: true, filter_chains: [] } };
  if (typeUrl === HCM_TYPE) {
    const p = `${fpath}.typed_config`;
    warnUnknown(config, ['stat_prefix', 'codec_type', 'route_config', 'rds', 'http_filters'], p, warnings);
    const codec = str(config['codec_type']) ?? 'AUTO';
    const downstream = codec === 'HTTP1' ? 'Http1' : codec === 'HTTP2' ? 'Http2' : codec === 'AUTO' ? 'Auto' : undefined;
    if (downstream === undefined) throw new XdsFieldError(`${p}.codec_type`, `codec ${codec} is not supported`);
    arr(config['http_filters']).forEach((h, i) => {
      const t = str(obj(h['typed_config'])['type_url']);
      if (t !== ROUTER_TYPE && h['name'] !== 'envoy.filters.http.router') {
        throw new XdsFieldError(`${p}.http_filters[${i}]`, `HTTP filter "${String(h['name'] ?? t)}" is not supported (only envoy.filters.http.router)`);
      }
    });
    let routerName: string;
    if (config['rds'] !== undefined) {
      const rds = str(obj(config['rds'])['route_config_name']);
      if (rds === undefined) throw new XdsFieldError(`${p}.rds.route_config_name`, 'required');
      routerName = rds;
      out.rds = rds;
    } else if (config['route_config'] !== undefined) {
      const inline = convertRouteConfiguration({ ...obj(config['route_config']), name: str(obj(config['route_config'])['name']) ?? `${name}/inline` });
      warnings.push(...inline.warnings.map((w) => `${p}.route_config.${w}`));
      out.inlineRouter = inline.value;
      routerName = inline.value['router_config_name'] as string;
    } else {
      throw new XdsFieldError(p, 'http_connection_manager needs rds or route_config');
    }
    out.listener['filter_chains'] = [
      { filters: [{ type: 'proxy', config: { downstream_protocol: downstream, upstream_protocol: 'Http1', router_config_name: routerName } }], ...(tlsContext !== undefined ? { tls_context: tlsContext } : {}) },
    ];
  } else if (typeUrl === TCP_PROXY_TYPE) {
    const p = `${fpath}.typed_config`;
    warnUnknown(config, ['stat_prefix', 'cluster', 'idle_timeout', 'max_connect_attempts'], p, warnings);
    const cluster = str(config['cluster']);
    if (cluster === undefined) throw new XdsFieldError(`${p}.cluster`, 'tcp_proxy needs a cluster (weighted_clusters is not supported)');
    const tcp: Obj = { cluster };
    const idle = durationMs(config['idle_timeout']);
    if (idle !== undefined) tcp['idle_timeout'] = idle;
    const attempts = wrapped(config['max_connect_attempts']);
    if (attempts !== undefined) tcp['max_connect_attempts'] = attempts;
    out.listener['filter_chains'] = [{ filters: [{ type: 'tcp_proxy', config: tcp }], ...(tlsContext !== undefined ? { tls_context: tlsContext } : {}) }];
  } else {
    throw new XdsFieldError(`${fpath}.typed_config`, `network filter ${typeUrl} is not supported (http_connection_manager, tcp_proxy)`);
  }
  return { value: out, warnings };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function headerMatcher(h: Obj, path: string): Obj {
  const name = str(h['name']);
  if (name === undefined) throw new XdsFieldError(`${path}.name`, 'required');
  if (h['invert_match'] === true) throw new XdsFieldError(`${path}.invert_match`, 'inverted header matches are not supported');
  const sm = obj(h['string_match']);
  const exact = str(h['exact_match']) ?? (typeof sm['exact'] === 'string' ? (sm['exact'] as string) : undefined);
  if (exact !== undefined) return { name, value: exact, regex: false };
  const re = str(obj(h['safe_regex_match'])['regex']) ?? str(obj(sm['safe_regex'])['regex']);
  if (re !== undefined) return { name, value: `^(?:${re})$`, regex: true };
  const prefix = str(h['prefix_match']) ?? str(sm['prefix']);
  if (prefix !== undefined) return { name, value: `^${escapeRegex(prefix)}`, regex: true };
  const suffix = str(h['suffix_match']) ?? str(sm['suffix']);
  if (suffix !== undefined) return { name, value: `${escapeRegex(suffix)}$`, regex: true };
  throw new XdsFieldError(path, 'supported header matches: exact, safe_regex, prefix, suffix');
}

function routeMatch(m: Obj, path: string): Obj {
  const out: Obj = {};
  // A BoolValue false decodes as {} (default values are left out).
  if (m['case_sensitive'] !== undefined && obj(m['case_sensitive'])['value'] !== true) {
    throw new XdsFieldError(`${path}.case_sensitive`, 'case-insensitive path matching is not supported');
  }
  if (typeof m['prefix'] === 'string') out['prefix'] = m['prefix'];
  else if (typeof m['path'] === 'string') out['path'] = m['path'];
  else if (m['safe_regex'] !== undefined) out['regex'] = `^(?:${String(obj(m['safe_regex'])['regex'] ?? '')})$`;
  else throw new XdsFieldError(path, 'supported path matches: prefix, path, safe_regex');
  if (m['query_parameters'] !== undefined) throw new XdsFieldError(`${path}.query_parameters`, 'query parameter matching is not supported');
  const headers = arr(m['headers']).map((h, i) => headerMatcher(h, `${path}.headers[${i}]`));
  if (headers.length > 0) out['headers'] = headers;
  return out;
}

/**
 * Envoy's retry_on conditions Ringside's route retry_on takes as they are: HTTP (5xx, gateway-error,
 * connect-failure, reset) and gRPC (the grpc-status of a Trailers-Only answer: cancelled,
 * deadline-exceeded, internal, resource-exhausted, unavailable).
 */
const SAME_CONDITIONS = new Set(['5xx', 'gateway-error', 'connect-failure', 'reset', 'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable']);
/** Conditions Ringside retries under a broader one of its own (warned). */
const BROADER: Readonly<Record<string, string>> = {
  // A refused stream (REFUSED_STREAM, past a GOAWAY) is one of the resets Ringside's `reset` retries.
  'refused-stream': 'reset',
  'reset-before-request': 'reset',
};
/** RetryPolicy fields the mapping reads; the others are warned as not acted on. */
const RETRY_POLICY_FIELDS = ['retry_on', 'num_retries', 'per_try_timeout', 'retriable_status_codes'];

/**
 * An Envoy RetryPolicy → Ringside's route retry_policy: the conditions as Ringside's condition list,
 * `retriable-status-codes` as gateway-error (codes within 502–504) or 5xx (other 5xx codes), each
 * widening warned; conditions Ringside has no counterpart for (retriable-4xx, envoy-ratelimited,
 * retriable-headers, …) and codes below 500 are warned as not retried.
 */
function retryPolicy(rp: Obj, path: string, warnings: string[]): Obj {
  warnUnknown(rp, RETRY_POLICY_FIELDS, path, warnings);
  const conditions = new Set<string>();
  const notRetried: string[] = [];
  for (const c of (str(rp['retry_on']) ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '')) {
    if (SAME_CONDITIONS.has(c)) conditions.add(c);
    else if (BROADER[c] !== undefined) {
      conditions.add(BROADER[c]);
      warnings.push(`${path}.retry_on: ${c} retried as Ringside's ${BROADER[c]} (any reset of a try that may be sent again)`);
    } else if (c === 'retriable-status-codes') {
      const codes = arr(rp['retriable_status_codes']).map(Number);
      const high = codes.filter((n) => n >= 500 && n <= 599);
      const low = codes.filter((n) => n < 500 || n > 599);
      if (low.length > 0) warnings.push(`${path}.retriable_status_codes: ${low.join(', ')} not retried by Ringside (it retries 5xx statuses only)`);
      if (high.length > 0) {
        const as = high.every((n) => n >= 502 && n <= 504) ? 'gateway-error' : '5xx';
        conditions.add(as);
        warnings.push(`${path}.retriable_status_codes: ${high.join(', ')} retried as Ringside's ${as} (${as === '5xx' ? 'every 5xx' : '502, 503, 504'})`);
      }
    } else notRetried.push(c);
  }
  if (notRetried.length > 0) warnings.push(`${path}.retry_on: ${notRetried.join(', ')} not retried by Ringside`);
  // An empty list retries nothing, as in Envoy.
  const policy: Obj = { retry_on: conditions.size > 0 ? [...conditions].join(',') : false, num_retries: wrapped(rp['num_retries']) ?? 1 };
  const perTry = durationMs(rp['per_try_timeout']);
  if (perTry !== undefined) policy['retry_timeout'] = perTry;
  return policy;
}

function routeAction(r: Obj, path: string, warnings: string[]): Obj {
  warnUnknown(r, ['cluster', 'weighted_clusters', 'timeout', 'retry_policy', 'prefix_rewrite', 'host_rewrite_literal'], path, warnings);
  const out: Obj = {};
  if (typeof r['cluster'] === 'string') out['cluster_name'] = r['cluster'];
  else if (r['weighted_clusters'] !== undefined) {
    out['weighted_clusters'] = arr(obj(r['weighted_clusters'])['clusters']).map((c) => ({ cluster: { name: c['name'], weight: wrapped(c['weight']) ?? 0 } }));
  } else throw new XdsFieldError(path, 'a route needs cluster or weighted_clusters (cluster_header is not supported)');
  const timeout = durationMs(r['timeout']);
  if (timeout !== undefined) out['timeout'] = timeout;
  if (typeof r['prefix_rewrite'] === 'string') out['prefix_rewrite'] = r['prefix_rewrite'];
  if (typeof r['host_rewrite_literal'] === 'string') out['host_rewrite'] = r['host_rewrite_literal'];
  if (r['retry_policy'] !== undefined) out['retry_policy'] = retryPolicy(obj(r['retry_policy']), `${path}.retry_policy`, warnings);
  return out;
}

/** An RDS RouteConfiguration (or an inline route_config) → a Ringside router. */
export function convertRouteConfiguration(rc: Obj): Converted<Obj> {
  const warnings: string[] = [];
  const name = str(rc['name']);
  if (name === undefined) throw new XdsFieldError('name', 'a route configuration needs a name');
  warnUnknown(rc, ['name', 'virtual_hosts'], '', warnings);
  const virtualHosts = arr(rc['virtual_hosts']).map((vh, vi) => {
    const vpath = `virtual_hosts[${vi}]`;
    warnUnknown(vh, ['name', 'domains', 'routes'], vpath, warnings);
    const routers = arr(vh['routes']).map((r, ri) => {
      const rpath = `${vpath}.routes[${ri}]`;
      const match = routeMatch(obj(r['match']), `${rpath}.match`);
      if (r['redirect'] !== undefined) throw new XdsFieldError(`${rpath}.redirect`, 'redirects are not supported');
      if (r['direct_response'] !== undefined) {
        const dr = obj(r['direct_response']);
        const body = obj(dr['body']);
        return { match, direct_response: { status: Number(dr['status'] ?? 200), body: str(body['inline_string']) ?? '' } };
      }
      if (r['route'] === undefined) throw new XdsFieldError(rpath, 'a route needs route or direct_response');
      return { match, route: routeAction(obj(r['route']), `${rpath}.route`, warnings) };
    });
    return { name: str(vh['name']) ?? '', domains: Array.isArray(vh['domains']) ? vh['domains'] : [], routers };
  });
  return { value: { router_config_name: name, virtual_hosts: virtualHosts }, warnings };
}

const LB: Record<string, string> = {
  ROUND_ROBIN: 'LB_ROUNDROBIN',
  LEAST_REQUEST: 'LB_LEAST_REQUEST',
  RANDOM: 'LB_RANDOM',
  RING_HASH: 'LB_RING_HASH',
  MAGLEV: 'LB_MAGLEV',
};

/** Endpoints Ringside sends traffic to: Envoy's HEALTHY, UNKNOWN and DEGRADED. */
const SERVING = new Set([undefined, 'UNKNOWN', 'HEALTHY', 'DEGRADED']);

/** Hosts of a ClusterLoadAssignment (EDS) or a cluster's inline load_assignment. */
export function hostsOf(cla: Obj, path: string): Obj[] {
  const hosts: Obj[] = [];
  arr(cla['endpoints']).forEach((locality, li) =>
    arr(locality['lb_endpoints']).forEach((e, ei) => {
      const p = `${path}.endpoints[${li}].lb_endpoints[${ei}]`;
      if (!SERVING.has(e['health_status'] as string | undefined)) return;
      const address = socketAddress(obj(obj(e['endpoint'])['address']), `${p}.endpoint.address`);
      hosts.push({ address, weight: wrapped(e['load_balancing_weight']) ?? 1 });
    }),
  );
  return hosts;
}

export interface ConvertedCluster {
  cluster: Obj;
  /** The ClusterLoadAssignment name it takes over EDS. */
  eds?: string;
}

/** A CDS Cluster → a Ringside cluster; an EDS cluster's hosts come from `endpoints` when present. */
export function convertCluster(c: Obj, protos: EnvoyProtos): Converted<ConvertedCluster> {
  const warnings: string[] = [];
  const name = str(c['name']);
  if (name === undefined) throw new XdsFieldError('name', 'a cluster needs a name');
  warnUnknown(
    c,
    ['name', 'type', 'lb_policy', 'connect_timeout', 'circuit_breakers', 'load_assignment', 'eds_cluster_config', 'dns_refresh_rate', 'dns_lookup_family', 'per_connection_buffer_limit_bytes', 'transport_socket'],
    '',
    warnings,
  );
  const tlsContext = c['transport_socket'] === undefined ? undefined : upstreamTls(c['transport_socket'], 'transport_socket', protos, warnings);
  const type = str(c['type']) ?? 'STATIC';
  const policy = str(c['lb_policy']) ?? 'ROUND_ROBIN';
  let lb = LB[policy];
  if (lb === undefined) throw new XdsFieldError('lb_policy', `${policy} is not supported (${Object.keys(LB).join(', ')})`);
  const out: Obj = { name, lb_type: lb, ...(tlsContext !== undefined ? { tls_context: tlsContext } : {}) };
  const ct = durationMs(c['connect_timeout']);
  out['connect_timeout'] = ct ?? 5000;
  const thresholds = arr(obj(c['circuit_breakers'])['thresholds']).filter((t) => (t['priority'] ?? 'DEFAULT') === 'DEFAULT');
  if (thresholds.length > 0) {
    const t = thresholds[0]!;
    const cb: Obj = {};
    for (const key of ['max_connections', 'max_pending_requests', 'max_requests', 'max_retries']) {
      const v = wrapped(t[key]);
      if (v !== undefined) cb[key] = v;
    }
    out['circuit_breakers'] = [cb];
  }
  let eds: string | undefined;
  if (type === 'STATIC' || type === 'STRICT_DNS' || type === 'LOGICAL_DNS') {
    out['type'] = type === 'STATIC' ? 'SIMPLE' : type;
    out['hosts'] = hostsOf(obj(c['load_assignment']), 'load_assignment');
    const refresh = durationMs(c['dns_refresh_rate']);
    if (refresh !== undefined && type !== 'STATIC') out['dns_refresh_rate'] = refresh;
  } else if (type === 'EDS') {
    out['type'] = 'SIMPLE';
    out['hosts'] = [];
    eds = str(obj(c['eds_cluster_config'])['service_name']) ?? name;
  } else {
    throw new XdsFieldError('type', `cluster type ${type} is not supported (STATIC, STRICT_DNS, LOGICAL_DNS, EDS)`);
  }
  // Envoy's round robin honours endpoint weights; Ringside's weighted balancer is the one that does.
  if (lb === 'LB_ROUNDROBIN' && (out['hosts'] as Obj[]).some((h) => h['weight'] !== 1)) lb = 'LB_WEIGHTED_ROUNDROBIN';
  out['lb_type'] = lb;
  return { value: { cluster: out, ...(eds !== undefined ? { eds } : {}) }, warnings };
}
