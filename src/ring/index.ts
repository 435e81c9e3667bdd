/** RingPipe: the in-process connection between Ringside's actors (see src/types/ring.ts). */
export { createRingPipe, createRingPipeDescriptor, openRingEndpoint, resetRingPipe, ringPipeFinished } from './pipe.js';
export type { RingPipeOptions, RingEndpointOptions } from './pipe.js';
export { DEFAULT_CAPACITY } from './layout.js';
export { installThreadBells } from './bells.js';
