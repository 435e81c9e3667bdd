/**
 * The backlog gauge: how many calls on this worker are queued behind a channel pool, waiting for a
 * connection, averaged over time. It is the part of a worker's load that event-loop utilization
 * does not show.
 *
 * Why it is needed: one gRPC client connection pipelining 64 calls into a channel pool of 16 keeps
 * 48 calls waiting for a turn. Between a request's write and its answer the worker blocks in epoll
 * (the upstream, or a thread that was preempted on a shared machine), so its utilization can sit
 * under the saturation threshold even though the worker is the bottleneck for every waiting call:
 * each connection goes back to the pool only after this worker has run that call's egress proxy
 * work too. A sustained backlog next to a busy loop (see Scheduler) says the worker is where the
 * calls queue, and moving egress work away is what drains it.
 *
 * The integral is kept exactly: every change adds waiting × elapsed, and sample() turns the area
 * since the last sample into an average, so a queue that fills and empties within one 50 ms period
 * counts for the time it was full, not for where it was at the sample instant.
 */
export class BacklogGauge {
  #waiting = 0;
  #since: number;
  #area = 0;
  #smoothed = 0;
  #lastSampleAt: number;
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
    this.#since = now();
    this.#lastSampleAt = this.#since;
  }

  /** A call started (+1) or stopped (-1) waiting for a pool turn. */
  add(delta: number): void {
    const now = this.#now();
    this.#area += this.#waiting * (now - this.#since);
    this.#since = now;
    this.#waiting += delta;
  }

  /** Calls waiting right now. */
  get waiting(): number {
    return this.#waiting;
  }

  /**
   * The time-weighted average of waiting calls since the previous sample, folded into the published
   * value with the same half-life as the utilization (0.5 per sample), so both react alike.
   */
  sample(): number {
    const now = this.#now();
    const area = this.#area + this.#waiting * (now - this.#since);
    const span = now - this.#lastSampleAt;
    const average = span > 0 ? area / span : this.#waiting;
    this.#lastSampleAt = now;
    this.#since = now;
    this.#area = 0;
    this.#smoothed = 0.5 * this.#smoothed + 0.5 * average;
    return this.#smoothed;
  }
}

let threadGauge: BacklogGauge | null = null;

/** This thread's gauge (module state is per worker thread): every channel pool on the worker adds to it. */
export function threadBacklog(): BacklogGauge {
  return (threadGauge ??= new BacklogGauge());
}
