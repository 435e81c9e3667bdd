/** Ringside's gob codec: Go's encoding/gob stream format for Node (see types.ts for the mapping). */
export { GobEncoder } from './encoder.js';
export { GobDecoder, DEFAULT_MAX_MESSAGE_BYTES, type GobDecoderLimits } from './decoder.js';
export { inferType } from './infer.js';
export { gob, GobError, TypeId, goTypeName, isExportedName, type GobType, type GobField, type GobComplex } from './types.js';
