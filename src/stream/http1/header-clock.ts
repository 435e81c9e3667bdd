/**
 * Request-header deadlines (Slowloris) for every downstream HTTP/1.x connection of a worker, from one
 * coarse sweeper (see CoarseSweeper for why not a timer per request: a head usually completes within
 * the read it started in). A connection joins the clock once for its lifetime and marks a head in
 * progress with one property store: the coarse `now` when its first byte arrived, or Infinity when
 * no head is in progress.
 */
import { CoarseSweeper } from '../../common/coarse-sweeper.js';

export interface HeaderTimed {
  /** HeaderClock.now when the current head's first byte arrived; Infinity while no head is in progress. */
  headSince: number;
  readonly headerTimeoutMs: number;
  /** Called once when the head did not complete in time; the clock has already let the member go. */
  onHeaderTimeout(): void;
}

export class HeaderClock extends CoarseSweeper<HeaderTimed> {
  protected since(m: HeaderTimed): number {
    return m.headSince;
  }
  protected timeoutMs(m: HeaderTimed): number {
    return m.headerTimeoutMs;
  }
  protected expire(m: HeaderTimed): void {
    m.onHeaderTimeout();
  }
}

/** One clock per thread: module state is per worker thread. */
export const headerClock = new HeaderClock();
