/**
 * One grpc-js server per worker and server_name, never bound to a port: the worker's own listeners
 * accept the sockets and hand them over through createConnectionInjector, so each worker serves its
 * share of connections on its own thread (MOSN's grpc network filter feeding its grpc.Server).
 */
import { Server, ServerCredentials, type ConnectionInjector, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Duplex } from 'node:stream';
import { logger } from '../../common/log.js';
import type { GrpcStreamFilter, Invoker, RuntimeEnv } from '../../types/runtime.js';
import { DAPR_SERVICE, LAYOTTO_SERVICE, serviceDefinition } from '../proto.js';
import { daprGetMetadata, daprInvokeService } from '../dapr/grpc-api.js';
import { intercept } from './call.js';
import { invokeService, sayHello } from './layotto-api.js';

const log = logger('runtime.grpc');
const NO_FILTERS: readonly GrpcStreamFilter[] = [];

export class RuntimeGrpcServer {
  readonly name: string;
  readonly #server: Server;
  readonly #injector: ConnectionInjector;
  #invoker: Invoker | undefined;
  #connections = 0;
  #closed = false;

  constructor(name: string, env: RuntimeEnv, invoker: Invoker | undefined) {
    this.name = name;
    this.#invoker = invoker;
    this.#server = new Server({
      // A larger message fails in grpc-js itself with RESOURCE_EXHAUSTED, before any handler runs.
      'grpc.max_receive_message_length': env.maxGrpcMessageBytes,
      'grpc.max_send_message_length': env.maxGrpcMessageBytes,
    });
    const filters = env.grpcStreamFilters === undefined ? () => NO_FILTERS : (): readonly GrpcStreamFilter[] => env.grpcStreamFilters!(name);
    const getInvoker = (): Invoker | undefined => this.#invoker;
    const layotto: UntypedServiceImplementation = {
      SayHello: intercept(name, filters, sayHello),
      InvokeService: intercept(name, filters, (call) => invokeService(getInvoker, call)),
    };
    this.#server.addService(serviceDefinition(LAYOTTO_SERVICE), layotto);
    if (env.dapr.enabled) {
      const dapr: UntypedServiceImplementation = {
        InvokeService: intercept(name, filters, (call) => daprInvokeService(env.dapr, getInvoker, call)),
        GetMetadata: intercept(name, filters, (call) => daprGetMetadata(env.dapr, env.workerIndex, call)),
      };
      this.#server.addService(serviceDefinition(DAPR_SERVICE), dapr);
    }
    this.#injector = this.#server.createConnectionInjector(ServerCredentials.createInsecure());
  }

  get invoker(): Invoker | undefined {
    return this.#invoker;
  }

  /** A second filter config for the same server may bring the invoker the first one lacked. */
  setInvoker(invoker: Invoker): void {
    this.#invoker = invoker;
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

  /** Drains: GOAWAY to every session, then a hard close after graceMs. */
  close(graceMs = 1000): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#invoker?.close();
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
