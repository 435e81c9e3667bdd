/**
 * The body codings of the compressor and decompressor filters, as plain functions over one offload
 * task: a filter runs them inline for small bodies, and the worker's piscina threads run the very
 * same function for large ones (src/worker/offload-tasks.ts), so both paths produce identical bytes
 * and fail the same way (a RangeError when a decompressed body passes maxOutput).
 */
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync, gzipSync } from 'node:zlib';
import type { OffloadTask } from '../../types/offload.js';

export type BodyCodingTask = Extract<OffloadTask, { kind: 'gzip' | 'brotli' | 'gunzip' | 'brotli.decompress' }>;

/** Bound of a decompression whose task names none. */
const DEFAULT_MAX_OUTPUT = 64 * 1024 * 1024;

export function runBodyCoding(task: BodyCodingTask): Uint8Array {
  switch (task.kind) {
    case 'gzip':
      return gzipSync(task.data, { level: task.level ?? 6 });
    case 'brotli':
      return brotliCompressSync(task.data, {
        params: { [constants.BROTLI_PARAM_QUALITY]: task.quality ?? 3, [constants.BROTLI_PARAM_SIZE_HINT]: task.data.length },
      });
    case 'gunzip':
      return gunzipSync(task.data, { maxOutputLength: task.maxOutput ?? DEFAULT_MAX_OUTPUT });
    case 'brotli.decompress':
      return brotliDecompressSync(task.data, { maxOutputLength: task.maxOutput ?? DEFAULT_MAX_OUTPUT });
  }
}
