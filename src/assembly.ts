/**
 * The per-worker half of the composition root: builds one worker's data plane from the validated
 * config, layer by layer, bottom-up, and hands the worker runtime its Net/IO port.
 *
 *   worker entry: WorkerDeps (run loop, offload pool, scheduler dialer) ─┐
 *   routers ─┐   cluster manager ─┐   upstream clients ─┐   runtime host ─┴─▶ DataplaneDeps (typed)
 *   listeners (config + Dapr ports) ─▶ WorkerNetwork ─▶ each network filter factory's ctx.services
 *
 * src/extensions.ts registers the static extensions by name; what is built here is per worker
 * (each worker owns its pools, breakers and grpc-js server, so nothing needs a lock).
 */
import { logger } from './common/log.js';
import type { AccessLog } from './types/accesslog.js';
import { compileAccessLogFormat, type CompiledFormat } from './accesslog/format.js';
import { openAccessLogs } from './accesslog/writer.js';
import { Registry } from './common/registry.js';
import type { DaprSettings, RingsideConfig } from './config/types.js';
import type { CodecLimits } from './types/protocol.js';
import type { Http2Settings } from './types/http2.js';
import type { StreamFilterChainFactory, StreamFilterContext } from './types/stream.js';
import type { StreamClientFactory } from './types/proxy.js';
import type { ListenerReady } from './types/messages.js';
import type { Host } from './types/upstream.js';
import type { DataplaneDeps, Extensions } from './extensions.js';
import type { NetworkContext, WorkerNetwork as NetworkPort } from './worker/network-port.js';
import { WorkerNetwork, type ListenerConfigInput } from './network/index.js';
import { buildRouting } from './routing.js';
import type { ProxyServices } from './proxy/proxy-filter.js';
import { DownstreamDrain } from './stream/drain.js';
import { applyReload } from './network/listeners/reload.js';
import { UpstreamTlsTable } from './network/tls/upstream.js';
import { RuntimeHost, daprListeners, startDemoUpstream, type DemoUpstream } from './runtime/index.js';

const log = logger('assembly');

/** A format the loader already validated. */
function compiledFormat(format: string): CompiledFormat {
  const r = compileAccessLogFormat(format);
  if (!r.ok) throw new Error(`unvalidated access log format: ${r.message}`);
  return r.format;
}
/** Grace given to gRPC clients (GOAWAY) before their connections are closed on drain. */
const GRPC_DRAIN_GRACE_MS = 1000;

/** ringside.http2 as the engine's settings (header list size: limits.max_header_bytes unless set). */
function http2SettingsOf(config: RingsideConfig): Partial<Http2Settings> {
  const h = config.ringside.http2;
  return {
    maxConcurrentStreams: h.max_concurrent_streams,
    initialStreamWindowSize: h.initial_stream_window_size,
    initialConnectionWindowSize: h.initial_connection_window_size,
    maxFrameSize: h.max_frame_size,
    maxHeaderListSize: h.max_header_list_size ?? config.ringside.limits.max_header_bytes,
    maxResetsPerSecond: h.max_resets_per_second,
    maxControlFramesPerSecond: h.max_control_frames_per_second,
    settingsAckTimeoutMs: h.settings_timeout,
    headersTimeoutMs: h.headers_timeout ?? config.ringside.limits.request_header_timeout,
  };
}

function codecLimitsOf(config: RingsideConfig): Partial<CodecLimits> {
  const l = config.ringside.limits;
  return {
    maxHeaderBytes: l.max_header_bytes,
    maxHeaders: l.max_headers,
    maxBodyBytes: l.max_body_bytes,
    maxRequestLineBytes: l.max_request_line_bytes,
  };
}

/** Every listener this worker serves: the configured ones, then the Dapr ports when enabled. */
function listenersOf(config: RingsideConfig, dapr: DaprSettings): ListenerConfigInput[] {
  const configured = config.servers.flatMap((s) => s.listeners) as unknown as ListenerConfigInput[];
  return [...configured, ...(daprListeners(dapr) as ListenerConfigInput[])];
}

