/**
 * Thread entry of a data-plane worker. The supervisor spawns one per configured worker with a
 * WorkerBoot as workerData, or hands a thread the CLI prewarmed (src/supervisor/prewarm.ts) its
 * WorkerBoot as the first message; the static import below is what a prewarmed thread loads while
 * it waits. Everything else lives in src/worker/runtime.ts.
 */
import { runDataplaneEntry } from '../src/worker/runtime.js';

runDataplaneEntry();
