/**
 * One direction of a gob stream. Like Go's gob.Encoder, it sends each type's definition once, right
 * before the first value that needs it, and numbers user types from 65 on this stream:
 *   - a struct takes its id before its fields' types do, a slice, array or map after its elements'
 *     (the order Go's type.go assigns them, so a fresh Go process and this encoder agree byte for
 *     byte);
 *   - definitions go out outer type first, then the inner types it names (encoder.go
 *     sendActualType), so a decoder must accept forward references;
 *   - struct fields holding their zero value are omitted; a top-level non-struct value is sent as a
 *     one-field struct with field delta 0 ("singleton") and always sent, zero or not.
 */
import { inferType } from './infer.js';
import { GobError, TypeId, goTypeName, gob, type GobComplex, type GobStructType, type GobType } from './types.js';
import { GobWriter } from './wire.js';

const commonType = gob.struct('CommonType', { Name: gob.string, Id: gob.int });
/** The wire types Go predefines to describe user types (type.go wireType and friends). */
export const wireTypes = {
  commonType,
  fieldType: gob.struct('fieldType', { Name: gob.string, Id: gob.int }),
  arrayType: gob.struct('arrayType', { CommonType: commonType, Elem: gob.int, Len: gob.int }),
  sliceType: gob.struct('sliceType', { CommonType: commonType, Elem: gob.int }),
  mapType: gob.struct('mapType', { CommonType: commonType, Key: gob.int, Elem: gob.int }),
  gobEncoderType: gob.struct('gobEncoderType', { CommonType: commonType }),
  structType: undefined as unknown as GobType,
  wireType: undefined as unknown as GobStructType,
};
wireTypes.structType = gob.struct('structType', { CommonType: commonType, Field: gob.slice(wireTypes.fieldType) });
wireTypes.wireType = <GobStructType>gob.struct('wireType', {
  ArrayT: wireTypes.arrayType,
  SliceT: wireTypes.sliceType,
  StructT: wireTypes.structType,
  MapT: wireTypes.mapType,
  GobEncoderT: wireTypes.gobEncoderType,
  BinaryMarshalerT: wireTypes.gobEncoderType,
  TextMarshalerT: wireTypes.gobEncoderType,
});

const builtinIds: Partial<Record<GobType['kind'], number>> = {
  bool: TypeId.bool,
  int: TypeId.int,
  uint: TypeId.uint,
  float: TypeId.float,
  bytes: TypeId.bytes,
  string: TypeId.string,
  complex: TypeId.complex,
};

/** A structural key, so the same shape (hinted or inferred) keeps one id on the stream. */
const keyCache = new WeakMap<GobType, string>();
function typeKey(t: GobType): string {
  const cached = keyCache.get(t);
  if (cached !== undefined) return cached;
  let k: string;
  switch (t.kind) {
    case 'slice':
      k = `[]${typeKey(t.elem)}`;
      break;
    case 'array':
      k = `[${t.len}]${typeKey(t.elem)}`;
      break;
    case 'map':
      k = `map[${typeKey(t.key)}]${typeKey(t.elem)}`;
      break;
    case 'struct':
      k = `struct ${t.name}{${t.fields.map((f) => `${f.name} ${typeKey(f.type)}`).join(';')}}`;
      break;
    default:
      k = t.kind;
  }
  keyCache.set(t, k);
  return k;
}

export interface EncodeOptions {
  /** The gob type to send the value as; inferred from the value when absent. */
  type?: GobType;
}

export class GobEncoder {
  #ids = new Map<string, number>();
  #sent = new Set<number>();
  #nextId: number = TypeId.firstUser;
  #writer = new GobWriter(512);

  /**
   * The bytes for one value: any type definitions it needs first, then the value message. Throws a
   * GobError when the value does not fit its type; the stream's state is then as it was before.
   */
  encode(value: unknown, type?: GobType): Buffer {
    return this.encodeMany([[value, type]]);
  }

