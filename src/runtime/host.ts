/**
 * The runtime API on one worker: its grpc-js servers (one per server_name), their invokers, the Dapr
 * HTTP API, and the two network filter factories that feed them accepted transports. The composition
 * root builds one RuntimeHost per worker and registers its factories by name:
 *
 *   const runtime = new RuntimeHost(env);
 *   networkFilters.register('grpc', runtime.grpcFilterFactory);
 *   networkFilters.register('dapr_http', runtime.daprHttpFilterFactory);
 */
import type { Duplex } from 'node:stream';
import { FilterStatus, type Connection, type FactoryContext, type FilterChainBuilder, type NetworkFilterFactory, type ReadFilter } from '../types/network.js';
import type { GrpcStreamFilter, Invoker } from '../types/runtime.js';
import type { RuntimeEnv } from './env.js';
import { parseDaprHttpFilterConfig, parseGrpcFilterConfig, RuntimeConfigError, type RuntimeServerConfig } from './config.js';
import { DaprHttpApi } from './dapr/http-api.js';
import { RuntimeGrpcServer } from './grpc/server.js';
import type { DaprApiContext } from './dapr/grpc-api.js';
import { DaprMetadataStore } from './dapr/metadata.js';
import { Resiliency, type ResiliencyTargetStats } from './resiliency/runner.js';
import { MosnInvoker } from './invoker/mosn-invoker.js';
import { GrpcChannel } from '../upstream/grpc/channel.js';
import { DEFAULT_CONNECT_BACKOFF } from '../upstream/grpc/defaults.js';
import type { DaprGrpcProxyDeps } from './dapr/grpc-proxy.js';

/** Takes the raw transport from the connection at once and hands it to a server that drives it. */
class HandOverFilter implements ReadFilter {
  readonly #connection: Connection;
  readonly #sink: (transport: Duplex) => void;

  constructor(connection: Connection, sink: (transport: Duplex) => void) {
    this.#connection = connection;
    this.#sink = sink;
  }

  onNewConnection(): FilterStatus {
    const t = this.#connection.takeTransport();
    if (t.kind === 'ring') {
      this.#sink(t.endpoint.toDuplex());
      return FilterStatus.Stop;
    }
    this.#sink(t.socket);
    // Listeners accept with pauseOnConnect (so a filter chain decides before the first read); the
    // server that now owns the socket expects it reading, as a socket from its own listener would be.
    if (t.socket.isPaused()) t.socket.resume();
    return FilterStatus.Stop;
  }

  onData(): FilterStatus {
    // Never reached: the transport left the connection before its first read.
    return FilterStatus.Stop;
  }

  initializeReadFilterCallbacks(): void {}
}

/** The listener name of the Dapr gRPC port (see daprListeners): its server checks the API token on every call. */
export const DAPR_GRPC_LISTENER = 'dapr_grpc';

/** What the runtime's network filters (grpc, dapr_http, drpc) need from the worker: its RuntimeHost. */
export interface RuntimeDeps {
  readonly runtime: RuntimeHost;
}

export class RuntimeHost {
  readonly #env: RuntimeEnv;
  readonly #invokers = new Map<string, { invoker: Invoker | undefined; invokerJson: string | undefined }>();
  readonly #servers = new Map<string, RuntimeGrpcServer>();
  readonly #metadata: DaprMetadataStore;
  readonly #daprContexts = new Map<string, DaprApiContext>();
  readonly #resiliency: Resiliency;
  #daprHttp: DaprHttpApi | undefined;
  /** The channel Dapr gRPC proxying sends calls on (ringside.dapr.grpc_proxy), made on first use. */
  #proxyChannel: GrpcChannel | undefined;
  #closed = false;

  /** Registered as network filter "grpc" (MOSN/Layotto config: server_name, grpc_config). */
  readonly grpcFilterFactory: NetworkFilterFactory;
  /** Registered as network filter "dapr_http" (config: {server_name?}). */
  readonly daprHttpFilterFactory: NetworkFilterFactory;

  constructor(env: RuntimeEnv) {
    this.#env = env;
    this.#metadata = new DaprMetadataStore(env.dapr, env.workerIndex);
    this.#resiliency = new Resiliency(env.resiliency, env.dapr.app_id);
    this.grpcFilterFactory = {
      create: (config: unknown, path: string, ctx: FactoryContext) => {
        const server = this.ensureServer(parseGrpcFilterConfig(config, path), path, ctx.listenerName === DAPR_GRPC_LISTENER);
        return (connection: Connection, chain: FilterChainBuilder) => {
          chain.addReadFilter(new HandOverFilter(connection, (t) => server.inject(t)));
        };
      },
    };
    this.daprHttpFilterFactory = {
      create: (config: unknown, path: string, _ctx: FactoryContext) => {
        const { server_name } = parseDaprHttpFilterConfig(config, path);
        const api = this.#daprHttpApi(server_name);
        return (connection: Connection, chain: FilterChainBuilder) => {
          chain.addReadFilter(new HandOverFilter(connection, (t) => api.inject(t)));
        };
      },
    };
  }

