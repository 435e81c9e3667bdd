/**
 * Request deadlines without a Node timer per request.
 *
 * Why: every proxied request arms a route/global timeout that almost never fires. setTimeout +
 * clearTimeout per request showed in the proxy's profile (Timeout allocation, the timer list's
 * insert/unenroll, libuv's clock). Requests that share a timeout value expire in the order they
 * started, so each distinct timeout gets one FIFO list — an intrusive doubly linked list through the
 * requests themselves, O(1) to add and to remove — and one Node timer armed for the list's oldest
 * deadline. Expiry is as precise as before (the timer fires at the oldest deadline, not on a coarse
 * tick); a removed head just leaves the timer armed for a deadline with nothing due, which re-arms it
 * for the new head. The timer is unref'd, so an idle worker is never held up by it.
 */

/** A request that can sit in one deadline list at a time. */
export interface DeadlineEntry {
  deadlinePrev: DeadlineEntry | null;
  deadlineNext: DeadlineEntry | null;
  deadlineList: DeadlineList | null;
  deadlineAt: number;
  /** Called once when the deadline passes while the entry is still in its list. */
  onDeadline(): void;
}

export class DeadlineList {
  readonly ms: number;
  #head: DeadlineEntry | null = null;
  #tail: DeadlineEntry | null = null;
  #timer: NodeJS.Timeout | undefined;
  /** The deadline the timer is armed for; the timer fires no earlier than this. */
  #armedFor = 0;

  constructor(ms: number) {
    this.ms = ms;
  }

  add(e: DeadlineEntry): void {
    if (e.deadlineList !== null) e.deadlineList.remove(e);
    e.deadlineAt = Date.now() + this.ms;
    e.deadlineList = this;
    e.deadlinePrev = this.#tail;
    e.deadlineNext = null;
    if (this.#tail === null) this.#head = e;
    else this.#tail.deadlineNext = e;
    this.#tail = e;
    if (this.#timer === undefined) this.#arm(e.deadlineAt);
  }

  remove(e: DeadlineEntry): void {
    if (e.deadlineList !== this) return;
    const prev = e.deadlinePrev;
    const next = e.deadlineNext;
    if (prev === null) this.#head = next;
    else prev.deadlineNext = next;
    if (next === null) this.#tail = prev;
    else next.deadlinePrev = prev;
    e.deadlinePrev = null;
    e.deadlineNext = null;
    e.deadlineList = null;
    // The timer stays armed when the list empties: under load the list empties and refills between
    // event-loop turns, and clearing and re-arming each time cost what a timer per request did.
  }

  #arm(at: number): void {
    this.#armedFor = at;
    // Unref'd: a request waiting on its deadline is held alive by its downstream socket anyway, and a
    // timer left armed for an emptied list must not keep a draining worker's loop running.
    this.#timer = setTimeout(this.#fire, Math.max(1, at - Date.now())).unref();
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    // Node's timer clock and Date.now() may disagree by a millisecond: what is not due yet is
    // left for the re-armed timer, so no request times out early.
    const now = Math.max(Date.now(), this.#armedFor);
    let e = this.#head;
    while (e !== null && e.deadlineAt <= now) {
      this.remove(e);
      try {
        e.onDeadline();
      } catch (err) {
        // Surfaces as the uncaught error a throwing setTimeout callback was, after the requests
        // behind this one have expired too.
        queueMicrotask(() => {
          throw err;
        });
      }
      e = this.#head;
    }
    if (e !== null && this.#timer === undefined) this.#arm(e.deadlineAt);
  };
}

/** One list per distinct timeout value, per worker thread. */
const lists = new Map<number, DeadlineList>();

/** Most requests share one timeout: the last list found answers without a map lookup. */
let last: DeadlineList | null = null;

export function deadlineList(ms: number): DeadlineList {
  if (last !== null && last.ms === ms) return last;
  let list = lists.get(ms);
  if (list === undefined) {
    list = new DeadlineList(ms);
    lists.set(ms, list);
  }
  last = list;
  return list;
}
