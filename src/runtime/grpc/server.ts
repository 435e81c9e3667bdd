/**
 * One grpc-js server per worker, server_name and port role, never bound to a port: the worker's own
 * listeners accept the sockets and hand them over through createConnectionInjector, so each worker
 * serves its share of connections on its own thread (MOSN's grpc network filter feeding its
 * grpc.Server). Each serves Layotto's Runtime, Dapr's service (when enabled), health and reflection.
 *
 * The Dapr gRPC port gets its own server, sharing the invoker: with a Dapr API token configured, every
 * call on it — Layotto's API and reflection included, health excepted (probes carry no token) —
 * needs `dapr-api-token`, checked by a server interceptor before any handler runs. Any other method
 * called on it is Dapr gRPC proxying (src/runtime/dapr/grpc-proxy.ts): the call goes to the app that
 * its dapr-app-id metadata names.
 */
import {
  Server,
  ServerCredentials,
  ServerInterceptingCall,
  status as GrpcStatus,
  type ConnectionInjector,
  type ServerInterceptor,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { Duplex } from 'node:stream';
import { logger } from '../../common/log.js';
import type { GrpcStreamFilter, Invoker } from '../../types/runtime.js';
import type { RuntimeEnv } from '../env.js';
import { DAPR_SERVICE, LAYOTTO_SERVICE, serviceDefinition } from '../proto.js';
import { daprGetMetadata, daprInvokeService, daprSetMetadata, daprShutdown, type DaprApiContext } from '../dapr/grpc-api.js';
import { installProxyFallback, type DaprGrpcProxyDeps } from '../dapr/grpc-proxy.js';
import { intercept } from './call.js';
import { HEALTH_SERVICE, RuntimeHealth } from './introspection.js';
import { invokeService, sayHello } from './layotto-api.js';

const log = logger('runtime.grpc');
const NO_FILTERS: readonly GrpcStreamFilter[] = [];

/** Refuses every call but health without the right dapr-api-token. */
function apiTokenInterceptor(token: string): ServerInterceptor {
  const healthPrefix = `/${HEALTH_SERVICE}/`;
  return (method, call) =>
    new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (md, mdNext) => {
            if (method.path.startsWith(healthPrefix) || md.get('dapr-api-token')[0] === token) mdNext(md);
            else call.sendStatus({ code: GrpcStatus.UNAUTHENTICATED, details: 'missing or wrong dapr-api-token' });
          },
        }),
    });
}

export interface RuntimeGrpcServerOptions {
  /** The server behind the Dapr gRPC port: the API token guards every service on it. */
  readonly daprPort: boolean;
  readonly dapr: DaprApiContext;
  /** The Dapr gRPC port: methods it does not serve are proxied to the app named by dapr-app-id. */
  readonly proxy?: DaprGrpcProxyDeps;
}

export class RuntimeGrpcServer {
  readonly name: string;
  readonly #server: Server;
  readonly #injector: ConnectionInjector;
  readonly #invoker: () => Invoker | undefined;
  readonly #health: RuntimeHealth;
  #connections = 0;
  #closed = false;

  constructor(name: string, env: RuntimeEnv, invoker: () => Invoker | undefined, opts: RuntimeGrpcServerOptions) {
    this.name = name;
    this.#invoker = invoker;
    const token = env.dapr.api_token;
    this.#server = new Server({
      // A larger message fails in grpc-js itself with RESOURCE_EXHAUSTED, before any handler runs.
      'grpc.max_receive_message_length': env.maxGrpcMessageBytes,
      'grpc.max_send_message_length': env.maxGrpcMessageBytes,
      // Channelz keeps per-call and per-session counters and timestamps (closures and two Date.now()
      // per call) for a channelz service that Ringside does not serve; off, a call skips them.
      'grpc.enable_channelz': 0,
      ...(opts.daprPort && token !== undefined && token !== '' ? { interceptors: [apiTokenInterceptor(token)] } : {}),
    });
    const filters = env.grpcStreamFilters === undefined ? () => NO_FILTERS : (): readonly GrpcStreamFilter[] => env.grpcStreamFilters!(name);
    const layotto: UntypedServiceImplementation = {
      SayHello: intercept(name, filters, sayHello),
      InvokeService: intercept(name, filters, (call) => invokeService(invoker, call)),
    };
    this.#server.addService(serviceDefinition(LAYOTTO_SERVICE), layotto);
    if (env.dapr.enabled) {
      const ctx = opts.dapr;
      const dapr: UntypedServiceImplementation = {
        InvokeService: intercept(name, filters, (call) => daprInvokeService(ctx, call)),
        GetMetadata: intercept(name, filters, (call) => daprGetMetadata(ctx, call)),
        SetMetadata: intercept(name, filters, (call) => daprSetMetadata(ctx, call)),
        Shutdown: intercept(name, filters, (call) => daprShutdown(ctx, call)),
      };
      this.#server.addService(serviceDefinition(DAPR_SERVICE), dapr);
    }
    if (opts.daprPort && opts.proxy !== undefined) installProxyFallback(this.#server, opts.proxy);
    this.#health = new RuntimeHealth(env.dapr.enabled);
    this.#health.addToServer(this.#server);
    this.#injector = this.#server.createConnectionInjector(ServerCredentials.createInsecure());
  }

  get invoker(): Invoker | undefined {
    return this.#invoker();
  }

  get connections(): number {
    return this.#connections;
  }

  /** Hands over an accepted transport (a socket, ideally: a non-socket Duplex costs ~20 µs/request). */
  inject(transport: Duplex): void {
    if (this.#closed) {
      transport.destroy();
      return;
    }
    this.#connections++;
    transport.once('close', () => this.#connections--);
    this.#injector.injectConnection(transport);
  }

  /** Health answers NOT_SERVING from now on (the sidecar drains). */
  setServing(serving: boolean): void {
    this.#health.setServing(serving);
  }

  /** Drains: NOT_SERVING, GOAWAY to every session, then a hard close after graceMs. */
  close(graceMs = 1000): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#health.setServing(false);
    return new Promise((resolve) => {
      this.#injector.drain(graceMs);
      const timer = setTimeout(() => {
        this.#server.forceShutdown();
        resolve();
      }, graceMs);
      this.#server.tryShutdown((err) => {
        if (err !== undefined) log.warn(`grpc server ${this.name} shutdown: ${err.message}`);
        clearTimeout(timer);
        this.#injector.destroy();
        resolve();
      });
    });
  }
}
