/**
 * The RingPipe constructors the in-process listeners use, imported in this one place from src/ring.
 */
export { createRingPipe, openRingEndpoint } from '../../ring/index.js';
