/**
 * One doorbell per thread for the cross-thread RingPipe ends it hosts.
 *
 * Why: with a doorbell per pipe end, every end that runs out of work parks on its own
 * Atomics.waitAsync, and every message to a parked end costs its producer an Atomics.notify (a task
 * posted to the other isolate and a uv_async write that wakes its loop). A worker holding sixteen
 * channel connections under load paid one notify per call in each direction; in a `--cpu-prof` of
 * bench:invoke1 the notifies and waits were 10% of the gRPC worker's busy time and 17% of the egress
 * worker's. Here a thread parks once, when all of its ends are idle and its loop has nothing else to
 * do; while it is awake (busy with sockets, or draining rings) producers see it is not parked and do
 * not notify at all, and the first producer that finds it parked is the only one that notifies.
 *
 * The table lives in one SharedArrayBuffer shared by every data-plane thread of the process (the
 * load board's buffer begins with it): line 0 is a header (a table id and the slot count), line s+1
 * is slot s's PARKED and BELL words, on its own 64-byte line. A worker installs its slot once at
 * boot; each RingPipe descriptor made on it carries the table, and the consumer end of each ring
 * writes its thread's slot into the ring header (CONSUMER_BELL), so a producer on any thread knows
 * which doorbell to ring. Threads without a table (tests, tools) keep the per-ring doorbell.
 *
 *   producer:  store HEAD ─▶ PARKED[s] 1→0 (compareExchange; only the winner goes on) ─▶ BELL[s]++ ─▶ notify
 *   consumer:  seen = BELL[s] ─▶ PARKED[s] = 1 ─▶ re-check every idle end ─▶ waitAsync(BELL[s], seen)
 *
 * Both sides use seq-cst atomics, so either the parking thread sees the producer's bytes when it
 * re-checks, or the producer sees PARKED = 1 and notifies: no wake-up is lost.
 *
 * The thread's parking decision is the `ring.bell` actor's. Ends that found nothing to do tell it
 * `idle`; while the thread is awake it looks at its idle ends once per event-loop iteration (a
 * setImmediate), wakes those with work, and parks when a look finds nothing and the loop went round
 * with nothing else to do (or after a few empty looks on a busy loop), so an idle thread never spins.
 */
import type { ActorRef, BellWaiter, RingBellMsg } from '../types/actor.js';
import { threadRunLoop } from '../actor/run-loop.js';
import { counter } from '../common/counters.js';
import { atomicsWaitAsync, type WaitAsyncResult } from './wait-async.js';
import { ringNotifies } from './notifies.js';

const LINE_WORDS = 16;
const TABLE_ID = 0;
const TABLE_SLOTS = 1;
const PARKED = 0;
const BELL = 1;


const parks = counter('ring.bell.parks');

/** A view of a doorbell table; every thread that holds the buffer makes its own. */
export class BellTable {
  readonly sab: SharedArrayBuffer;
  readonly id: number;
  readonly slots: number;
  readonly #i32: Int32Array;

  /** Bytes a table of `slots` doorbells occupies at the start of its buffer. */
  static bytesFor(slots: number): number {
    return (1 + slots) * LINE_WORDS * 4;
  }

