/**
 * Moving gob values from one stream to another without knowing their Go types — what a proxy does
 * between a downstream connection and a shared upstream one.
 *
 * Type ids are numbers of one stream (each stream numbers its user types from 65 in the order it
 * first sends them), so a value cannot be forwarded with its id as received. But a value's bytes
 * name no type id (the definitions hold the whole structure; interface values aside), so only the
 * definitions need translating:
 *
 *   downstream stream                          upstream stream
 *   -65 struct Args{Num1:2, Num2:2} ─┐          -70 struct Args{Num1:2, Num2:2}   (sent once per stream)
 *    65 <value bytes>               ─┴─ shape ─▶ 70 <the same value bytes>
 *
 * A GobShape is a type as the graph its definitions describe, numbered by the shape itself: its
 * types in depth-first order from the root, each reference either a predefined id (< 65, the same
 * on every stream) or -(1 + index) into the shape. Two streams that defined the same Go type —
 * recursive types included — give equal shapes with equal keys, whatever ids they used, so a
 * sender defines a type once per stream however many peers relay it.
 */
import { GobDecoder, type WireType } from './decoder.js';
import { GobEncoder } from './encoder.js';
import { GobError, TypeId } from './types.js';
import { GobWriter } from './wire.js';

export interface GobShape {
  /** Equal for equal type graphs (names, fields, element types, recursion). */
  readonly key: string;
  /** types[0] is the root; references are predefined ids or -(1 + index). */
  readonly types: readonly WireType[];
}

/** A relayed value's type: a predefined id (int, string, …) or a shape. */
export type GobRelayType = number | GobShape;

/** The shape of type `id` on the stream `dec` reads; throws when it names an undefined type. */
export function shapeOf(dec: GobDecoder, id: number): GobRelayType {
  if (id < TypeId.firstUser) return id;
  const index = new Map<number, number>();
  const types: WireType[] = [];
  const ref = (id: number): number => {
    if (id < TypeId.firstUser) return id;
    const known = index.get(id);
    if (known !== undefined) return -(1 + known);
    const wire = dec.wireType(id);
    if (wire === undefined) throw new GobError(`gob: type id ${id} was used before it was defined`);
    const at = types.length;
    index.set(id, at);
    types.push(wire); // replaced below, once its references are numbered
    types[at] = renumber(wire, ref);
    return -(1 + at);
  };
  ref(id);
  return { key: JSON.stringify(types), types };
}

function renumber(w: WireType, ref: (id: number) => number): WireType {
  switch (w.kind) {
    case 'struct':
      return { kind: 'struct', name: w.name, fields: w.fields.map((f) => ({ name: f.name, id: ref(f.id) })) };
    case 'slice':
      return { kind: 'slice', name: w.name, elem: ref(w.elem) };
    case 'array':
      return { kind: 'array', name: w.name, elem: ref(w.elem), len: w.len };
    case 'map':
      return { kind: 'map', name: w.name, key: ref(w.key), elem: ref(w.elem) };
    case 'marshaled':
      return w;
  }
}

/** Builds definition messages; holds no stream state. */
const definitions = new GobEncoder();

/** The sending side of one stream for relayed values: shape → id on this stream, definitions sent once. */
export class GobRelaySender {
  readonly #ids = new Map<string, number>();
  #next: number;
  readonly #writer = new GobWriter(256);

  /** `firstId`: the next free user id of the stream (65 on a fresh one). */
  constructor(firstId: number = TypeId.firstUser) {
    this.#next = firstId;
  }

  /** The id `type` has on this stream; the first time, its definitions are appended to `out`. */
  idOf(type: GobRelayType, out: Buffer[]): number {
    if (typeof type === 'number') return type;
    const known = this.#ids.get(type.key);
    if (known !== undefined) return known;
    const base = this.#next;
    this.#next += type.types.length;
    this.#ids.set(type.key, base);
    const id = (r: number): number => (r < 0 ? base - r - 1 : r);
    for (let i = 0; i < type.types.length; i++) out.push(definitions.definition(base + i, wireValue(type.types[i]!, base + i, id)));
    return base;
  }

  /** One value message: `id` and value bytes as a scan of another stream found them. */
  value(id: number, valueBytes: Buffer): Buffer {
    const w = this.#writer;
    w.reset();
    w.int(id);
    w.raw(valueBytes);
    return w.message();
  }
}

function wireValue(w: WireType, self: number, id: (r: number) => number): Record<string, unknown> {
  const common = { Name: w.name, Id: self };
  switch (w.kind) {
    case 'struct':
      return { StructT: { CommonType: common, Field: w.fields.map((f) => ({ Name: f.name, Id: id(f.id) })) } };
    case 'slice':
      return { SliceT: { CommonType: common, Elem: id(w.elem) } };
    case 'array':
      return { ArrayT: { CommonType: common, Elem: id(w.elem), Len: w.len } };
    case 'map':
      return { MapT: { CommonType: common, Key: id(w.key), Elem: id(w.elem) } };
    case 'marshaled':
      return { [w.which]: { CommonType: common } };
  }
}
