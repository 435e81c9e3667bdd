/**
 * The receiving half of a gob stream. Bytes arrive in any chunking; each complete message is either a
 * type definition (negative id + wireType), kept in this stream's table, or a value (positive id),
 * returned as a JS value:
 *   bool → boolean; int/uint → number (bigint beyond 2^53); float → number; string → string;
 *   []byte and GobEncoder/BinaryMarshaler/TextMarshaler payloads → Buffer; slice/array → array;
 *   map → Map; struct → object with every field of the sent type (omitted fields get Go's zero
 *   value: 0, '', false, empty Buffer or array; null for a map, struct or interface that was not sent);
 *   complex → { real, imag }.
 * Any malformed byte throws a GobError; the stream is then unusable (type tables may be half-built),
 * so callers close the connection it came from.
 */
import { GobError, TypeId, type GobComplex } from './types.js';
import { GobReader } from './wire.js';

/** A type definition as received: the ids it names are ids of the stream it came on. */
export type WireType =
  | { readonly kind: 'struct'; readonly name: string; readonly fields: readonly { readonly name: string; readonly id: number }[] }
  | { readonly kind: 'slice'; readonly name: string; readonly elem: number }
  | { readonly kind: 'array'; readonly name: string; readonly elem: number; readonly len: number }
  | { readonly kind: 'map'; readonly name: string; readonly key: number; readonly elem: number }
  /** A GobEncoder, BinaryMarshaler or TextMarshaler payload: bytes only its Go type can read. */
  | { readonly kind: 'marshaled'; readonly name: string; readonly which: MarshalerKind };

export type MarshalerKind = 'GobEncoderT' | 'BinaryMarshalerT' | 'TextMarshalerT';

/** What a value message holds, without its value built: for relays that forward values they do not interpret. */
export interface ScannedValue {
  /** The type id the message names on its stream. */
  readonly id: number;
  /** Where the value's bytes start, right after the type id (a non-struct's 0 delta included). */
  readonly valueStart: number;
}

/**
 * Where the gob message starting at `pos` lies: [start, end) of its body, or the number of bytes
 * the whole message needs from `pos` when it is not complete (0 while its length prefix is not).
 */
export function gobMessageAt(buf: Buffer, pos: number, maxMessage: number): { start: number; end: number } | number {
  if (pos >= buf.length) return 0;
  const b = buf[pos]!;
  let len: number;
  let head: number;
  if (b < 128) {
    len = b;
    head = 1;
  } else {
    const n = 256 - b;
    if (n > 8) throw new GobError(`gob: invalid message length prefix (byte count ${n})`);
    if (pos + 1 + n > buf.length) return 0;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[pos + 1 + i]!;
    head = 1 + n;
  }
  if (len > maxMessage) throw new GobError(`gob: message of ${len} bytes exceeds the limit of ${maxMessage}`);
  if (len === 0) throw new GobError('gob: empty message');
  if (pos + head + len > buf.length) return head + len;
  return { start: pos + head, end: pos + head + len };
}

