/**
 * Schemas of the network filter configs the loader knows: `proxy`, `tcp_proxy` (cross-checked
 * against routers and clusters at load) and Layotto's `grpc` (its invoker and channels). Each filter
 * factory re-validates its raw config with the parse function here, so a config error names the
 * same JSON path whether the loader or a worker finds it.
 */
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { kit, type IgnoredTable, type Kit } from './kit.js';
import { duration, positiveInt } from './primitives.js';
import { validate, type SchemaPair } from './validate.js';

function proxy(k: Kit) {
  return k.obj({
    /** Codec name for the downstream side (Http1, Http2, bolt, dubbo, Auto). */
    downstream_protocol: z.string().min(1).default('Auto'),
    /** Codec name for the upstream side; absent = same as downstream. */
    upstream_protocol: z.string().min(1).optional(),
    router_config_name: z.string().min(1, { error: 'a proxy filter needs a router_config_name' }),
    /** MOSN's label for the filter instance; informational. */
    name: z.string().optional(),
    /** Protocol-specific options (MOSN's X-protocol `sub_protocol`). */
    extend_config: z.record(z.string(), z.unknown()).default({}),
  });
}

function tcpProxy(k: Kit) {
  return k
    .obj({
      /** Cluster used when no route matches (or when there are no routes). */
      cluster: z.string().min(1).optional(),
      routes: z
        .array(
          k.obj({
            cluster: z.string().min(1),
            /** CIDR ranges ("10.0.0.0/8") a connection's source must fall in; empty = any. */
            source_addrs: z.array(z.string()).default([]),
            destination_addrs: z.array(z.string()).default([]),
          }),
        )
        .default([]),
      idle_timeout: duration().optional(),
      max_connect_attempts: positiveInt().default(1),
      stat_prefix: z.string().optional(),
    })
    .superRefine((t, ctx) => {
      if (t.cluster === undefined && t.routes.length === 0) {
        ctx.addIssue({ code: 'custom', message: 'a tcp_proxy filter needs a cluster or routes', input: t });
      }
    });
}

function grpc(k: Kit) {
  // Layotto's callback entries: a registered before/after-invoke filter and its own config.
  const callback = k
    .obj({ name: z.string().min(1), config: z.unknown().optional() })
    .transform((c) => ({ name: c.name, config: c.config === undefined ? ({} as unknown) : c.config }));
  const channel = k.obj({
    protocol: z.enum(['http', 'bolt', 'dubbo']),
    /** In-process listener name (or host:port) the channel's connections dial. */
    listener: z.string().min(1),
    /** Most connections the channel keeps; callers beyond that wait their turn. */
    size: positiveInt(),
    ext: z.record(z.string(), z.unknown()).default({}),
  });
  const mosnInvoker = k.obj({
    before_invoke: z.array(callback).default([]),
    after_invoke: z.array(callback).default([]),
    channel: z.array(channel).min(1, { error: 'the mosn invoker needs at least one channel' }),
  });
  return k.obj({
    server_name: z.string().min(1).default('runtime'),
    grpc_config: k
      .obj({
        hellos: z.record(z.string(), k.obj({ type: z.string().min(1), hello: z.string().optional() })).default({}),
        rpcs: k.obj({ mosn: k.obj({ type: z.literal('mosn').optional(), config: mosnInvoker }) }).optional(),
      })
      .prefault({}),
  });
}

function pair<T>(build: (k: Kit) => z.ZodType<T>): SchemaPair<T> {
  return { lint: build(kit(true)), data: build(kit(false)) };
}

const proxyPair = pair(proxy);
const tcpProxyPair = pair(tcpProxy);
const grpcPair = pair(grpc);

/** Zod schemas (stripping copies) of the three known filter configs, normalized outputs. */
export const proxyFilterConfigSchema = proxyPair.data;
export const tcpProxyFilterConfigSchema = tcpProxyPair.data;
export const grpcFilterConfigSchema = grpcPair.data;

export type ProxyFilterConfig = z.output<ReturnType<typeof proxy>>;
export type TcpProxyFilterConfig = z.output<ReturnType<typeof tcpProxy>>;
export type GrpcFilterConfig = z.output<ReturnType<typeof grpc>>;

const notServed = { reason: 'ignored: Ringside serves only the RPC (InvokeService) and hello APIs' };

const PROXY_IGNORED: IgnoredTable = {
  '': { validate_clusters: { reason: 'ignored: clusters are always validated at load', quietWhenEmpty: true }, transparent_proxy: { reason: 'ignored: transparent proxying is not supported', quietWhenEmpty: true } },
};
const TCP_PROXY_IGNORED: IgnoredTable = {
  '': { transparent_proxy: { reason: 'ignored: transparent proxying is not supported', quietWhenEmpty: true } },
};
const GRPC_IGNORED: IgnoredTable = {
  grpc_config: Object.fromEntries(
    ['state', 'lock', 'pub_subs', 'sequencer', 'secret_store', 'bindings', 'custom_component', 'config_store', 'configStore', 'file', 'oss', 'email', 'sms', 'phone', 'cryption', 'delay_queue', 'app'].map(
      (key) => [key, notServed],
    ),
  ),
  'grpc_config.rpcs': { '*': { reason: 'ignored: the only RPC invoker is "mosn"' } },
};

/** What parse functions return: the normalized config and the warnings (unknown keys) with paths. */
export interface ParsedFilterConfig<T> {
  config: T;
  warnings: string[];
}

function parseWith<T>(type: string, p: SchemaPair<T>, ignored: IgnoredTable, raw: unknown, path: string): ParsedFilterConfig<T> {
  const r = validate(p, raw, path, ignored);
  if (!r.ok) throw new ConfigError(`${type} filter`, r.issues);
  return { config: r.value, warnings: r.warnings };
}

/**
 * Validates a `proxy` filter's raw config. `path` is the JSON path of that config (FilterConfig.path);
 * throws ConfigError whose issue paths extend it.
 */
export function parseProxyFilterConfig(raw: unknown, path: string): ParsedFilterConfig<ProxyFilterConfig> {
  return parseWith('proxy', proxyPair, PROXY_IGNORED, raw, path);
}

export function parseTcpProxyFilterConfig(raw: unknown, path: string): ParsedFilterConfig<TcpProxyFilterConfig> {
  return parseWith('tcp_proxy', tcpProxyPair, TCP_PROXY_IGNORED, raw, path);
}

export function parseGrpcFilterConfig(raw: unknown, path: string): ParsedFilterConfig<GrpcFilterConfig> {
  return parseWith('grpc', grpcPair, GRPC_IGNORED, raw, path);
}

/** Non-throwing forms, for the loader, which gathers every issue in a file before failing. */
export const knownFilterConfigs = {
  proxy: { pair: proxyPair, ignored: PROXY_IGNORED },
  tcp_proxy: { pair: tcpProxyPair, ignored: TCP_PROXY_IGNORED },
  grpc: { pair: grpcPair, ignored: GRPC_IGNORED },
} as const;
