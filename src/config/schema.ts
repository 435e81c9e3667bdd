/**
 * The zod schema of a Ringside config file: MOSN's `servers[]` (listeners, routers) and
 * `cluster_manager`, plus Ringside's own `ringside` section. Outputs are normalized: durations in
 * milliseconds, addresses parsed into endpoints, MOSN defaults filled in, header options flattened.
 * Network filter configs stay raw (`config: unknown`) — each filter factory validates its own.
 */
import { z } from 'zod';
import type { ConfigCatalog, NameSet } from '../types/extension.js';
import { kit, regexIssue, type Kit } from './kit.js';
import { resiliencySchema } from '../runtime/resiliency/schema.js';
import { DEFAULT_ACCESS_LOG_FORMAT, compileAccessLogFormat } from '../accesslog/format.js';
import { addressString, duration, endpointOf, nonNegativeInt, parseAddress, port, positiveInt } from './primitives.js';
import { ADMIN_ADDRESS, CHANNEL_ADDRESS, HOST_ADDRESS, LISTENER_ADDRESS, TCP_ADDRESS } from '../common/address.js';
import { checkListenerTls, filterChainMatchSchema, tlsContextSchema } from '../network/tls/schema.js';
import { socketMode } from '../runtime/drpc/config.js';

export { LISTENER_ADDRESS, HOST_ADDRESS } from '../common/address.js';

/** MOSN log levels, mapped onto Ringside's four. */
const LOG_LEVELS: Record<string, 'error' | 'warn' | 'info' | 'debug'> = {
  FATAL: 'error',
  ERROR: 'error',
  CRITICAL: 'error',
  WARN: 'warn',
  WARNING: 'warn',
  INFO: 'info',
  DEBUG: 'debug',
  TRACE: 'debug',
};

