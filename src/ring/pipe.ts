/**
 * Making RingPipes: both ends on this thread (createRingPipe), or a descriptor whose ends are opened
 * on two threads (createRingPipeDescriptor + openRingEndpoint, the descriptor travelling inside a
 * MeshMessage). resetRingPipe lets an owner that holds only the descriptor — the supervisor after a
 * worker crashed — abort the pipe so the surviving end sees onClose(reason).
 */
import { threadId } from 'node:worker_threads';
import type { RingEndpoint, RingPipeDescriptor, RingSide } from '../types/ring.js';
import { ByteRing } from './byte-ring.js';
import { BellTable, installedBellTable } from './bells.js';
import { RingPipeEndpoint, type RingEndpointTuning } from './endpoint.js';
import { DEFAULT_CAPACITY, FLAG_READER_CLOSED, FLAG_WRITER_ENDED, RESET_PUBLISHED, allocateRing } from './layout.js';

export interface RingPipeOptions {
  /** Bytes per direction; a power of two. Default 256 KiB. */
  capacity?: number;
}

export type RingEndpointOptions = RingEndpointTuning;

let pipeSeq = 0;

/** Unique within the process: ids made on different threads never collide. */
function nextPipeId(): number {
  pipeSeq++;
  return threadId * 2 ** 32 + pipeSeq;
}

export function createRingPipeDescriptor(opts: RingPipeOptions = {}): RingPipeDescriptor {
  const capacity = opts.capacity ?? DEFAULT_CAPACITY;
  const bells = installedBellTable();
  return { pipeId: nextPipeId(), aToB: allocateRing(capacity), bToA: allocateRing(capacity), ...(bells === null ? {} : { bells: bells.sab }) };
}

/**
 * Opens one end of a pipe whose other end lives (or will live) on another thread. Each side may be
 * opened once: a ring has exactly one producer and one consumer.
 */
export function openRingEndpoint(descriptor: RingPipeDescriptor, side: RingSide, opts: RingEndpointOptions = {}): RingEndpoint {
  return new RingPipeEndpoint(descriptor.pipeId, side, descriptor.aToB, descriptor.bToA, true, opts, descriptor.bells);
}

/** Both ends on this thread: the same-worker fast path, with no Atomics waiting at all. */
export function createRingPipe(opts: RingPipeOptions & RingEndpointOptions = {}): {
  a: RingEndpoint;
  b: RingEndpoint;
  descriptor: RingPipeDescriptor;
} {
  const descriptor = createRingPipeDescriptor(opts);
  const a = new RingPipeEndpoint(descriptor.pipeId, 'a', descriptor.aToB, descriptor.bToA, false, opts);
  const b = new RingPipeEndpoint(descriptor.pipeId, 'b', descriptor.aToB, descriptor.bToA, false, opts);
  RingPipeEndpoint.link(a, b);
  return { a, b, descriptor };
}

/**
 * Resets a pipe from any thread, without an endpoint: both ends see onClose(reason) (an end that
 * already finished ignores it). Returns false when the pipe had already been reset.
 */
export function resetRingPipe(descriptor: RingPipeDescriptor, reason: string): boolean {
  const ab = new ByteRing(descriptor.aToB);
  const ba = new ByteRing(descriptor.bToA);
  const won = ab.publishReset(reason);
  // Unconditional: either end may be parked, and this thread cannot know which.
  ab.ringDoorbell();
  ba.ringDoorbell();
  if (descriptor.bells !== undefined) {
    const table = new BellTable(descriptor.bells);
    for (const ring of [ab, ba]) {
      const slot = ring.consumerBell();
      if (slot >= 0 && slot < table.slots) table.ring(slot);
    }
  }
  return won;
}

/**
 * True once the pipe can carry nothing more: reset, or closed from both ends (each end's reader closed
 * and its writer ended). Read from any thread; the supervisor uses it to forget finished pipes.
 */
export function ringPipeFinished(descriptor: RingPipeDescriptor): boolean {
  const ab = new ByteRing(descriptor.aToB);
  const ba = new ByteRing(descriptor.bToA);
  if (ab.resetState() === RESET_PUBLISHED || ba.resetState() === RESET_PUBLISHED) return true;
  const done = FLAG_WRITER_ENDED | FLAG_READER_CLOSED;
  return (ab.flags() & done) === done && (ba.flags() & done) === done;
}