export interface GobDecoderLimits {
  /** Largest message accepted, in bytes (Go refuses anything past 1 GiB; Ringside far less). */
  maxMessageBytes?: number;
  /** Deepest nesting of structs, slices and maps inside one value. */
  maxDepth?: number;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_DEPTH = 64;

/** How Go's wireType and its parts are laid out: fixed, never sent on the stream. */
const bootstrap = new Map<number, WireType>([
  [TypeId.wireType, { kind: 'struct', name: 'wireType', fields: [
    { name: 'ArrayT', id: TypeId.arrayType },
    { name: 'SliceT', id: TypeId.sliceType },
    { name: 'StructT', id: TypeId.structType },
    { name: 'MapT', id: TypeId.mapType },
    { name: 'GobEncoderT', id: 24 },
    { name: 'BinaryMarshalerT', id: 24 },
    { name: 'TextMarshalerT', id: 24 },
  ] }],
  [TypeId.arrayType, { kind: 'struct', name: 'arrayType', fields: [{ name: 'CommonType', id: TypeId.commonType }, { name: 'Elem', id: TypeId.int }, { name: 'Len', id: TypeId.int }] }],
  [TypeId.commonType, { kind: 'struct', name: 'CommonType', fields: [{ name: 'Name', id: TypeId.string }, { name: 'Id', id: TypeId.int }] }],
  [TypeId.sliceType, { kind: 'struct', name: 'sliceType', fields: [{ name: 'CommonType', id: TypeId.commonType }, { name: 'Elem', id: TypeId.int }] }],
  [TypeId.structType, { kind: 'struct', name: 'structType', fields: [{ name: 'CommonType', id: TypeId.commonType }, { name: 'Field', id: TypeId.fieldTypeSlice }] }],
  [TypeId.fieldType, { kind: 'struct', name: 'fieldType', fields: [{ name: 'Name', id: TypeId.string }, { name: 'Id', id: TypeId.int }] }],
  [TypeId.fieldTypeSlice, { kind: 'slice', name: '[]*fieldType', elem: TypeId.fieldType }],
  [TypeId.mapType, { kind: 'struct', name: 'mapType', fields: [{ name: 'CommonType', id: TypeId.commonType }, { name: 'Key', id: TypeId.int }, { name: 'Elem', id: TypeId.int }] }],
  [24, { kind: 'struct', name: 'gobEncoderType', fields: [{ name: 'CommonType', id: TypeId.commonType }] }],
]);

export class GobDecoder {
  #types = new Map<number, WireType>();
  #chunks: Buffer[] = [];
  #pendingBytes = 0;
  /** Bytes the next message needs in total, once its length prefix has been read. */
  #need = 0;
  readonly #maxMessage: number;
  readonly #maxDepth: number;

  constructor(limits: GobDecoderLimits = {}) {
    this.#maxMessage = limits.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
  }

  /** Bytes held back because their message is not complete yet. */
  get buffered(): number {
    return this.#pendingBytes;
  }

  /** Feeds bytes; returns the values of every message they complete, in order. */
  feed(chunk: Buffer): unknown[] {
    // A large message arriving in many chunks is joined once, when it is complete.
    this.#chunks.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes < this.#need) return [];
    const buf = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#pendingBytes);
    const out: unknown[] = [];
    let pos = 0;
    this.#need = 0;
    for (;;) {
      const frame = this.#frame(buf, pos);
      if (frame === undefined) break;
      const [start, end] = frame;
      const v = this.#message(buf, start, end);
      if (v !== NO_VALUE) out.push(v);
      pos = end;
    }
    const rest = pos === buf.length ? undefined : buf.subarray(pos);
    this.#chunks = rest === undefined ? [] : [rest];
    this.#pendingBytes = rest?.length ?? 0;
    return out;
  }

  /** [start, end) of the next complete message at pos, or undefined when more bytes are needed. */
  #frame(buf: Buffer, pos: number): [number, number] | undefined {
    const m = gobMessageAt(buf, pos, this.#maxMessage);
    if (typeof m === 'number') {
      if (m > 0) this.#need = m;
      return undefined;
    }
    return [m.start, m.end];
  }

  /**
   * Decodes one complete message body (length prefix already stripped): a definition is kept in the
   * stream's table and answers GobDecoder.DEFINITION; a value is returned built.
   */
  decodeMessage(buf: Buffer, start: number, end: number): unknown {
    const v = this.#message(buf, start, end);
    return v === NO_VALUE ? GobDecoder.DEFINITION : v;
  }

  static readonly DEFINITION: unique symbol = Symbol('gob definition');

  /** The definition this stream gave `id`, or the predefined one; undefined for basic types and unknown ids. */
  wireType(id: number): WireType | undefined {
    return this.#wire(id);
  }

  /**
   * Checks a value message as decoding it would (every byte accounted for, types defined, limits
   * kept) without building the value, and tells its type id and where the value bytes start.
   */
  scanValue(buf: Buffer, start: number, end: number): ScannedValue {
    const r = new GobReader(buf, start, end);
    const id = r.int();
    if (typeof id === 'bigint' || id <= 0) throw new GobError(`gob: a value message with type id ${id}`);
    const valueStart = r.pos;
    const t = this.#wire(id);
    if (t === undefined && id > TypeId.interface) throw new GobError(`gob: type id ${id} was used before it was defined`);
    if (t === undefined || t.kind !== 'struct') {
      const delta = r.uint();
      if (delta !== 0) throw new GobError(`gob: corrupted data: non-zero delta ${delta} for a singleton value`);
    }
    this.#skip(r, id, 0);
    if (r.remaining !== 0) throw new GobError(`gob: ${r.remaining} bytes of extra data after the value`);
    return { id, valueStart };
  }

