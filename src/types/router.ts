/**
 * Router — the part of the PROXY layer that turns a request into a route.
 *
 * ▶ PROXY    phase machine, ROUTER, clusters, pools
 *   STREAM   stream ids, stream filters
 *   PROTOCOL codecs: bytes <-> headers/body/trailers
 *   NET/IO   listeners, connections, network filter chains
 *
 *   routers[] ─ build once per worker ─▶ Routers ─ get(router_config_name) ─▶ Router
 *   MatchRoute phase: Router.match(ctx) ─▶ virtual host (by domain) ─▶ first matching route ─▶ RouteMatch
 *
 * The routers are compiled from the config schema's output (src/config/types.ts: RouterConfig,
 * RouteConfig, …, durations in ms); this module holds only the compiled, per-worker shapes.
 */

// ───────────────────────────── compiled, per worker ─────────────────────────────

/** What the router reads from a request. Header names are asked for in lower case. */
export interface RouteMatchContext {
  /** Host header or :authority, port included or not. */
  readonly authority: string;
  /** Request target as received: path plus optional query. */
  readonly path: string;
  readonly method: string;
  /** Looks a header up by lower-case name; undefined when absent. */
  header(name: string): string | undefined;
}

/**
 * The header map shape header mutations are applied to; codecs' header maps fit it (or are adapted
 * by the proxy). Names are lower case.
 */
export interface MutableHeaders {
  get(name: string): string | undefined;
  /** Replaces every value of the header. */
  set(name: string, value: string): void;
  /** Adds one more value next to any existing ones. */
  append(name: string, value: string): void;
  delete(name: string): void;
}

export interface HeaderToAdd {
  /** Lower case. */
  readonly key: string;
  readonly value: string;
  readonly append: boolean;
}

/** One level's edits, applied as: remove, then add. */
export interface HeaderMutationStep {
  readonly remove: readonly string[];
  readonly add: readonly HeaderToAdd[];
}

/** Route-level edits first, then virtual-host-level ones, so the broader level wins a conflict. */
export type HeaderMutation = readonly HeaderMutationStep[];

export interface RetryPolicy {
  /** Retries after the first try; 0 means a try is never repeated. */
  readonly numRetries: number;
  /** Per-try timeout in ms, 0 for none. */
  readonly perTryTimeoutMs: number;
  readonly onConnectFailure: boolean;
  readonly onReset: boolean;
  /** Any 5xx answer (and per-try timeouts). */
  readonly on5xx: boolean;
  /** 502, 503, 504 only. */
  readonly onGatewayError: boolean;
  /** gRPC status codes of a Trailers-Only answer that are retried (retry_on `unavailable`, `cancelled`, …). */
  readonly grpcCodes: ReadonlySet<number>;
}

export type RouteAction =
  | { readonly kind: 'cluster'; readonly clusterName: string }
  | {
      readonly kind: 'weighted_clusters';
      readonly clusters: readonly { readonly name: string; readonly weight: number }[];
      readonly totalWeight: number;
    }
  | { readonly kind: 'direct_response'; readonly status: number; readonly body: string | undefined };

/** A compiled route; immutable and shared by every request that matches it. */
export interface Route {
  /** "<virtual host>/<index>", for logs and stats. */
  readonly name: string;
  readonly virtualHostName: string;
  readonly action: RouteAction;
  /** Route timeout in ms, 0 for none. */
  readonly timeoutMs: number;
  readonly retryPolicy: RetryPolicy | undefined;
  readonly requestHeaders: HeaderMutation;
  readonly responseHeaders: HeaderMutation;
  /**
   * Returns the path to send upstream: prefix_rewrite applied to the matched part, query kept.
   * Returns the argument itself when the route has no rewrite, so the common case allocates nothing.
   */
  rewritePath(path: string): string;
  /** The key for consistent-hash balancers from the route's hash_policy; undefined: none. */
  hashKey(request: RouteMatchContext, sourceAddress: string): string | undefined;
  /** The route's upstream_protocol; undefined: the proxy filter's. */
  readonly upstreamProtocol: string | undefined;
}

export interface RouteMatch {
  readonly route: Route;
  /**
   * The cluster picked for this request (for weighted clusters, by weight, once per request, so
   * retries stay on it); undefined for a direct response.
   */
  readonly clusterName: string | undefined;
}

/** One compiled `routers[]` entry. */
export interface Router {
  readonly name: string;
  /** Called in the MatchRoute phase of every request; null when no virtual host or route matches. */
  match(ctx: RouteMatchContext): RouteMatch | null;
}