  /**
   * The server named in the config for this port role, created on first use. Listeners that share a
   * server_name (the Layotto port and the Dapr gRPC port) share its invoker and may repeat the same
   * grpc_config or leave it out; a different one is a config error, since one name has one invoker.
   */
  ensureServer(config: RuntimeServerConfig, path: string, daprPort = false): RuntimeGrpcServer {
    const json = config.invoker === undefined ? undefined : JSON.stringify(config.invoker);
    let entry = this.#invokers.get(config.server_name);
    if (entry === undefined) {
      entry = { invoker: undefined, invokerJson: undefined };
      this.#invokers.set(config.server_name, entry);
    }
    if (json !== undefined) {
      if (entry.invokerJson !== undefined && json !== entry.invokerJson) {
        throw new RuntimeConfigError(`${path}.grpc_config`, `server "${config.server_name}" is already configured with a different grpc_config on this worker`);
      }
      if (entry.invokerJson === undefined) {
        entry.invoker = this.#newInvoker(config, path);
        entry.invokerJson = json;
      }
    }
    const key = `${config.server_name}\u0000${daprPort ? 'dapr' : 'runtime'}`;
    const existing = this.#servers.get(key);
    if (existing !== undefined) return existing;
    const invoker = (): Invoker | undefined => this.#invokers.get(config.server_name)?.invoker;
    const server = new RuntimeGrpcServer(config.server_name, this.#env, invoker, {
      daprPort,
      dapr: this.#daprContext(config.server_name),
      ...(daprPort ? { proxy: this.#proxyDeps() } : {}),
    });
    this.#servers.set(key, server);
    return server;
  }

  #proxyDeps(): DaprGrpcProxyDeps {
    return {
      appId: this.#env.dapr.app_id,
      maxMessageBytes: this.#env.maxGrpcMessageBytes,
      channel: () => {
        if (this.#proxyChannel !== undefined) return this.#proxyChannel;
        const target = this.#env.dapr.grpc_proxy;
        if (target === undefined) return 'gRPC proxying is not configured (ringside.dapr.grpc_proxy.listener names where apps are reached)';
        if (this.#closed) return 'the sidecar is shutting down';
        this.#proxyChannel = new GrpcChannel(
          [target.listener],
          { maxConnectionsPerTarget: target.max_connections, backoff: DEFAULT_CONNECT_BACKOFF, http2: this.#env.http2 ?? {}, maxMessageBytes: this.#env.maxGrpcMessageBytes },
          { dialInProcess: this.#env.dialInProcess, placement: this.#env.placement, offload: this.#env.offload },
        );
        return this.#proxyChannel;
      },
    };
  }

  #newInvoker(config: RuntimeServerConfig, path: string): Invoker {
    return new MosnInvoker(config.invoker!, `${path}.grpc_config.rpcs.mosn.config`, {
      filters: this.#env.invokerFilters,
      channels: this.#env.channels,
      env: { dialInProcess: this.#env.dialInProcess, placement: this.#env.placement, maxResponseBytes: this.#env.maxGrpcMessageBytes, offload: this.#env.offload, http2: this.#env.http2, clusters: this.#env.clusters },
    });
  }

  #daprContext(serverName: string): DaprApiContext {
    let ctx = this.#daprContexts.get(serverName);
    if (ctx === undefined) {
      ctx = {
        settings: this.#env.dapr,
        metadata: this.#metadata,
        // Looked up per request: the grpc listener with the invoker may be built after the Dapr ones.
        invoker: () => this.#invokers.get(serverName)?.invoker,
        run: (appId, req, invoke) => this.#resiliency.run(appId, req, invoke),
        requestShutdown: this.#env.requestShutdown,
      };
      this.#daprContexts.set(serverName, ctx);
    }
    return ctx;
  }

  /** The server for `name` (the Layotto-port one when both exist). */
  server(name: string): RuntimeGrpcServer | undefined {
    return this.#servers.get(`${name}\u0000runtime`) ?? this.#servers.get(`${name}\u0000dapr`);
  }

  /** This worker's resiliency counters per target app. */
  resiliencyStats(): ResiliencyTargetStats[] {
    return this.#resiliency.stats();
  }

  /** Every runtime server of this worker (health and drain reach all of them). */
  servers(): RuntimeGrpcServer[] {
    return [...this.#servers.values()];
  }

  /** The stream filters of runtime server `name` (for APIs served outside grpc-js: dRPC). */
  streamFilters(name: string): readonly GrpcStreamFilter[] {
    return this.#env.grpcStreamFilters?.(name) ?? [];
  }

  /** ringside.limits.max_grpc_message_bytes: the largest message the runtime API accepts. */
  get maxGrpcMessageBytes(): number {
    return this.#env.maxGrpcMessageBytes;
  }

  #daprHttpApi(serverName: string): DaprHttpApi {
    this.#daprHttp ??= new DaprHttpApi(this.#daprContext(serverName), {
      maxBodyBytes: this.#env.maxGrpcMessageBytes,
      maxHeaderBytes: this.#env.maxHeaderBytes ?? 64 * 1024,
      maxRequestLineBytes: this.#env.maxRequestLineBytes ?? 8 * 1024,
    }, this.#env.daprHttpTimeouts);
    return this.#daprHttp;
  }

  /** Closes every server (NOT_SERVING, GOAWAY, then a hard close after graceMs) and the channels' connections. */
  async close(graceMs = 1000): Promise<void> {
    this.#closed = true;
    this.#daprHttp?.close();
    await Promise.all([...this.#servers.values()].map((s) => s.close(graceMs)));
    this.#servers.clear();
    for (const entry of this.#invokers.values()) entry.invoker?.close();
    this.#invokers.clear();
    this.#proxyChannel?.close();
    this.#metadata.close();
  }
}
