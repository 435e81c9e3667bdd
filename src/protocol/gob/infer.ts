/**
 * JS value → gob type, for values sent without a type hint:
 *   boolean → bool; integer number or bigint → int; other number → float64; string → string;
 *   Buffer / Uint8Array → []byte; array → slice of its elements' common type; Map → map;
 *   plain object → anonymous struct whose fields are the object's keys (exported Go names),
 *   in key order, skipping keys whose value is undefined or null.
 * Anything else (null at the top, an empty array, mixed element types, a function) has no gob type of
 * its own: the error names where it is and asks for a hint.
 */
import { GobError, isExportedName, type GobField, type GobType, gob } from './types.js';

export function inferType(value: unknown, path = 'value'): GobType {
  switch (typeof value) {
    case 'boolean':
      return gob.bool;
    case 'number':
      if (!Number.isFinite(value) || !Number.isInteger(value)) return gob.float;
      return Number.isSafeInteger(value) ? gob.int : gob.float;
    case 'bigint':
      return gob.int;
    case 'string':
      return gob.string;
    case 'object':
      break;
    default:
      throw new GobError(`gob: cannot encode a ${typeof value}; pass a type hint or a supported value`, path);
  }
  if (value === null) throw new GobError('gob: cannot infer a type for null; pass a type hint', path);
  if (value instanceof Uint8Array) return gob.bytes;
  if (Array.isArray(value)) {
    if (value.length === 0) throw new GobError('gob: cannot infer the element type of an empty array; pass a type hint', path);
    let elem = inferType(value[0], `${path}[0]`);
    for (let i = 1; i < value.length; i++) elem = unify(elem, inferType(value[i], `${path}[${i}]`), `${path}[${i}]`);
    return gob.slice(elem);
  }
  if (value instanceof Map) {
    if (value.size === 0) throw new GobError('gob: cannot infer the key and element types of an empty Map; pass a type hint', path);
    let key: GobType | undefined;
    let elem: GobType | undefined;
    for (const [k, v] of value) {
      const kt = inferType(k, `${path} key`);
      const vt = inferType(v, `${path}[${String(k)}]`);
      key = key === undefined ? kt : unify(key, kt, `${path} key ${String(k)}`);
      elem = elem === undefined ? vt : unify(elem, vt, `${path}[${String(k)}]`);
    }
    return gob.map(key!, elem!);
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    throw new GobError(`gob: cannot infer a type for a ${(value as object).constructor?.name ?? 'object'}; pass a type hint`, path);
  }
  const fields: GobField[] = [];
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined || v === null) continue;
    if (!isExportedName(name)) {
      throw new GobError(`gob: field "${name}" is not an exported Go name (it must start with an upper-case letter)`, path);
    }
    fields.push({ name, type: inferType(v, `${path}.${name}`) });
  }
  return { kind: 'struct', name: '', fields };
}

/** Two inferred element types must agree; int widens to float64 so [1, 2.5] is a []float64. */
function unify(a: GobType, b: GobType, path: string): GobType {
  if (a.kind === b.kind) {
    if (a.kind === 'slice' && b.kind === 'slice') return gob.slice(unify(a.elem, b.elem, path));
    if (a.kind === 'map' && b.kind === 'map') return gob.map(unify(a.key, b.key, path), unify(a.elem, b.elem, path));
    if (a.kind === 'struct' && b.kind === 'struct') return unifyStructs(a.fields, b.fields, path);
    return a;
  }
  if ((a.kind === 'int' && b.kind === 'float') || (a.kind === 'float' && b.kind === 'int')) return gob.float;
  throw new GobError(`gob: elements of different types (${a.kind} and ${b.kind}) cannot share one gob slice or map; pass a type hint`, path);
}

/** Objects in one array may omit keys (zero values); the struct type is the union of their fields. */
function unifyStructs(a: readonly GobField[], b: readonly GobField[], path: string): GobType {
  const out = a.map((f) => ({ ...f }));
  for (const f of b) {
    const i = out.findIndex((g) => g.name === f.name);
    if (i < 0) out.push({ ...f });
    else out[i] = { name: f.name, type: unify(out[i]!.type, f.type, `${path}.${f.name}`) };
  }
  return { kind: 'struct', name: '', fields: out };
}
