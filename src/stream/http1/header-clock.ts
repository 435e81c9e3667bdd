/**
 * Request-header deadlines (Slowloris) for every downstream HTTP/1.x connection of a worker, from one
 * coarse interval timer.
 *
 * Why not a timer per request: a head usually completes within the read it started in, so arming and
 * clearing a timer per request would cost more than the check ever saves. A connection joins the
 * clock once for its lifetime and marks a head in progress with two property stores (the coarse
 * `now` when its first byte arrived, or Infinity when no head is in progress); the tick walks the
 * members. A deadline fires between `timeout` and `timeout + interval` after the head's first byte.
 */
import { performance } from 'node:perf_hooks';

export interface HeaderTimed {
  /** HeaderClock.now when the current head's first byte arrived; Infinity while no head is in progress. */
  headSince: number;
  readonly headerTimeoutMs: number;
  /** Called once when the head did not complete in time; the clock has already let the member go. */
  onHeaderTimeout(): void;
}

export class HeaderClock {
  /** Coarse clock in ms, advanced on every tick. */
  now = performance.now();
  readonly #members = new Set<HeaderTimed>();
  #timer: NodeJS.Timeout | null = null;
  #interval = 0;

  add(member: HeaderTimed): void {
    this.now = performance.now();
    this.#members.add(member);
    const wanted = Math.min(1000, Math.max(10, Math.floor(member.headerTimeoutMs / 4)));
    if (this.#timer === null || wanted < this.#interval) this.#arm(wanted);
  }

  remove(member: HeaderTimed): void {
    this.#members.delete(member);
    if (this.#members.size === 0 && this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
      this.#interval = 0;
    }
  }

  #arm(interval: number): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#interval = interval;
    this.#timer = setInterval(this.#tick, interval);
    // A deadline check must never be what keeps a worker alive.
    this.#timer.unref();
  }

  readonly #tick = (): void => {
    const now = performance.now();
    this.now = now;
    // headSince may lag real time by up to one interval (coarse clock), hence the extra interval.
    const slack = this.#interval;
    let expired: HeaderTimed[] | null = null;
    for (const m of this.#members) {
      if (now - m.headSince >= m.headerTimeoutMs + slack) (expired ??= []).push(m);
    }
    if (expired === null) return;
    for (const m of expired) {
      this.remove(m);
      m.onHeaderTimeout();
    }
  };
}

/** One clock per thread: module state is per worker thread. */
export const headerClock = new HeaderClock();