  /**
   * Several values as one unit (an RPC header and its body): either all of them are encoded, or
   * none is and the stream's type table is rolled back, so a bad body never strands a header whose
   * type definitions were marked sent but never written.
   */
  encodeMany(items: readonly (readonly [unknown, GobType | undefined])[]): Buffer {
    const mark = this.#nextId;
    try {
      const out: Buffer[] = [];
      for (const [value, type] of items) this.#one(value, type, out);
      return out.length === 1 ? out[0]! : Buffer.concat(out);
    } catch (err) {
      for (const [k, id] of this.#ids) if (id >= mark) this.#ids.delete(k);
      for (const id of this.#sent) if (id >= mark) this.#sent.delete(id);
      this.#nextId = mark;
      throw err;
    }
  }

  #one(value: unknown, type: GobType | undefined, out: Buffer[]): void {
    if (value === undefined || value === null) throw new GobError('gob: cannot encode a nil value at the top level', 'value');
    const t = type ?? inferType(value);
    const id = this.#assign(t);
    // The value is encoded before its definitions are queued, so a bad value sends nothing.
    const w = this.#writer;
    w.reset();
    w.int(id);
    if (t.kind === 'struct') this.#struct(w, t, value, 'value');
    else {
      w.uint(0);
      this.#value(w, t, value, 'value');
    }
    const valueMsg = w.message();
    this.#define(t, out);
    out.push(valueMsg);
  }

  #assign(t: GobType): number {
    const builtin = builtinIds[t.kind];
    if (builtin !== undefined) return builtin;
    const key = typeKey(t);
    const known = this.#ids.get(key);
    if (known !== undefined) return known;
    switch (t.kind) {
      case 'struct': {
        const id = this.#take(key);
        for (const f of t.fields) this.#assign(f.type);
        return id;
      }
      case 'slice':
      case 'array':
        this.#assign(t.elem);
        return this.#take(key);
      case 'map':
        this.#assign(t.key);
        this.#assign(t.elem);
        return this.#take(key);
      default:
        throw new GobError(`gob: no type id for ${t.kind}`);
    }
  }

