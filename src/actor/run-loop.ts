/**
 * The per-worker run loop that hosts actors.
 *
 * Why direct dispatch: the data plane's messages mostly come from I/O callbacks (a socket read, a ring
 * delivery). When the target actor is idle and its mailbox empty, handling the message on the caller's
 * stack is indistinguishable from a queued delivery (one message at a time, in order) and saves a
 * queue round trip — and it keeps borrowed buffers (onread static buffers) valid without a copy.
 * Re-entrant tells (an actor telling itself, or A → B → A on one stack) are queued instead, which
 * bounds stack depth and keeps per-actor ordering.
 *
 * Why bounded batches: a queued actor gets at most `batch` messages per turn, and at most `turnBudget`
 * queued messages are handled per event-loop iteration — in one turn or in a chain of microtask
 * turns — before the run loop yields to the event loop with setImmediate, so one busy connection (or two actors that keep
 * telling each other) cannot starve the others or the sockets' I/O callbacks.
 */
import type { Actor, ActorKind, ActorKindStats, ActorRef, RunLoop, RunLoopStats, SpawnOptions } from '../types/actor.js';
import { logger } from '../common/log.js';

const log = logger('actor');
/** Nested direct dispatches allowed on one stack before tells queue instead. */
const MAX_DIRECT_DEPTH = 8;

interface Cell<M> {
  ref: Ref<M>;
  kind: ActorKindStats;
  actor: Actor<M>;
  mailbox: M[];
  /** Index of the next message to read in mailbox (avoids Array.shift's O(n)). */
  head: number;
  running: boolean;
  scheduled: boolean;
  /** False: never dispatched on the teller's stack (SpawnOptions.direct). */
  direct: boolean;
}

class Ref<M> implements ActorRef<M> {
  readonly id: number;
  readonly kind: ActorKind;
  /** The kind's counters, kept here too: a dead letter is counted after the cell is gone. */
  readonly kindStats: ActorKindStats;
  #loop: ActorRunLoop;
  cell: Cell<M> | null = null;

  constructor(id: number, kind: ActorKind, kindStats: ActorKindStats, loop: ActorRunLoop) {
    this.id = id;
    this.kind = kind;
    this.kindStats = kindStats;
    this.#loop = loop;
  }

  get name(): string {
    return `${this.kind}#${this.id}`;
  }

  get alive(): boolean {
    return this.cell !== null;
  }

  tell(msg: M): void {
    const cell = this.cell;
    if (cell !== null) this.#loop.deliver(cell, msg);
    else this.#loop.deadLetter(this);
  }
}

export interface RunLoopOptions {
  /** Messages one actor handles per turn before the next ready actor gets its go. */
  batch?: number;
  /** Messages a turn handles before it yields to the event loop. */
  turnBudget?: number;
}

export class ActorRunLoop implements RunLoop {
  readonly #batch: number;
  readonly #turnBudget: number;
  #nextId = 1;
  #ready: Cell<any>[] = [];
  #turnScheduled = false;
  #depth = 0;
  /** Queued messages handled since the run loop last yielded to the event loop (setImmediate). */
  #sinceYield = 0;
  #budgetResetArmed = false;
  readonly #stats = { actors: 0, messages: 0, turns: 0, yields: 0, maxQueueDepth: 0, crashes: 0, deadLetters: 0 };
  readonly #kinds = new Map<ActorKind, ActorKindStats>();

  constructor(opts: RunLoopOptions = {}) {
    this.#batch = opts.batch ?? 64;
    this.#turnBudget = opts.turnBudget ?? 1024;
  }

