/**
 * Runs one direction of a stream (request or response) through its filters. Events are the head,
 * body pieces and trailers, in order. A filter answering Stop holds its event and every later one
 * until the filter resumes the chain; events then continue from the next filter, in order.
 *
 * Body pieces are views valid only during the call that delivered them, so the chain copies one only
 * when it has to keep it (held by a Stop or queued behind one). A chain with no filters is never
 * built: the stream calls its sink directly.
 *
 * A filter may transform the body: replace a piece's bytes, swallow pieces it gathers, and — when
 * the body ends in trailers rather than a last piece — add the gathered result as a piece in front
 * of the trailers (the compressor and decompressor do all three).
 */
import { FilterStatus } from '../types/network.js';
import type { HeaderMap } from '../types/protocol.js';

export const enum EventKind {
  Headers,
  Data,
  Trailers,
}

export interface ChainEvent<H> {
  kind: EventKind;
  head: H | null;
  chunk: Buffer | null;
  trailers: HeaderMap | null;
  endOfStream: boolean;
  /** The chunk is Ringside's own copy. */
  owned: boolean;
  /** While queued: the filter index the event goes on at (past the filters it has already seen). */
  at: number;
}

/** Where events go after the last filter. */
export interface ChainSink<H> {
  headers(head: H, endOfStream: boolean): void;
  data(chunk: Buffer, endOfStream: boolean): void;
  trailers(trailers: HeaderMap): void;
}

/** Calls one filter's hook for one event; missing hooks count as Continue. */
export type FilterCall<F, H> = (filter: F, event: ChainEvent<H>) => FilterStatus;

export class FilterChain<F, H> {
  readonly #filters: readonly F[];
  readonly #call: FilterCall<F, H>;
  readonly #sink: ChainSink<H>;
  /** Events waiting to run, in order: while stopped, the held event and what came after it. */
  readonly #queue: ChainEvent<H>[] = [];
  /** A filter answered Stop; the queue's events go on, each at its `at`, once it resumes. */
  #stopped = false;
  /** The event the filter stopped on (queue[0], unless pieces were added in front of trailers). */
  #held: ChainEvent<H> | null = null;
  /** Set when a filter resumes from inside its own hook, before answering Stop. */
  #resumeDuringCall = false;
  #inCall = false;
  /** The event the current hook was called with (replaceData / swallowData act on it). */
  #current: ChainEvent<H> | null = null;
  /** Body pieces added (addData) from inside the current trailers hook, to run before them. */
  #added: ChainEvent<H>[] | null = null;
  #swallowed = false;
  #destroyed = false;

  constructor(filters: readonly F[], call: FilterCall<F, H>, sink: ChainSink<H>) {
    this.#filters = filters;
    this.#call = call;
    this.#sink = sink;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  headers(head: H, endOfStream: boolean): void {
    this.#push({ kind: EventKind.Headers, head, chunk: null, trailers: null, endOfStream, owned: false, at: 0 });
  }

  data(chunk: Buffer, endOfStream: boolean): void {
    this.#push({ kind: EventKind.Data, head: null, chunk, trailers: null, endOfStream, owned: false, at: 0 });
  }

  trailers(trailers: HeaderMap): void {
    this.#push({ kind: EventKind.Trailers, head: null, chunk: null, trailers, endOfStream: true, owned: false, at: 0 });
  }

