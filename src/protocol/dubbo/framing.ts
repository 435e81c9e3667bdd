/**
 * Dubbo framing, written by hand on purpose: it is the per-message hot path of the dubbo proxy. A
 * frame is a fixed 16-byte header and a length-prefixed body, so finding frame boundaries, checking
 * the magic and the length limit, reading the flag/status/id and rewriting an id in place are a few
 * byte reads — no library decodes less. hessian.js is used only for the few head fields routing needs
 * (src/protocol/dubbo/head.ts) and never touches the arguments on the proxy path.
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

/** One complete frame. `bytes` (the whole frame) and `body` are views valid only during the callback. */
export interface DubboRawFrame {
  readonly flag: number;
  readonly status: number;
  /** The u64 request id; a bigint because Java peers count from 0 up through the whole u64 range. */
  readonly id: bigint;
  readonly bytes: Buffer;
  readonly body: Buffer;
}

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

/** Why bytes are not a dubbo frame; `id` is set when the header was sound (so a reply can name it). */
export interface FramingFault {
  readonly kind: 'bad-magic' | 'too-long';
  readonly message: string;
  readonly id: bigint | undefined;
  readonly flag: number | undefined;
}

/** Writes a 16-byte header at `at` of `out`. */
export function writeHeader(out: Buffer, at: number, flag: number, status: number, id: bigint, bodyLength: number): void {
  out[at] = MAGIC_HIGH;
  out[at + 1] = MAGIC_LOW;
  out[at + FLAG_AT] = flag;
  out[at + STATUS_AT] = status;
  out.writeBigUInt64BE(BigInt.asUintN(64, id), at + ID_AT);
  out.writeUInt32BE(bodyLength, at + LENGTH_AT);
}

/** A whole frame: header then body. */
export function frame(flag: number, status: number, id: bigint, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  writeHeader(out, 0, flag, status, id, body.length);
  body.copy(out, HEADER_BYTES);
  return out;
}

/** Rewrites the id of an encoded frame in place (the proxy's upstream id; the body is not touched). */
export function rewriteId(frameBytes: Buffer, id: bigint): void {
  frameBytes.writeBigUInt64BE(BigInt.asUintN(64, id), ID_AT);
}

export function readId(frameBytes: Buffer): bigint {
  return frameBytes.readBigUInt64BE(ID_AT);
}

/** Whether the first bytes of a connection can be dubbo (Auto detection). */
export function detectDubbo(first: Buffer): 'match' | 'no' | 'need-more' {
  if (first.length === 0) return 'need-more';
  if (first[0] !== MAGIC_HIGH) return 'no';
  if (first.length === 1) return 'need-more';
  return first[1] === MAGIC_LOW ? 'match' : 'no';
}

export interface FrameReaderCallbacks {
  /** A complete frame; return false to stop delivering until resume() (the reader holds the rest). */
  onFrame(f: DubboRawFrame): boolean | void;
  /** Bytes that are not dubbo or a frame past the limit; the reader is dead afterwards. */
  onFault(fault: FramingFault): void;
}

/**
 * Splits a byte stream into frames. A frame that arrives whole in one read is handed on as a view of
 * that read (no copy); only a frame split across reads is assembled in a buffer of its exact size,
 * allocated once its length is known and refused before allocation when it passes `maxBodyBytes`.
 */
export class FrameReader {
  readonly #cb: FrameReaderCallbacks;
  readonly #maxBodyBytes: number;
  /** Bytes of an incomplete header (< 16), or a whole partial frame once its size is known. */
  #partial: Buffer | null = null;
  #partialLen = 0;
  #held: Buffer | null = null;
  #paused = false;
  #dead = false;

  constructor(cb: FrameReaderCallbacks, maxBodyBytes: number) {
    this.#cb = cb;
    this.#maxBodyBytes = maxBodyBytes;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get dead(): boolean {
    return this.#dead;
  }

  /** Nothing partial or held: a close here cuts no frame in half. */
  get idle(): boolean {
    return this.#partialLen === 0 && this.#held === null;
  }

