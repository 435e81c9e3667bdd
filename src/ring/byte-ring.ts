/**
 * One single-producer/single-consumer byte ring over a SharedArrayBuffer (layout in layout.ts).
 *
 * Each thread wraps the shared buffer in its own ByteRing; the producer-side fields (#writePos,
 * #tailCache) and consumer-side fields (#readPos) are that thread's private view. Only HEAD and TAIL
 * cross threads, through Atomics, so the data bytes written before a HEAD store are visible to the
 * consumer that loads that HEAD (JS memory model: a seq-cst store synchronises with the load).
 *
 * Indices are free-running int32 values; `(a - b) | 0` is the distance between them, exact while the
 * capacity is at most 2^30.
 */
import * as L from './layout.js';
import type { BellTable } from './bells.js';
import { ringNotifies } from './notifies.js';

import { atomicsWaitAsync, type WaitAsyncResult } from './wait-async.js';

export type { WaitAsyncResult };

export class ByteRing {
  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
  readonly #mask: number;
  readonly #i32: Int32Array;
  readonly #data: Uint8Array;

  // Producer-local state: bytes are copied at #writePos and become visible at the next publish().
  #writePos: number;
  #published: number;
  // Last TAIL seen; re-read only when the cached value says the ring is full, to spare an Atomics load per write.
  #tailCache: number;

  // Consumer-local state: the consumer is the only writer of TAIL, so its own copy is always current.
  #readPos: number;

  // Producer side: the doorbell table the consumer's thread may park on, and its slot once known
  // (CONSUMER_BELL never changes after the consumer wrote it, so a non-zero value is cached).
  readonly #bells: BellTable | null;
  #consumerBell = 0;

  constructor(sab: SharedArrayBuffer, bells: BellTable | null = null) {
    this.sab = sab;
    this.#bells = bells;
    this.capacity = L.capacityOf(sab);
    this.#mask = this.capacity - 1;
    this.#i32 = new Int32Array(sab, 0, L.HEADER_BYTES / 4);
    this.#data = new Uint8Array(sab, L.HEADER_BYTES, this.capacity);
    this.#published = Atomics.load(this.#i32, L.HEAD);
    this.#writePos = this.#published;
    this.#readPos = Atomics.load(this.#i32, L.TAIL);
    this.#tailCache = this.#readPos;
  }

  // ---- producer side ----