  /** Resumes a stopped chain; a no-op when not stopped. */
  resume(): void {
    if (this.#destroyed) return;
    if (this.#inCall) {
      this.#resumeDuringCall = true;
      return;
    }
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#held = null;
    this.#drain();
  }

  /** Runs queued events, each from its own filter index, until one stops or the queue is empty. */
  #drain(): void {
    while (this.#queue.length > 0 && !this.#stopped && !this.#destroyed) {
      const ev = this.#queue.shift()!;
      if (!this.#run(ev, ev.at)) return;
    }
  }

  /**
   * Body transformation (compression): from inside a data hook, replaces the bytes of the piece the
   * hook was called with; while stopped on a data piece, replaces the held piece's bytes (call it
   * before resume()). The replacement is the caller's own buffer. False when there is no data piece
   * to replace.
   */
  replaceData(chunk: Buffer): boolean {
    const ev = this.#inCall ? this.#current : this.#held;
    if (ev === null || ev.kind !== EventKind.Data) return false;
    ev.chunk = chunk;
    ev.owned = true;
    return true;
  }

  /**
   * Body transformation of a body that ends in trailers (compression): from inside a trailers hook,
   * or while stopped on trailers, adds a body piece (the caller's own buffer) that the filters after
   * this one and the sink see before the trailers — how a filter that gathered the body hands it on
   * once the trailers say it is complete. Pieces added more than once go in the order added. False
   * when the event is not trailers.
   */
  addData(chunk: Buffer): boolean {
    const piece: ChainEvent<H> = { kind: EventKind.Data, head: null, chunk, trailers: null, endOfStream: false, owned: true, at: 0 };
    if (this.#inCall) {
      if (this.#current?.kind !== EventKind.Trailers) return false;
      (this.#added ??= []).push(piece);
      return true;
    }
    const held = this.#held;
    if (held?.kind !== EventKind.Trailers) return false;
    piece.at = held.at;
    // Right before the held trailers, so after any piece added earlier.
    this.#queue.splice(this.#queue.indexOf(held), 0, piece);
    return true;
  }

  /**
   * From inside a data hook that is not the last piece: the filter took the bytes (it copied them),
   * so the piece goes no further — not to later filters, not to the sink. The hook's status is then
   * ignored. Used to gather a body that a later piece replaces whole.
   */
  swallowData(): boolean {
    const ev = this.#current;
    if (!this.#inCall || ev === null || ev.kind !== EventKind.Data || ev.endOfStream) return false;
    this.#swallowed = true;
    return true;
  }

  /** Drops held events; no filter or sink is called afterwards. */
  destroy(): void {
    this.#destroyed = true;
    this.#held = null;
    this.#added = null;
    this.#queue.length = 0;
  }

  #push(ev: ChainEvent<H>): void {
    if (this.#destroyed) return;
    if (this.#stopped || this.#queue.length > 0) {
      keep(ev);
      this.#queue.push(ev);
      return;
    }
    this.#run(ev, 0);
  }

  /** Runs one event from filter `from`; false when it stopped (and was queued) or the chain died. */
  #run(ev: ChainEvent<H>, from: number): boolean {
    const filters = this.#filters;
    for (let i = from; i < filters.length; i++) {
      this.#inCall = true;
      this.#current = ev;
      this.#resumeDuringCall = false;
      let status: FilterStatus;
      try {
        status = this.#call(filters[i]!, ev);
      } finally {
        this.#inCall = false;
        this.#current = null;
      }
      if (this.#destroyed) return false;
      if (this.#swallowed) {
        this.#swallowed = false;
        return true; // consumed by filter i: this event is done
      }
      const added = this.#added;
      const stop = status === FilterStatus.Stop && !this.#resumeDuringCall;
      if (added !== null) {
        // Pieces added by filter i go on from filter i + 1, ahead of the trailers (ev).
        this.#added = null;
        ev.at = i + 1;
        for (const piece of added) piece.at = i + 1;
        this.#queue.unshift(...added, ev);
        if (stop) {
          // The filter stopped on the trailers; the pieces it added wait in front of them.
          this.#stopped = true;
          this.#held = ev;
          return false;
        }
        this.#drain();
        return !this.#destroyed && !this.#stopped;
      }
      if (stop) {
        keep(ev);
        ev.at = i + 1;
        this.#queue.unshift(ev);
        this.#stopped = true;
        this.#held = ev;
        return false;
      }
    }
    switch (ev.kind) {
      case EventKind.Headers:
        this.#sink.headers(ev.head!, ev.endOfStream);
        break;
      case EventKind.Data:
        this.#sink.data(ev.chunk!, ev.endOfStream);
        break;
      case EventKind.Trailers:
        this.#sink.trailers(ev.trailers!);
        break;
    }
    return !this.#destroyed;
  }
}

/** Makes a held body piece outlive the call that delivered it (copied once). */
function keep<H>(ev: ChainEvent<H>): void {
  if (ev.kind === EventKind.Data && ev.chunk !== null && !ev.owned) {
    ev.chunk = Buffer.from(ev.chunk);
    ev.owned = true;
  }
}
