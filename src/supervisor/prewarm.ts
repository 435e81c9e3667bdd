/**
 * Data-plane threads started before the main thread has loaded its own modules and validated the
 * config, so the two module graphs load side by side instead of one after the other.
 *
 * Why: a worker's boot is mostly importing its module graph (grpc-js, protobufjs, the data plane:
 * several hundred ms on an idle machine), and so is the main thread's (config schema, supervisor,
 * admin). Started one after the other, `ringside start` reaches ready after the sum of both; with
 * the workers prewarmed, after the longer of the two. A prewarmed thread binds nothing and reads no
 * config: it only loads modules and waits for its WorkerBoot (workers/dataplane.ts). An invalid
 * config still exits 2 before anything listens; the process exit ends the prewarmed threads.
 *
 * One prewarm per process, begun by the CLI (`ringside start`) and consumed by the supervisor's slots
 * as they spawn (WorkerSlot.spawn); threads the config turned out not to need are ended once the
 * supervisor is up. Supervisors built in-process (tests, embedders) find none and spawn as before.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { ConfigCheckMessage, ConfigCheckReply, WorkerPrewarm } from '../types/messages.js';
import { logger } from '../common/log.js';
import { sameLimits, workerResourceLimits } from './heap-limits.js';

const log = logger('supervisor');

/** The thread entry every data-plane worker runs; the supervisor's default. */
export const DATAPLANE_ENTRY = new URL('../../workers/dataplane.js', import.meta.url);

interface Warm {
  worker: Worker;
  /** Set once the thread exited or reported an error while loading: it is never handed out. */
  dead: boolean;
}

let warm: Warm[] = [];
let warmEntry: string | null = null;
/** Prewarmed threads start before the config is read, so with the default limits (heap-limits.ts). */
const warmLimits = workerResourceLimits();

/** Starts `count` threads on `entry` that load the data plane and wait for their boot. */
export function prewarmDataplane(count: number, entry: URL = DATAPLANE_ENTRY): void {
  if (warmEntry !== null || !Number.isInteger(count) || count < 1) return;
  warmEntry = entry.href;
  const data: WorkerPrewarm = { kind: 'ringside-prewarm' };
  for (let i = 0; i < count; i++) {
    const worker = new Worker(entry, { workerData: data, resourceLimits: warmLimits });
    const w: Warm = { worker, dead: false };
    // A load error here is not reported: the slot that would have used this thread spawns a fresh
    // one instead, which reports the same error through the supervisor's normal path.
    worker.on('error', () => (w.dead = true));
    worker.on('exit', () => (w.dead = true));
    // Until a slot takes it, a prewarmed thread must not keep the process alive (exit 2 paths).
    worker.unref();
    warm.push(w);
  }
}

/**
 * A live prewarmed thread on `entry` running with `limits`, now owned by the caller (ref'd again), or
 * undefined. A config with other heap limits gets none: V8 fixes them when a thread starts.
 */
export function takePrewarmed(entry: URL, limits: ResourceLimits): Worker | undefined {
  if (warmEntry !== entry.href || !sameLimits(limits, warmLimits)) return undefined;
  while (warm.length > 0) {
    const w = warm.shift()!;
    if (w.dead) continue;
    w.worker.removeAllListeners('error');
    w.worker.removeAllListeners('exit');
    w.worker.ref();
    return w.worker;
  }
  return undefined;
}

let nextCheckId = 1;

/**
 * Asks the first live prewarmed thread to load and validate the start-up config (its reply, see
 * src/worker/config-check.ts); the thread stays in the pool for a slot to take. Undefined when no
 * prewarmed thread is alive or the one asked died before it answered: the caller checks by itself.
 */
export function checkConfigOnPrewarmed(file: string | undefined, env: Readonly<Record<string, string | undefined>>): Promise<ConfigCheckReply | undefined> {
  const w = warm.find((x) => !x.dead);
  if (w === undefined) return Promise.resolve(undefined);
  const id = nextCheckId++;
  return new Promise((resolve) => {
    const done = (reply: ConfigCheckReply | undefined): void => {
      w.worker.off('message', onMessage);
      w.worker.off('exit', onGone);
      w.worker.off('error', onGone);
      w.worker.unref();
      resolve(reply);
    };
    const onMessage = (msg: ConfigCheckReply): void => {
      if (msg?.type === 'config-checked' && msg.id === id) done(msg);
    };
    const onGone = (): void => done(undefined);
    w.worker.on('message', onMessage);
    w.worker.on('exit', onGone);
    w.worker.on('error', onGone);
    // The process waits for this answer: the thread is ref'd only while it is asked.
    w.worker.ref();
    w.worker.postMessage({ type: 'check-config', id, file, env: { ...env } } satisfies ConfigCheckMessage);
  });
}

/** Ends the prewarmed threads nobody took (the config asked for fewer workers). */
export function disposePrewarmed(): void {
  const rest = warm.filter((w) => !w.dead);
  warm = [];
  if (rest.length === 0) return;
  log.info(`${rest.length} prewarmed worker thread(s) not needed; ending them`);
  for (const w of rest) void w.worker.terminate();
}
