/**
 * The stream layer's public surface and its registration helpers, called from the composition root.
 */
import { compressorFilterFactory } from './filters/compressor.js';
import type { Registry } from '../common/registry.js';
import type { ServerStreamConnectionFactory, StreamFilterFactory } from '../types/stream.js';
import { createFaultFilterFactory } from './filters/fault.js';
import { headerMutationFilterFactory } from './filters/header-mutation.js';
import { createHttp1ServerStreamConnection } from './http1/server-connection.js';
import { createHttp2ServerStreamConnection } from './http2/server-connection.js';

export { createHttp1ServerStreamConnection } from './http1/server-connection.js';
export { createFaultFilterFactory, parseFaultConfig } from './filters/fault.js';
export { headerMutationFilterFactory, parseHeaderMutationConfig } from './filters/header-mutation.js';
export { StreamFilterConfigError } from './filters/config.js';

/** Registers the built-in stream filters under their config names. */
export function registerBuiltinStreamFilters(filters: Registry<StreamFilterFactory>): void {
  filters.register('fault', createFaultFilterFactory());
  filters.register('header_mutation', headerMutationFilterFactory);
  filters.register('compressor', compressorFilterFactory);
}

/** Registers the server stream connection of each protocol Ringside serves, by codec name. */
export function registerServerStreamConnections(connections: Registry<ServerStreamConnectionFactory>): void {
  connections.register('Http1', createHttp1ServerStreamConnection);
  connections.register('Http2', createHttp2ServerStreamConnection);
}
