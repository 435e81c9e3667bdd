/**
 * HPACK (RFC 7541) for the HTTP/2 engine, on hpack.js's pieces: its static and dynamic tables,
 * integer/string coding and Huffman tables do the work. Its Compressor/Decompressor classes are not
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
interface HpackBitEncoder {
  encodeBit(bit: number): void;
  encodeBits(bits: number, len: number): void;
  encodeInt(n: number): void;
  encodeStr(value: number[] | Buffer, huffman: boolean): void;
  render(): Buffer[];
}
interface HpackModule {
  table: { create(options: { maxSize: number }): HpackTable };
  decoder: { create(): HpackBitDecoder };
  encoder: { create(): HpackBitEncoder };
}

const hpack = createRequire(import.meta.url)('hpack.js') as HpackModule;

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
    this.#table = hpack.table.create({ maxSize: tableSize });
  }

  /** Decodes one complete header block; HPACK errors are COMPRESSION_ERROR connection errors. */
  decode(block: Buffer, maxListSize: number): DecodedBlock {
    const d = hpack.decoder.create();
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

export class HpackEncoder {
  readonly #table: HpackTable;
  /** A table size the peer's SETTINGS asked for, to announce at the start of the next block. */
  #pendingSize = -1;

  constructor() {
    this.#table = hpack.table.create({ maxSize: DEFAULT_TABLE_SIZE });
  }

  /** The peer's SETTINGS_HEADER_TABLE_SIZE: our encoder never uses more, and says so in the next block. */
  setPeerTableSize(size: number): void {
    const n = Math.min(size, DEFAULT_TABLE_SIZE);
    if (n === this.#table.maxSize && this.#pendingSize === -1) return;
    this.#pendingSize = n;
  }

  /** Encodes a flat [name, value, …] list (names already lower case). */
  encode(fields: readonly string[]): Buffer {
    const e = hpack.encoder.create();
    const table = this.#table;
    if (this.#pendingSize !== -1) {
      e.encodeBits(1, 3);
      e.encodeInt(this.#pendingSize);
      table.updateSize(this.#pendingSize);
      this.#pendingSize = -1;
    }
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i]!;
      const value = fields[i + 1]!;
      const index = table.reverseLookup(name, value);
      if (index > 0) {
        e.encodeBit(1);
        e.encodeInt(index);
        continue;
      }
      const incremental = !unindexed.has(name);
      e.encodeBit(0);
      if (incremental) {
        e.encodeBit(1);
        table.add(name, value, name.length, value.length);
      } else {
        e.encodeBit(0); // not a size update
        e.encodeBit(0); // literal without indexing (not never-indexed)
      }
      // A negative index names the field by an entry whose value differs; 0: literal name.
      e.encodeInt(-index);
      // Raw literals: Huffman saves bytes on the wire but costs CPU on every field of every message.
      if (index === 0) e.encodeStr(Buffer.from(name, 'latin1'), false);
      e.encodeStr(Buffer.from(value, 'latin1'), false);
    }
    const parts = e.render();
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
}
