/**
 * Compiles one `routers[]` entry of a virtual host into a Route plus the matcher that selects it.
 * Everything that can be decided from config (regexes, lower-cased names, merged header edits, the
 * RouteMatch of a fixed-cluster route) is decided here, once, so per-request matching only compares.
 */
import type { HeaderMutation, HeaderMutationStep, RetryPolicy, Route, RouteAction, RouteMatch, RouteMatchContext } from '../types/router.js';
import type {
  HeaderMutationConfig,
  HeaderValueOption as HeaderValueOptionConfig,
  RetryPolicyConfig,
  RouteConfig,
} from '../config/types.js';
import { compileHashPolicy, hashKeyOf, type HashKeySource } from './hash-policy.js';

export function configError(path: string, reason: string): Error {
  return new Error(`${path}: ${reason}`);
}

/** Compiles `source` to a regex that must match the whole input, as MOSN and Envoy route regexes do. */
export function compileAnchored(source: string, path: string): RegExp {
  try {
    return new RegExp(`^(?:${source})$`);
  } catch (err) {
    throw configError(path, `invalid regex ${JSON.stringify(source)}: ${(err as Error).message}`);
  }
}

const enum PathKind {
  Any = 0,
  Prefix = 1,
  Exact = 2,
  Regex = 3,
}

interface HeaderMatcher {
  readonly name: string;
  readonly value: string;
  readonly regex: RegExp | undefined;
}

/** Query-less view of a request path. */
function stripQuery(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}

export class CompiledRoute implements Route {
  readonly name: string;
  readonly virtualHostName: string;
  readonly action: RouteAction;
  readonly timeoutMs: number;
  readonly retryPolicy: RetryPolicy | undefined;
  readonly requestHeaders: HeaderMutation;
  readonly responseHeaders: HeaderMutation;
  readonly #pathKind: PathKind;
  readonly #pathValue: string;
  readonly #pathRegex: RegExp | undefined;
  readonly #headers: readonly HeaderMatcher[];
  readonly #prefixRewrite: string | undefined;
  readonly #hashSources: readonly HashKeySource[];
  readonly upstreamProtocol: string | undefined;
  /** Shared result for fixed-cluster and direct-response routes: matching them allocates nothing. */
  readonly #fixedMatch: RouteMatch | undefined;
  readonly #random: () => number;

