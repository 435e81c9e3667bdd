/**
 * Every schema is built twice from one definition: a strict "lint" copy whose unknown keys become
 * zod issues (turned into warnings with their path), and a stripping "data" copy that yields the
 * normalized value. Building both from one function keeps them from drifting apart.
 */
import { z } from 'zod';
import type { ConfigKit, ConfigSpec, IgnoredKey, IgnoredTable } from '../types/extension.js';

/** The two copies of one schema that validate() runs. */
export interface SchemaPair<T> {
  /** Strict copy: its unknown-key issues become warnings. */
  lint: z.ZodType;
  /** Stripping copy: its issues are errors, its output the normalized value. */
  data: z.ZodType<T>;
}

export type { IgnoredKey, IgnoredTable };
export type Kit = ConfigKit;

export function kit(strict: boolean): ConfigKit {
  return {
    strict,
    obj<S extends z.core.$ZodLooseShape>(shape: S): z.ZodObject<S, z.core.$strip> {
      return (strict ? z.strictObject(shape) : z.object(shape)) as unknown as z.ZodObject<S, z.core.$strip>;
    },
  };
}

const pairs = new WeakMap<ConfigSpec<unknown>, SchemaPair<unknown>>();

/** Both copies of a spec's schema, built once per spec. */
export function specPair<T>(spec: ConfigSpec<T>): SchemaPair<T> {
  let p = pairs.get(spec as ConfigSpec<unknown>);
  if (p === undefined) {
    p = { lint: spec.schema(kit(true)), data: spec.schema(kit(false)) };
    pairs.set(spec as ConfigSpec<unknown>, p);
  }
  return p as SchemaPair<T>;
}

export function isEmptyValue(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v).length === 0;
  return false;
}

/** Compiles a route or header regex with JavaScript's engine, which is what will run it. */
export function regexIssue(source: string): string | undefined {
  try {
    new RegExp(source);
    return undefined;
  } catch (err) {
    return `invalid regular expression: ${(err as Error).message}`;
  }
}