  /** Writes the header of a fresh table (the buffer's owner calls it once, before any thread reads it). */
  static initialize(sab: SharedArrayBuffer, slots: number): void {
    const i32 = new Int32Array(sab, 0, LINE_WORDS);
    // Non-zero and unlike any other table's, so a descriptor from another table is told apart.
    Atomics.store(i32, TABLE_ID, (Math.random() * 0x7ffffffe + 1) | 0);
    Atomics.store(i32, TABLE_SLOTS, slots);
  }

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    const header = new Int32Array(sab, 0, LINE_WORDS);
    this.id = Atomics.load(header, TABLE_ID);
    this.slots = Atomics.load(header, TABLE_SLOTS);
    if (this.id === 0 || this.slots < 0 || BellTable.bytesFor(this.slots) > sab.byteLength) throw new RangeError('not a doorbell table');
    this.#i32 = new Int32Array(sab, 0, (1 + this.slots) * LINE_WORDS);
  }

  #base(slot: number): number {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slots) throw new RangeError(`doorbell slot ${slot} is not in a table of ${this.slots}`);
    return (slot + 1) * LINE_WORDS;
  }

  /**
   * Producer side, after its change is published: wakes slot's thread if it is parked. Only the
   * producer that flips PARKED from 1 to 0 notifies; everyone else (the thread is awake, or another
   * producer is already waking it) costs one atomic load.
   */
  wake(slot: number): void {
    const base = this.#base(slot);
    if (Atomics.load(this.#i32, base + PARKED) === 0) return;
    if (Atomics.compareExchange(this.#i32, base + PARKED, 1, 0) !== 1) return;
    Atomics.add(this.#i32, base + BELL, 1);
    Atomics.notify(this.#i32, base + BELL);
    ringNotifies.inc();
  }

  /** Unconditional: a reset from a thread that cannot know whether the slot's thread is parked. */
  ring(slot: number): void {
    const base = this.#base(slot);
    Atomics.add(this.#i32, base + BELL, 1);
    Atomics.notify(this.#i32, base + BELL);
  }

  /** Consumer side: announces the park; returns the BELL value to wait on. */
  park(slot: number): number {
    const base = this.#base(slot);
    const seen = Atomics.load(this.#i32, base + BELL);
    Atomics.store(this.#i32, base + PARKED, 1);
    return seen;
  }

  unpark(slot: number): void {
    Atomics.store(this.#i32, this.#base(slot) + PARKED, 0);
  }

  wait(slot: number, seen: number): WaitAsyncResult {
    return atomicsWaitAsync(this.#i32, this.#base(slot) + BELL, seen);
  }

  /** Whether slot's thread has announced a park (tests and stats). */
  parked(slot: number): boolean {
    return Atomics.load(this.#i32, this.#base(slot) + PARKED) === 1;
  }
}

// Empty looks in a row on a busy loop before the thread parks anyway.
const MAX_EMPTY_LOOKS = 16;

const POLL: RingBellMsg = { k: 'poll' };
const RANG: RingBellMsg = { k: 'rang' };

/** The `ring.bell` actor of one thread: its idle ring ends, and whether the thread is parked. */
export class ThreadBell {
  readonly table: BellTable;
  readonly slot: number;
  #ref: ActorRef<RingBellMsg>;
  readonly #idle = new Set<BellWaiter>();
  #pollArmed = false;
  #waiting = false;
  /** The run loop's message count after the previous look: more than our own poll since means other work. */
  #toldAfterLook = 0;
  #emptyLooks = 0;

  constructor(table: BellTable, slot: number) {
    this.table = table;
    this.slot = slot;
    table.unpark(slot); // a predecessor on this slot may have died parked
    this.#ref = this.#spawn();
  }

  #spawn(): ActorRef<RingBellMsg> {
    return threadRunLoop().spawn<RingBellMsg>('ring.bell', { receive: (m) => this.#receive(m), crashed: () => this.#recover() });
  }

  /** An end with nothing to do; it is told (BellWaiter.ring) once it has some. */
  idle(waiter: BellWaiter): void {
    this.#ref.tell(waiter.idleMsg);
  }

  /** A finished end leaves the idle set. */
  forget(waiter: BellWaiter): void {
    this.#ref.tell(waiter.forgetMsg);
  }

  /** Ends waiting for work now (tests and stats). */
  get idleEnds(): number {
    return this.#idle.size;
  }

  #receive(msg: RingBellMsg): void {
    switch (msg.k) {
      case 'idle':
        this.#idle.add(msg.waiter);
        if (!this.#waiting) this.#arm();
        return;
      case 'forget':
        this.#idle.delete(msg.waiter);
        return;
      case 'poll':
        this.#pollArmed = false;
        if (!this.#waiting) this.#look(false);
        return;
      case 'rang':
        this.#waiting = false;
        this.table.unpark(this.slot);
        this.#look(true);
        return;
    }
  }

  /**
   * Supervision: the crashed actor was stopped (logged and counted by the run loop). No end may be
   * left asleep: every idle end is told to run (its pump re-checks and comes back idle), and a fresh
   * `ring.bell` takes over, awake.
   */
  #recover(): void {
    this.table.unpark(this.slot);
    this.#waiting = false;
    this.#pollArmed = false;
    const idle = [...this.#idle];
    this.#idle.clear();
    this.#ref = this.#spawn();
    for (const w of idle) w.ring();
  }

  #arm(): void {
    if (this.#pollArmed) return;
    this.#pollArmed = true;
    setImmediate(this.#tellPoll);
  }

  readonly #tellPoll = (): void => this.#ref.tell(POLL);
  readonly #onRang = (): void => this.#ref.tell(RANG);

  /** Tells every idle end that has work; returns how many. */
  #wakeReady(): number {
    let n = 0;
    for (const w of this.#idle) {
      if (!w.ready) continue;
      this.#idle.delete(w);
      w.ring();
      n++;
    }
    return n;
  }

  /**
   * One look at the idle ends. "Busy" is whether the loop did other actor work since the previous
   * look (any message besides this look's own poll): then the thread is not about to sleep in epoll
   * anyway, and looking again next iteration costs less than a park and a notify. A look on a loop
   * with nothing else to do parks at once, so an idle thread never spins (nor reads as busy in its
   * event-loop utilization, which the scheduler places work by).
   */
  #look(afterWake: boolean): void {
    const loop = threadRunLoop();
    const busy = afterWake || loop.messagesTold - this.#toldAfterLook > 1;
    const found = this.#wakeReady();
    this.#toldAfterLook = loop.messagesTold;
    if (found > 0) {
      this.#emptyLooks = 0;
      this.#arm();
      return;
    }
    // No idle end: nothing to park for; the next `idle` starts looking again.
    if (this.#idle.size === 0) return;
    if (busy && this.#emptyLooks < MAX_EMPTY_LOOKS) {
      this.#emptyLooks++;
      this.#arm();
      return;
    }
    this.#emptyLooks = 0;
    this.#park();
  }

  #park(): void {
    const seen = this.table.park(this.slot);
    if (this.#wakeReady() > 0) {
      this.table.unpark(this.slot);
      this.#arm();
      return;
    }
    const r = this.table.wait(this.slot, seen);
    if (!r.async) {
      // Rang between the announcement and the wait.
      this.table.unpark(this.slot);
      this.#arm();
      return;
    }
    this.#waiting = true;
    parks.inc();
    void r.value.then(this.#onRang);
  }
}

let installed: BellTable | null = null;
let installedSlot = -1;
let threadBell: ThreadBell | null = null;

/**
 * Called once per data-plane thread at boot: `sab` is the process's doorbell table, `slot` this
 * thread's line in it. Pipes made or opened here afterwards use it.
 */
export function installThreadBells(sab: SharedArrayBuffer, slot: number): void {
  const table = new BellTable(sab);
  if (slot < 0 || slot >= table.slots) throw new RangeError(`doorbell slot ${slot} is not in a table of ${table.slots}`);
  installed = table;
  installedSlot = slot;
  threadBell = null;
}

/** The table this thread's descriptors carry, when one is installed. */
export function installedBellTable(): BellTable | null {
  return installed;
}

/**
 * This thread's bell for an end of a pipe whose descriptor carries `sab` — null when the thread has
 * no table or the descriptor comes from another one (the end keeps its per-ring doorbell).
 */
export function threadBellFor(sab: SharedArrayBuffer | undefined): ThreadBell | null {
  if (installed === null || sab === undefined) return null;
  if (Atomics.load(new Int32Array(sab, 0, 1), 0) !== installed.id) return null;
  return (threadBell ??= new ThreadBell(installed, installedSlot));
}