  #take(key: string): number {
    const id = this.#nextId++;
    this.#ids.set(key, id);
    return id;
  }

  #idOf(t: GobType): number {
    return builtinIds[t.kind] ?? this.#ids.get(typeKey(t))!;
  }

  /** Appends the definitions of t and the types it names that this stream has not sent yet. */
  #define(t: GobType, out: Buffer[]): void {
    if (builtinIds[t.kind] !== undefined) return;
    const id = this.#idOf(t);
    if (this.#sent.has(id)) return;
    this.#sent.add(id);
    const common = { Name: goTypeName(t), Id: id };
    let wire: Record<string, unknown>;
    switch (t.kind) {
      case 'struct':
        wire = { StructT: { CommonType: { Name: t.name, Id: id }, Field: t.fields.map((f) => ({ Name: f.name, Id: this.#idOf(f.type) })) } };
        break;
      case 'slice':
        wire = { SliceT: { CommonType: common, Elem: this.#idOf(t.elem) } };
        break;
      case 'array':
        wire = { ArrayT: { CommonType: common, Elem: this.#idOf(t.elem), Len: t.len } };
        break;
      case 'map':
        wire = { MapT: { CommonType: common, Key: this.#idOf(t.key), Elem: this.#idOf(t.elem) } };
        break;
      default:
        return;
    }
    out.push(this.definition(id, wire));
    switch (t.kind) {
      case 'struct':
        for (const f of t.fields) this.#define(f.type, out);
        break;
      case 'slice':
      case 'array':
        this.#define(t.elem, out);
        break;
      case 'map':
        this.#define(t.key, out);
        this.#define(t.elem, out);
        break;
    }
  }

  /**
   * One definition message: `-id` and the wireType value (`{ StructT: { CommonType, Field } }`,
   * `{ SliceT: … }`, …) with ids of this stream. Relays use it to re-send definitions received on
   * another stream.
   */
  definition(id: number, wire: Record<string, unknown>): Buffer {
    const w = new GobWriter(128);
    w.int(-id);
    this.#struct(w, wireTypes.wireType, wire, 'wireType');
    return w.message();
  }

  #struct(w: GobWriter, t: GobStructType, value: unknown, path: string): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array || value instanceof Map) {
      throw new GobError(`gob: struct ${goTypeName(t)} needs an object, got ${describe(value)}`, path);
    }
    const obj = value as Record<string, unknown>;
    let last = -1;
    for (let i = 0; i < t.fields.length; i++) {
      const f = t.fields[i]!;
      const v = obj[f.name];
      if (v === undefined || v === null || isZero(f.type, v)) continue;
      w.uint(i - last);
      last = i;
      this.#value(w, f.type, v, `${path}.${f.name}`);
    }
    w.byte(0);
  }

  #value(w: GobWriter, t: GobType, v: unknown, path: string): void {
    switch (t.kind) {
      case 'bool':
        if (typeof v !== 'boolean') throw mismatch(t, v, path);
        w.uint(v ? 1 : 0);
        return;
      case 'int':
        if (typeof v === 'bigint') return w.int(v);
        if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw mismatch(t, v, path);
        return w.int(v);
      case 'uint':
        if (typeof v === 'bigint' && v >= 0n) return w.uint(v);
        if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw mismatch(t, v, path);
        return w.uint(v);
      case 'float':
        if (typeof v !== 'number') throw mismatch(t, v, path);
        return w.float(v);
      case 'complex': {
        const c = v as GobComplex;
        if (typeof c !== 'object' || c === null || typeof c.real !== 'number' || typeof c.imag !== 'number') throw mismatch(t, v, path);
        w.float(c.real);
        w.float(c.imag);
        return;
      }
      case 'string':
        if (typeof v !== 'string') throw mismatch(t, v, path);
        return w.string(v);
      case 'bytes':
        if (!(v instanceof Uint8Array)) throw mismatch(t, v, path);
        return w.bytes(v);
      case 'slice':
      case 'array': {
        if (!Array.isArray(v)) throw mismatch(t, v, path);
        if (t.kind === 'array' && v.length !== t.len) throw new GobError(`gob: ${goTypeName(t)} needs exactly ${t.len} elements, got ${v.length}`, path);
        w.uint(v.length);
        for (let i = 0; i < v.length; i++) this.#element(w, t.elem, v[i], `${path}[${i}]`);
        return;
      }
      case 'map': {
        const entries = mapEntries(t, v, path);
        w.uint(entries.length);
        for (const [k, e] of entries) {
          this.#element(w, t.key, k, `${path} key`);
          this.#element(w, t.elem, e, `${path}[${String(k)}]`);
        }
        return;
      }
      case 'struct':
        return this.#struct(w, t, v, path);
    }
  }

  /** Elements of slices, arrays and maps are always sent, zero or not (Go sets sendZero). */
  #element(w: GobWriter, t: GobType, v: unknown, path: string): void {
    if (v === undefined || v === null) throw new GobError('gob: cannot encode a nil element', path);
    this.#value(w, t, v, path);
  }
}

function mapEntries(t: GobType, v: unknown, path: string): [unknown, unknown][] {
  if (v instanceof Map) return [...v.entries()];
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)) {
    const key = (t as Extract<GobType, { kind: 'map' }>).key;
    if (key.kind !== 'string') throw new GobError(`gob: a plain object can only stand for a map with string keys; use a Map for ${goTypeName(t)}`, path);
    return Object.entries(v as Record<string, unknown>);
  }
  throw mismatch(t, v, path);
}

/** Go's zero-value test for struct fields (encode.go: encInt's `x != 0`, len(slice) == 0, …). */
function isZero(t: GobType, v: unknown): boolean {
  switch (t.kind) {
    case 'bool':
      return v === false;
    case 'int':
    case 'uint':
      return v === 0 || v === 0n;
    case 'float':
      return v === 0;
    case 'complex': {
      const c = v as GobComplex;
      return typeof c === 'object' && c.real === 0 && c.imag === 0;
    }
    case 'string':
      return v === '';
    case 'bytes':
      return v instanceof Uint8Array && v.length === 0;
    case 'slice':
      return Array.isArray(v) && v.length === 0;
    // Arrays and structs are always sent; a non-nil map is sent even when empty.
    case 'array':
    case 'map':
    case 'struct':
      return false;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return 'a byte buffer';
  if (v instanceof Map) return 'a Map';
  if (typeof v === 'number') return Number.isInteger(v) ? `the integer ${v}` : `the number ${v}`;
  return `a ${typeof v}`;
}

function mismatch(t: GobType, v: unknown, path: string): GobError {
  return new GobError(`gob: cannot encode ${describe(v)} as ${goTypeName(t)}`, path);
}
