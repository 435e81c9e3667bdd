/**
 * The composition root: every extension Ringside ships is registered here, by name, explicitly — no
 * registration by import side effect — together with the ConfigSpec of its `config`, so what a build
 * contains and what each part accepts can be read in this one file.
 *
 *   networkFilters     tcp_proxy, proxy, grpc, dapr_http,  (src/network, src/proxy, src/runtime)
 *                      drpc (the runtime API on a drpc:/path.sock listener)
 *   listenerFilters    none yet: any listener_filters entry is a config error
 *   codecs             Http1, Http2, dubbo, bolt, boltv2, geerpc  (src/protocol)
 *                      drpc (registerDrpc: codec, packet stream connection, upstream client)
 *   xprotocols         bolt, boltv2, dubbo, geerpc: request-id codecs; registerXProtocol also registers each one's
 *                      codec, server stream connection and upstream client under its name
 *   streamConnections  the server side of each codec      (src/stream)
 *   upstreamClients    the client side of each codec      (src/proxy/clients)
 *   streamFilters      fault, header_mutation, compressor, decompressor (src/stream)
 *   loadBalancers      LB_RANDOM, LB_ROUNDROBIN, …        (src/upstream)
 *   clusterTypes       SIMPLE, STATIC, STRICT_DNS, LOGICAL_DNS, GEERPC_REGISTRY, GEERPC_ETCD (src/upstream)
 *   invokerFilters     Layotto before/after_invoke hooks  (src/runtime)
 *   channels           Layotto channel protocols          (src/runtime)
 *
 * The main thread validates a config through configCatalog(createExtensions()) before any worker
 * starts; each worker calls createExtensions() once at boot and hands the result to
 * assembleDataplane (src/assembly.ts), which builds that worker's layers from config.
 */
import { Registry } from './common/registry.js';
import type { ConfigCatalog, NameSet } from './types/extension.js';
import type { ClientTlsOptions, ListenerFilter, NetworkFilterFactory } from './types/network.js';
import type { CodecLimits, ProtocolCodec } from './types/protocol.js';
import type { ServerStreamConnectionFactory, StreamFilterFactory } from './types/stream.js';
import type { StreamClientFactory } from './types/proxy.js';
import type { Host, LoadBalancerFactory } from './types/upstream.js';
import type { InvokerFilterRegistries } from './types/runtime.js';
import type { ChannelFactory } from './runtime/channel/factory.js';
import { daprHttpFilterSpec, grpcFilterSpec, proxyFilterSpec, tcpProxyFilterSpec } from './config/filters.js';
import { tcpProxyFactory, type TcpProxyDeps } from './network/index.js';
import { proxyFilterFactory, type ProxyServices } from './proxy/proxy-filter.js';
import type { RuntimeDeps } from './runtime/host.js';
import { Http1ClientFactory } from './proxy/clients/http1-client.js';
import type { RunLoop } from './types/actor.js';
import { http1Codec, registerHttp1 } from './protocol/http1/index.js';
import { registerHttp2 } from './protocol/http2/codec.js';
import type { Http2Settings } from './types/http2.js';
import { Http2ClientFactory } from './stream/http2/client.js';
import { dubboCodec } from './protocol/dubbo/codec.js';
import { registerBuiltinStreamFilters, registerServerStreamConnections } from './stream/index.js';
import { registerBuiltinLoadBalancers } from './upstream/load-balancers.js';
import { registerBuiltinClusterTypes, type ClusterTypeFactory } from './upstream/cluster-types.js';
// Not the runtime barrel: the main thread builds these registries to validate configs and must not
// load the runtime's gRPC server with them.
import { newInvokerFilterRegistries, registerBuiltinInvokerFilters } from './runtime/invoker/filters.js';
import { registerBuiltinChannels } from './runtime/channels.js';
import { registerGeerpcClusterTypes } from './upstream/geerpc-cluster-types.js';
import { drpcFilterFactory } from './runtime/drpc/filter.js';
import { drpcFilterSpec } from './runtime/drpc/config.js';
import type { XProtocolCodec } from './types/xprotocol.js';
import { asProtocolCodec } from './protocol/xprotocol/codec.js';
import { boltCodec, boltv2Codec } from './protocol/bolt/codec.js';
import { geerpcCodec } from './protocol/geerpc/index.js';
import { xprotocolServerFactory } from './stream/xprotocol/server-connection.js';
import { XClientFactory } from './stream/xprotocol/client-factory.js';
import { routingIssues } from './routing.js';
import { drpcCodec } from './protocol/drpc/codec.js';
import { LazyDrpcClientFactory, drpcServerFactory, maxMessageBytesOf } from './stream/drpc/index.js';
import type { RingsideConfig } from './config/types.js';