  spawn<M>(kind: ActorKind, actor: Actor<M>, options?: SpawnOptions): ActorRef<M> {
    let stats = this.#kinds.get(kind);
    if (stats === undefined) {
      stats = { live: 0, spawned: 0, messages: 0, queued: 0, turns: 0, crashes: 0, deadLetters: 0 };
      this.#kinds.set(kind, stats);
    }
    stats.live++;
    stats.spawned++;
    const ref = new Ref<M>(this.#nextId++, kind, stats, this);
    ref.cell = { ref, kind: stats, actor, mailbox: [], head: 0, running: false, scheduled: false, direct: options?.direct !== false };
    this.#stats.actors++;
    return ref;
  }

  stop(ref: ActorRef<unknown>): void {
    const r = ref as Ref<unknown>;
    const cell = r.cell;
    if (cell === null) return;
    r.cell = null;
    cell.mailbox.length = 0;
    cell.head = 0;
    this.#stats.actors--;
    cell.kind.live--;
    try {
      cell.actor.stopped?.();
    } catch (err) {
      log.error(`actor ${r.name} threw in stopped()`, err);
    }
  }

  get messagesTold(): number {
    return this.#stats.messages;
  }

  stats(): RunLoopStats {
    const kinds: Record<string, ActorKindStats> = {};
    for (const [kind, s] of this.#kinds) kinds[kind] = { ...s };
    return { ...this.#stats, kinds };
  }

  /** @internal called by ActorRef.tell on a stopped actor: the message is dropped and counted. */
  deadLetter(ref: Ref<unknown>): void {
    this.#stats.deadLetters++;
    ref.kindStats.deadLetters++;
  }

  /** @internal called by ActorRef.tell */
  deliver<M>(cell: Cell<M>, msg: M): void {
    this.#stats.messages++;
    cell.kind.messages++;
    // Direct dispatch: idle actor, empty mailbox, and we are not already deep in a dispatch chain
    // (a read loop → upstream phase → downstream phase → write loop chain is four deep).
    if (cell.direct && !cell.running && cell.mailbox.length === cell.head && this.#depth < MAX_DIRECT_DEPTH) {
      this.#depth++;
      cell.kind.turns++;
      cell.running = true;
      this.#receive(cell, msg);
      cell.running = false;
      this.#depth--;
      if (cell.mailbox.length !== cell.head) this.#schedule(cell);
      return;
    }
    cell.mailbox.push(msg);
    cell.kind.queued++;
    const depth = cell.mailbox.length - cell.head;
    if (depth > this.#stats.maxQueueDepth) this.#stats.maxQueueDepth = depth;
    if (!cell.running) this.#schedule(cell);
  }

  #schedule(cell: Cell<any>): void {
    if (cell.scheduled) return;
    cell.scheduled = true;
    this.#ready.push(cell);
    if (!this.#turnScheduled) {
      this.#turnScheduled = true;
      if (this.#sinceYield < this.#turnBudget) queueMicrotask(this.#turn);
      else {
        // A chain of turns (actors that keep telling each other, e.g. two ring ends echoing) has used
        // the budget without the event loop getting a go: the next turn waits for I/O and timers.
        this.#stats.yields++;
        setImmediate(this.#yieldedTurn);
      }
    }
  }

  readonly #resetBudget = (): void => {
    this.#budgetResetArmed = false;
    this.#sinceYield = 0;
  };

  readonly #yieldedTurn = (): void => {
    this.#sinceYield = 0;
    this.#turn();
  };

  readonly #turn = (): void => {
    // #turnScheduled stays true for the whole turn: actors that become ready now join this turn's
    // loop instead of queueing another microtask.
    this.#stats.turns++;
    if (!this.#budgetResetArmed) {
      // The budget is per event-loop iteration: it starts over once the loop has been round.
      this.#budgetResetArmed = true;
      setImmediate(this.#resetBudget);
    }
    while (this.#ready.length > 0 && this.#sinceYield < this.#turnBudget) {
      const ready = this.#ready;
      this.#ready = [];
      for (let i = 0; i < ready.length; i++) {
        const cell = ready[i]!;
        cell.scheduled = false;
        if (cell.ref.cell === null) continue; // stopped while queued
        this.#sinceYield += this.#drain(cell);
        if (cell.ref.cell !== null && cell.mailbox.length !== cell.head) this.#schedule(cell);
      }
    }
    this.#turnScheduled = false;
    if (this.#ready.length > 0) {
      // Out of budget: let sockets and timers run before the next turn.
      this.#stats.yields++;
      this.#turnScheduled = true;
      setImmediate(this.#yieldedTurn);
    }
  };

  #drain(cell: Cell<any>): number {
    let handled = 0;
    cell.kind.turns++;
    cell.running = true;
    try {
      while (handled < this.#batch && cell.head < cell.mailbox.length && cell.ref.cell !== null) {
        const msg = cell.mailbox[cell.head];
        cell.mailbox[cell.head++] = undefined;
        handled++;
        this.#receive(cell, msg);
      }
    } finally {
      cell.running = false;
    }
    if (cell.head === cell.mailbox.length) {
      cell.mailbox.length = 0;
      cell.head = 0;
    } else if (cell.head > 1024) {
      cell.mailbox = cell.mailbox.slice(cell.head);
      cell.head = 0;
    }
    return handled;
  }

  #receive<M>(cell: Cell<M>, msg: M): void {
    try {
      cell.actor.receive(msg);
    } catch (err) {
      this.#crashed(cell, err);
    }
  }

  /**
   * Supervision: an actor that throws is stopped (once: a stopped actor receives nothing more, so the
   * crash is logged once), counted under its kind, and its owner resets what it served through
   * crashed(). The worker and every other actor carry on.
   */
  #crashed(cell: Cell<any>, err: unknown): void {
    if (cell.ref.cell === null) return;
    this.#stats.crashes++;
    cell.kind.crashes++;
    log.error(`actor ${cell.ref.name} (kind ${cell.ref.kind}) crashed; stopping it`, err);
    this.stop(cell.ref);
    try {
      cell.actor.crashed?.(err);
    } catch (again) {
      log.error(`actor ${cell.ref.name}: its crash handler threw too`, again);
    }
  }
}

let threadLoop: ActorRunLoop | null = null;

/**
 * The run loop of this thread. Each worker thread has one (module state is per thread), so every
 * actor a worker hosts — connections, upstream clients, channel ends, ring pumps, phase machines —
 * shares one budget, whichever layer spawned it.
 */
export function threadRunLoop(): ActorRunLoop {
  return (threadLoop ??= new ActorRunLoop());
}
