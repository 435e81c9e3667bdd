/**
 * HPACK (RFC 7541) for the HTTP/2 engine, on hpack.js's pieces: its static and dynamic tables on
 * both sides, and its integer/string/Huffman decoding. Its Compressor/Decompressor classes are not
 * used: they are readable-stream Duplexes that push one object per header field, a cost per field
 * the proxy path does not need; the two loops below drive the same primitives directly and produce
 * the flat [name, value, …] lists Ringside's HeaderMap wraps.
 *
 * The decoder enforces the header list size limit while it decodes (an indexed field costs one byte on
 * the wire and up to a whole table entry decoded), and keeps decoding past it so the dynamic table
 * stays in step with the peer's encoder (RFC 9113 §10.5.1).
 */
import { createRequire } from 'node:module';
import { Http2ErrorCode } from '../../types/http2.js';
import { Http2ConnectionError } from './errors.js';

interface HpackTable {
  lookup(index: number): { name: string; value: string; nameSize: number };
  reverseLookup(name: string, value: string): number;
  add(name: string, value: string, nameSize: number, valueSize: number): void;
  updateSize(size: number): void;
  maxSize: number;
  protocolMaxSize: number;
}
interface HpackBitDecoder {
  push(chunk: Buffer): void;
  isEmpty(): boolean;
  decodeBit(): number;
  decodeInt(): number;
  decodeStr(): number[] | Buffer;
}
interface HpackModule {
  table: { create(options: { maxSize: number }): HpackTable };
  decoder: { create(): HpackBitDecoder };
}

// Loaded by the first HTTP/2 connection: every worker imports this engine (the codec catalogue),
// few of them speak HTTP/2.
let hpackModule: HpackModule | undefined;
const hpack = (): HpackModule => (hpackModule ??= createRequire(import.meta.url)('hpack.js') as HpackModule);

/** RFC 7541's default table size; what both ends assume until SETTINGS say otherwise. */
export const DEFAULT_TABLE_SIZE = 4096;

function text(s: number[] | Buffer): string {
  if (Buffer.isBuffer(s)) return s.toString('latin1');
  let out = '';
  for (let i = 0; i < s.length; i += 4096) out += String.fromCharCode.apply(null, s.slice(i, i + 4096));
  return out;
}

/** Answer of HpackDecoder.decode: the fields, or null when the list passed the size limit. */
export interface DecodedBlock {
  fields: string[] | null;
  /** Decoded size by RFC 9113's rule (name + value + 32 per field). */
  size: number;
}

export class HpackDecoder {
  readonly #table: HpackTable;

  constructor(tableSize: number) {
    this.#table = hpack().table.create({ maxSize: tableSize });
  }

  /** Decodes one complete header block; HPACK errors are COMPRESSION_ERROR connection errors. */
  decode(block: Buffer, maxListSize: number): DecodedBlock {
    const d = hpack().decoder.create();
    d.push(block);
    const table = this.#table;
    let fields: string[] | null = [];
    let size = 0;
    try {
      while (!d.isEmpty()) {
        let name: string;
        let value: string;
        if (d.decodeBit() === 1) {
          const e = table.lookup(d.decodeInt());
          name = e.name;
          value = e.value;
        } else {
          const incremental = d.decodeBit() === 1;
          if (!incremental && d.decodeBit() === 1) {
            // Dynamic table size update (must not pass what we advertised: the table asserts it).
            table.updateSize(d.decodeInt());
            continue;
          }
          if (!incremental) d.decodeBit(); // never-indexed flag: we forward the field, never index it
          const index = d.decodeInt();
          let nameSize: number;
          if (index === 0) {
            const raw = d.decodeStr();
            nameSize = raw.length;
            name = text(raw);
          } else {
            const e = table.lookup(index);
            name = e.name;
            nameSize = e.nameSize;
          }
          const rawValue = d.decodeStr();
          value = text(rawValue);
          if (incremental) table.add(name, value, nameSize, rawValue.length);
        }
        size += name.length + value.length + 32;
        if (fields !== null) {
          if (size > maxListSize) fields = null;
          else fields.push(name, value);
        }
      }
    } catch (err) {
      throw new Http2ConnectionError(Http2ErrorCode.CompressionError, `bad header block: ${(err as Error).message}`);
    }
    return { fields, size };
  }
}

