/**
 * Thread entry of the offload pool (piscina loads this file once per pool thread). It only runs
 * tasks: no sockets, no actors, nothing that would make a pool thread part of the data plane.
 */
import type { OffloadTask } from '../src/worker/offload-tasks.js';
import { runMovedOffloadTask } from '../src/worker/offload-thread.js';

export default function offloadTask(task: OffloadTask): Uint8Array {
  return runMovedOffloadTask(task);
}