  /** #read without building anything. */
  #skip(r: GobReader, id: number, depth: number): void {
    switch (id) {
      case TypeId.bool: {
        const v = r.uint();
        if (v !== 0 && v !== 1) throw new GobError(`gob: invalid bool value ${v}`);
        return;
      }
      case TypeId.int:
        r.int();
        return;
      case TypeId.uint:
        r.uint();
        return;
      case TypeId.float:
        r.float();
        return;
      case TypeId.bytes:
      case TypeId.string:
        r.skipBytes();
        return;
      case TypeId.complex:
        r.float();
        r.float();
        return;
      case TypeId.interface:
        throw new GobError('gob: interface values are not supported by this decoder');
    }
    const t = this.#wire(id);
    if (t === undefined) throw new GobError(`gob: type id ${id} was used before it was defined`);
    if (depth >= this.#maxDepth) throw new GobError(`gob: value nested deeper than ${this.#maxDepth} levels`);
    switch (t.kind) {
      case 'struct': {
        let field = -1;
        for (;;) {
          const delta = r.count('field delta');
          if (delta === 0) return;
          field += delta;
          const f = t.fields[field];
          if (f === undefined) throw new GobError(`gob: field number ${field} out of range for struct ${t.name || '(anonymous)'} of ${t.fields.length} fields`);
          this.#skip(r, f.id, depth + 1);
        }
      }
      case 'slice':
      case 'array': {
        const n = r.count('element count');
        if (n > r.remaining) throw new GobError(`gob: ${n} elements cannot fit in the ${r.remaining} bytes left`);
        if (t.kind === 'array' && n !== t.len) throw new GobError(`gob: array of length ${t.len} received with ${n} elements`);
        for (let i = 0; i < n; i++) this.#skip(r, t.elem, depth + 1);
        return;
      }
      case 'map': {
        const n = r.count('map size');
        if (n * 2 > r.remaining) throw new GobError(`gob: ${n} map entries cannot fit in the ${r.remaining} bytes left`);
        for (let i = 0; i < n; i++) {
          this.#skip(r, t.key, depth + 1);
          this.#skip(r, t.elem, depth + 1);
        }
        return;
      }
      case 'marshaled':
        r.skipBytes();
        return;
    }
  }

  #message(buf: Buffer, start: number, end: number): unknown {
    const r = new GobReader(buf, start, end);
    const id = r.int();
    if (typeof id === 'bigint' || id === 0) throw new GobError(`gob: invalid type id ${id}`);
    if (id < 0) {
      this.#define(-id, r);
      return NO_VALUE;
    }
    const t = this.#wire(id);
    if (t === undefined && id > TypeId.interface) throw new GobError(`gob: type id ${id} was used before it was defined`);
    if (t === undefined || t.kind !== 'struct') {
      const delta = r.uint();
      if (delta !== 0) throw new GobError(`gob: corrupted data: non-zero delta ${delta} for a singleton value`);
    }
    const v = this.#read(r, id, 0);
    if (r.remaining !== 0) throw new GobError(`gob: ${r.remaining} bytes of extra data after the value`);
    return v;
  }

  #define(id: number, r: GobReader): void {
    if (id < TypeId.firstUser) throw new GobError(`gob: type id ${id} is reserved and cannot be defined`);
    if (this.#types.has(id)) throw new GobError(`gob: duplicate definition of type id ${id}`);
    const w = this.#read(r, TypeId.wireType, 0) as Record<string, Record<string, unknown> | null>;
    if (r.remaining !== 0) throw new GobError(`gob: ${r.remaining} bytes of extra data after the definition of type id ${id}`);
    this.#types.set(id, toWireType(id, w));
  }

