/**
 * The runtime API's public surface, for the composition root, examples and tests.
 */
import type { Registry } from '../common/registry.js';
import type { ProtocolCodec } from '../types/protocol.js';
import type { ChannelFactory } from './channel/factory.js';
import { HttpChannelFactory } from './channel/http-channel.js';
import { DubboChannelFactory } from './channel/dubbo-channel.js';
import { channelExt, dubboChannelSpec, httpChannelSpec } from './channel/specs.js';

export { RuntimeHost } from './host.js';
export { RuntimeGrpcServer } from './grpc/server.js';
export { MosnInvoker } from './invoker/mosn-invoker.js';
export { registerBuiltinInvokerFilters, newInvokerFilterRegistries, dubboJsonRpc } from './invoker/filters.js';
export { HttpChannel, HttpChannelFactory, UpstreamStatusError } from './channel/http-channel.js';
export { ConnPool } from './channel/pool.js';
export { DaprHttpApi } from './dapr/http-api.js';
export { startDemoUpstream, answerJsonRpc, DEMO_UPSTREAM_ADDRESS, type DemoUpstream } from './demo-upstream.js';
export { parseGrpcFilterConfig, parseDaprHttpFilterConfig, RuntimeConfigError } from './config.js';
export { serviceDefinition, messageType, runtimeProtoRoot, protoDir, LAYOTTO_SERVICE, DAPR_SERVICE } from './proto.js';
export { daprListeners } from './dapr/settings.js';

/** Registers the built-in channel protocols with the spec of their `ext`: "http" (on the HTTP/1.1 codec), "dubbo". */
export function registerBuiltinChannels(channels: Registry<ChannelFactory>, http1: ProtocolCodec): void {
  channels.register('http', new HttpChannelFactory(http1), httpChannelSpec);
  channels.register('dubbo', new DubboChannelFactory((config, path) => channelExt(dubboChannelSpec, config, path)), dubboChannelSpec);
}