  constructor(
    cfg: RouteConfig,
    vhost: { name: string; mutations: HeaderMutationConfig; routerMutations?: HeaderMutationConfig },
    index: number,
    path: string,
    random: () => number,
  ) {
    this.name = `${vhost.name}/${index}`;
    this.virtualHostName = vhost.name;
    this.#random = random;
    const m = cfg.match;
    const kinds = [m.prefix, m.path, m.regex].filter((v) => v !== undefined).length;
    if (kinds > 1) throw configError(`${path}.match`, 'set only one of prefix, path, regex');
    if (m.prefix !== undefined) {
      this.#pathKind = PathKind.Prefix;
      this.#pathValue = m.prefix;
    } else if (m.path !== undefined) {
      this.#pathKind = PathKind.Exact;
      this.#pathValue = m.path;
    } else if (m.regex !== undefined) {
      this.#pathKind = PathKind.Regex;
      this.#pathValue = m.regex;
      this.#pathRegex = compileAnchored(m.regex, `${path}.match.regex`);
    } else {
      // MOSN routes may match on headers alone (Layotto's http example does): any path then.
      this.#pathKind = PathKind.Any;
      this.#pathValue = '';
    }
    this.#headers = (m.headers ?? []).map((h, i) => ({
      name: h.name.toLowerCase(),
      value: h.value,
      regex: h.regex === true ? compileAnchored(h.value, `${path}.match.headers[${i}].value`) : undefined,
    }));

    if ((cfg.route === undefined) === (cfg.direct_response === undefined)) {
      throw configError(path, 'set exactly one of route, direct_response');
    }
    const r = cfg.route;
    if (r !== undefined) {
      this.action = compileAction(r.cluster_name, r.weighted_clusters, `${path}.route`);
      this.timeoutMs = nonNegative(r.timeout, `${path}.route.timeout`);
      this.retryPolicy = r.retry_policy === undefined ? undefined : compileRetryPolicy(r.retry_policy, `${path}.route.retry_policy`);
      this.#prefixRewrite = r.prefix_rewrite;
      this.#hashSources = compileHashPolicy(r.hash_policy);
      this.upstreamProtocol = r.upstream_protocol;
      if (r.prefix_rewrite !== undefined && this.#pathKind === PathKind.Any) {
        throw configError(`${path}.route.prefix_rewrite`, 'needs a prefix, path or regex match');
      }
    } else {
      const d = cfg.direct_response!;
      if (!Number.isInteger(d.status) || d.status < 100 || d.status > 599) {
        throw configError(`${path}.direct_response.status`, `must be an HTTP status, got ${d.status}`);
      }
      this.action = { kind: 'direct_response', status: d.status, body: d.body };
      this.timeoutMs = 0;
      this.retryPolicy = undefined;
      this.#hashSources = [];
      this.upstreamProtocol = undefined;
    }
    const routeLevel: Partial<HeaderMutationConfig> = r ?? {};
    // host_rewrite replaces the Host header before the route's own edits, which may still change it.
    const hostRewrite: HeaderValueOptionConfig[] = r?.host_rewrite === undefined ? [] : [{ key: 'host', value: r.host_rewrite, append: false }];
    this.requestHeaders = compileMutation([
      [undefined, hostRewrite],
      [routeLevel.request_headers_to_remove, routeLevel.request_headers_to_add],
      [vhost.mutations.request_headers_to_remove, vhost.mutations.request_headers_to_add],
      [vhost.routerMutations?.request_headers_to_remove, vhost.routerMutations?.request_headers_to_add],
    ]);
    this.responseHeaders = compileMutation([
      [routeLevel.response_headers_to_remove, routeLevel.response_headers_to_add],
      [vhost.mutations.response_headers_to_remove, vhost.mutations.response_headers_to_add],
      [vhost.routerMutations?.response_headers_to_remove, vhost.routerMutations?.response_headers_to_add],
    ]);
    const a = this.action;
    this.#fixedMatch =
      a.kind === 'cluster'
        ? { route: this, clusterName: a.clusterName }
        : a.kind === 'direct_response'
          ? { route: this, clusterName: undefined }
          : undefined;
  }

  /** Called for each route in order until one answers a RouteMatch. */
  tryMatch(ctx: RouteMatchContext): RouteMatch | null {
    switch (this.#pathKind) {
      case PathKind.Any:
        break;
      case PathKind.Prefix:
        // Prefix rules see the whole :path, query included, as Envoy and MOSN do.
        if (!ctx.path.startsWith(this.#pathValue)) return null;
        break;
      case PathKind.Exact: {
        const p = ctx.path;
        const v = this.#pathValue;
        if (!p.startsWith(v) || (p.length !== v.length && p.charCodeAt(v.length) !== 63 /* ? */)) return null;
        break;
      }
      case PathKind.Regex:
        if (!this.#pathRegex!.test(stripQuery(ctx.path))) return null;
        break;
    }
    const headers = this.#headers;
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i]!;
      const v = headerValue(ctx, h.name);
      if (v === undefined) return null;
      if (h.regex === undefined ? v !== h.value : !h.regex.test(v)) return null;
    }
    return this.#fixedMatch ?? { route: this, clusterName: this.#pickWeighted() };
  }

  #pickWeighted(): string {
    const a = this.action;
    if (a.kind !== 'weighted_clusters') throw new Error('unreachable: not a weighted route');
    let r = this.#random() * a.totalWeight;
    const cs = a.clusters;
    for (let i = 0; i < cs.length; i++) {
      r -= cs[i]!.weight;
      if (r < 0) return cs[i]!.name;
    }
    return cs[cs.length - 1]!.name; // float rounding at the top edge
  }

  hashKey(request: RouteMatchContext, sourceAddress: string): string | undefined {
    return this.#hashSources.length === 0 ? undefined : hashKeyOf(this.#hashSources, request, sourceAddress);
  }

  rewritePath(path: string): string {
    const rw = this.#prefixRewrite;
    if (rw === undefined) return path;
    switch (this.#pathKind) {
      case PathKind.Prefix:
        return rw + path.slice(this.#pathValue.length);
      case PathKind.Exact:
      case PathKind.Regex: {
        // The whole query-less path was matched, so the whole of it is replaced.
        const q = path.indexOf('?');
        return q === -1 ? rw : rw + path.slice(q);
      }
      case PathKind.Any:
        return path;
    }
  }
}

