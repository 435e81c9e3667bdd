/**
 * The open-loop clock of one load thread. Node's timers fire on whole milliseconds of the loop clock,
 * so a request due at t+0.3 ms would leave up to a millisecond late and the coordinated-omission
 * correction would report that lateness as target latency. This thread sleeps in `Atomics.wait` with
 * a fractional timeout (a futex with a high-resolution deadline) and wakes its load thread through an
 * `Atomics.notify` that the load thread awaits with `Atomics.waitAsync`. It blocks between wake-ups, so
 * it costs no CPU while it waits.
 *
 * Shared layout (see pacer.ts): Int32 [SEQ, WAKE, STOP], Float64 [fire-at in epoch ms].
 */
import { performance } from 'node:perf_hooks';
import { workerData } from 'node:worker_threads';
import { FIRE_AT, SEQ, STOP, WAKE } from './pacer-layout.js';

const { control, fireAt } = workerData as { control: SharedArrayBuffer; fireAt: SharedArrayBuffer };
const ctl = new Int32Array(control);
const at = new Float64Array(fireAt);
const origin = performance.timeOrigin;

for (;;) {
  // Read the arm sequence before the deadline: a deadline written after this read bumps SEQ, so the
  // wait below returns at once and the loop re-reads it.
  const seq = Atomics.load(ctl, SEQ);
  if (Atomics.load(ctl, STOP) !== 0) break;
  const wait = at[FIRE_AT]! - (origin + performance.now());
  if (wait > 0) {
    Atomics.wait(ctl, SEQ, seq, Number.isFinite(wait) ? wait : undefined);
    continue;
  }
  Atomics.add(ctl, WAKE, 1);
  Atomics.notify(ctl, WAKE);
  // Fired: sleep until the load thread arms the next deadline (or stops the clock).
  Atomics.wait(ctl, SEQ, seq);
}
