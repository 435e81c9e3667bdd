/**
 * The built-in Layotto channel protocols, registered by the composition root. A module of its own so
 * that the main thread, which only validates configs, reaches the channels' config specs without the
 * runtime's gRPC server (grpc-js, protobufjs) behind the runtime barrel (index.ts).
 */
import type { Registry } from '../common/registry.js';
import type { ProtocolCodec } from '../types/protocol.js';
import type { ChannelFactory } from './channel/factory.js';
import { HttpChannelFactory } from './channel/http-channel.js';
import { DubboChannelFactory } from './channel/dubbo-channel.js';
import { boltChannelSpec, channelExt, dubboChannelSpec, grpcChannelSpec, httpChannelSpec } from './channel/specs.js';
import { GrpcAppChannelFactory } from './channel/grpc-channel.js';
import { GeerpcChannelFactory, geerpcChannelSpec } from './channel/geerpc-channel.js';
import { BoltChannelFactory } from './channel/bolt-channel.js';

/** Registers the built-in channel protocols with the spec of their `ext`: "http" (on the HTTP/1.1 codec), "grpc" (an app's AppCallback/OnInvoke), "dubbo", "bolt", "boltv2", "geerpc". */
export function registerBuiltinChannels(channels: Registry<ChannelFactory>, http1: ProtocolCodec): void {
  channels.register('http', new HttpChannelFactory(http1), httpChannelSpec);
  channels.register('grpc', new GrpcAppChannelFactory(), grpcChannelSpec);
  channels.register('dubbo', new DubboChannelFactory((config, path) => channelExt(dubboChannelSpec, config, path)), dubboChannelSpec);
  channels.register('geerpc', new GeerpcChannelFactory(), geerpcChannelSpec);
  for (const version of ['bolt', 'boltv2'] as const) {
    channels.register(version, new BoltChannelFactory(version, (config, path) => channelExt(boltChannelSpec, config, path)), boltChannelSpec);
  }
}
