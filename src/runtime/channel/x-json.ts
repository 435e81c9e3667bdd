/**
 * What the JSON forms of the request-id channels share: their `ext` option, the outcome bytes the
 * transcoders produce (inline or on the offload pool) turned into an answer or an error.
 */
import { RingsideError } from '../../common/errors.js';
import type { RpcResponse } from '../../types/runtime.js';

export interface JsonChannelOptions {
  /** JSON bodies (either way) of at least this many bytes are transcoded on the offload pool. */
  readonly jsonOffloadMinBytes: number;
}

/** Default of `ext.json_offload_min_bytes` (the compressor filter's offload threshold). */
export const DEFAULT_JSON_OFFLOAD_MIN_BYTES = 65536;

/** First byte of a transcoded outcome (see dubbo-json.ts / bolt's). */
const VALUE = 0;
const EXCEPTION = 1;

export function decodeOutcome(bytes: Uint8Array, protocol: string): RpcResponse {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rest = buf.subarray(1);
  if (buf[0] === VALUE) return { status: 200, contentType: 'application/json', data: rest, headers: {} };
  const text = rest.toString('utf8', 0, Math.min(rest.length, 1024));
  if (buf[0] === EXCEPTION) {
    throw new RingsideError('UPSTREAM_STATUS', 'upstream', `${protocol} service threw an exception: ${text}`, { retryable: false });
  }
  throw new RingsideError('UPSTREAM_BAD_RESPONSE', 'upstream', `${protocol} response: ${text}`, { retryable: false });
}

/** A transcoding task that failed on the offload pool failed on the caller's input (its JSON). */
export function offloadError(err: unknown): RingsideError {
  return new RingsideError('BAD_REQUEST', 'downstream', err instanceof Error ? err.message : String(err));
}
