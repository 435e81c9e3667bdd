/**
 * Idle timeouts for every connection of a worker, from one coarse sweeper.
 *
 * Why not a timer per connection: re-arming a timer on every read and write costs more than the read
 * itself on a busy proxy. Here activity is one property store of a coarse clock the sweeper advances,
 * and one interval timer (unref'd) walks the registered connections. A timeout fires between `timeout`
 * and `timeout + interval` after the last activity; the interval is a quarter of the smallest timeout
 * registered, clamped to [10 ms, 1 s].
 */
import { performance } from 'node:perf_hooks';

export interface Idleable {
  /** Coarse time (IdleSweeper.now) of the last read or write. */
  lastActive: number;
  readonly idleTimeoutMs: number;
  /** Called once when the timeout passed; the sweeper has already unregistered it. */
  onIdle(): void;
}

export class IdleSweeper {
  /** Coarse clock in ms, advanced on every tick; connections store it on activity. */
  now = performance.now();
  readonly #members = new Set<Idleable>();
  #timer: NodeJS.Timeout | null = null;
  #interval = 0;

  add(member: Idleable): void {
    this.now = performance.now();
    member.lastActive = this.now;
    this.#members.add(member);
    const wanted = Math.min(1000, Math.max(10, Math.floor(member.idleTimeoutMs / 4)));
    if (this.#timer === null || wanted < this.#interval) this.#arm(wanted);
  }

  remove(member: Idleable): void {
    this.#members.delete(member);
    if (this.#members.size === 0 && this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
      this.#interval = 0;
    }
  }

  get size(): number {
    return this.#members.size;
  }

  #arm(interval: number): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#interval = interval;
    this.#timer = setInterval(this.#tick, interval);
    // Idle tracking must never be what keeps a worker alive.
    this.#timer.unref();
  }

  readonly #tick = (): void => {
    const now = performance.now();
    this.now = now;
    // lastActive may lag real time by up to one interval (coarse clock), hence the extra interval.
    const slack = this.#interval;
    let expired: Idleable[] | null = null;
    for (const m of this.#members) {
      if (now - m.lastActive >= m.idleTimeoutMs + slack) (expired ??= []).push(m);
    }
    if (expired === null) return;
    for (const m of expired) {
      this.remove(m);
      m.onIdle();
    }
  };
}

/** One sweeper per thread: module state is per worker thread. */
export const idleSweeper = new IdleSweeper();