export function assembleDataplane(ctx: NetworkContext, ext: Extensions): NetworkPort {
  const config = ctx.config;
  const settings = config.ringside;
  const limits = codecLimitsOf(config);

  const { routers, clusterManager } = buildRouting(config, ext);
  const upstreamClients = new Registry<StreamClientFactory>('upstream client');
  const http2 = http2SettingsOf(config);
  // Each cluster with a tls_context: its client SecureContext on this worker, re-read on rotation.
  const upstreamTls = new UpstreamTlsTable(config.cluster_manager.clusters, settings.tls.certificate_check_interval);
  const clientOptions = {
    connectTimeoutMs: (h: Host) => clusterManager.getCluster(h.clusterName)?.connectTimeoutMs ?? 0,
    http2Of: (h: Host) => clusterManager.getCluster(h.clusterName)?.http2Settings,
    limits,
    http2,
    runLoop: ctx.worker.runLoop,
    tls: (h: Host, alpn?: readonly string[]) => upstreamTls.options(h.clusterName, alpn),
  };
  for (const name of ext.upstreamClients.names()) upstreamClients.register(name, ext.upstreamClients.require(name)(clientOptions));
  // Health checks dial the way the pools do: same run loop, same clusters' TLS.
  clusterManager.setProbeDialing({ runLoop: ctx.worker.runLoop, tls: clientOptions.tls });

  const listenerStreamFilters = new Map<string, StreamFilterChainFactory[]>();
  const { offload, placement, dialInProcess: schedulerDial } = ctx.worker;
  const filterContext: StreamFilterContext = offload === undefined ? { maxBodyBytes: limits.maxBodyBytes } : { offload, maxBodyBytes: limits.maxBodyBytes };
  const streamFiltersOf = (l: RingsideConfig['servers'][number]['listeners'][number], s: number, i: number): StreamFilterChainFactory[] =>
    l.stream_filters.map((f, j) =>
      ext.streamFilters.require(f.type).create(f.config, f.path || `servers[${s}].listeners[${i}].stream_filters[${j}].config`, filterContext),
    );
  config.servers.forEach((server, s) => server.listeners.forEach((l, i) => listenerStreamFilters.set(l.name, streamFiltersOf(l, s, i))));

  let network: WorkerNetwork<DataplaneDeps> | null = null;
  // The schema filled in DAPR_GRPC_PORT, DAPR_HTTP_PORT and DAPR_API_TOKEN where the file sets none.
  const dapr = settings.dapr;
  const runtime = new RuntimeHost({
    workerIndex: ctx.workerIndex,
    // The worker's dialer lets the scheduler place the far end (this worker, or a less loaded one);
    // without one (tests building a single data plane) dial this worker's own listeners.
    dialInProcess: (name) => {
      if (schedulerDial !== undefined) return schedulerDial(name);
      if (network === null) throw new Error('the network is not built yet');
      return network.dialInProcess(name);
    },
    placement,
    invokerFilters: ext.invokerFilters,
    channels: ext.channels,
    maxGrpcMessageBytes: settings.limits.max_grpc_message_bytes,
    http2,
    clusters: { cluster: (name) => clusterManager.getCluster(name), loadBalancer: (lbType) => ext.loadBalancers.get(lbType) },
    offload,
    daprHttpTimeouts: { headersMs: settings.limits.request_header_timeout, idleMs: settings.limits.idle_timeout },
    maxHeaderBytes: settings.limits.max_header_bytes,
    maxRequestLineBytes: settings.limits.max_request_line_bytes,
    dapr,
    // The supervisor drains on SIGTERM, whichever thread sends it.
    requestShutdown: () => process.kill(process.pid, 'SIGTERM'),
    ...(settings.resiliency !== undefined ? { resiliency: settings.resiliency } : {}),
  });
  const networkFilters = ext.networkFilters;

  const accessLogs = new Map<string, AccessLog>();
  const accessLogOf = (l: RingsideConfig['servers'][number]['listeners'][number]): AccessLog | undefined =>
    openAccessLogs(l.access_logs.map((a) => ({ path: a.log_path, format: compiledFormat(a.log_format) })));
  for (const l of config.servers.flatMap((s) => s.listeners)) {
    const log = accessLogOf(l);
    if (log !== undefined) accessLogs.set(l.name, log);
  }

  const downstreamDrain = new DownstreamDrain();
  const proxyServices: ProxyServices = {
    accessLogs,
    routers,
    clusterManager,
    codecs: ext.codecs,
    xprotocols: ext.xprotocols,
    streamConnections: ext.streamConnections,
    upstreamClients,
    listenerStreamFilters,
    codecLimits: limits,
    http2Settings: http2,
    downstreamDrain,
    downstreamLimits: {
      maxPendingRequests: settings.limits.max_pending_requests,
      maxPipelinedRequests: settings.limits.max_pipelined_requests,
      requestHeaderTimeoutMs: settings.limits.request_header_timeout,
      idleTimeoutMs: settings.limits.idle_timeout,
    },
  };
  const services: DataplaneDeps = { ...proxyServices, runtime, runLoop: ctx.worker.runLoop, upstreamTls };
  network = new WorkerNetwork({
    workerIndex: ctx.workerIndex,
    workerCount: ctx.workerCount,
    listeners: listenersOf(config, dapr),
    networkFilters,
    services,
    runLoop: ctx.worker.runLoop,
    maxConnections: settings.limits.max_connections,
    tls: { handshakeTimeoutMs: settings.tls.handshake_timeout, checkIntervalMs: settings.tls.certificate_check_interval },
  });
  const net = network;

  // A reload: everything is built and bound before anything is swapped (src/network/listeners/reload.ts).
  let current = config;
  const reload = (next: RingsideConfig, bound: readonly ListenerReady[]) => {
    // New dials to a changed cluster use its new tls_context; a failed reload puts the old ones back.
    try {
      upstreamTls.update(next.cluster_manager.clusters);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return applyReload(
      { routers, clusterManager, network: net, listenerStreamFilters, accessLogs, streamFiltersOf, accessLogOf, listenersOf: (c) => listenersOf(c, dapr) },
      current,
      next,
      bound,
    ).then(
      (ready) => {
        current = next;
        return ready;
      },
      (err: unknown) => {
        upstreamTls.update(current.cluster_manager.clusters);
        throw err;
      },
    );
  };

  // The demo upstream binds one port, so one worker serves it (node:http, outside the data plane).
  let demo: DemoUpstream | null = null;
  const demoWanted = settings.demo_upstream.enabled && ctx.workerIndex === 0;

  return {
    async start(bound: readonly ListenerReady[]): Promise<ListenerReady[]> {
      if (demoWanted && demo === null) {
        demo = await startDemoUpstream(settings.demo_upstream.address);
        log.info(`demo upstream answering on ${demo.address}`);
      }
      await clusterManager.start();
      return net.start(bound);
    },
    async stopAccepting(): Promise<void> {
      await net.stopAccepting();
      // Idle keep-alive connections close now; busy ones after their last response (Connection: close).
      downstreamDrain.goAwayAll();
      // gRPC clients keep HTTP/2 connections open; GOAWAY lets their in-flight calls finish.
      void runtime.close(GRPC_DRAIN_GRACE_MS);
    },
    activeConnections: () => net.activeConnections(),
    closeConnections(reason: string): void {
      net.closeConnections(reason);
      for (const log of accessLogs.values()) log.close();
      clusterManager.close();
      void demo?.close();
      demo = null;
    },
    listenerStats: () => net.listenerStats(),
    apply: (next, bound) => reload(next as RingsideConfig, bound),
    clusterStats: () => clusterManager.stats(),
    dialInProcess: (name) => net.dialInProcess(name),
    acceptRemote: (listener, descriptor) => net.acceptRemote(listener, descriptor),
  };
}