/** Pseudo-headers let a header matcher look at the method, path or authority, as MOSN allows. */
function headerValue(ctx: RouteMatchContext, name: string): string | undefined {
  if (name.charCodeAt(0) === 58 /* : */) {
    if (name === ':method') return ctx.method;
    if (name === ':path') return ctx.path;
    if (name === ':authority') return ctx.authority;
  }
  return ctx.header(name);
}

function nonNegative(v: number | undefined, path: string): number {
  if (v === undefined) return 0;
  if (!Number.isFinite(v) || v < 0) throw configError(path, `must be a non-negative number of ms, got ${v}`);
  return v;
}

function compileAction(
  clusterName: string | undefined,
  weighted: readonly { name: string; weight: number }[] | undefined,
  path: string,
): RouteAction {
  if ((clusterName === undefined || clusterName === '') === (weighted === undefined)) {
    throw configError(path, 'set exactly one of cluster_name, weighted_clusters');
  }
  if (weighted === undefined) return { kind: 'cluster', clusterName: clusterName! };
  if (weighted.length === 0) throw configError(`${path}.weighted_clusters`, 'must not be empty');
  let totalWeight = 0;
  const clusters = weighted.map((w, i) => {
    const weight = w.weight;
    if (!Number.isInteger(weight) || weight < 0) {
      throw configError(`${path}.weighted_clusters[${i}].weight`, `must be a non-negative integer, got ${weight}`);
    }
    totalWeight += weight;
    return { name: w.name, weight };
  });
  if (totalWeight === 0) throw configError(`${path}.weighted_clusters`, 'weights sum to 0');
  return { kind: 'weighted_clusters', clusters, totalWeight };
}

/** Envoy's retry-grpc-on conditions: the gRPC status (of a Trailers-Only answer) each one retries. */
export const GRPC_RETRY_CONDITIONS: Readonly<Record<string, number>> = {
  cancelled: 1,
  'deadline-exceeded': 4,
  'resource-exhausted': 8,
  internal: 13,
  unavailable: 14,
};

const retryTokens = new Set(['5xx', 'gateway-error', 'connect-failure', 'reset', ...Object.keys(GRPC_RETRY_CONDITIONS)]);

export function compileRetryPolicy(cfg: RetryPolicyConfig, path: string): RetryPolicy {
  const numRetries = cfg.num_retries ?? 1;
  if (!Number.isInteger(numRetries) || numRetries < 0) {
    throw configError(`${path}.num_retries`, `must be a non-negative integer, got ${numRetries}`);
  }
  const perTryTimeoutMs = nonNegative(cfg.retry_timeout, `${path}.retry_timeout`);
  let on: Set<string>;
  if (typeof cfg.retry_on === 'boolean') {
    // MOSN's `retry_on: true` retries what cannot have reached the service or failed there.
    on = cfg.retry_on ? new Set(['5xx', 'connect-failure', 'reset']) : new Set();
  } else {
    on = new Set(
      cfg.retry_on
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    );
    for (const t of on) {
      if (!retryTokens.has(t)) {
        throw configError(`${path}.retry_on`, `unknown condition "${t}" (known: ${[...retryTokens].join(', ')})`);
      }
    }
  }
  return {
    numRetries: on.size === 0 ? 0 : numRetries,
    perTryTimeoutMs,
    onConnectFailure: on.has('connect-failure'),
    onReset: on.has('reset'),
    on5xx: on.has('5xx'),
    onGatewayError: on.has('gateway-error') || on.has('5xx'),
    grpcCodes: new Set([...on].flatMap((t) => (GRPC_RETRY_CONDITIONS[t] !== undefined ? [GRPC_RETRY_CONDITIONS[t]] : []))),
  };
}

function compileStep(remove: readonly string[] | undefined, add: readonly HeaderValueOptionConfig[] | undefined): HeaderMutationStep | undefined {
  if ((remove === undefined || remove.length === 0) && (add === undefined || add.length === 0)) return undefined;
  return {
    remove: (remove ?? []).map((n) => n.toLowerCase()),
    add: (add ?? []).map((o) => ({ key: o.key.toLowerCase(), value: o.value, append: o.append === true })),
  };
}

function compileMutation(levels: [readonly string[] | undefined, readonly HeaderValueOptionConfig[] | undefined][]): HeaderMutation {
  const steps: HeaderMutationStep[] = [];
  for (const [remove, add] of levels) {
    const step = compileStep(remove, add);
    if (step !== undefined) steps.push(step);
  }
  return steps;
}