/** Values the environment supplies to `ringside` defaults; parseConfig reads them from process.env. */
export interface SettingsDefaults {
  workers: number;
  daprGrpcPort: number;
  daprHttpPort: number;
  daprApiToken: string | undefined;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** A name the build registers (load balancer, cluster type); the message lists what is known. */
function registered(names: NameSet, kind: string) {
  return z.string().superRefine((v, ctx) => {
    if (!names.has(v)) ctx.addIssue({ code: 'custom', message: `unknown ${kind} "${v}" (known: ${names.names().join(', ')})`, input: v });
  });
}

function filterSpec(k: Kit) {
  return k
    .obj({ type: z.string().min(1, { error: 'a filter needs a type' }), config: z.unknown().optional() })
    .transform((f) => ({
      type: f.type,
      /** Raw JSON; the factory registered under `type` validates it (absent → {}). */
      config: f.config === undefined ? ({} as unknown) : f.config,
      /** JSON path of `config`, for the factory's error messages; filled in by the loader. */
      path: '',
    }));
}

function headerOptions(k: Kit) {
  const option = k
    .obj({
      header: k.obj({ key: z.string().min(1, { error: 'a header needs a key' }), value: z.string() }),
      append: z.boolean().optional(),
    })
    // MOSN appends unless told otherwise; flatten so routers read key/value directly.
    .transform((o) => ({ key: o.header.key, value: o.header.value, append: o.append ?? true }));
  return z.array(option).default([]);
}

function headerNames() {
  return z.array(z.string().min(1)).default([]);
}

function routeMatch(k: Kit) {
  const header = k
    .obj({ name: z.string().min(1), value: z.string(), regex: z.boolean().default(false) })
    .superRefine((h, ctx) => {
      const bad = h.regex ? regexIssue(h.value) : undefined;
      if (bad !== undefined) ctx.addIssue({ code: 'custom', message: bad, path: ['value'], input: h.value });
    });
  return k
    .obj({
      prefix: z.string().optional(),
      path: z.string().optional(),
      regex: z.string().optional(),
      headers: z.array(header).default([]),
    })
    .superRefine((m, ctx) => {
      const kinds = (['prefix', 'path', 'regex'] as const).filter((key) => m[key] !== undefined);
      if (kinds.length > 1) ctx.addIssue({ code: 'custom', message: `use only one of prefix, path, regex (got ${kinds.join(', ')})`, input: m });
      if (kinds.length === 0 && m.headers.length === 0) {
        ctx.addIssue({ code: 'custom', message: 'a route match needs prefix, path, regex or headers', input: m });
      }
      const bad = m.regex === undefined ? undefined : regexIssue(m.regex);
      if (bad !== undefined) ctx.addIssue({ code: 'custom', message: bad, path: ['regex'], input: m.regex });
    });
}

function weightedClusters(k: Kit) {
  const entry = k
    .obj({ cluster: k.obj({ name: z.string().min(1), weight: nonNegativeInt() }) })
    .transform((e) => ({ name: e.cluster.name, weight: e.cluster.weight }));
  // MOSN writes a bare array; the {clusters: [...]} wrapper is Envoy's spelling, accepted too.
  return z.union([z.array(entry), k.obj({ clusters: z.array(entry) }).transform((w) => w.clusters)]);
}

function hashPolicy(k: Kit) {
  return k
    .obj({
      header: k.obj({ key: z.string().min(1) }).optional(),
      http_cookie: k.obj({ name: z.string().min(1) }).optional(),
      source_ip: k.obj({}).optional(),
    })
    .superRefine((p, ctx) => {
      const n = Number(p.header !== undefined) + Number(p.http_cookie !== undefined) + Number(p.source_ip !== undefined);
      if (n !== 1) ctx.addIssue({ code: 'custom', message: 'a hash_policy entry needs exactly one of header, http_cookie, source_ip', input: p });
    });
}

/** HTTP conditions, then Envoy's gRPC ones (a Trailers-Only answer with that grpc-status). */
const RETRY_CONDITIONS = ['5xx', 'gateway-error', 'connect-failure', 'reset', 'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable'];

function retryConditions() {
  return z.string().superRefine((v, ctx) => {
    for (const t of v.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
      if (!RETRY_CONDITIONS.includes(t)) ctx.addIssue({ code: 'custom', message: `unknown retry condition "${t}" (known: ${RETRY_CONDITIONS.join(', ')})`, input: v });
    }
  });
}

function routeAction(k: Kit) {
  return k
    .obj({
      cluster_name: z.string().min(1).optional(),
      weighted_clusters: weightedClusters(k).optional(),
      /** Upstream protocol override for this route (codec name), when it differs from the proxy's. */
      upstream_protocol: z.string().min(1).optional(),
      /** Whole-request timeout in ms; absent means the proxy's default. */
      timeout: duration().optional(),
      retry_policy: k
        .obj({
          // MOSN's retry_on is a switch (true: connect failure, reset and 5xx when safe); Envoy's
          // condition list ("5xx,gateway-error,connect-failure,reset", and the gRPC statuses
          // "cancelled,deadline-exceeded,internal,resource-exhausted,unavailable") is accepted too.
          retry_on: z.union([z.boolean(), retryConditions()], { error: 'expected true, false or a list such as "5xx,connect-failure"' }).default(false),
          /** Per-try timeout in ms. */
          retry_timeout: duration().optional(),
          num_retries: nonNegativeInt().default(1),
        })
        .optional(),
      prefix_rewrite: z.string().optional(),
      /** Replaces the Host header sent upstream. */
      host_rewrite: z.string().min(1).optional(),
      /** Where consistent-hash balancers get their key; the first entry that yields a value wins. */
      hash_policy: z.array(hashPolicy(k)).default([]),
      request_headers_to_add: headerOptions(k),
      request_headers_to_remove: headerNames(),
      response_headers_to_add: headerOptions(k),
      response_headers_to_remove: headerNames(),
    })
    .superRefine((r, ctx) => {
      const has = Number(r.cluster_name !== undefined) + Number(r.weighted_clusters !== undefined);
      if (has !== 1) ctx.addIssue({ code: 'custom', message: 'a route needs exactly one of cluster_name, weighted_clusters', input: r });
    });
}

function routeEntry(k: Kit) {
  return k
    .obj({
      match: routeMatch(k),
      route: routeAction(k).optional(),
      direct_response: k
        .obj({
          status: z.number().int().min(100, { error: 'expected an HTTP status (100-599)' }).max(599, { error: 'expected an HTTP status (100-599)' }),
          body: z.string().default(''),
        })
        .optional(),
    })
    .superRefine((r, ctx) => {
      if ((r.route === undefined) === (r.direct_response === undefined)) {
        ctx.addIssue({ code: 'custom', message: 'a route needs exactly one of route, direct_response', input: r });
      }
      const m = r.match;
      if (r.route?.prefix_rewrite !== undefined && m.prefix === undefined && m.path === undefined && m.regex === undefined) {
        ctx.addIssue({ code: 'custom', message: 'prefix_rewrite needs a prefix, path or regex match', path: ['route', 'prefix_rewrite'], input: r.route.prefix_rewrite });
      }
    });
}

function virtualHost(k: Kit) {
  return k.obj({
    name: z.string().default(''),
    /** Exact names, `*.suffix` or `*`. */
    domains: z.array(z.string().min(1)).min(1, { error: 'a virtual host needs at least one domain ("*" matches any)' }),
    routers: z.array(routeEntry(k)).default([]),
    request_headers_to_add: headerOptions(k),
    request_headers_to_remove: headerNames(),
    response_headers_to_add: headerOptions(k),
    response_headers_to_remove: headerNames(),
  });
}

function router(k: Kit) {
  return k.obj({
    router_config_name: z.string().min(1, { error: 'a router needs a router_config_name' }),
    virtual_hosts: z.array(virtualHost(k)).default([]),
    request_headers_to_add: headerOptions(k),
    request_headers_to_remove: headerNames(),
    response_headers_to_add: headerOptions(k),
    response_headers_to_remove: headerNames(),
  });
}

function accessLog(k: Kit) {
  return k.obj({
    log_path: z.string().min(1, { error: 'an access log needs a log_path ("stdout", "stderr" or a file)' }),
    log_format: z
      .string()
      .default(DEFAULT_ACCESS_LOG_FORMAT)
      .superRefine((f, ctx) => {
        const r = compileAccessLogFormat(f);
        if (!r.ok) ctx.addIssue({ code: 'custom', message: r.message, input: f });
      }),
  });
}

function listener(k: Kit) {
  const filters = z.array(filterSpec(k));
  return k
    .obj({
      name: z.string().min(1, { error: 'a listener needs a name' }),
      address: addressString(LISTENER_ADDRESS),
      network: z.enum(['tcp', 'unix'], { error: 'expected "tcp" or "unix" (UDP listeners are not supported)' }).optional(),
      /** false: never bind a socket; the listener is reachable only in-process by its name. */
      bind_port: z.boolean().default(true),
      /** One line per finished proxy request: to "stdout", "stderr" or a file, in MOSN's format variables. */
      access_logs: z.array(accessLog(k)).default([]),
      listener_filters: filters.default([]),
      filter_chains: z
        .array(
          k.obj({
            filters: filters.min(1, { error: 'a filter chain needs at least one filter' }),
            /** TLS on the accepted connections (src/network/tls). */
            tls_context: tlsContextSchema(k, 'server').optional(),
            /** Several certificates on one chain; the SNI picks the one whose names match, the first is the default. */
            tls_context_set: z.array(tlsContextSchema(k, 'server')).min(1).optional(),
            /** Envoy's chain match: this chain serves these SNI server names ("*.example.com" too). */
            filter_chain_match: filterChainMatchSchema(k).optional(),
          }),
        )
        .min(1, { error: 'a listener needs a filter chain' }),
      stream_filters: filters.default([]),
      /** Close a connection with no traffic for this long (ms); absent = never. */
      connection_idle_timeout: duration().optional(),
      /** Older spelling of connection_idle_timeout. */
      idle_timeout: duration().optional(),
      /** File mode of a drpc:/path listener's socket file when it runs the proxy filter (default "0600"). */
      socket_mode: socketMode().optional(),
    })
    .superRefine((l, ctx) => {
      const parsed = parseAddress(l.address, { ...LISTENER_ADDRESS, network: l.network });
      if (!parsed.ok) return; // reported at address
      const inProcess = !l.bind_port || parsed.value.kind === 'inprocess';
      checkListenerTls(l.filter_chains, inProcess, (message, path) => ctx.addIssue({ code: 'custom', message, path }));
    })
    .transform(({ idle_timeout, ...l }) => ({
      ...l,
      connection_idle_timeout: l.connection_idle_timeout ?? idle_timeout,
      endpoint: endpointOf(l.address, { ...LISTENER_ADDRESS, network: l.network }),
    }));
}

function healthCheck(k: Kit) {
  const httpCheck = k.obj({
    /** Checks this port instead of the host's own. */
    port: port(1).optional(),
    timeout: duration().optional(),
    path: z.string().default('/'),
    method: z.string().min(1).default('GET'),
    /** Status codes that count as healthy (MOSN: only 200). */
    codes: z.array(z.number().int().min(100).max(599)).default([200]),
  });
  return k
    .obj({
      /** "tcp" (connect check, the default) or "Http1" / "http" (GET check_config.http_check_config.path). */
      protocol: z.string().optional(),
      timeout: duration().default(3000),
      interval: duration().default(10_000),
      interval_jitter: duration().default(0),
      healthy_threshold: positiveInt().default(1),
      unhealthy_threshold: positiveInt().default(3),
      check_config: k.obj({ http_check_config: httpCheck.optional() }).default({}),
    })
    .superRefine((h, ctx) => {
      if (h.protocol !== undefined && !/^(tcp|http|http1)$/i.test(h.protocol)) {
        ctx.addIssue({ code: 'custom', message: `health check protocol "${h.protocol}" is not supported (tcp, Http1)`, path: ['protocol'], input: h.protocol });
      }
    })
    .transform((h) => ({
      ...h,
      /** What the checker does; HTTP when the protocol says so or an http_check_config is given. */
      kind: (h.check_config.http_check_config !== undefined || /^http1?$/i.test(h.protocol ?? '') ? 'http' : 'tcp') as 'http' | 'tcp',
    }));
}

function cluster(k: Kit, catalog: ConfigCatalog) {
  const zeroIsUnset = nonNegativeInt()
    .optional()
    .transform((n) => (n === 0 ? undefined : n));
  const host = k
    .obj({
      address: addressString(HOST_ADDRESS),
      hostname: z.string().optional(),
      weight: positiveInt().max(128, { error: 'expected an integer 1..128' }).default(1),
    })
    .transform((h) => ({ ...h, endpoint: endpointOf(h.address, HOST_ADDRESS) }));
  return k.obj({
    name: z.string().min(1, { error: 'a cluster needs a name' }),
    /** A registered cluster type: where the hosts come from. */
    type: registered(catalog.clusterTypes, 'cluster type').default('SIMPLE'),
    /** A registered load balancer. */
    lb_type: registered(catalog.loadBalancers, 'load balancer').default('LB_ROUNDROBIN'),
    /** Requests one upstream connection carries before it is retired; 0 = no limit. */
    max_request_per_conn: nonNegativeInt().default(0),
    connect_timeout: duration().default(3000),
    /** Close idle pooled upstream connections after this long (ms); absent = keep. */
    idle_timeout: duration().optional(),
    /** STRICT_DNS / LOGICAL_DNS: how often host names are resolved again (MOSN / Envoy default 5 s). */
    dns_refresh_rate: duration().default(5000),
    /** STRICT_DNS / LOGICAL_DNS: which address families a name resolves to. */
    dns_lookup_family: z.enum(['AUTO', 'V4_ONLY', 'V6_ONLY']).default('AUTO'),
    // MOSN's JSON is a bare list of thresholds and only the first applies; 0 means "no limit".
    circuit_breakers: z
      .array(
        k.obj({
          max_connections: zeroIsUnset,
          max_pending_requests: zeroIsUnset,
          max_requests: zeroIsUnset,
          max_retries: zeroIsUnset,
        }),
      )
      .default([])
      .transform((list) => list[0] ?? {}),
    health_check: healthCheck(k).optional(),
    /** Ringside's HTTP/2 side toward this cluster's hosts (Http2 upstreams); each key overrides ringside.http2. */
    http2: k
      .obj({
        max_concurrent_streams: positiveInt().optional(),
        initial_stream_window_size: z.number().int().min(1).max(0x7fffffff).optional(),
        initial_connection_window_size: z.number().int().min(65_535).max(0x7fffffff).optional(),
        max_frame_size: z.number().int().min(16_384).max(16_777_215).optional(),
        max_header_list_size: positiveInt().optional(),
      })
      .optional(),
    hosts: z.array(host).default([]),
    /** GEERPC_REGISTRY / GEERPC_ETCD: where the cluster's geerpc servers are found (src/upstream/geerpc-cluster-types.ts). */
    geerpc_discovery: k
      .obj({
        /** GEERPC_REGISTRY: the GeeRegistry's URL (http://host:port/_geerpc_/registry). */
        registry_url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).optional(),
        /** GEERPC_ETCD: etcd client URLs. */
        etcd_endpoints: z.array(z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })).default([]),
        /** GEERPC_ETCD: the key prefix servers register under (geerpc's registerEtcd default). */
        etcd_prefix: z.string().min(1).default('/geerpc/servers/'),
        /** How often the registry is read again (the XClient's 10 s); etcd: the retry of a failed first listing. */
        refresh_interval: duration().default(10_000),
        /** How long a worker waits for the first answer before it serves without hosts. */
        first_fetch_timeout: duration().default(3000),
      })
      .optional(),
    /** TLS toward every host of the cluster (src/network/tls). */
    // Health checks dial like the pools (src/upstream/health-check.ts): over TLS when it is set.
    tls_context: tlsContextSchema(k, 'client').optional(),
  });
}

