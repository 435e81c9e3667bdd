/**
 * The composition root: every extension Ringside ships is registered here, by name, explicitly — no
 * registration by import side effect — so what a build contains can be read in this one file.
 *
 *   networkFilters  tcp_proxy, proxy, grpc, …          (src/network, src/proxy, src/runtime)
 *   codecs          Http1, bolt, dubbo, …               (src/protocol)
 *   streamFilters   per-stream filters by type          (src/stream)
 *   loadBalancers   LB_RANDOM, LB_ROUNDROBIN, …         (src/upstream)
 *   invokerFilters  Layotto before/after_invoke hooks   (src/runtime)
 *   channels        Layotto channel protocols           (src/runtime)
 *
 * Each worker calls createExtensions() once at boot; registries are per thread (nothing here is
 * shared across threads), so registering costs nothing on the data plane.
 */
import { Registry } from './common/registry.js';
import type { NetworkFilterFactory } from './types/network.js';
import type { NetworkFactory } from './worker/network-port.js';

export interface Extensions {
  readonly networkFilters: Registry<NetworkFilterFactory>;
  /** Entry types tighten to the layer interfaces (types/protocol.ts, …) as those layers land. */
  readonly codecs: Registry<unknown>;
  readonly streamFilters: Registry<unknown>;
  readonly loadBalancers: Registry<unknown>;
  readonly invokerFilters: Registry<unknown>;
  readonly channels: Registry<unknown>;
}

export function createExtensions(): Extensions {
  const ext: Extensions = {
    networkFilters: new Registry<NetworkFilterFactory>('network filter'),
    codecs: new Registry<unknown>('codec'),
    streamFilters: new Registry<unknown>('stream filter'),
    loadBalancers: new Registry<unknown>('load balancer'),
    invokerFilters: new Registry<unknown>('invoker filter'),
    channels: new Registry<unknown>('channel'),
  };
  // Built-ins, one line each, as their modules land:
  // ext.networkFilters.register('tcp_proxy', tcpProxyFactory);
  return ext;
}

/**
 * Builds the worker's Net/IO layer. Null until src/network provides its factory; a worker then boots
 * with no listeners (src/worker/network-port.ts emptyNetwork).
 */
export const networkFactory: NetworkFactory | null = null;
