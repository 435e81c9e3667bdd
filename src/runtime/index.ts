/**
 * The runtime API's public surface, for the composition root, examples and tests.
 */

export { RuntimeHost } from './host.js';
export { registerBuiltinChannels } from './channels.js';
export { RuntimeGrpcServer } from './grpc/server.js';
export { MosnInvoker } from './invoker/mosn-invoker.js';
export { registerBuiltinInvokerFilters, newInvokerFilterRegistries, dubboJsonRpc } from './invoker/filters.js';
export { HttpChannel, HttpChannelFactory, UpstreamStatusError } from './channel/http-channel.js';
export { ConnPool } from './channel/pool.js';
export { DaprHttpApi } from './dapr/http-api.js';
export { startDemoUpstream, answerJsonRpc, DEMO_UPSTREAM_ADDRESS, type DemoUpstream } from './demo-upstream.js';
export { parseGrpcFilterConfig, parseDaprHttpFilterConfig, RuntimeConfigError } from './config.js';
export { serviceDefinition, messageType, runtimeProtoRoot, protoDir, LAYOTTO_SERVICE, DAPR_SERVICE, APP_CALLBACK_SERVICE } from './proto.js';
export { daprListeners } from './dapr/settings.js';

