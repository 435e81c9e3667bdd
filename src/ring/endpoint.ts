/**
 * One end of a RingPipe: writes into its outgoing ring, reads its incoming ring, and runs a small
 * loop that reacts to the peer (data, freed space, half-close, close, reset).
 *
 * The loop is an actor (`ring.pump`, messages RingPumpMsg) on this thread's run loop: whatever may
 * have changed — a write, a resume, the local peer, the doorbell of a parked end — tells the pump,
 * always through its mailbox (never on the teller's stack), and the run loop's budget bounds how much
 * pumping happens before sockets and timers get their turn (two echoing ends cannot starve I/O).
 *
 * Two modes:
 *  - local: both ends were made on this thread by createRingPipe; an end wakes its peer by telling
 *    the peer's pump.
 *  - remote: the peer is on another thread; an end that has nothing to do spins briefly (only when
 *    traffic says an arrival is imminent) and then parks: on a data-plane worker with its thread's
 *    `ring.bell` (bells.ts: one doorbell per thread, parked only when every end of the thread is idle
 *    and its loop has nothing else to do), elsewhere on its incoming ring's own DOORBELL with
 *    Atomics.waitAsync. Wakers notify only a parked thread or end, so a busy pipe pays no notify.
 *    Nothing here ever blocks a thread: a full ring turns into `write() === false` and a later onDrain.
 *
 * Callbacks are never called from inside write(), end(), close() or reset(), so callers may use the
 * endpoint freely from inside any callback.
 */
import type { Duplex } from 'node:stream';
import type { RingEndpoint, RingSide } from '../types/ring.js';
import type { ActorRef, BellWaiter, RingBellMsg, RingPumpMsg, RunLoop } from '../types/actor.js';
import { threadRunLoop } from '../actor/run-loop.js';
import { ByteRing } from './byte-ring.js';
import { BellTable, threadBellFor, type ThreadBell } from './bells.js';
import { RingDuplex } from './duplex.js';
import { holdLoop, releaseLoop } from './keepalive.js';
import { FLAG_READER_CLOSED, FLAG_WRITER_ENDED, RESET_NONE, RESET_PUBLISHED } from './layout.js';
import { metrics } from '../observability/index.js';

/** Tuning of one end; the defaults come from measurements on 2-core machines (see DESIGN.md). */
export interface RingEndpointTuning {
  /** Publish early once this many bytes wait unpublished, so the reader starts on another core. Default capacity/8. */
  publishThreshold?: number;
  /** Spin this long before parking when recent inter-arrival gaps were short. Default 15 µs. */
  spinUs?: number;
  /** "Short" inter-arrival gap for the rule above. Default 50 µs. */
  burstGapUs?: number;
  /**
   * After publishing, keep polling for the peer's answer up to this long before parking, while such
   * spins keep catching answers (saves the second thread wake-up of a round trip when a core is free).
   * Default 0 (off): on the shared 2-core machines measured, the spinning end took the core the
   * answering end needed, so answers came no sooner and the spin only cost CPU. Opt in where idle
   * cores exist.
   */
  replySpinUs?: number;
  /** The run loop the pump runs on; default this thread's. */
  runLoop?: RunLoop;
}

const KICK: RingPumpMsg = { k: 'kick' };
const WAKE: RingPumpMsg = { k: 'wake' };

// A loop turn delivers at most this many ring capacities before yielding to the event loop.
const DELIVER_BUDGET_RINGS = 4;
// Loop rounds (pump → more work → pump) in one message before the pump tells itself to go on (so
// other actors and, past the run loop's budget, I/O get a turn).
const MAX_ROUNDS = 64;
// Reply spins go on while a decaying hit score (1 = every recent spin caught its answer) stays above
// REPLY_MIN_SCORE; below it they become rare probes whose interval doubles up to PROBE_MAX_MS, so a
// pipe whose answers come from a slow upstream stops paying for them.
const REPLY_MIN_SCORE = 0.3;
const REPLY_DECAY = 0.9;
const PROBE_MIN_MS = 10;
const PROBE_MAX_MS = 1000;