/**
 * xDS bootstrap keys, Envoy's spelling (MOSN reads the same): who this sidecar is (`node`), where its
 * control plane is (`dynamic_resources.ads_config.grpc_services` → a cluster of
 * `static_resources.clusters`), and which resource types come over ADS. src/xds reads them.
 */
function xdsBootstrap(k: Kit) {
  const adsSource = k.obj({ ads: k.obj({}), resource_api_version: z.enum(['V3'], { error: 'only the v3 xDS API is supported' }).default('V3') });
  const socketAddress = k.obj({ address: z.string().min(1), port_value: port(1) });
  const staticCluster = k.obj({
    name: z.string().min(1, { error: 'a cluster needs a name' }),
    type: z.enum(['STATIC', 'STRICT_DNS', 'LOGICAL_DNS'], { error: 'expected STATIC, STRICT_DNS or LOGICAL_DNS' }).default('STATIC'),
    load_assignment: k.obj({
      endpoints: z
        .array(k.obj({ lb_endpoints: z.array(k.obj({ endpoint: k.obj({ address: k.obj({ socket_address: socketAddress }) }) })).min(1) }))
        .min(1, { error: 'the control plane cluster needs an endpoint' }),
    }),
  });
  return {
    node: k
      .obj({
        id: z.string().min(1, { error: 'node.id names this sidecar to the control plane' }),
        cluster: z.string().default(''),
        metadata: z.record(z.string(), z.unknown()).optional(),
        locality: k.obj({ region: z.string().optional(), zone: z.string().optional(), sub_zone: z.string().optional() }).optional(),
      })
      .optional(),
    dynamic_resources: k
      .obj({
        ads_config: k.obj({
          api_type: z.enum(['GRPC'], { error: 'only api_type GRPC (ADS over gRPC) is supported' }).default('GRPC'),
          transport_api_version: z.enum(['V3'], { error: 'only the v3 xDS API is supported' }).default('V3'),
          grpc_services: z
            .array(k.obj({ envoy_grpc: k.obj({ cluster_name: z.string().min(1) }) }))
            .min(1, { error: 'ads_config needs a grpc_services entry naming the control plane cluster' }),
          set_node_on_first_message_only: z.boolean().default(false),
        }),
        lds_config: adsSource.optional(),
        cds_config: adsSource.optional(),
      })
      .optional(),
    static_resources: k.obj({ clusters: z.array(staticCluster).default([]) }).optional(),
  };
}

