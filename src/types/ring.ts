/**
 * RingPipe — the in-process connection (Layotto used Go's net.Pipe here).
 *
 *   channel (invoker side)  ── RingEndpoint A ══ SAB ring a→b ══▶ RingEndpoint B ── in-process listener
 *                                             ◀══ SAB ring b→a ══
 *
 * Two SharedArrayBuffer single-producer/single-consumer byte rings make a duplex pipe. Both ends may
 * live on one worker (the fast path) or on two; the descriptor below is what crosses the thread.
 */
import type { Duplex } from 'node:stream';

/** What a pipe end needs to be rebuilt on another thread; sent inside a ThreadMessage. */
export interface RingPipeDescriptor {
  readonly pipeId: number;
  /** Ring written by side 'a' and read by side 'b'. */
  readonly aToB: SharedArrayBuffer;
  /** Ring written by side 'b' and read by side 'a'. */
  readonly bToA: SharedArrayBuffer;
  /**
   * The process's table of per-thread doorbells (src/ring/bells.ts) when the dialing thread has one:
   * an end opened on a thread with the same table parks with its thread instead of on its own ring.
   */
  readonly bells?: SharedArrayBuffer;
}

export type RingSide = 'a' | 'b';

/**
 * The raw byte API of one end, for codecs and connections on the hot path. Callbacks are fields
 * rather than EventEmitter events so a delivery is one property call.
 */
export interface RingEndpoint {
  readonly pipeId: number;
  readonly side: RingSide;
  /**
   * Copies bytes toward the peer. Returns true when everything fit in the ring; false when the ring
   * filled and the remainder is held (at most this one call's bytes): wait for onDrain before
   * writing again. Bytes are published to the peer at the end of the current tick (batched), or at
   * once on flush().
   */
  write(data: Uint8Array): boolean;
  /** Publishes written bytes now and wakes the peer if it is parked. */
  flush(): void;
  /** Half-close: after the bytes already written the peer sees onEnd; this end can still read. */
  end(): void;
  /** Closes both directions gracefully (pending bytes are still delivered). */
  close(): void;
  /** Aborts both directions at once; the peer sees onClose(reason) without waiting for data. */
  reset(reason: string): void;
  /** Stops / restarts delivery of onData (backpressure toward the peer: its ring fills). */
  pause(): void;
  resume(): void;
  readonly closed: boolean;
  /**
   * A cross-thread end keeps its worker's event loop alive while open (Atomics.waitAsync alone does
   * not). unref() is called by an owner that must not let an idle pipe hold its worker up; ref()
   * undoes it. No effect when both ends live on one thread (nothing else could wake them).
   */
  ref(): void;
  unref(): void;

  /** Bytes from the peer. The buffer is valid only during the call (it may be reused): copy to keep. */
  onData: ((chunk: Buffer) => void) | null;
  /** The peer half-closed. */
  onEnd: (() => void) | null;
  /** The held remainder of a write went out; writing may continue. */
  onDrain: (() => void) | null;
  /** The pipe is closed in both directions; reason is set when it was a reset. */
  onClose: ((reason?: string) => void) | null;

  /** Wraps this end as a Node Duplex (for libraries that want streams, e.g. grpc-js injection). */
  toDuplex(): Duplex;
}
