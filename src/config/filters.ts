/**
 * Config specs of the network filters whose schema the loader knows: `proxy`, `tcp_proxy`, Layotto's
 * `grpc` (its invoker and channels) and `dapr_http`. The composition root (src/extensions.ts)
 * registers each with its factory, so the main thread validates them — cross-references included —
 * before any worker starts; each factory parses its raw config with the same spec, so a config error
 * names the same JSON path whether the loader or a worker finds it.
 */
import { z } from 'zod';
import type { ConfigIssue, ConfigKit, ConfigRefs, ConfigSpec, IgnoredTable, NameSet } from '../types/extension.js';
import { ConfigError, childPath } from './errors.js';
import { specPair } from './kit.js';
import { addressString, cidrRange, duration, portRange, positiveInt } from './primitives.js';
import { CHANNEL_ADDRESS, parseAddress } from '../common/address.js';
import { validate } from './validate.js';

export function known(names: NameSet): string {
  const list = names.names();
  return list.length === 0 ? 'none defined' : `known: ${list.join(', ')}`;
}

/** MOSN's older spelling of an X-protocol: `X` with extend_config.sub_protocol naming the codec. */
export const X_PROTOCOL = 'X';

function proxy(k: ConfigKit) {
  return k.obj({
    /**
     * Codec name for the downstream side: Http1, bolt, boltv2, dubbo …, Auto (detected from the first
     * bytes of each connection), or X (the codec extend_config.sub_protocol names).
     */
    downstream_protocol: z.string().min(1).default('Auto'),
    /** Codec name for the upstream side; absent = same as downstream (under Auto: the detected one). */
    upstream_protocol: z.string().min(1).optional(),
    router_config_name: z.string().min(1, { error: 'a proxy filter needs a router_config_name' }),
    /** MOSN's X-protocol options: sub_protocol is the codec `X` stands for. */
    extend_config: k.obj({ sub_protocol: z.string().min(1).optional() }).optional(),
  });
}

export type ProxyFilterConfig = z.output<ReturnType<typeof proxy>>;

/** The codec names a proxy filter serves and sends, `X` resolved; `Auto` upstream: per connection. */
export function proxyProtocols(p: ProxyFilterConfig): { downstream: string; upstream: string } {
  const sub = p.extend_config?.sub_protocol ?? '';
  const downstream = p.downstream_protocol === X_PROTOCOL ? sub : p.downstream_protocol;
  const rawUp = p.upstream_protocol ?? (p.downstream_protocol === X_PROTOCOL ? X_PROTOCOL : downstream);
  return { downstream, upstream: rawUp === X_PROTOCOL ? sub : rawUp };
}

function checkProxy(p: ProxyFilterConfig, path: string, refs: ConfigRefs): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (!refs.routers.has(p.router_config_name)) {
    issues.push({ path: childPath(path, 'router_config_name'), message: `no router named "${p.router_config_name}" (${known(refs.routers)})` });
  }
  const down = refs.catalog.downstreamProtocols;
  const up = refs.catalog.upstreamProtocols;
  const xs = refs.catalog.xprotocols;
  const usesX = p.downstream_protocol === X_PROTOCOL || p.upstream_protocol === X_PROTOCOL;
  const sub = p.extend_config?.sub_protocol;
  const subPath = childPath(path, 'extend_config', 'sub_protocol');
  if (usesX) {
    if (sub === undefined) issues.push({ path: subPath, message: 'protocol X needs extend_config.sub_protocol (the X-protocol codec: bolt, boltv2, dubbo …)' });
    else if (xs === undefined || !xs.has(sub)) issues.push({ path: subPath, message: `no X-protocol codec "${sub}" (${xs === undefined ? 'none defined' : known(xs)})` });
    if (issues.length > 0) return issues;
  } else if (sub !== undefined) {
    issues.push({ path: subPath, message: 'extend_config.sub_protocol is read only when downstream_protocol or upstream_protocol is X' });
    return issues;
  }
  const { downstream, upstream } = proxyProtocols(p);
  const downPath = childPath(path, 'downstream_protocol');
  const upPath = childPath(path, 'upstream_protocol');
  if (!down.has(downstream)) {
    issues.push({ path: downPath, message: `no codec serves "${downstream}" (${known(down)})` });
    return issues;
  }
  if (upstream !== 'Auto' && !up.has(upstream)) {
    issues.push({ path: upPath, message: `no upstream client speaks "${upstream}" (${known(up)})` });
    return issues;
  }
  if (upstream === 'Auto' && downstream !== 'Auto') {
    issues.push({ path: upPath, message: 'upstream_protocol Auto (the detected protocol) needs downstream_protocol Auto' });
  }
  // An X-protocol frame travels as it came: Ringside does not transcode between protocols.
  const isX = (n: string): boolean => xs?.has(n) === true;
  if (downstream !== 'Auto' && upstream !== 'Auto' && (isX(downstream) || isX(upstream)) && downstream !== upstream) {
    issues.push({ path: upPath, message: `"${downstream}" requests cannot be sent upstream as "${upstream}" (no transcoding between protocols; use the same protocol on both sides)` });
  }
  if (downstream === 'Auto' && isX(upstream)) {
    issues.push({ path: upPath, message: `under downstream_protocol Auto, upstream "${upstream}" would receive every detected protocol; leave upstream_protocol out (each connection goes upstream in the protocol detected)` });
  }
  return issues;
}

