/**
 * The CPU-heavy tasks a filter hands to the offload pool instead of running them on a data-plane
 * loop (MOSN's workerpool.Schedule). Each task is one member of a discriminated union with a typed
 * result, and its implementation is a plain function so the pool thread and the inline fallback
 * (offload.threads = 0) run exactly the same code.
 */
import { gunzipSync, gzipSync } from 'node:zlib';

export type OffloadTask =
  /** Compresses a body (e.g. an HTTP response when the client accepts gzip). */
  | { kind: 'gzip'; data: Uint8Array; level?: number }
  /** Inflates a gzip body; maxOutput bounds the result so a zip bomb fails instead of eating memory. */
  | { kind: 'gunzip'; data: Uint8Array; maxOutput?: number }
  /** Parses a JSON document and writes it back compact or indented (large JSON transcoding). */
  | { kind: 'json.reencode'; data: Uint8Array; indent?: number };

export interface OffloadResults {
  gzip: Uint8Array;
  gunzip: Uint8Array;
  'json.reencode': Uint8Array;
}

export type OffloadResult<T extends OffloadTask> = OffloadResults[T['kind']];

const defaultMaxOutput = 64 * 1024 * 1024;

export function runOffloadTask(task: OffloadTask): Uint8Array {
  switch (task.kind) {
    case 'gzip':
      return gzipSync(task.data, { level: task.level ?? 6 });
    case 'gunzip':
      return gunzipSync(task.data, { maxOutputLength: task.maxOutput ?? defaultMaxOutput });
    case 'json.reencode': {
      const text = Buffer.from(task.data.buffer, task.data.byteOffset, task.data.byteLength).toString('utf8');
      return Buffer.from(JSON.stringify(JSON.parse(text), null, task.indent ?? 0), 'utf8');
    }
  }
}
