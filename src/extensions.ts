/**
 * The composition root: every extension Ringside ships is registered here, by name, explicitly — no
 * registration by import side effect — so what a build contains can be read in this one file.
 *
 *   networkFilters     tcp_proxy, proxy                   (src/network, src/proxy)
 *                      grpc, dapr_http: bound to a worker's grpc-js server, added per worker by
 *                      src/assembly.ts on a fork of this registry
 *   codecs             Http1 (bolt, dubbo, Http2 later)   (src/protocol)
 *   streamConnections  the server side of each codec      (src/stream)
 *   streamFilters      fault, header_mutation             (src/stream)
 *   loadBalancers      LB_RANDOM, LB_ROUNDROBIN, …        (src/upstream)
 *   invokerFilters     Layotto before/after_invoke hooks  (src/runtime)
 *   channels           Layotto channel protocols          (src/runtime)
 *
 * Each worker calls createExtensions() once at boot and hands the result to assembleDataplane
 * (src/assembly.ts), which builds that worker's layers from config.
 */
import { Registry } from './common/registry.js';
import type { NetworkFilterFactory } from './types/network.js';
import type { ProtocolCodec } from './types/protocol.js';
import type { ServerStreamConnectionFactory, StreamFilterFactory } from './types/stream.js';
import type { LoadBalancerFactory } from './types/upstream.js';
import type { ChannelFactory, InvokerFilterRegistries } from './types/runtime.js';
import type { NetworkFactory } from './worker/network-port.js';
import { builtinNetworkFilters } from './network/index.js';
import { proxyFilterFactory } from './proxy/proxy-filter.js';
import { http1Codec, registerHttp1 } from './protocol/http1/index.js';
import { registerBuiltinStreamFilters, registerServerStreamConnections } from './stream/index.js';
import { registerBuiltinLoadBalancers } from './upstream/load-balancers.js';
import { newInvokerFilterRegistries, registerBuiltinChannels, registerBuiltinInvokerFilters } from './runtime/index.js';
import { assembleDataplane } from './assembly.js';

export interface Extensions {
  readonly networkFilters: Registry<NetworkFilterFactory>;
  readonly codecs: Registry<ProtocolCodec>;
  readonly streamConnections: Registry<ServerStreamConnectionFactory>;
  readonly streamFilters: Registry<StreamFilterFactory>;
  readonly loadBalancers: Registry<LoadBalancerFactory>;
  readonly invokerFilters: InvokerFilterRegistries;
  readonly channels: Registry<ChannelFactory>;
}

export function createExtensions(): Extensions {
  const ext: Extensions = {
    networkFilters: new Registry<NetworkFilterFactory>('network filter'),
    codecs: new Registry<ProtocolCodec>('codec'),
    streamConnections: new Registry<ServerStreamConnectionFactory>('stream connection'),
    streamFilters: new Registry<StreamFilterFactory>('stream filter'),
    loadBalancers: new Registry<LoadBalancerFactory>('load balancer'),
    invokerFilters: newInvokerFilterRegistries(),
    channels: new Registry<ChannelFactory>('channel'),
  };
  for (const [name, factory] of builtinNetworkFilters) ext.networkFilters.register(name, factory);
  ext.networkFilters.register('proxy', proxyFilterFactory);
  registerHttp1(ext.codecs);
  registerServerStreamConnections(ext.streamConnections);
  registerBuiltinStreamFilters(ext.streamFilters);
  registerBuiltinLoadBalancers(ext.loadBalancers);
  registerBuiltinInvokerFilters(ext.invokerFilters);
  registerBuiltinChannels(ext.channels, http1Codec);
  return ext;
}

/** Builds a worker's data plane (every layer, then its listeners) from the validated config. */
export const networkFactory: NetworkFactory | null = assembleDataplane;