function settings(k: Kit, d: SettingsDefaults) {
  return k.obj({
    /** Worker threads carrying traffic; the CLI's --workers overrides it. */
    workers: positiveInt().default(d.workers),
    /** How long a drain waits for in-flight work before closing connections (ms). */
    drain_timeout: duration().default(15_000),
    offload: k.obj({ threads: positiveInt().default(1) }).prefault({}),
    /** V8 heap limits of every data-plane worker thread (Node's Worker `resourceLimits`); a restart applies a change. */
    worker_heap: k
      .obj({
        /**
         * Largest young generation of a worker's heap (MiB; V8 splits it into two semi-spaces and a large-object
         * space). Default: 48, what Node gives a worker. Smaller saves memory under load and costs throughput where
         * many calls are in flight (src/supervisor/heap-limits.ts has the measured trade).
         */
        max_young_generation_mb: z
          .number()
          .int({ error: 'expected an integer number of MiB' })
          .min(3, { error: 'expected at least 3 MiB (V8 needs a semi-space of 1 MiB)' })
          .max(1024, { error: 'expected at most 1024 MiB' })
          .default(48),
      })
      .prefault({}),
    /** TLS settings every listener and cluster with a tls_context shares. */
    tls: k
      .obj({
        /** A client must finish its handshake this long after connecting (ms); 0 = no limit. */
        handshake_timeout: duration().default(10_000),
        /** How often certificate, key and CA files are checked for changes (ms); 0 = never re-read. */
        certificate_check_interval: duration().default(5_000),
      })
      .prefault({}),
    limits: k
      .obj({
        /** Open connections per listener on each worker; more are refused at accept. */
        max_connections: positiveInt().default(10_000),
        max_header_bytes: positiveInt().default(64 * KiB),
        max_headers: positiveInt().default(100),
        max_body_bytes: positiveInt().default(4 * MiB),
        max_request_line_bytes: positiveInt().default(8 * KiB),
        /**
         * Requests one listener holds at once on each worker (more are answered 503), and the pending
         * queue of each cluster whose circuit breaker sets no max_pending_requests.
         */
        max_pending_requests: positiveInt().default(1024),
        /** HTTP/1.1 requests one connection may pipeline ahead of their answers; the next is answered 503 and ends it. */
        max_pipelined_requests: positiveInt().default(16),
        /** A request head must be complete this long after its first byte (ms); 0 = no limit. */
        request_header_timeout: duration().default(10_000),
        /** Idle timeout of proxy connections whose listener sets no connection_idle_timeout (ms); 0 = none. */
        idle_timeout: duration().default(60_000),
        max_grpc_message_bytes: positiveInt().default(4 * MiB),
      })
      .prefault({}),
    /** HTTP/2 limits and windows of Ringside's own side, on downstream and upstream connections alike. */
    http2: k
      .obj({
        /** Streams a peer may open on one connection at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
        max_concurrent_streams: positiveInt().default(100),
        /** Receive window per stream (SETTINGS_INITIAL_WINDOW_SIZE): body bytes a peer may have in flight per stream. */
        initial_stream_window_size: z.number().int().min(1).max(0x7fffffff).default(256 * KiB),
        /** Receive window of a whole connection. */
        initial_connection_window_size: z.number().int().min(65_535).max(0x7fffffff).default(MiB),
        /** Largest frame payload accepted (SETTINGS_MAX_FRAME_SIZE). */
        max_frame_size: z.number().int().min(16_384).max(16_777_215).default(16_384),
        /** Largest decoded header list accepted (SETTINGS_MAX_HEADER_LIST_SIZE); unset: limits.max_header_bytes. */
        max_header_list_size: positiveInt().optional(),
        /** Streams a peer may reset (or have refused) per second before the connection is closed (rapid reset). */
        max_resets_per_second: positiveInt().default(200),
        /** PING / SETTINGS / PRIORITY / empty frames tolerated per second before the connection is closed. */
        max_control_frames_per_second: positiveInt().default(1000),
        /** Our SETTINGS must be acknowledged this soon (ms), or the connection closes with SETTINGS_TIMEOUT; 0 = no limit. */
        settings_timeout: duration().default(10_000),
        /** The preface + first SETTINGS, and each header block, must be complete this soon (ms); unset: limits.request_header_timeout. */
        headers_timeout: duration().optional(),
      })
      .prefault({}),
    dapr: k
      .obj({
        enabled: z.boolean().default(false),
        grpc_port: port(1).default(d.daprGrpcPort),
        http_port: port(1).default(d.daprHttpPort),
        api_token: z.string().min(1).optional().transform((t) => t ?? d.daprApiToken),
        app_id: z.string().min(1).default('ringside'),
        /**
         * Dapr gRPC proxying (calls with dapr-app-id metadata to methods the Dapr port does not serve):
         * where they go — an in-process listener (a proxy routing on dapr-app-id), host:port or a socket path.
         */
        grpc_proxy: k
          .obj({
            listener: addressString(CHANNEL_ADDRESS),
            /** HTTP/2 connections per worker toward it, dialed as the peer's stream limit fills. */
            max_connections: positiveInt().default(4),
          })
          .optional(),
      })
      .prefault({}),
    /** A Dapr Resiliency resource for service invocation on the Dapr APIs (schema: src/runtime/resiliency). */
    resiliency: resiliencySchema(k).optional(),
    admin: k
      .obj({ enabled: z.boolean().default(true), address: addressString(ADMIN_ADDRESS).default('127.0.0.1:34901') })
      .transform((a) => ({ ...a, endpoint: endpointOf(a.address, ADMIN_ADDRESS) }))
      .prefault({}),
    demo_upstream: k
      .obj({ enabled: z.boolean().default(false), address: addressString(TCP_ADDRESS).default('127.0.0.1:34999') })
      .transform((u) => ({ ...u, endpoint: endpointOf(u.address, TCP_ADDRESS) }))
      .prefault({}),
    scheduler: k
      .obj({
        /** Whether new in-process connections may be placed on another worker. */
        cross_worker: z.boolean().default(true),
        /** Event-loop utilization (0-1] above which a worker counts as saturated. */
        saturation_threshold: z.number().gt(0, { error: 'expected a fraction in (0, 1]' }).lte(1, { error: 'expected a fraction in (0, 1]' }).default(0.85),
        /** Calls waiting for a channel pool connection (time-averaged) from which a busy worker counts as saturated too. */
        backlog_threshold: z.number().gt(0, { error: 'expected a number of calls > 0' }).lte(1e6, { error: 'expected at most 1000000 calls' }).default(4),
      })
      .prefault({}),
  });
}

