/**
 * Gob's primitive encodings (encoding/gob doc, "Encoding details"):
 * - unsigned: < 128 is one byte; otherwise a byte holding the negated byte count, then the value
 *   big-endian with leading zero bytes dropped (256 → FE 01 00);
 * - signed: the unsigned encoding of (i << 1) for i ≥ 0, of (^i << 1) | 1 for i < 0;
 * - float64: the IEEE bits byte-reversed, sent as an unsigned (17.0 → FE 31 40);
 * - strings and byte slices: an unsigned length, then the bytes.
 * Hand-written rather than a library: this is the per-message hot path and no maintained gob
 * package exists for Node.
 */
import { GobError } from './types.js';

const scratch = new DataView(new ArrayBuffer(8));

/** Growable output buffer. The first 9 bytes are kept free so a message's length can be put in front. */
export class GobWriter {
  buf: Buffer;
  pos: number;
  static readonly HEAD_ROOM = 9;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
    this.pos = GobWriter.HEAD_ROOM;
  }

  reset(): void {
    this.pos = GobWriter.HEAD_ROOM;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** Unsigned integer from a non-negative safe integer or a bigint < 2^64. */
  uint(v: number | bigint): void {
    if (typeof v === 'bigint') {
      if (v < 0n || v >= 1n << 64n) throw new GobError(`gob: unsigned value ${v} out of range`);
      if (v <= BigInt(Number.MAX_SAFE_INTEGER)) return this.uint(Number(v));
      this.ensure(9);
      const bytes: number[] = [];
      while (v > 0n) {
        bytes.push(Number(v & 0xffn));
        v >>= 8n;
      }
      this.buf[this.pos++] = 256 - bytes.length;
      for (let i = bytes.length - 1; i >= 0; i--) this.buf[this.pos++] = bytes[i]!;
      return;
    }
    if (v < 128) {
      this.ensure(1);
      this.buf[this.pos++] = v;
      return;
    }
    this.ensure(9);
    let n = 0;
    for (let x = v; x >= 1; x = Math.floor(x / 256)) n++;
    this.buf[this.pos++] = 256 - n;
    let x = v;
    for (let i = n - 1; i >= 0; i--) {
      this.buf[this.pos + i] = x % 256;
      x = Math.floor(x / 256);
    }
    this.pos += n;
  }

  /** Signed integer from a safe integer or a bigint in the int64 range. */
  int(v: number | bigint): void {
    if (typeof v === 'bigint') {
      if (v < -(1n << 63n) || v >= 1n << 63n) throw new GobError(`gob: integer ${v} out of the int64 range`);
      this.uint(v < 0n ? ((-v - 1n) << 1n) | 1n : v << 1n);
      return;
    }
    // 2|v| + 1 stays exact below 2^52; beyond that take the bigint path.
    if (v >= -0x8_0000_0000_0000 && v < 0x8_0000_0000_0000) {
      this.uint(v < 0 ? (-v - 1) * 2 + 1 : v * 2);
      return;
    }
    this.int(BigInt(v));
  }

  float(v: number): void {
    scratch.setFloat64(0, v, false);
    // Reversed bytes: the low-order mantissa bytes (usually zero) become the high-order ones.
    let n = 8;
    while (n > 0 && scratch.getUint8(n - 1) === 0) n--;
    if (n === 0) return this.byte(0);
    if (n === 1 && scratch.getUint8(0) < 128) return this.byte(scratch.getUint8(0));
    this.ensure(9);
    this.buf[this.pos++] = 256 - n;
    for (let i = n - 1; i >= 0; i--) this.buf[this.pos++] = scratch.getUint8(i);
  }

  string(s: string): void {
    const len = Buffer.byteLength(s, 'utf8');
    this.uint(len);
    this.ensure(len);
    this.pos += this.buf.write(s, this.pos, len, 'utf8');
  }

  bytes(b: Uint8Array): void {
    this.uint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Bytes already in gob form (a relayed value). */
  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** The bytes written since reset, prefixed with their count: one complete gob message. */
  message(): Buffer {
    const bodyLen = this.pos - GobWriter.HEAD_ROOM;
    const head = lengthPrefix(bodyLen);
    const start = GobWriter.HEAD_ROOM - head.length;
    head.copy(this.buf, start);
    return Buffer.from(this.buf.subarray(start, this.pos));
  }
}

function lengthPrefix(n: number): Buffer {
  const w = new GobWriterLite();
  w.uint(n);
  return w.out();
}

/** A tiny writer for the length prefix, so message() never recurses into the big buffer. */
class GobWriterLite {
  private bytes: number[] = [];
  uint(v: number): void {
    if (v < 128) {
      this.bytes.push(v);
      return;
    }
    const out: number[] = [];
    for (let x = v; x >= 1; x = Math.floor(x / 256)) out.unshift(x % 256);
    this.bytes.push(256 - out.length, ...out);
  }
  out(): Buffer {
    return Buffer.from(this.bytes);
  }
}

/** Cursor over one complete message; every read checks the message's end. */
export class GobReader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  byte(): number {
    if (this.pos >= this.end) throw new GobError('gob: unexpected end of message');
    return this.buf[this.pos++]!;
  }

  /** An unsigned integer as a number when it is a safe integer, else as a bigint. */
  uint(): number | bigint {
    const b = this.byte();
    if (b < 128) return b;
    const n = 256 - b;
    if (n > 8) throw new GobError(`gob: invalid unsigned integer length ${n} (at most 8 bytes)`);
    if (n > this.remaining) throw new GobError(`gob: unsigned integer of ${n} bytes exceeds the message`);
    if (n <= 6) {
      let v = 0;
      for (let i = 0; i < n; i++) v = v * 256 + this.buf[this.pos++]!;
      return v;
    }
    let big = 0n;
    for (let i = 0; i < n; i++) big = (big << 8n) | BigInt(this.buf[this.pos++]!);
    return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }

  /** An unsigned integer that must fit a JS number used as a count, length, delta or id. */
  count(what: string): number {
    const v = this.uint();
    if (typeof v === 'bigint') throw new GobError(`gob: ${what} ${v} is out of range`);
    return v;
  }

  int(): number | bigint {
    const u = this.uint();
    if (typeof u === 'number') return u % 2 === 1 ? -(u - 1) / 2 - 1 : u / 2;
    const v = (u & 1n) === 1n ? ~(u >> 1n) : u >> 1n;
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  float(): number {
    const b = this.byte();
    scratch.setFloat64(0, 0);
    if (b < 128) {
      scratch.setUint8(0, b);
      return scratch.getFloat64(0, false);
    }
    const n = 256 - b;
    if (n > 8) throw new GobError(`gob: invalid float length ${n} (at most 8 bytes)`);
    if (n > this.remaining) throw new GobError(`gob: float of ${n} bytes exceeds the message`);
    // The sent bytes are the reversed IEEE bits, most significant first: byte i of the sent value is
    // byte (n-1-i) of the float's big-endian form.
    for (let i = n - 1; i >= 0; i--) scratch.setUint8(i, this.buf[this.pos++]!);
    return scratch.getFloat64(0, false);
  }

  bytes(): Buffer {
    const len = this.count('byte slice length');
    if (len > this.remaining) throw new GobError(`gob: byte slice of ${len} bytes exceeds the message`);
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
    return out;
  }

  /** Steps over a byte slice or string. */
  skipBytes(): void {
    const len = this.count('byte slice length');
    if (len > this.remaining) throw new GobError(`gob: byte slice of ${len} bytes exceeds the message`);
    this.pos += len;
  }

  string(): string {
    const len = this.count('string length');
    if (len > this.remaining) throw new GobError(`gob: string of ${len} bytes exceeds the message`);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }
}