  #wire(id: number): WireType | undefined {
    return this.#types.get(id) ?? bootstrap.get(id);
  }

  #read(r: GobReader, id: number, depth: number): unknown {
    switch (id) {
      case TypeId.bool: {
        const v = r.uint();
        if (v !== 0 && v !== 1) throw new GobError(`gob: invalid bool value ${v}`);
        return v === 1;
      }
      case TypeId.int:
        return r.int();
      case TypeId.uint:
        return r.uint();
      case TypeId.float:
        return r.float();
      case TypeId.bytes:
        return r.bytes();
      case TypeId.string:
        return r.string();
      case TypeId.complex:
        return { real: r.float(), imag: r.float() } satisfies GobComplex;
      case TypeId.interface:
        throw new GobError('gob: interface values are not supported by this decoder');
    }
    const t = this.#wire(id);
    if (t === undefined) throw new GobError(`gob: type id ${id} was used before it was defined`);
    if (depth >= this.#maxDepth) throw new GobError(`gob: value nested deeper than ${this.#maxDepth} levels`);
    switch (t.kind) {
      case 'struct': {
        const obj: Record<string, unknown> = {};
        for (const f of t.fields) obj[f.name] = this.#zero(f.id);
        let field = -1;
        for (;;) {
          const delta = r.count('field delta');
          if (delta === 0) return obj;
          field += delta;
          const f = t.fields[field];
          if (f === undefined) throw new GobError(`gob: field number ${field} out of range for struct ${t.name || '(anonymous)'} of ${t.fields.length} fields`);
          obj[f.name] = this.#read(r, f.id, depth + 1);
        }
      }
      case 'slice':
      case 'array': {
        const n = r.count('element count');
        if (n > r.remaining) throw new GobError(`gob: ${n} elements cannot fit in the ${r.remaining} bytes left`);
        if (t.kind === 'array' && n !== t.len) throw new GobError(`gob: array of length ${t.len} received with ${n} elements`);
        const arr = new Array<unknown>(n);
        for (let i = 0; i < n; i++) arr[i] = this.#read(r, t.elem, depth + 1);
        return arr;
      }
      case 'map': {
        const n = r.count('map size');
        if (n * 2 > r.remaining) throw new GobError(`gob: ${n} map entries cannot fit in the ${r.remaining} bytes left`);
        const m = new Map<unknown, unknown>();
        for (let i = 0; i < n; i++) {
          const k = this.#read(r, t.key, depth + 1);
          m.set(k, this.#read(r, t.elem, depth + 1));
        }
        return m;
      }
      case 'marshaled':
        return r.bytes();
    }
  }

  #zero(id: number): unknown {
    switch (id) {
      case TypeId.bool:
        return false;
      case TypeId.int:
      case TypeId.uint:
      case TypeId.float:
        return 0;
      case TypeId.bytes:
        return Buffer.alloc(0);
      case TypeId.string:
        return '';
      case TypeId.complex:
        return { real: 0, imag: 0 };
    }
    // Forward references are legal, so the type may not be known yet: then it is not a slice.
    return this.#wire(id)?.kind === 'slice' ? [] : null;
  }
}

const NO_VALUE = Symbol('no value');

function toWireType(id: number, w: Record<string, Record<string, unknown> | null>): WireType {
  const set = Object.entries(w).filter(([, v]) => v !== null);
  if (set.length !== 1) throw new GobError(`gob: definition of type id ${id} sets ${set.length} kinds (exactly one expected)`);
  const [kind, body] = set[0]! as [string, Record<string, unknown>];
  const common = (body.CommonType ?? { Name: '', Id: 0 }) as { Name: string };
  const name = common.Name;
  const ref = (v: unknown, what: string): number => {
    if (typeof v !== 'number' || v <= 0) throw new GobError(`gob: definition of type id ${id} has an invalid ${what} type id ${String(v)}`);
    return v;
  };
  switch (kind) {
    case 'StructT': {
      const fields = (body.Field as { Name: string; Id: unknown }[]).map((f) => ({ name: f.Name, id: ref(f.Id, `field ${f.Name}`) }));
      return { kind: 'struct', name, fields };
    }
    case 'SliceT':
      return { kind: 'slice', name, elem: ref(body.Elem, 'element') };
    case 'ArrayT': {
      const len = body.Len;
      if (typeof len !== 'number' || len < 0) throw new GobError(`gob: definition of type id ${id} has an invalid array length`);
      return { kind: 'array', name, elem: ref(body.Elem, 'element'), len };
    }
    case 'MapT':
      return { kind: 'map', name, key: ref(body.Key, 'key'), elem: ref(body.Elem, 'element') };
    default:
      return { kind: 'marshaled', name, which: kind as MarshalerKind };
  }
}
