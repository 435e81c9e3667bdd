/**
 * A pending Atomics.waitAsync does not keep a Node event loop alive, so a worker whose only work is
 * a parked RingPipe end would exit under it. Open, ref'd cross-thread ends hold this thread-wide
 * counter instead; while it is above zero one long interval timer stays ref'd. One timer per thread
 * (not per end) keeps a park/unpark free of timer creation.
 */
let holders = 0;
let timer: NodeJS.Timeout | null = null;

// The period only needs to be long; the callback never does anything.
const PERIOD_MS = 2 ** 30;

export function holdLoop(): void {
  holders++;
  if (timer === null) timer = setInterval(noop, PERIOD_MS);
  else if (holders === 1) timer.ref();
}

export function releaseLoop(): void {
  if (holders === 0) return;
  holders--;
  if (holders === 0 && timer !== null) timer.unref();
}

function noop(): void {}