/** What a listener filter factory makes from its validated config (none are built in yet). */
export interface ListenerFilterFactory {
  create(config: unknown, path: string): ListenerFilter;
}

/** Builds the upstream client of one protocol on one worker. */
export type UpstreamClientMaker = (opts: {
  connectTimeoutMs: (host: Host) => number;
  limits: Partial<CodecLimits>;
  /** The worker's run loop: its upstream connections' actors run there (absent: the thread's). */
  runLoop?: RunLoop;
  /** ringside.http2, for clients that speak HTTP/2. */
  http2?: Partial<Http2Settings>;
  /** TLS toward a host (its cluster's tls_context), with the ALPN ids the client would offer; undefined: plaintext. */
  tls?: (host: Host, alpn?: readonly string[]) => ClientTlsOptions | undefined;
}) => StreamClientFactory;

/**
 * Everything the network filters of this build may need from a worker, as one typed object: the
 * union of what each registered factory declares (`NetworkFilterFactory<Deps>`). src/assembly.ts
 * builds exactly one per worker and WorkerNetwork hands it to every factory as `ctx.services`.
 * A factory that needs something new adds its own `…Deps` interface here and the root fills it in.
 */
export type DataplaneDeps = ProxyServices & TcpProxyDeps & RuntimeDeps;

export interface Extensions {
  readonly networkFilters: Registry<NetworkFilterFactory<DataplaneDeps>>;
  readonly listenerFilters: Registry<ListenerFilterFactory>;
  readonly codecs: Registry<ProtocolCodec>;
  /** The request-id codecs (MOSN's X-protocols) by name, for the runtime's channels. */
  readonly xprotocols: Registry<XProtocolCodec>;
  readonly streamConnections: Registry<ServerStreamConnectionFactory>;
  readonly upstreamClients: Registry<UpstreamClientMaker>;
  readonly streamFilters: Registry<StreamFilterFactory>;
  readonly loadBalancers: Registry<LoadBalancerFactory>;
  readonly clusterTypes: Registry<ClusterTypeFactory>;
  readonly invokerFilters: InvokerFilterRegistries;
  readonly channels: Registry<ChannelFactory>;
}

/** `grpc` and `dapr_http` feed this worker's grpc-js server, so they delegate to its RuntimeHost. */
function runtimeFilterFactory(kind: 'grpc' | 'dapr_http'): NetworkFilterFactory<RuntimeDeps> {
  return {
    create(config, path, ctx) {
      const { runtime } = ctx.services;
      return (kind === 'grpc' ? runtime.grpcFilterFactory : runtime.daprHttpFilterFactory).create(config, path, ctx);
    },
  };
}

