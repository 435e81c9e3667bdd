/**
 * Deadlines for many members of one worker from one coarse interval timer, shared by the idle
 * timeouts of connections and the request-header deadlines of HTTP/1.x connections.
 *
 * Why not a timer per member: re-arming a timer on every read, write or request head costs more than
 * the work it guards on a busy proxy. A member records activity as one property store of the coarse
 * `now` the sweeper advances; one unref'd interval timer walks the members. A deadline fires between
 * `timeout` and `timeout + interval` after the recorded time; the interval is a quarter of the
 * smallest timeout registered, clamped to [10 ms, 1 s].
 */
import { performance } from 'node:perf_hooks';

export abstract class CoarseSweeper<M> {
  /** Coarse clock in ms, advanced on every tick; members store it on activity. */
  now = performance.now();
  readonly #members = new Set<M>();
  #timer: NodeJS.Timeout | null = null;
  #interval = 0;

  /** The coarse time the member's deadline counts from. */
  protected abstract since(member: M): number;
  protected abstract timeoutMs(member: M): number;
  /** Called once when the deadline passed; the member has already been removed. */
  protected abstract expire(member: M): void;

  add(member: M): void {
    this.now = performance.now();
    this.#members.add(member);
    const wanted = Math.min(1000, Math.max(10, Math.floor(this.timeoutMs(member) / 4)));
    if (this.#timer === null || wanted < this.#interval) this.#arm(wanted);
  }

  remove(member: M): void {
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
    // A deadline check must never be what keeps a worker alive.
    this.#timer.unref();
  }

  readonly #tick = (): void => {
    const now = performance.now();
    this.now = now;
    // Recorded times may lag real time by up to one interval (coarse clock), hence the extra interval.
    const slack = this.#interval;
    let expired: M[] | null = null;
    for (const m of this.#members) {
      if (now - this.since(m) >= this.timeoutMs(m) + slack) (expired ??= []).push(m);
    }
    if (expired === null) return;
    for (const m of expired) {
      this.remove(m);
      this.expire(m);
    }
  };
}
