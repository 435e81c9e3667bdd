/**
 * Sub-millisecond wake-ups for the open-loop schedule of one load thread. `armAt(t)` asks for a call
 * to `onWake(now)` at `t` (performance.now() ms); the clock thread (pacer-clock.ts) sleeps until then.
 *
 * Waking a parked event loop from another thread takes some tens of µs. The pacer learns that lag
 * (a moving average of how late wake-ups arrive), asks the clock to fire that much early, and spins
 * the last few µs on this thread when a wake-up comes before its deadline — so a request leaves within
 * a few µs of its intended time instead of up to a millisecond after it, and the corrected latency is
 * the target's, not the generator's.
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { CONTROL_INTS, FIRE_AT, SEQ, STOP, WAKE } from './pacer-layout.js';

/** Longest busy-wait on the load thread for an early wake-up; earlier ones re-arm the clock. */
const MAX_SPIN_MS = 0.25;
/** Bounds of the learned lead time. */
const MAX_LEAD_MS = 0.5;
const LEAD_SMOOTHING = 1 / 16;

/** Atomics.waitAsync (ES2024; the project's lib is ES2023 and Node 20 has the function). */
type WaitAsyncResult = { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync(ta: Int32Array, index: number, value: number): WaitAsyncResult }).waitAsync.bind(Atomics);

export class Pacer {
  readonly #ctl = new Int32Array(new SharedArrayBuffer(CONTROL_INTS * 4));
  readonly #at = new Float64Array(new SharedArrayBuffer(8));
  readonly #clock: Worker;
  readonly #onWake: (now: number) => void;
  readonly #origin = performance.timeOrigin;
  #armedAt = Number.POSITIVE_INFINITY;
  #requestedFire = Number.POSITIVE_INFINITY;
  #lead = 0.05;
  #seenWake = 0;
  #stopped = false;

  constructor(onWake: (now: number) => void) {
    this.#onWake = onWake;
    this.#at[FIRE_AT] = Number.POSITIVE_INFINITY;
    this.#clock = new Worker(new URL('./pacer-clock.js', import.meta.url), {
      workerData: { control: this.#ctl.buffer, fireAt: this.#at.buffer },
      // The clock needs almost no heap; keep its footprint small.
      resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 8 },
    });
    this.#clock.unref();
    this.#listen();
  }

  /** The deadline currently armed (performance.now() ms), +Infinity when none. */
  get armedAt(): number {
    return this.#armedAt;
  }

  /** Arms a wake-up at `t` unless one at or before `t` is already armed. */
  armAt(t: number): void {
    if (this.#stopped || t >= this.#armedAt) return;
    this.#armedAt = t;
    this.#requestedFire = t - this.#lead;
    this.#at[FIRE_AT] = this.#origin + this.#requestedFire;
    Atomics.add(this.#ctl, SEQ, 1);
    Atomics.notify(this.#ctl, SEQ);
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    Atomics.store(this.#ctl, STOP, 1);
    Atomics.add(this.#ctl, SEQ, 1);
    Atomics.notify(this.#ctl, SEQ);
    void this.#clock.terminate();
  }

  #listen(): void {
    if (this.#stopped) return;
    const r = waitAsync(this.#ctl, WAKE, this.#seenWake);
    if (r.async) void r.value.then(() => this.#woken());
    else queueMicrotask(() => this.#woken());
  }

  #woken(): void {
    if (this.#stopped) return;
    this.#seenWake = Atomics.load(this.#ctl, WAKE);
    let now = performance.now();
    const deadline = this.#armedAt;
    if (Number.isFinite(this.#requestedFire)) {
      const lag = Math.min(MAX_LEAD_MS, Math.max(0, now - this.#requestedFire));
      this.#lead += (lag - this.#lead) * LEAD_SMOOTHING;
    }
    if (now < deadline) {
      if (deadline - now > MAX_SPIN_MS) {
        // Woken for an older, later deadline, or far too early: arm again and keep waiting.
        this.#armedAt = Number.POSITIVE_INFINITY;
        this.armAt(deadline);
        this.#listen();
        return;
      }
      while (now < deadline) now = performance.now();
    }
    this.#armedAt = Number.POSITIVE_INFINITY;
    this.#requestedFire = Number.POSITIVE_INFINITY;
    this.#listen();
    this.#onWake(now);
  }
}