export function createExtensions(): Extensions {
  const ext: Extensions = {
    networkFilters: new Registry<NetworkFilterFactory<DataplaneDeps>>('network filter'),
    listenerFilters: new Registry<ListenerFilterFactory>('listener filter'),
    codecs: new Registry<ProtocolCodec>('codec'),
    xprotocols: new Registry<XProtocolCodec>('x-protocol codec'),
    streamConnections: new Registry<ServerStreamConnectionFactory>('stream connection'),
    upstreamClients: new Registry<UpstreamClientMaker>('upstream client'),
    streamFilters: new Registry<StreamFilterFactory>('stream filter'),
    loadBalancers: new Registry<LoadBalancerFactory>('load balancer'),
    clusterTypes: new Registry<ClusterTypeFactory>('cluster type'),
    invokerFilters: newInvokerFilterRegistries(),
    channels: new Registry<ChannelFactory>('channel'),
  };
  ext.networkFilters.register('tcp_proxy', tcpProxyFactory, tcpProxyFilterSpec);
  ext.networkFilters.register('proxy', proxyFilterFactory, proxyFilterSpec);
  // Bound to the worker's grpc-js server: the factory reaches the worker's RuntimeHost.
  ext.networkFilters.register('grpc', runtimeFilterFactory('grpc'), grpcFilterSpec);
  ext.networkFilters.register('dapr_http', runtimeFilterFactory('dapr_http'), daprHttpFilterSpec);
  ext.networkFilters.register('drpc', drpcFilterFactory, drpcFilterSpec);
  registerHttp1(ext.codecs);
  registerHttp2(ext.codecs);
  registerServerStreamConnections(ext.streamConnections);
  ext.upstreamClients.register('Http1', (opts) => new Http1ClientFactory(opts));
  ext.upstreamClients.register('Http2', (opts) => new Http2ClientFactory(opts));
  registerXProtocol(ext, boltCodec);
  registerXProtocol(ext, boltv2Codec);
  registerXProtocol(ext, dubboCodec);
  registerDrpc(ext);
  registerXProtocol(ext, geerpcCodec);
  registerBuiltinStreamFilters(ext.streamFilters);
  registerBuiltinLoadBalancers(ext.loadBalancers);
  registerBuiltinClusterTypes(ext.clusterTypes);
  registerGeerpcClusterTypes(ext.clusterTypes);
  registerBuiltinInvokerFilters(ext.invokerFilters);
  registerBuiltinChannels(ext.channels, http1Codec);
  return ext;
}

/**
 * One X-protocol codec, everywhere it plugs in: its ProtocolCodec (Auto detection, proxy hooks), the
 * multiplexed server stream connection and the multiplexed upstream client, all under its name.
 */
export function registerXProtocol(ext: Extensions, codec: XProtocolCodec): void {
  ext.xprotocols.register(codec.name, codec);
  ext.codecs.register(codec.name, asProtocolCodec(codec));
  ext.streamConnections.register(codec.name, xprotocolServerFactory(codec));
  ext.upstreamClients.register(codec.name, (opts) => new XClientFactory(codec, opts));
}

/**
 * dRPC on the data plane: its codec (proxy hooks), the stream connection of drpc:/path listeners
 * (one call at a time per session) and the upstream client for drpc:/path hosts. Its messages are
 * bounded by ringside.limits.max_body_bytes both ways.
 */
export function registerDrpc(ext: Extensions): void {
  ext.codecs.register(drpcCodec.name, drpcCodec);
  ext.streamConnections.register(drpcCodec.name, drpcServerFactory);
  ext.upstreamClients.register(drpcCodec.name, (opts) => new LazyDrpcClientFactory({ maxMessageBytes: maxMessageBytesOf(opts.limits) }));
}

/** Auto (protocol detection) is served whenever at least one codec is. */
const AUTO = 'Auto';

function withAuto(names: NameSet): NameSet {
  return { has: (n) => n === AUTO || names.has(n), names: () => [...names.names(), AUTO] };
}

/** What the build registers, for the main thread's loader. */
export function configCatalog(ext: Extensions = createExtensions()): ConfigCatalog<RingsideConfig> {
  return {
    networkFilters: ext.networkFilters,
    listenerFilters: ext.listenerFilters,
    streamFilters: ext.streamFilters,
    downstreamProtocols: withAuto(ext.streamConnections),
    upstreamProtocols: ext.upstreamClients,
    xprotocols: ext.xprotocols,
    loadBalancers: ext.loadBalancers,
    clusterTypes: ext.clusterTypes,
    channels: ext.channels,
    beforeInvoke: ext.invokerFilters.before,
    afterInvoke: ext.invokerFilters.after,
    dryBuild: (config) => routingIssues(config, ext),
  };
}
