/**
 * Gob type descriptors: what a JS value means on a gob stream. Inference (infer.ts) builds them from
 * values; callers pass them explicitly where inference cannot know (an unsigned field, an empty
 * slice's element type, a struct's Go name).
 *
 *   JS value ──(descriptor)──▶ GobEncoder ──▶ [len][-id wireType]…[len][id value] ──▶ GobDecoder ──▶ JS value
 *
 * The ids of the predefined types are fixed by the encoding/gob specification; user types get ids
 * from 65 upwards, per stream.
 */

export type GobType =
  | { readonly kind: 'bool' }
  | { readonly kind: 'int' }
  | { readonly kind: 'uint' }
  | { readonly kind: 'float' }
  | { readonly kind: 'bytes' }
  | { readonly kind: 'string' }
  | { readonly kind: 'complex' }
  | { readonly kind: 'slice'; readonly elem: GobType; readonly name?: string }
  | { readonly kind: 'array'; readonly elem: GobType; readonly len: number; readonly name?: string }
  | { readonly kind: 'map'; readonly key: GobType; readonly elem: GobType; readonly name?: string }
  | { readonly kind: 'struct'; readonly name: string; readonly fields: readonly GobField[] };

export type GobStructType = Extract<GobType, { kind: 'struct' }>;

export interface GobField {
  readonly name: string;
  readonly type: GobType;
}

/** A complex128 value: gob sends it as two floats. */
export interface GobComplex {
  real: number;
  imag: number;
}

/** Predefined type ids (encoding/gob type.go). 9–15 are reserved, 16–23 describe wire types. */
export const TypeId = {
  bool: 1,
  int: 2,
  uint: 3,
  float: 4,
  bytes: 5,
  string: 6,
  complex: 7,
  interface: 8,
  wireType: 16,
  arrayType: 17,
  commonType: 18,
  sliceType: 19,
  structType: 20,
  fieldType: 21,
  fieldTypeSlice: 22,
  mapType: 23,
  /** Go's first id handed to a user type is firstUserId + 1. */
  firstUser: 65,
} as const;

/** A Go exported identifier: gob only carries exported fields, and Go matches them by exact name. */
export function isExportedName(name: string): boolean {
  return /^\p{Lu}[\p{L}\p{N}_]*$/u.test(name);
}

/** Builders for explicit type hints: `gob.struct('Args', { Num1: gob.int, Num2: gob.int })`. */
export const gob = {
  bool: { kind: 'bool' } as GobType,
  int: { kind: 'int' } as GobType,
  uint: { kind: 'uint' } as GobType,
  float: { kind: 'float' } as GobType,
  bytes: { kind: 'bytes' } as GobType,
  string: { kind: 'string' } as GobType,
  complex: { kind: 'complex' } as GobType,
  slice(elem: GobType, name?: string): GobType {
    return name === undefined ? { kind: 'slice', elem } : { kind: 'slice', elem, name };
  },
  array(elem: GobType, len: number, name?: string): GobType {
    if (!Number.isSafeInteger(len) || len < 0) throw new GobError(`gob: array length ${len} is not a non-negative integer`);
    return name === undefined ? { kind: 'array', elem, len } : { kind: 'array', elem, len, name };
  },
  map(key: GobType, elem: GobType, name?: string): GobType {
    return name === undefined ? { kind: 'map', key, elem } : { kind: 'map', key, elem, name };
  },
  /** Field order is the order of the object's keys, as it is the order of a Go struct's fields. */
  struct(name: string, fields: Record<string, GobType>): GobType {
    const list: GobField[] = [];
    for (const [fieldName, type] of Object.entries(fields)) {
      if (!isExportedName(fieldName)) {
        throw new GobError(`gob: struct ${name || '(anonymous)'} field "${fieldName}" is not an exported Go name (it must start with an upper-case letter)`);
      }
      list.push({ name: fieldName, type });
    }
    return { kind: 'struct', name, fields: list };
  },
};

/** Every encode or decode failure; `path` names where in the value it happened (e.g. `Args.Num1`). */
export class GobError extends Error {
  readonly path: string;
  constructor(message: string, path = '') {
    super(path === '' ? message : `${message} (at ${path})`);
    this.name = 'GobError';
    this.path = path;
  }
}

/** Go's spelling of a type, used for the names carried in type definitions and in error messages. */
export function goTypeName(t: GobType): string {
  switch (t.kind) {
    case 'bool':
    case 'int':
    case 'uint':
    case 'string':
      return t.kind;
    case 'float':
      return 'float64';
    case 'complex':
      return 'complex128';
    case 'bytes':
      return '[]uint8';
    case 'slice':
      return t.name ?? `[]${goTypeName(t.elem)}`;
    case 'array':
      return t.name ?? `[${t.len}]${goTypeName(t.elem)}`;
    case 'map':
      return t.name ?? `map[${goTypeName(t.key)}]${goTypeName(t.elem)}`;
    case 'struct':
      return t.name === '' ? `struct { ${t.fields.map((f) => `${f.name} ${goTypeName(f.type)}`).join('; ')} }` : t.name;
  }
}