/**
 * A copy of data[from..]. Not data.slice(): on a Buffer (e.g. a chunk from another pipe's onData,
 * which views ring memory) slice() is a view, and the held bytes would change under us.
 */
function copyOf(data: Uint8Array, from: number): Uint8Array {
  return Uint8Array.prototype.slice.call(data, from);
}

export class RingPipeEndpoint implements RingEndpoint, BellWaiter {
  readonly pipeId: number;
  readonly side: RingSide;

  onData: ((chunk: Buffer) => void) | null = null;
  onEnd: (() => void) | null = null;
  onDrain: (() => void) | null = null;
  onClose: ((reason?: string) => void) | null = null;

  readonly #in: ByteRing;
  readonly #out: ByteRing;
  /** The aToB ring, which carries the pipe-wide reset word. */
  readonly #ctl: ByteRing;
  #peer: RingPipeEndpoint | null = null;
  readonly #remote: boolean;
  readonly #runLoop: RunLoop;
  readonly #pumpRef: ActorRef<RingPumpMsg>;
  /** The thread's doorbell this end parks with (remote mode on a data-plane worker), else null. */
  readonly #bell: ThreadBell | null;
  readonly idleMsg: RingBellMsg = { k: 'idle', waiter: this };
  readonly forgetMsg: RingBellMsg = { k: 'forget', waiter: this };

  readonly #publishThreshold: number;
  readonly #spinMs: number;
  readonly #burstGapMs: number;
  readonly #replySpinMs: number;

  // Writer state. #held is the remainder that did not fit; normally one write's, see write().
  #held: Uint8Array[] = [];
  #heldOffset = 0;
  #needDrain = false;
  #publishQueued = false;
  #endRequested = false;
  #endPublished = false;
  #peerReaderClosed = false;

  // Reader state.
  #paused = false;
  #endDelivered = false;
  #readerClosed = false;

  // Lifecycle.
  #closing = false;
  #finished = false;
  #scheduled = false;
  #waiting = false;
  #refed = true;
  #holding = false;
  #duplex: Duplex | null = null;

  // Spin heuristics (remote mode), all times in ms from performance.now().
  #lastArrival = -1e9;
  #gapEwma = 1e9;
  #awaitingReply = false;
  #lastPublishAt = 0;
  #replyScore = 1;
  #probeIntervalMs = PROBE_MIN_MS;
  #nextProbeAt = 0;