function tcpProxy(k: ConfigKit) {
  return k
    .obj({
      /** Cluster used when no route matches (or when there are no routes). */
      cluster: z.string().min(1).optional(),
      routes: z
        .array(
          k.obj({
            cluster: z.string().min(1),
            /** Ranges a connection's source must fall in: "10.0.0.0/8" or MOSN's {address, length}; empty = any. */
            source_addrs: z.array(cidrRange(k)).default([]),
            destination_addrs: z.array(cidrRange(k)).default([]),
            /** A port or "low-high"; absent = any. */
            source_port: portRange().optional(),
            destination_port: portRange().optional(),
          }),
        )
        .default([]),
      /** Close both sides after this long without a byte either way; absent = never. */
      idle_timeout: duration().optional(),
      /** Upstream connect attempts per downstream connection, each to another host when there is one. */
      max_connect_attempts: positiveInt().default(1),
      /** Name used in logs for this proxy. */
      stat_prefix: z.string().optional(),
    })
    .superRefine((t, ctx) => {
      if (t.cluster === undefined && t.routes.length === 0) {
        ctx.addIssue({ code: 'custom', message: 'a tcp_proxy filter needs a cluster or routes', input: t });
      }
    });
}

export type TcpProxyFilterConfig = z.output<ReturnType<typeof tcpProxy>>;

function checkTcpProxy(t: TcpProxyFilterConfig, path: string, refs: ConfigRefs): ConfigIssue[] {
  const names: [string, string][] = t.cluster === undefined ? [] : [[t.cluster, childPath(path, 'cluster')]];
  t.routes.forEach((r, i) => names.push([r.cluster, childPath(path, 'routes', i, 'cluster')]));
  return names
    .filter(([name]) => !refs.clusters.has(name))
    .map(([name, at]) => ({ path: at, message: `no cluster named "${name}" (${known(refs.clusters)})` }));
}

