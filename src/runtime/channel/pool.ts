/**
 * Layotto's connPool: at most `size` connections, each lent to one RPC at a time. An RPC first waits
 * for a turn (FIFO, so waiters are served in arrival order and none starves), then takes an idle
 * connection or dials a new one. Broken connections leave the pool; a cancelled waiter leaves the queue.
 *
 * Every call that has to wait for a turn is counted on the worker's backlog gauge while it waits: it
 * is the scheduler's signal that this worker is where calls queue (src/actor/backlog.ts).
 */
import { RingsideError, asRingsideError } from '../../common/errors.js';
import { threadBacklog, type BacklogGauge } from '../../actor/backlog.js';

export interface Poolable {
  readonly closed: boolean;
  /** Asked when the connection comes back idle: true retires it (the next call dials anew). */
  readonly misplaced?: boolean;
  destroy(reason: string): void;
}

/** Called with a connection once the RPC has its turn, or with the dial error. */
export type TurnCallback<C> = (conn: C | RingsideError) => void;

/** A waiting RPC; pass it to cancel() when the RPC gives up before its turn. */
export interface Ticket {
  readonly waiting: boolean;
}

class Waiter<C> implements Ticket {
  waiting = true;
  readonly cb: TurnCallback<C>;
  constructor(cb: TurnCallback<C>) {
    this.cb = cb;
  }
}

export class ConnPool<C extends Poolable> {
  readonly #size: number;
  readonly #dial: () => C;
  readonly #backlog: BacklogGauge;
  readonly #idle: C[] = [];
  readonly #queue: Waiter<C>[] = [];
  #queueHead = 0;
  #turns = 0;
  #dialed = 0;
  #retired = 0;
  #closed = false;

  constructor(size: number, dial: () => C, backlog: BacklogGauge = threadBacklog()) {
    this.#size = size;
    this.#dial = dial;
    this.#backlog = backlog;
  }

  /**
   * Takes a turn. When one is free the callback runs at once (on this stack) and undefined is returned;
   * otherwise the RPC queues and the returned ticket can cancel it.
   */
  take(cb: TurnCallback<C>): Ticket | undefined {
    if (this.#closed) {
      cb(new RingsideError('UNAVAILABLE', 'internal', 'channel is closed'));
      return undefined;
    }
    if (this.#turns < this.#size) {
      this.#turns++;
      this.#lend(cb);
      return undefined;
    }
    const waiter = new Waiter(cb);
    this.#queue.push(waiter);
    this.#backlog.add(1);
    return waiter;
  }

  /** Removes a still-waiting RPC from the queue (timeout or cancel before its turn). */
  cancel(ticket: Ticket): void {
    // Lazy removal: the waiter is skipped when it reaches the head; compaction keeps the array bounded.
    const waiter = ticket as Waiter<C>;
    if (!waiter.waiting) return;
    waiter.waiting = false;
    this.#backlog.add(-1);
  }

  /**
   * Gives a lent connection back; a broken one is destroyed and its slot freed for a new dial. So is
   * one the scheduler would place elsewhere now: the next call's dial is placed by the load board.
   */
  release(conn: C, broken: boolean): void {
    if (broken || conn.closed || this.#closed) conn.destroy(broken ? 'broken' : 'pool closed');
    else if (conn.misplaced === true) {
      this.#retired++;
      conn.destroy('re-placed by the scheduler');
    } else this.#idle.push(conn);
    this.#turns--;
    this.#next();
  }

  /** Turn accounting for a dial that never produced a connection. */
  #giveBackTurn(): void {
    this.#turns--;
    this.#next();
  }

  #next(): void {
    while (this.#turns < this.#size && this.#queueHead < this.#queue.length) {
      const waiter = this.#queue[this.#queueHead]!;
      this.#queueHead++;
      if (!waiter.waiting) continue;
      waiter.waiting = false;
      this.#backlog.add(-1);
      this.#turns++;
      this.#lend(waiter.cb);
    }
    if (this.#queueHead > 64 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#queueHead);
      this.#queueHead = 0;
    }
  }

  #lend(cb: TurnCallback<C>): void {
    let conn: C | undefined;
    while ((conn = this.#idle.pop()) !== undefined) {
      if (!conn.closed) {
        cb(conn);
        return;
      }
    }
    let fresh: C;
    try {
      fresh = this.#dial();
      this.#dialed++;
    } catch (err) {
      this.#giveBackTurn();
      cb(asRingsideError(err));
      return;
    }
    cb(fresh);
  }

  get busy(): number {
    return this.#turns;
  }

  get idle(): number {
    let n = 0;
    for (const c of this.#idle) if (!c.closed) n++;
    return n;
  }

  get waiting(): number {
    let n = 0;
    for (let i = this.#queueHead; i < this.#queue.length; i++) if (this.#queue[i]!.waiting) n++;
    return n;
  }

  get dialed(): number {
    return this.#dialed;
  }

  /** Connections closed because the scheduler re-placed them. */
  get retired(): number {
    return this.#retired;
  }

  get size(): number {
    return this.#size;
  }

  /** Closes idle connections and fails waiters; lent connections close when they come back. */
  close(): void {
    this.#closed = true;
    for (const c of this.#idle.splice(0)) c.destroy('pool closed');
    for (let i = this.#queueHead; i < this.#queue.length; i++) {
      const w = this.#queue[i]!;
      if (!w.waiting) continue;
      w.waiting = false;
      this.#backlog.add(-1);
      w.cb(new RingsideError('UNAVAILABLE', 'internal', 'channel is closed'));
    }
    this.#queue.length = 0;
    this.#queueHead = 0;
  }
}