  constructor(
    pipeId: number,
    side: RingSide,
    aToB: SharedArrayBuffer,
    bToA: SharedArrayBuffer,
    remote: boolean,
    tuning: RingEndpointTuning = {},
    bells?: SharedArrayBuffer,
  ) {
    this.pipeId = pipeId;
    this.side = side;
    this.#bell = remote ? threadBellFor(bells) : null;
    // The producer side needs the table to ring the peer's thread, whichever table the peer uses.
    const table = remote && bells !== undefined ? (this.#bell?.table ?? new BellTable(bells)) : null;
    const ab = new ByteRing(aToB, side === 'a' ? table : null);
    const ba = new ByteRing(bToA, side === 'b' ? table : null);
    this.#ctl = side === 'a' ? ab : new ByteRing(aToB);
    this.#out = side === 'a' ? ab : ba;
    this.#in = side === 'a' ? ba : ab;
    this.#remote = remote;
    if (this.#bell !== null) this.#in.setConsumerBell(this.#bell.slot);
    this.#publishThreshold = tuning.publishThreshold ?? this.#out.capacity / 8;
    this.#spinMs = (tuning.spinUs ?? 15) / 1000;
    this.#burstGapMs = (tuning.burstGapUs ?? 50) / 1000;
    this.#replySpinMs = (tuning.replySpinUs ?? 0) / 1000;
    this.#runLoop = tuning.runLoop ?? threadRunLoop();
    this.#pumpRef = this.#runLoop.spawn<RingPumpMsg>('ring.pump', { receive: (m) => this.#receive(m), crashed: (err) => this.#crashed(err) }, { direct: false });
    this.#updateHold();
    metrics.ringOpened(remote);
    // Bytes or flags may already be in the rings (the peer opened first); the first turn picks them up.
    this.#kick();
  }

  /** Links two ends made on one thread (local mode). */
  static link(a: RingPipeEndpoint, b: RingPipeEndpoint): void {
    a.#peer = b;
    b.#peer = a;
  }

  get closed(): boolean {
    return this.#closing || this.#finished;
  }

  // ---- writer API ----

  write(data: Uint8Array): boolean {
    if (this.#closing || this.#finished || this.#endRequested || this.#peerReaderClosed) return false;
    if (this.#held.length !== 0) {
      // The caller ignored `false`. Keep its bytes (a byte pipe must not drop them silently) but
      // only ever as the caller's own backlog: nothing is buffered on behalf of a caller that waits.
      this.#held.push(copyOf(data, 0));
      this.#needDrain = true;
      return false;
    }
    const out = this.#out;
    const n = out.copyIn(data, 0);
    if (n < data.length) {
      this.#held.push(copyOf(data, n));
      this.#heldOffset = 0;
      this.#needDrain = true;
      this.#publishNow();
      out.setWriterBlocked();
      // Space may have been freed before WRITER_BLOCKED was visible, and then nobody would wake us.
      if (out.freeSpace() > 0) this.#kick();
      return false;
    }
    if (out.unpublished >= this.#publishThreshold) this.#publishNow();
    else if (!this.#publishQueued) {
      this.#publishQueued = true;
      queueMicrotask(this.#publishTask);
    }
    return true;
  }

  flush(): void {
    this.#publishNow();
  }

  end(): void {
    if (this.#closing || this.#finished || this.#endRequested) return;
    this.#endRequested = true;
    if (this.#held.length === 0) this.#publishEnd();
  }

  close(): void {
    if (this.#closing || this.#finished) return;
    this.#closing = true;
    this.#readerClosed = true;
    this.#in.setFlag(FLAG_READER_CLOSED);
    if (!this.#endRequested) {
      this.#endRequested = true;
      if (this.#held.length === 0) this.#publishEnd();
    }
    this.#wakePeer();
    this.#kick();
  }

  reset(reason: string): void {
    if (this.#finished) return;
    this.#ctl.publishReset(reason);
    this.#wakePeer();
    this.#finish(reason);
  }

  // ---- reader API ----

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#kick();
  }

  ref(): void {
    this.#refed = true;
    this.#updateHold();
  }

  unref(): void {
    this.#refed = false;
    this.#updateHold();
  }

  toDuplex(): Duplex {
    this.#duplex ??= new RingDuplex(this);
    return this.#duplex;
  }

  // ---- the loop ----

  readonly #publishTask = (): void => {
    this.#publishQueued = false;
    this.#publishNow();
  };

  #publishNow(): void {
    if (!this.#out.publish()) return;
    this.#wakePeer();
    if (this.#remote) {
      this.#awaitingReply = true;
      this.#lastPublishAt = performance.now();
      // Published from outside the loop (a timer, another socket) while parked: run the loop so it
      // can spin for the answer instead of paying a second wake-up.
      if (this.#waiting && this.#replySpinAllowed(this.#lastPublishAt)) this.#kick();
    }
  }

  #publishEnd(): void {
    this.#publishNow();
    this.#out.setFlag(FLAG_WRITER_ENDED);
    this.#endPublished = true;
    this.#wakePeer();
    this.#kick();
  }

  #wakePeer(): void {
    if (this.#peer !== null) this.#peer.#kick();
    else this.#out.wakeConsumer();
  }

  #kick(): void {
    if (this.#scheduled || this.#finished) return;
    this.#scheduled = true;
    this.#pumpRef.tell(KICK);
  }

  /** The doorbell rang (a promise callback): only a message to the pump. */
  readonly #onWake = (): void => {
    if (!this.#finished) this.#pumpRef.tell(WAKE);
  };

  #receive(msg: RingPumpMsg): void {
    if (msg.k === 'kick') this.#scheduled = false;
    else this.#waiting = false;
    this.#run();
  }

  // ---- BellWaiter (the thread's ring.bell looks at idle ends and tells those with work) ----

  get ready(): boolean {
    return !this.#finished && this.#hasWork();
  }

  ring(): void {
    if (!this.#finished) this.#pumpRef.tell(WAKE);
  }

  /** Supervision: a callback threw inside the pump (the run loop logged and counted it): reset the pipe. */
  #crashed(err: unknown): void {
    this.reset(`ring pump crashed: ${err instanceof Error ? err.message : String(err)}`);
  }

  #run(): void {
    if (this.#finished) return;
    if (this.#remote) this.#in.unpark();
    for (let rounds = 0; ; rounds++) {
      this.#pump();
      if (this.#finished || !this.#remote) return;
      if (rounds >= MAX_ROUNDS) {
        // Keep going after I/O has had its turn; parking is decided on that turn.
        this.#kick();
        return;
      }
      if (this.#hasWork() || this.#spin()) continue;
      if (this.#park()) return;
    }
  }

  /** One pass over everything the peer may have changed. */
  #pump(): void {
    if (this.#ctl.resetState() === RESET_PUBLISHED) {
      this.#finish(this.#ctl.resetReason());
      return;
    }
    if (this.#held.length !== 0) this.#flushHeld();
    if (!this.#peerReaderClosed && (this.#out.flags() & FLAG_READER_CLOSED) !== 0) {
      // The peer will never read again: what we hold can never go out.
      this.#peerReaderClosed = true;
      this.#held = [];
      this.#needDrain = false;
    }
    if (this.#readerClosed) this.#discardIncoming();
    else if (!this.#endDelivered) {
      // FLAGS before HEAD: the peer publishes its last bytes before setting WRITER_ENDED.
      const ended = (this.#in.flags() & FLAG_WRITER_ENDED) !== 0;
      if (!this.#paused && this.onData !== null) this.#deliver();
      if (ended && this.#in.available() === 0 && !this.#finished && !this.#readerClosed) {
        this.#endDelivered = true;
        this.onEnd?.();
      }
    }
    // Writes made by callbacks during this pass go out now rather than after a spin.
    if (this.#out.unpublished !== 0) this.#publishNow();
    this.#maybeFinish();
  }

  #deliver(): void {
    const input = this.#in;
    let avail = input.available();
    if (avail === 0) return;
    if (this.#remote) this.#noteArrival();
    let budget = DELIVER_BUDGET_RINGS * input.capacity;
    while (avail > 0 && budget > 0) {
      const n = input.contiguous(avail);
      this.onData?.(input.view(n));
      if (this.#finished) return;
      if (input.consume(n)) this.#wakePeer();
      // A callback may have paused, closed or taken the callback away.
      if (this.#paused || this.#readerClosed || this.onData === null) return;
      budget -= n;
      avail = input.available();
    }
    if (avail > 0) this.#kick();
  }

  #discardIncoming(): void {
    const avail = this.#in.available();
    if (avail !== 0 && this.#in.consume(avail)) this.#wakePeer();
  }

  #flushHeld(): void {
    const out = this.#out;
    while (this.#held.length !== 0) {
      const chunk = this.#held[0] as Uint8Array;
      this.#heldOffset += out.copyIn(chunk, this.#heldOffset);
      if (this.#heldOffset < chunk.length) {
        this.#publishNow();
        out.setWriterBlocked();
        if (out.freeSpace() > 0) this.#kick();
        return;
      }
      this.#held.shift();
      this.#heldOffset = 0;
    }
    this.#publishNow();
    if (this.#endRequested && !this.#endPublished) this.#publishEnd();
    if (this.#needDrain) {
      this.#needDrain = false;
      if (!this.#closing) this.onDrain?.();
    }
  }

  #maybeFinish(): void {
    if (this.#finished) return;
    const inDone = this.#readerClosed || this.#endDelivered;
    const outDone = this.#endPublished || this.#peerReaderClosed;
    if (inDone && outDone) this.#finish(undefined);
  }

  #finish(reason: string | undefined): void {
    if (this.#finished) return;
    this.#finished = true;
    metrics.ringClosed(this.#remote);
    this.#closing = true;
    this.#held = [];
    this.#needDrain = false;
    this.#updateHold();
    this.#runLoop.stop(this.#pumpRef);
    // Release our pending waitAsync now rather than leaving it (and the buffer) in V8's waiter list;
    // with a thread doorbell, leave the bell's idle set (it would hold the rings).
    if (this.#waiting) {
      if (this.#bell !== null) this.#bell.forget(this);
      else this.#in.ringDoorbell();
    }
    // A reset must reach a local peer too; a graceful finish already told it through the flags.
    this.#wakePeer();
    queueMicrotask(() => this.onClose?.(reason));
  }

  #updateHold(): void {
    const hold = this.#remote && this.#refed && !this.#finished;
    if (hold === this.#holding) return;
    this.#holding = hold;
    if (hold) holdLoop();
    else releaseLoop();
  }

  // ---- remote mode: is there work, spin, park ----

  #hasWork(): boolean {
    if (this.#ctl.resetState() !== RESET_NONE) return true;
    const input = this.#in;
    if (this.#readerClosed) {
      if (input.available() !== 0) return true;
    } else if (!this.#endDelivered) {
      if (input.available() !== 0) {
        if (!this.#paused && this.onData !== null) return true;
      } else if ((input.flags() & FLAG_WRITER_ENDED) !== 0) return true;
    }
    if (!this.#peerReaderClosed && (this.#out.flags() & FLAG_READER_CLOSED) !== 0) return true;
    return this.#held.length !== 0 && this.#out.freeSpace() > 0;
  }

  #noteArrival(): void {
    const now = performance.now();
    this.#gapEwma = this.#gapEwma * 0.75 + (now - this.#lastArrival) * 0.25;
    this.#lastArrival = now;
    this.#awaitingReply = false;
  }

  /** Polls for work up to a budget chosen from recent traffic; true when work turned up. */
  #spin(): boolean {
    const now = performance.now();
    let until = 0;
    let replySpin = false;
    if (this.#awaitingReply && now - this.#lastPublishAt < this.#replySpinMs && this.#replySpinAllowed(now)) {
      // Answers to what we sent may be imminent.
      until = this.#lastPublishAt + this.#replySpinMs;
      replySpin = true;
      if (this.#replyScore < REPLY_MIN_SCORE) {
        this.#nextProbeAt = now + this.#probeIntervalMs;
        this.#probeIntervalMs = Math.min(this.#probeIntervalMs * 2, PROBE_MAX_MS);
      }
    }
    if (this.#gapEwma < this.#burstGapMs || this.#held.length !== 0) {
      until = Math.max(until, now + this.#spinMs);
    }
    if (until <= now) return false;
    for (let i = 1; ; i++) {
      if (this.#hasWork()) {
        if (replySpin) {
          this.#replyScore = this.#replyScore * REPLY_DECAY + (1 - REPLY_DECAY);
          if (this.#replyScore >= REPLY_MIN_SCORE) this.#probeIntervalMs = PROBE_MIN_MS;
        }
        return true;
      }
      if ((i & 31) === 0 && performance.now() >= until) break;
    }
    if (replySpin) {
      this.#replyScore *= REPLY_DECAY;
      // Counted once per publish: the next idle turn should not spin for the same answer again.
      this.#awaitingReply = false;
    }
    return false;
  }

  /** Reply spins are on while they keep catching answers; after repeated misses, only as probes. */
  #replySpinAllowed(now: number): boolean {
    if (this.#replySpinMs <= 0) return false;
    return this.#replyScore >= REPLY_MIN_SCORE || now >= this.#nextProbeAt;
  }

  /**
   * Parks: with the thread's bell (which re-checks every idle end before the thread itself parks),
   * or on this ring's DOORBELL; false when a last check found work (the caller loops instead).
   */
  #park(): boolean {
    if (this.#bell !== null) {
      if (!this.#waiting) {
        this.#waiting = true;
        metrics.ringParked();
        this.#bell.idle(this);
      }
      return true;
    }
    const seen = this.#in.park();
    if (this.#hasWork()) {
      this.#in.unpark();
      return false;
    }
    if (this.#waiting) return true;
    const r = this.#in.waitDoorbell(seen);
    if (!r.async) {
      this.#in.unpark();
      return false;
    }
    this.#waiting = true;
    metrics.ringParked();
    void r.value.then(this.#onWake);
    return true;
  }
}