function grpc(k: ConfigKit) {
  // Layotto's callback entries: a registered before/after-invoke filter and its own config.
  const callback = k
    .obj({ name: z.string().min(1), config: z.unknown().optional() })
    .transform((c) => ({ name: c.name, config: c.config }));
  const channel = k.obj({
    /** A registered channel protocol ("http"). */
    protocol: z.string().min(1),
    /** In-process listener name, host:port (TCP) or a socket path the channel's connections dial. */
    listener: addressString(CHANNEL_ADDRESS),
    /** Most connections the channel keeps; callers beyond that wait their turn. */
    size: positiveInt().max(65536, { error: 'expected an integer ≤ 65536' }),
    /** Layotto's protocol options, validated against the channel protocol's own spec (checkGrpc). */
    ext: z.record(z.string(), z.unknown()).optional(),
  });
  const mosnInvoker = k.obj({
    before_invoke: z.array(callback).default([]),
    after_invoke: z.array(callback).default([]),
    channel: z.array(channel).min(1, { error: 'the mosn invoker needs at least one channel' }),
    /** Layotto API calls without a caller deadline give up after this long (ms; Layotto's invoker: 3000). */
    timeout: duration().refine((ms) => ms > 0, { error: 'must be greater than 0' }).default(3000),
  });
  return k.obj({
    server_name: z.string().min(1).default('runtime'),
    grpc_config: k
      .obj({
        rpcs: z
          .record(z.string(), z.unknown())
          .superRefine((r, ctx) => {
            for (const key of Object.keys(r)) {
              if (key !== 'mosn') ctx.addIssue({ code: 'custom', message: 'unknown rpc invoker (known: mosn)', path: [key], input: r[key] });
            }
          })
          .pipe(k.obj({ mosn: k.obj({ type: z.literal('mosn').optional(), config: mosnInvoker }) }))
          .optional(),
      })
      .prefault({}),
  });
}

export type GrpcFilterConfig = z.output<ReturnType<typeof grpc>>;

function checkGrpc(g: GrpcFilterConfig, path: string, refs: ConfigRefs): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const mosn = g.grpc_config.rpcs?.mosn.config;
  if (mosn === undefined) return issues;
  const base = childPath(path, 'grpc_config', 'rpcs', 'mosn', 'config');
  const { channels, beforeInvoke, afterInvoke } = refs.catalog;
  mosn.channel.forEach((c, i) => {
    if (!channels.has(c.protocol)) {
      issues.push({ path: childPath(base, 'channel', i, 'protocol'), message: `no channel protocol "${c.protocol}" in this build (${known(channels)})` });
    } else {
      // Each channel protocol validates its own `ext` (bolt requires `class`); unknown keys are errors.
      const spec = channels.spec(c.protocol);
      if (spec !== undefined) {
        const r = validate(specPair(spec), c.ext ?? {}, childPath(base, 'channel', i, 'ext'), spec.ignored ?? {});
        if (!r.ok) issues.push(...r.issues);
        else if (spec.check !== undefined) issues.push(...spec.check(r.value, childPath(base, 'channel', i, 'ext'), refs));
        // An option a channel does not know would change nothing: refused rather than warned.
        for (const w of r.warnings) issues.push({ path: w.slice(0, w.indexOf(': ')), message: `unknown key: not an option of the ${c.protocol} channel` });
      }
    }
    // host:port and socket paths dial out; a bare name must be an in-process listener of this file.
    const where = parseAddress(c.listener, CHANNEL_ADDRESS);
    if (where.ok && where.value.kind === 'inprocess' && !refs.listeners.has(c.listener)) {
      issues.push({ path: childPath(base, 'channel', i, 'listener'), message: `no listener named "${c.listener}" (${known(refs.listeners)})` });
    }
  });
  mosn.before_invoke.forEach((cb, i) => {
    if (!beforeInvoke.has(cb.name)) issues.push({ path: childPath(base, 'before_invoke', i, 'name'), message: `no before_invoke callback "${cb.name}" (${known(beforeInvoke)})` });
  });
  mosn.after_invoke.forEach((cb, i) => {
    if (!afterInvoke.has(cb.name)) issues.push({ path: childPath(base, 'after_invoke', i, 'name'), message: `no after_invoke callback "${cb.name}" (${known(afterInvoke)})` });
  });
  return issues;
}

/** Layotto's mosn invoker calls `channel[0]` only; later entries are validated and never used. */
function warnGrpc(g: GrpcFilterConfig, path: string): string[] {
  const channels = g.grpc_config.rpcs?.mosn.config.channel ?? [];
  const base = childPath(path, 'grpc_config', 'rpcs', 'mosn', 'config', 'channel');
  const notDialed = channels.flatMap((c, i) =>
    typeof c.ext?.['cluster'] === 'string' ? [`${childPath(base, i, 'listener')}: not dialed: the calls go to the hosts of ext.cluster`] : [],
  );
  return [...notDialed, ...channels.slice(1).map((_, i) => `${childPath(base, i + 1)}: ignored: the mosn invoker sends every call on channel[0], as Layotto's does`)];
}

