/**
 * What a pool thread runs per task (workers/offload.ts is its entry): the task, and its result moved
 * back to the data-plane worker (piscina's move(), a postMessage transfer) rather than cloned. zlib
 * often answers with a view into a larger buffer (a 133-byte gzip result in a 16 KiB chunk buffer);
 * such a result is first copied into an exact buffer, so only its own bytes travel.
 */
import { move } from 'piscina';
import { movableBytes } from './offload-bytes.js';
import { runOffloadTask, type OffloadTask } from './offload-tasks.js';

export function runMovedOffloadTask(task: OffloadTask): Uint8Array {
  return move(movableBytes(runOffloadTask(task))) as Uint8Array;
}
