/**
 * The dRPC reactor's poll thread: a worker that does nothing but block in poll() over the pollfd
 * array its owner wrote into shared memory, then tells the owner through Atomics. It never runs a
 * callback into another thread's JS, so its owner may end (or crash) at any moment without taking the
 * process down; ending it is `ARM = STOP` plus a wake-up on the eventfd it polls.
 */
import { workerData } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { ARM, ARM_IDLE, ARM_STOP, ERRNO, NFDS, RESULT, SEQ, TIMEOUT_MS } from './poller-layout.js';

interface PollerData {
  control: SharedArrayBuffer;
  fds: SharedArrayBuffer;
}

const { control, fds } = workerData as PollerData;
const ctl = new Int32Array(control);
const pollfds = Buffer.from(fds);
const require = createRequire(import.meta.url);
const koffi = require('koffi') as { load(path: string): { func(signature: string): (...args: unknown[]) => unknown }; errno(): number };
const poll = koffi.load('libc.so.6').func('int poll(void *, unsigned long, int)');

for (;;) {
  while (Atomics.load(ctl, ARM) === ARM_IDLE) Atomics.wait(ctl, ARM, ARM_IDLE);
  if (Atomics.load(ctl, ARM) === ARM_STOP) break;
  const rc = poll(pollfds, Atomics.load(ctl, NFDS), Atomics.load(ctl, TIMEOUT_MS)) as number;
  Atomics.store(ctl, ERRNO, rc < 0 ? koffi.errno() : 0);
  Atomics.store(ctl, RESULT, rc);
  Atomics.compareExchange(ctl, ARM, 1, ARM_IDLE);
  Atomics.add(ctl, SEQ, 1);
  Atomics.notify(ctl, SEQ);
}