function daprHttp(k: ConfigKit) {
  return k.obj({ server_name: z.string().min(1).default('runtime') });
}

const notServed = { reason: 'ignored: Ringside serves only the RPC (InvokeService) and hello APIs' };

export const proxyFilterSpec: ConfigSpec<ProxyFilterConfig> = {
  schema: proxy,
  check: checkProxy,
  ignored: {
    '': {
      validate_clusters: { reason: 'ignored: clusters are always validated at load', quietWhenEmpty: true },
      name: { reason: "ignored: MOSN's label for the filter instance is informational", quietWhenEmpty: true },
      transparent_proxy: { reason: 'ignored: transparent proxying is not supported', quietWhenEmpty: true },
    },
  },
};

export const tcpProxyFilterSpec: ConfigSpec<TcpProxyFilterConfig> = {
  schema: tcpProxy,
  check: checkTcpProxy,
  ignored: { '': { transparent_proxy: { reason: 'ignored: transparent proxying is not supported', quietWhenEmpty: true } } },
};

export const grpcFilterSpec: ConfigSpec<GrpcFilterConfig> = {
  schema: grpc,
  check: checkGrpc,
  warn: warnGrpc,
  ignored: {
    grpc_config: {
      hellos: { reason: "ignored: SayHello answers with Ringside's own greeting, not a hello component's", quietWhenEmpty: true },
      ...Object.fromEntries(
      ['state', 'lock', 'pub_subs', 'sequencer', 'secret_store', 'bindings', 'custom_component', 'config_store', 'configStore', 'file', 'oss', 'email', 'sms', 'phone', 'cryption', 'delay_queue', 'app'].map(
        (key) => [key, notServed],
      ),
      ),
    },
  },
};

export const daprHttpFilterSpec: ConfigSpec<z.output<ReturnType<typeof daprHttp>>> = { schema: daprHttp };

/** What parse functions return: the normalized config and the warnings (unknown keys) with paths. */
export interface ParsedFilterConfig<T> {
  config: T;
  warnings: string[];
}

/**
 * Validates one extension's raw config with its spec (no cross-references: the loader did those).
 * `path` is the JSON path of that config; throws ConfigError whose issue paths extend it.
 */
export function parseWithSpec<T>(label: string, spec: ConfigSpec<T>, raw: unknown, path: string): ParsedFilterConfig<T> {
  const r = validate(specPair(spec), raw, path, spec.ignored ?? {});
  if (!r.ok) throw new ConfigError(label, r.issues);
  return { config: observer === undefined ? r.value : (observer(spec as ConfigSpec, r.value, path) as T), warnings: r.warnings };
}

type ParsedObserver = (spec: ConfigSpec, config: unknown, path: string) => unknown;
let observer: ParsedObserver | undefined;

/**
 * Instrumentation for the schema-leaf test (test/config/every-schema-leaf-is-read.test.ts): it
 * wraps each parsed extension config to see which keys the layers read. Unset in production.
 */
export function observeParsedConfigs(fn: ParsedObserver | undefined): void {
  observer = fn;
}

export function parseProxyFilterConfig(raw: unknown, path: string): ParsedFilterConfig<ProxyFilterConfig> {
  return parseWithSpec('proxy filter', proxyFilterSpec, raw, path);
}

export function parseTcpProxyFilterConfig(raw: unknown, path: string): ParsedFilterConfig<TcpProxyFilterConfig> {
  return parseWithSpec('tcp_proxy filter', tcpProxyFilterSpec, raw, path);
}

export function parseGrpcFilterConfig(raw: unknown, path: string): ParsedFilterConfig<GrpcFilterConfig> {
  return parseWithSpec('grpc filter', grpcFilterSpec, raw, path);
}

export type { IgnoredTable };
