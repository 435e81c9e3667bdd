/** Ringside's gob codec: Go's encoding/gob stream format for Node (see types.ts for the mapping). */
export { GobEncoder } from './encoder.js';
export { GobDecoder, DEFAULT_MAX_MESSAGE_BYTES, gobMessageAt, type GobDecoderLimits, type WireType, type ScannedValue } from './decoder.js';
export { GobRelaySender, shapeOf, type GobShape, type GobRelayType } from './relay.js';
export { inferType } from './infer.js';
export { gob, GobError, TypeId, goTypeName, isExportedName, type GobType, type GobField, type GobComplex } from './types.js';
