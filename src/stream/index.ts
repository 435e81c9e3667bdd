/**
 * The stream layer's public surface and its registration helpers, called from the composition root.
 */
import { compressorFilterFactory, compressorFilterSpec } from './filters/compressor.js';
import type { Registry } from '../common/registry.js';
import type { ServerStreamConnectionFactory, StreamFilterFactory } from '../types/stream.js';
import { decompressorFilterFactory, decompressorFilterSpec } from './filters/decompressor.js';
import { createFaultFilterFactory, faultFilterSpec } from './filters/fault.js';
import { headerMutationFilterFactory, headerMutationFilterSpec } from './filters/header-mutation.js';
import { createHttp1ServerStreamConnection } from './http1/server-connection.js';
import { createHttp2ServerStreamConnection } from './http2/server-connection.js';

export { createHttp1ServerStreamConnection } from './http1/server-connection.js';
export { createFaultFilterFactory } from './filters/fault.js';
export { headerMutationFilterFactory } from './filters/header-mutation.js';

/**
 * Registers the built-in stream filters under their config names, each with the zod spec of its
 * config: the main thread's loader validates every `stream_filters[].config` through it.
 */
export function registerBuiltinStreamFilters(filters: Registry<StreamFilterFactory>): void {
  filters.register('fault', createFaultFilterFactory(), faultFilterSpec);
  filters.register('header_mutation', headerMutationFilterFactory, headerMutationFilterSpec);
  filters.register('compressor', compressorFilterFactory, compressorFilterSpec);
  filters.register('decompressor', decompressorFilterFactory, decompressorFilterSpec);
}

/** Registers the server stream connection of each protocol Ringside serves, by codec name. */
export function registerServerStreamConnections(connections: Registry<ServerStreamConnectionFactory>): void {
  connections.register('Http1', createHttp1ServerStreamConnection);
  connections.register('Http2', createHttp2ServerStreamConnection);
}
