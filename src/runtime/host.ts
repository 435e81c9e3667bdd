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
import type { GrpcFilterConfig, GrpcStreamFilter, Invoker, RuntimeEnv } from '../types/runtime.js';
import { parseDaprHttpFilterConfig, parseGrpcFilterConfig, RuntimeConfigError } from './config.js';
import { DaprHttpApi } from './dapr/http-api.js';
import { RuntimeGrpcServer } from './grpc/server.js';
import { MosnInvoker } from './invoker/mosn-invoker.js';

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

export class RuntimeHost {
  readonly #env: RuntimeEnv;
  readonly #servers = new Map<string, { server: RuntimeGrpcServer; invokerJson: string | undefined }>();
  #daprHttp: DaprHttpApi | undefined;

  /** Registered as network filter "grpc" (MOSN/Layotto config: server_name, grpc_config). */
  readonly grpcFilterFactory: NetworkFilterFactory;
  /** Registered as network filter "dapr_http" (config: {server_name?}). */
  readonly daprHttpFilterFactory: NetworkFilterFactory;

  constructor(env: RuntimeEnv) {
    this.#env = env;
    this.grpcFilterFactory = {
      create: (config: unknown, path: string, _ctx: FactoryContext) => {
        const server = this.ensureServer(parseGrpcFilterConfig(config, path), path);
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
   * The server named in the config, created on first use. Listeners that share a server (the Layotto
   * port and the Dapr gRPC port) may repeat the same grpc_config or leave it out; a different one is
   * a config error, since one server has one invoker.
   */
  ensureServer(config: GrpcFilterConfig, path: string): RuntimeGrpcServer {
    const json = config.invoker === undefined ? undefined : JSON.stringify(config.invoker);
    const existing = this.#servers.get(config.server_name);
    if (existing !== undefined) {
      if (json !== undefined && existing.invokerJson !== undefined && json !== existing.invokerJson) {
        throw new RuntimeConfigError(`${path}.grpc_config`, `server "${config.server_name}" is already configured with a different grpc_config on this worker`);
      }
      if (json !== undefined && existing.invokerJson === undefined) {
        existing.server.setInvoker(this.#newInvoker(config, path));
        existing.invokerJson = json;
      }
      return existing.server;
    }
    const invoker = config.invoker === undefined ? undefined : this.#newInvoker(config, path);
    const server = new RuntimeGrpcServer(config.server_name, this.#env, invoker);
    this.#servers.set(config.server_name, { server, invokerJson: json });
    return server;
  }

  #newInvoker(config: GrpcFilterConfig, path: string): Invoker {
    return new MosnInvoker(config.invoker!, `${path}.grpc_config.rpcs.mosn.config`, {
      filters: this.#env.invokerFilters,
      channels: this.#env.channels,
      env: { dialInProcess: this.#env.dialInProcess, placement: this.#env.placement, maxResponseBytes: this.#env.maxGrpcMessageBytes },
    });
  }

  server(name: string): RuntimeGrpcServer | undefined {
    return this.#servers.get(name)?.server;
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
    // The invoker is looked up per request: the grpc listener may be built after the Dapr HTTP one.
    this.#daprHttp ??= new DaprHttpApi(this.#env.dapr, this.#env.workerIndex, () => this.server(serverName)?.invoker, this.#env.maxGrpcMessageBytes, this.#env.daprHttpTimeouts);
    return this.#daprHttp;
  }

  /** Closes every server (GOAWAY, then a hard close after graceMs) and the channels' connections. */
  async close(graceMs = 1000): Promise<void> {
    this.#daprHttp?.close();
    await Promise.all([...this.#servers.values()].map((s) => s.server.close(graceMs)));
    this.#servers.clear();
  }
}