  /** Copies as much of src[from..] as fits; returns the count copied (not yet visible to the consumer). */
  copyIn(src: Uint8Array, from: number): number {
    const want = src.length - from;
    let free = this.capacity - ((this.#writePos - this.#tailCache) | 0);
    if (free < want) {
      this.#tailCache = Atomics.load(this.#i32, L.TAIL);
      free = this.capacity - ((this.#writePos - this.#tailCache) | 0);
    }
    const n = want < free ? want : free;
    if (n === 0) return 0;
    const pos = this.#writePos & this.#mask;
    const first = this.capacity - pos;
    if (n <= first) {
      // The common small write: one copy, and no subarray allocation when the whole source fits.
      this.#data.set(from === 0 && n === src.length ? src : src.subarray(from, from + n), pos);
    } else {
      this.#data.set(src.subarray(from, from + first), pos);
      this.#data.set(src.subarray(from + first, from + n), 0);
    }
    this.#writePos = (this.#writePos + n) | 0;
    return n;
  }

  /** Bytes copied in but not yet published. */
  get unpublished(): number {
    return (this.#writePos - this.#published) | 0;
  }

  /** Makes the copied bytes visible to the consumer; returns false when there was nothing new. */
  publish(): boolean {
    if (this.#writePos === this.#published) return false;
    this.#published = this.#writePos;
    Atomics.store(this.#i32, L.HEAD, this.#writePos);
    return true;
  }

  /** Space left for the producer, reading the consumer's TAIL afresh. */
  freeSpace(): number {
    this.#tailCache = Atomics.load(this.#i32, L.TAIL);
    return this.capacity - ((this.#writePos - this.#tailCache) | 0);
  }

  /** The producer announces it waits for space; the consumer wakes it after freeing some. */
  setWriterBlocked(): void {
    Atomics.store(this.#i32, L.WRITER_BLOCKED, 1);
  }

  /** The TAIL word, for a spinning producer that waits for space. */
  tailWord(): number {
    return Atomics.load(this.#i32, L.TAIL);
  }

  // ---- consumer side ----

  /** Published bytes not yet consumed. */
  available(): number {
    return (Atomics.load(this.#i32, L.HEAD) - this.#readPos) | 0;
  }

  /** The HEAD word as the consumer last could see it changing; used to detect arrivals while spinning. */
  headWord(): number {
    return Atomics.load(this.#i32, L.HEAD);
  }

  get readPos(): number {
    return this.#readPos;
  }

  /** Length of the contiguous readable run starting at the read position, given `avail` bytes available. */
  contiguous(avail: number): number {
    const first = this.capacity - (this.#readPos & this.#mask);
    return avail < first ? avail : first;
  }

  /** A Buffer over the next `len` readable bytes, valid until consume() lets the producer reuse them. */
  view(len: number): Buffer {
    return Buffer.from(this.sab, L.HEADER_BYTES + (this.#readPos & this.#mask), len);
  }

  /** Frees `n` bytes for the producer; returns true when the producer was waiting and must be woken. */
  consume(n: number): boolean {
    this.#readPos = (this.#readPos + n) | 0;
    Atomics.store(this.#i32, L.TAIL, this.#readPos);
    if (Atomics.load(this.#i32, L.WRITER_BLOCKED) === 0) return false;
    Atomics.store(this.#i32, L.WRITER_BLOCKED, 0);
    return true;
  }

  // ---- wake protocol (the consumer endpoint parks on this ring's DOORBELL) ----

  /**
   * Called by the consumer before re-checking for work and waiting: from here on, anyone who changes
   * something it cares about notifies. Returns the DOORBELL value to wait on.
   */
  park(): number {
    Atomics.store(this.#i32, L.PARKED, 1);
    return Atomics.load(this.#i32, L.DOORBELL);
  }

  unpark(): void {
    Atomics.store(this.#i32, L.PARKED, 0);
  }

  waitDoorbell(seen: number): WaitAsyncResult {
    return atomicsWaitAsync(this.#i32, L.DOORBELL, seen);
  }

  /**
   * Wakes the consumer endpoint if it is parked. The caller made its change (HEAD, TAIL, FLAGS, reset)
   * with a seq-cst store first, so either the parking consumer sees the change when it re-checks or
   * this load sees PARKED=1: no wake-up is lost, and a running consumer costs one load.
   */
  wakeConsumer(): void {
    let bell = this.#consumerBell;
    if (bell === 0 && this.#bells !== null) bell = this.#consumerBell = Atomics.load(this.#i32, L.CONSUMER_BELL);
    if (bell !== 0) {
      this.#bells!.wake(bell - 1);
      return;
    }
    if (Atomics.load(this.#i32, L.PARKED) === 0) return;
    this.ringDoorbell();
    ringNotifies.inc();
  }

  /** Consumer side, once at open: from now on wakers ring doorbell `slot` of the table instead. */
  setConsumerBell(slot: number): void {
    Atomics.store(this.#i32, L.CONSUMER_BELL, slot + 1);
  }

  /** The consumer's thread doorbell slot, or -1 when it parks on this ring's own DOORBELL. */
  consumerBell(): number {
    return Atomics.load(this.#i32, L.CONSUMER_BELL) - 1;
  }

  /** Unconditional notify: for reset from a third thread, and to release one's own pending wait on close. */
  ringDoorbell(): void {
    Atomics.add(this.#i32, L.DOORBELL, 1);
    Atomics.notify(this.#i32, L.DOORBELL);
  }

  // ---- flags ----

  setFlag(bit: number): void {
    Atomics.or(this.#i32, L.FLAGS, bit);
  }

  flags(): number {
    return Atomics.load(this.#i32, L.FLAGS);
  }

  // ---- pipe-wide reset (meaningful on the aToB ring only) ----

  resetState(): number {
    return Atomics.load(this.#i32, L.RESET_STATE);
  }

  /** Publishes a reset with its reason; the first caller wins and later ones return false. */
  publishReset(reason: string): boolean {
    if (Atomics.compareExchange(this.#i32, L.RESET_STATE, L.RESET_NONE, L.RESET_CLAIMED) !== L.RESET_NONE) return false;
    const bytes = Buffer.from(reason, 'utf8');
    let len = Math.min(bytes.length, L.REASON_MAX);
    // Never cut a UTF-8 sequence in half: back off over continuation bytes.
    while (len < bytes.length && len > 0 && ((bytes[len] ?? 0) & 0xc0) === 0x80) len--;
    new Uint8Array(this.sab, L.REASON_OFFSET, L.REASON_MAX).set(bytes.subarray(0, len));
    Atomics.store(this.#i32, L.RESET_LEN, len);
    Atomics.store(this.#i32, L.RESET_STATE, L.RESET_PUBLISHED);
    return true;
  }

  /** The reason of a published reset. */
  resetReason(): string {
    const len = Atomics.load(this.#i32, L.RESET_LEN);
    return Buffer.from(this.sab, L.REASON_OFFSET, len).toString('utf8');
  }
}
