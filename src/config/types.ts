/**
 * CONFIG — what every layer reads at start-up, normalized by the loader (src/config).
 *
 *   ringside.json ──▶ loader (zod schema, semantic checks) ──▶ RingsideConfig
 *                                 │                             ├─ servers[].listeners  → NET/IO
 *                                 ▼                             ├─ servers[].routers    → PROXY router
 *                 ConfigError (JSON path + reason)              ├─ cluster_manager      → upstream
 *                 or warnings (unknown / ignored keys)          └─ ringside             → supervisor, workers
 *
 * Shapes follow MOSN's JSON keys so a Layotto config reads the same here, with these normalizations:
 * every duration is a number of milliseconds (`Millis`); addresses are parsed into an `Endpoint`;
 * MOSN defaults are filled in; header options are flattened to {key, value, append}; network filter
 * configs stay raw JSON plus their JSON path, for the filter factory to validate.
 *
 * Every type here is derived from the zod schema (src/config/schema.ts), the one place a config shape
 * is written; the layers that build from config (router, upstream, network) import them from here.
 */
import type { z } from 'zod';
import type { Schemas } from './schema.js';
import type { GrpcFilterConfig } from './filters.js';

export type { Millis, Endpoint } from './primitives.js';
export type { ConfigIssue } from '../types/extension.js';
export type { GrpcFilterConfig, ProxyFilterConfig, TcpProxyFilterConfig } from './filters.js';

/** The whole normalized config. */
export type RingsideConfig = z.output<Schemas['config']>;
export type ServerConfig = z.output<Schemas['server']>;
/** A listener: `endpoint` is tcp (host:port), unix (socket path) or inprocess (bare name). */
export type ListenerConfig = z.output<Schemas['listener']>;
/** A network, listener or stream filter: raw `config` and the JSON `path` of that config. */
export type FilterConfig = ListenerConfig['stream_filters'][number];
export type RouterConfig = z.output<Schemas['router']>;
export type VirtualHostConfig = RouterConfig['virtual_hosts'][number];
/** One entry of a virtual host's `routers[]`: match plus either `route` or `direct_response`. */
export type RouteConfig = VirtualHostConfig['routers'][number];
export type RouteMatchConfig = RouteConfig['match'];
export type RouteActionConfig = NonNullable<RouteConfig['route']>;
export type HeaderValueOption = RouteActionConfig['request_headers_to_add'][number];
/** The four header-edit lists a router, a virtual host and a route each carry. */
export type HeaderMutationConfig = Pick<RouteActionConfig, 'request_headers_to_add' | 'request_headers_to_remove' | 'response_headers_to_add' | 'response_headers_to_remove'>;
export type RetryPolicyConfig = NonNullable<RouteActionConfig['retry_policy']>;
/** One `hash_policy` entry: exactly one of header, http_cookie, source_ip. */
export type HashPolicyConfig = RouteActionConfig['hash_policy'][number];
export type ClusterConfig = z.output<Schemas['cluster']>;
export type HostConfig = ClusterConfig['hosts'][number];
export type HealthCheckConfig = NonNullable<ClusterConfig['health_check']>;
export type ClusterManagerConfig = RingsideConfig['cluster_manager'];
/** The first MOSN thresholds entry; an absent limit means "no limit". */
export type CircuitBreakersConfig = ClusterConfig['circuit_breakers'];
export type LbType = ClusterConfig['lb_type'];
/** Ringside's own section (`ringside` key), defaults filled in. */
export type RingsideSettings = z.output<Schemas['settings']>;
export type LimitsSettings = RingsideSettings['limits'];
export type DaprSettings = RingsideSettings['dapr'];
/** `grpc_config.rpcs.mosn.config` of the `grpc` filter (Layotto's mosnConfig), `timeout` in ms. */
export type MosnInvokerConfig = NonNullable<GrpcFilterConfig['grpc_config']['rpcs']>['mosn']['config'];
/** One `channel[]` entry: protocol, listener (in-process name, host:port or socket path), size, ext. */
export type ChannelConfig = MosnInvokerConfig['channel'][number];
/** One `before_invoke` / `after_invoke` entry: a registered callback's name and its own config. */
export type InvokerCallbackConfig = MosnInvokerConfig['before_invoke'][number];

/** What the loader hands back: the config, warnings to log (each starts with its JSON path), the file. */
export interface LoadedConfig {
  config: RingsideConfig;
  warnings: string[];
  /** File path, or "embedded default config". */
  source: string;
}
