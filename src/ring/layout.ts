/**
 * Memory layout of one RingPipe ring: a SharedArrayBuffer holding a header of Int32 control words and
 * a power-of-two data area. Each ring carries one direction (its writer is the producer, its reader
 * the consumer); the ring written by side 'a' (aToB) also carries the pipe-wide reset word and reason.
 *
 *   byte 0    HEAD            producer's published write index (free-running uint32)
 *   byte 64   TAIL            consumer's read index (free-running uint32)
 *   byte 128  PARKED, DOORBELL  the consumer endpoint's wait word: PARKED=1 asks wakers to notify;
 *             CONSUMER_BELL  0, or 1 + the doorbell slot of the consumer's thread (bells.ts), written
 *             once by the consumer when it opens: then wakers ring that thread's doorbell instead
 *   byte 192  WRITER_BLOCKED, FLAGS  producer waits for space; half-close / reader-closed bits
 *   byte 256  RESET_STATE, RESET_LEN, reason bytes (aToB ring only)
 *   byte 512  data (capacity bytes)
 *
 * Words written by different threads sit on different 64-byte lines so the producer's HEAD stores
 * and the consumer's TAIL stores do not bounce one cache line between cores.
 */

/** Int32 index of each control word. */
export const HEAD = 0;
export const TAIL = 16;
export const PARKED = 32;
export const DOORBELL = 33;
export const CONSUMER_BELL = 34;
export const WRITER_BLOCKED = 48;
export const FLAGS = 49;
export const RESET_STATE = 64;
export const RESET_LEN = 65;

/** Byte offset and size of the reset reason (UTF-8, truncated to fit). */
export const REASON_OFFSET = 66 * 4;
export const REASON_MAX = 512 - REASON_OFFSET;

export const HEADER_BYTES = 512;

/** FLAGS bits. */
export const FLAG_WRITER_ENDED = 1; // producer half-closed after its last published byte
export const FLAG_READER_CLOSED = 2; // consumer closed: bytes written now are discarded

/** RESET_STATE values: the reason is written between CLAIMED and PUBLISHED so readers never see half. */
export const RESET_NONE = 0;
export const RESET_CLAIMED = 1;
export const RESET_PUBLISHED = 2;

export const DEFAULT_CAPACITY = 256 * 1024;
export const MIN_CAPACITY = 1024;
/** Free-running uint32 indices stay unambiguous while capacity is at most 2^30. */
export const MAX_CAPACITY = 1 << 30;

/** Validates a requested capacity; RingPipe capacities must be powers of two so wrap is a mask. */
export function checkCapacity(capacity: number): number {
  if (!Number.isInteger(capacity) || capacity < MIN_CAPACITY || capacity > MAX_CAPACITY || (capacity & (capacity - 1)) !== 0) {
    throw new RangeError(`ring capacity must be a power of two between ${MIN_CAPACITY} and ${MAX_CAPACITY}, got ${capacity}`);
  }
  return capacity;
}

export function allocateRing(capacity: number): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER_BYTES + checkCapacity(capacity));
}

/** Reads a ring's capacity back from a buffer that crossed a thread (and checks it is one of ours). */
export function capacityOf(sab: SharedArrayBuffer): number {
  return checkCapacity(sab.byteLength - HEADER_BYTES);
}