export function buildSchemas(strict: boolean, d: SettingsDefaults, catalog: ConfigCatalog) {
  const k = kit(strict);
  const logLevel = z.string().transform((v, ctx) => {
    const level = LOG_LEVELS[v.toUpperCase()];
    if (level !== undefined) return level;
    ctx.addIssue({ code: 'custom', message: `expected one of ${Object.keys(LOG_LEVELS).join(', ')}, got "${v}"`, input: v });
    return z.NEVER;
  });
  const listenerSchema = listener(k);
  const routerSchema = router(k);
  const clusterSchema = cluster(k, catalog);
  const settingsSchema = settings(k, d);
  const server = k.obj({
    default_log_level: logLevel.optional(),
    /** Where every thread logs: "stdout", "stderr" or a file path (appended to); absent: stderr. */
    default_log_path: z.string().min(1, { error: 'expected "stdout", "stderr" or a file path' }).optional(),
    routers: z.array(routerSchema).default([]),
    listeners: z.array(listenerSchema).default([]),
  });
  const config = k.obj({
    servers: z.array(server).min(1, { error: 'a config needs at least one server' }),
    cluster_manager: k.obj({ clusters: z.array(clusterSchema).default([]) }).prefault({}),
    ringside: settingsSchema.prefault({}),
    ...xdsBootstrap(k),
  });
  return { config, server, listener: listenerSchema, router: routerSchema, cluster: clusterSchema, settings: settingsSchema };
}

export type Schemas = ReturnType<typeof buildSchemas>;
