/**
 * Thread entry of a data-plane worker. The supervisor spawns one per configured worker with a
 * WorkerBoot as workerData; everything else lives in src/worker/runtime.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkerBoot } from '../src/types/messages.js';
import { runDataplaneWorker } from '../src/worker/runtime.js';

const boot = workerData as WorkerBoot;
if (parentPort === null || boot?.kind !== 'ringside-dataplane') {
  throw new Error('workers/dataplane.js must be started by the Ringside supervisor');
}
runDataplaneWorker(boot, parentPort);
