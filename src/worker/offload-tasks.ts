/**
 * The CPU-heavy tasks a filter hands to the offload pool instead of running them on a data-plane
 * loop (MOSN's workerpool.Schedule). Each task is one member of a discriminated union with a typed
 * result, and its implementation is a plain function so the pool thread and the inline fallback
 * (offload.threads = 0) run exactly the same code.
 */
import type { OffloadTask } from '../types/offload.js';
import { runBodyCoding } from '../stream/filters/codings.js';
import { dubboJsonBody, dubboResultOutcome } from '../runtime/channel/dubbo-json.js';
import { boltJsonContent, boltResultOutcome } from '../runtime/channel/bolt-json.js';

export type { OffloadTask };

export interface OffloadResults {
  gzip: Uint8Array;
  brotli: Uint8Array;
  gunzip: Uint8Array;
  'brotli.decompress': Uint8Array;
  'json.reencode': Uint8Array;
  'dubbo.encode_json': Uint8Array;
  'dubbo.decode_json': Uint8Array;
  'bolt.encode_json': Uint8Array;
  'bolt.decode_json': Uint8Array;
}

export type OffloadResult<T extends OffloadTask> = OffloadResults[T['kind']];

export function runOffloadTask(task: OffloadTask): Uint8Array {
  switch (task.kind) {
    case 'gzip':
    case 'brotli':
    case 'gunzip':
    case 'brotli.decompress':
      return runBodyCoding(task);
    case 'json.reencode': {
      const text = Buffer.from(task.data.buffer, task.data.byteOffset, task.data.byteLength).toString('utf8');
      return Buffer.from(JSON.stringify(JSON.parse(text), null, task.indent ?? 0), 'utf8');
    }
    case 'dubbo.encode_json':
      return dubboJsonBody(task);
    case 'dubbo.decode_json':
      return dubboResultOutcome(task.status, task.data);
    case 'bolt.encode_json':
      return boltJsonContent(task);
    case 'bolt.decode_json':
      return boltResultOutcome(task.data);
  }
}
