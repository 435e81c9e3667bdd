/**
 * Dubbo's 16-byte header, read and written by hand on purpose: it is the per-message hot path of the
 * dubbo proxy. Finding frame boundaries, checking the magic and the length limit, reading the
 * flag/status/id and patching an id in place are a few byte reads — no library decodes less.
 * hessian.js is used only for the few head fields routing needs (head.ts) and never touches the
 * arguments on the proxy path. Frames are cut from a stream by the X-protocol FrameReader with the
 * dubbo codec (codec.ts).
 */
import {
  FLAG_AT,
  FLAG_EVENT,
  FLAG_REQUEST,
  FLAG_TWO_WAY,
  HEADER_BYTES,
  ID_AT,
  LENGTH_AT,
  MAGIC_HIGH,
  MAGIC_LOW,
  SERIALIZATION_MASK,
  STATUS_AT,
} from './constants.js';

export function isRequest(flag: number): boolean {
  return (flag & FLAG_REQUEST) !== 0;
}
export function isTwoWay(flag: number): boolean {
  return (flag & FLAG_TWO_WAY) !== 0;
}
export function isEvent(flag: number): boolean {
  return (flag & FLAG_EVENT) !== 0;
}
export function serializationOf(flag: number): number {
  return flag & SERIALIZATION_MASK;
}

/** Ids Ringside reads and writes: 0 … 2^53 − 1 (a JS number; Java's counter starts at 0 and counts up). */
export const MAX_ID = Number.MAX_SAFE_INTEGER;
const TWO_32 = 0x1_0000_0000;

/** Writes a u64 id (0 … MAX_ID) at `at` as two u32 halves: no BigInt on the per-frame path. */
export function writeId(out: Buffer, at: number, id: number): void {
  out.writeUInt32BE(Math.floor(id / TWO_32), at);
  out.writeUInt32BE(id >>> 0, at + 4);
}

/** The u64 id at `at`, or -1 past MAX_ID. */
export function readId(buf: Buffer, at: number = ID_AT): number {
  const hi = buf.readUInt32BE(at);
  if (hi > 0x1fffff) return -1;
  return hi * TWO_32 + buf.readUInt32BE(at + 4);
}

/** Writes a 16-byte header at `at` of `out`. */
export function writeHeader(out: Buffer, at: number, flag: number, status: number, id: number, bodyLength: number): void {
  out[at] = MAGIC_HIGH;
  out[at + 1] = MAGIC_LOW;
  out[at + FLAG_AT] = flag;
  out[at + STATUS_AT] = status;
  writeId(out, at + ID_AT, id);
  out.writeUInt32BE(bodyLength, at + LENGTH_AT);
}

/** A whole frame: header then body. */
export function frame(flag: number, status: number, id: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  writeHeader(out, 0, flag, status, id, body.length);
  body.copy(out, HEADER_BYTES);
  return out;
}

/** Whether the first bytes of a connection can be dubbo (Auto detection). */
export function detectDubbo(first: Buffer): 'match' | 'no' | 'need-more' {
  if (first.length === 0) return 'need-more';
  if (first[0] !== MAGIC_HIGH) return 'no';
  if (first.length === 1) return 'need-more';
  return first[1] === MAGIC_LOW ? 'match' : 'no';
}
