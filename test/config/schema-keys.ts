/**
 * Walks a zod config schema for the input keys it accepts, written as JSON key paths with `[]` for
 * any index (`servers[].listeners[].name`). Shared by the test that checks every key is read and
 * the test that checks the README lists every key.
 */
import type { z } from 'zod';

type Def = { type: string; shape?: Record<string, z.ZodType>; element?: z.ZodType; innerType?: z.ZodType; in?: z.ZodType; out?: z.ZodType; options?: z.ZodType[] };
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Input key paths of a schema, indices written `[]`; a record or a list of scalars is one leaf. */
export function schemaLeaves(schema: z.ZodType, base: string, out: Set<string>): void {
  const d = defOf(schema);
  switch (d.type) {
    case 'object': {
      const keys = Object.entries(d.shape!);
      if (keys.length === 0 && base !== '') out.add(base);
      for (const [k, v] of keys) schemaLeaves(v, base === '' ? k : `${base}.${k}`, out);
      return;
    }
    case 'array': {
      const e = defOf(d.element!);
      const first = e.type === 'union' ? defOf(e.options![0]!) : e;
      const inner = first.type === 'pipe' ? defOf(first.in!) : first;
      const structured = ['object', 'array', 'union'].includes(inner.type);
      if (structured) schemaLeaves(d.element!, `${base}[]`, out);
      else out.add(base);
      return;
    }
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
    case 'readonly':
      schemaLeaves(d.innerType!, base, out);
      return;
    case 'pipe':
      // A transform's keys are its input's; a record piped into an object has the object's keys.
      schemaLeaves(defOf(d.out!).type === 'transform' ? d.in! : d.out!, base, out);
      return;
    case 'union': {
      // A union of spellings (a bare list or {clusters: [...]}): the first is the canonical one.
      schemaLeaves(d.options![0]!, base, out);
      return;
    }
    default:
      out.add(base);
  }
}