/** Field names whose values change with every message: indexing them would only churn the table. */
const unindexed = new Set(['content-length', 'grpc-timeout', 'date', 'x-request-id', 'traceparent']);

/**
 * The encoder writes HPACK's integers and raw string literals itself (RFC 7541 §5.1–5.2) into one
 * scratch buffer, with hpack.js's table choosing what is indexed. hpack.js's own bit writer sits on
 * `wbuf`, which allocates with the deprecated `new Buffer()`: Node then captures a stack trace on every
 * call to check where it came from, and a profile of the proxy under h2load put 17% of all worker CPU
 * there. Literals are sent raw: Huffman coding saves bytes on the wire but costs CPU on every field.
 */
export class HpackEncoder {
  readonly #table: HpackTable;
  /** A table size the peer's SETTINGS asked for, to announce at the start of the next block. */
  #pendingSize = -1;
  #buf = Buffer.allocUnsafe(1024);
  #at = 0;

  constructor() {
    this.#table = hpack().table.create({ maxSize: DEFAULT_TABLE_SIZE });
  }

  /** The peer's SETTINGS_HEADER_TABLE_SIZE: our encoder never uses more, and says so in the next block. */
  setPeerTableSize(size: number): void {
    const n = Math.min(size, DEFAULT_TABLE_SIZE);
    if (n === this.#table.maxSize && this.#pendingSize === -1) return;
    this.#pendingSize = n;
  }

  /** Encodes a flat [name, value, …] list (names already lower case); the result is a fresh buffer. */
  encode(fields: readonly string[]): Buffer {
    const table = this.#table;
    this.#at = 0;
    if (this.#pendingSize !== -1) {
      this.#int(0x20, 5, this.#pendingSize); // 001xxxxx: dynamic table size update
      table.updateSize(this.#pendingSize);
      this.#pendingSize = -1;
    }
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i]!;
      const value = fields[i + 1]!;
      const index = table.reverseLookup(name, value);
      if (index > 0) {
        this.#int(0x80, 7, index); // 1xxxxxxx: indexed field
        continue;
      }
      // A negative index names the field by a table entry whose value differs; 0: a literal name.
      if (unindexed.has(name)) {
        this.#int(0x00, 4, -index); // 0000xxxx: literal without indexing
      } else {
        this.#int(0x40, 6, -index); // 01xxxxxx: literal with incremental indexing
        table.add(name, value, name.length, value.length);
      }
      if (index === 0) this.#str(name);
      this.#str(value);
    }
    return Buffer.from(this.#buf.subarray(0, this.#at));
  }

  #room(n: number): void {
    if (this.#at + n <= this.#buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#at + n));
    this.#buf.copy(bigger, 0, 0, this.#at);
    this.#buf = bigger;
  }

  /** RFC 7541 §5.1: `n` in a `prefix`-bit prefix after the pattern bits `first`. */
  #int(first: number, prefix: number, n: number): void {
    this.#room(6);
    const max = (1 << prefix) - 1;
    if (n < max) {
      this.#buf[this.#at++] = first | n;
      return;
    }
    this.#buf[this.#at++] = first | max;
    let left = n - max;
    while (left >= 128) {
      this.#buf[this.#at++] = (left & 0x7f) | 0x80;
      left = Math.floor(left / 128);
    }
    this.#buf[this.#at++] = left;
  }

  /** RFC 7541 §5.2: a raw (not Huffman-coded) string literal, latin1 as HTTP field bytes are. */
  #str(s: string): void {
    this.#int(0x00, 7, s.length);
    this.#room(s.length);
    this.#at += this.#buf.write(s, this.#at, s.length, 'latin1');
  }
}
