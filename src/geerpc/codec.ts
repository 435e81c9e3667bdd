/**
 * The message layer after the Option: pairs of (Header, body) on one stream per direction.
 *   gob  — Header and body are two gob values on the connection's gob stream (Go's GobCodec);
 *   json — each is one JSON text ended by a newline, as Go's json.Encoder writes them (Go declares
 *          application/json but never built it; Ringside speaks it Node to Node).
 * decode() throws a GeeRpcError('CODEC') on malformed input: the connection is then closed.
 */
import { GobDecoder, GobEncoder, GobError, gob, type GobType } from '../protocol/gob/index.js';
import { GeeRpcError } from './errors.js';
import { GOB_CODEC, JSON_CODEC, type CodecType } from './option.js';

export interface Header {
  ServiceMethod: string;
  /** Numbers calls from 1; 0 is never a valid call. */
  Seq: number;
  Error: string;
}

export interface Frame {
  header: Header;
  body: unknown;
}

export interface Codec {
  readonly type: CodecType;
  /** The bytes of one message; throws GeeRpcError('CODEC') when the body cannot be encoded. */
  encode(header: Header, body: unknown, bodyType?: GobType): Buffer;
  /** Feeds received bytes; returns every complete message. */
  decode(chunk: Buffer): Frame[];
}

export interface CodecLimits {
  maxMessageBytes: number;
}

/** codec.Header in the seed: ServiceMethod string, Seq uint64, Error string. */
export const HeaderType = gob.struct('Header', { ServiceMethod: gob.string, Seq: gob.uint, Error: gob.string });
/** The body of an error reply: Go's `invalidRequest = struct{}{}`. */
export const EmptyStruct = gob.struct('', {});

export function createCodec(type: string, limits: CodecLimits): Codec | undefined {
  if (type === GOB_CODEC) return new GobCodec(limits);
  if (type === JSON_CODEC) return new JsonCodec(limits);
  return undefined;
}

function toHeader(v: unknown): Header {
  const h = v as Partial<Header> | null;
  if (typeof h !== 'object' || h === null || Array.isArray(h)) throw new GeeRpcError('CODEC', 'rpc: header is not a struct');
  const seq = h.Seq ?? 0;
  const method = h.ServiceMethod ?? '';
  const error = h.Error ?? '';
  if (typeof method !== 'string' || typeof error !== 'string' || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
    throw new GeeRpcError('CODEC', 'rpc: header fields have the wrong types (ServiceMethod string, Seq uint64, Error string)');
  }
  return { ServiceMethod: method, Seq: seq, Error: error };
}

class GobCodec implements Codec {
  readonly type = GOB_CODEC;
  readonly #enc = new GobEncoder();
  readonly #dec: GobDecoder;
  #header: Header | undefined;

  constructor(limits: CodecLimits) {
    this.#dec = new GobDecoder({ maxMessageBytes: limits.maxMessageBytes });
  }

  encode(header: Header, body: unknown, bodyType?: GobType): Buffer {
    try {
      return this.#enc.encodeMany([[header, HeaderType], [body, bodyType]]);
    } catch (err) {
      if (err instanceof GobError) throw new GeeRpcError('CODEC', `rpc: gob error encoding body: ${err.message}`, err);
      throw err;
    }
  }

  decode(chunk: Buffer): Frame[] {
    let values: unknown[];
    try {
      values = this.#dec.feed(chunk);
    } catch (err) {
      if (err instanceof GobError) throw new GeeRpcError('CODEC', `rpc: gob decode error: ${err.message}`, err);
      throw err;
    }
    const out: Frame[] = [];
    for (const v of values) {
      if (this.#header === undefined) this.#header = toHeader(v);
      else {
        out.push({ header: this.#header, body: v });
        this.#header = undefined;
      }
    }
    return out;
  }
}

class JsonCodec implements Codec {
  readonly type = JSON_CODEC;
  readonly #max: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #header: Header | undefined;

  constructor(limits: CodecLimits) {
    this.#max = limits.maxMessageBytes;
  }

  encode(header: Header, body: unknown): Buffer {
    let text: string;
    try {
      text = `${JSON.stringify(header)}\n${JSON.stringify(body === undefined ? null : body, jsonReplacer)}\n`;
    } catch (err) {
      throw new GeeRpcError('CODEC', `rpc: json error encoding body: ${(err as Error).message}`, err);
    }
    return Buffer.from(text);
  }

  decode(chunk: Buffer): Frame[] {
    const out: Frame[] = [];
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, from);
      if (nl < 0) break;
      const line = this.#pending.length === 0 ? chunk.subarray(from, nl) : Buffer.concat([...this.#pending, chunk.subarray(from, nl)]);
      this.#pending = [];
      this.#pendingBytes = 0;
      from = nl + 1;
      if (line.length > this.#max) throw new GeeRpcError('CODEC', `rpc: json message of ${line.length} bytes exceeds the limit of ${this.#max}`);
      if (line.toString('latin1').trim() === '') continue;
      let v: unknown;
      try {
        v = JSON.parse(line.toString('utf8'));
      } catch (err) {
        throw new GeeRpcError('CODEC', `rpc: json decode error: ${(err as Error).message}`, err);
      }
      if (this.#header === undefined) this.#header = toHeader(v);
      else {
        out.push({ header: this.#header, body: v });
        this.#header = undefined;
      }
    }
    if (from < chunk.length) {
      this.#pending.push(chunk.subarray(from));
      this.#pendingBytes += chunk.length - from;
      if (this.#pendingBytes > this.#max) throw new GeeRpcError('CODEC', `rpc: json message exceeds the limit of ${this.#max} bytes`);
    }
    return out;
  }
}

/** Buffers travel as base64 strings, as Go's encoding/json sends []byte; bigints beyond 2^53 as decimal strings. */
function jsonReplacer(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Map) return Object.fromEntries(v);
  if (typeof v === 'object' && v !== null && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
    return Buffer.from((v as { data: number[] }).data).toString('base64');
  }
  return v;
}