  push(data: Buffer): void {
    if (this.#dead) return;
    if (this.#paused) {
      this.#held = this.#held === null ? Buffer.from(data) : Buffer.concat([this.#held, data]);
      return;
    }
    this.#consume(data);
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    const held = this.#held;
    this.#held = null;
    if (held !== null && !this.#dead) this.#consume(held);
  }

  destroy(): void {
    this.#dead = true;
    this.#partial = null;
    this.#held = null;
  }

  #consume(data: Buffer): void {
    let at = 0;
    if (this.#partialLen > 0) {
      at = this.#fillPartial(data);
      if (at < 0) return;
    }
    while (at < data.length && !this.#dead) {
      if (this.#paused) {
        this.#held = Buffer.from(data.subarray(at));
        return;
      }
      const left = data.length - at;
      if (left < HEADER_BYTES) {
        if (!this.#checkMagicPrefix(data, at, left)) return;
        this.#startPartial(data.subarray(at), HEADER_BYTES);
        return;
      }
      const total = this.#frameLength(data, at);
      if (total < 0) return;
      if (left < total) {
        this.#startPartial(data.subarray(at), total);
        return;
      }
      this.#deliver(data.subarray(at, at + total));
      at += total;
    }
  }

  /** Completes the partial frame from `data`; answers how many bytes of data it used, -1 when all. */
  #fillPartial(data: Buffer): number {
    let partial = this.#partial!;
    let used = 0;
    if (this.#partialLen < HEADER_BYTES) {
      const need = HEADER_BYTES - this.#partialLen;
      const n = Math.min(need, data.length);
      data.copy(partial, this.#partialLen, 0, n);
      this.#partialLen += n;
      used = n;
      if (!this.#checkMagicPrefix(partial, 0, this.#partialLen)) return -1;
      if (this.#partialLen < HEADER_BYTES) return -1;
      const total = this.#frameLength(partial, 0);
      if (total < 0) return -1;
      if (total > partial.length) {
        const grown = Buffer.allocUnsafe(total);
        partial.copy(grown, 0, 0, HEADER_BYTES);
        partial = grown;
        this.#partial = grown;
      }
    }
    const total = HEADER_BYTES + partial.readUInt32BE(LENGTH_AT);
    const n = Math.min(total - this.#partialLen, data.length - used);
    data.copy(partial, this.#partialLen, used, used + n);
    this.#partialLen += n;
    used += n;
    if (this.#partialLen < total) return -1;
    this.#partial = null;
    this.#partialLen = 0;
    this.#deliver(partial.subarray(0, total));
    return used;
  }

  #startPartial(bytes: Buffer, size: number): void {
    const buf = Buffer.allocUnsafe(Math.max(size, HEADER_BYTES));
    bytes.copy(buf, 0);
    this.#partial = buf;
    this.#partialLen = bytes.length;
  }

  /** The first one or two bytes are enough to refuse a connection that is not dubbo. */
  #checkMagicPrefix(buf: Buffer, at: number, len: number): boolean {
    if (len >= 1 && buf[at] !== MAGIC_HIGH) return this.#fault('bad-magic', buf, at, len);
    if (len >= 2 && buf[at + 1] !== MAGIC_LOW) return this.#fault('bad-magic', buf, at, len);
    return true;
  }

  /** Header at `at` is complete: the frame's total size, or -1 after reporting a fault. */
  #frameLength(buf: Buffer, at: number): number {
    if (buf[at] !== MAGIC_HIGH || buf[at + 1] !== MAGIC_LOW) {
      this.#fault('bad-magic', buf, at, HEADER_BYTES);
      return -1;
    }
    const bodyLength = buf.readUInt32BE(at + LENGTH_AT);
    if (bodyLength > this.#maxBodyBytes) {
      this.#fault('too-long', buf, at, HEADER_BYTES);
      return -1;
    }
    return HEADER_BYTES + bodyLength;
  }

  #fault(kind: FramingFault['kind'], buf: Buffer, at: number, len: number): false {
    this.#dead = true;
    this.#partial = null;
    this.#held = null;
    const fault: FramingFault =
      kind === 'too-long'
        ? {
            kind,
            message: `dubbo body of ${buf.readUInt32BE(at + LENGTH_AT)} bytes is over the limit of ${this.#maxBodyBytes}`,
            id: buf.readBigUInt64BE(at + ID_AT),
            flag: buf[at + FLAG_AT],
          }
        : {
            kind,
            message: `bad dubbo magic 0x${buf.subarray(at, at + Math.min(2, len)).toString('hex')} (expected 0xdabb)`,
            // Past a wrong magic nothing in the header can be trusted, the id least of all.
            id: undefined,
            flag: undefined,
          };
    this.#cb.onFault(fault);
    return false;
  }

  #deliver(bytes: Buffer): void {
    const f: DubboRawFrame = {
      flag: bytes[FLAG_AT]!,
      status: bytes[3]!,
      id: bytes.readBigUInt64BE(ID_AT),
      bytes,
      body: bytes.subarray(HEADER_BYTES),
    };
    if (this.#cb.onFrame(f) === false) this.#paused = true;
  }
}
