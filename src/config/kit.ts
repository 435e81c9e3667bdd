/**
 * Every schema is built twice from one definition: a strict "lint" copy whose unknown keys become
 * zod issues (turned into warnings with their path), and a stripping "data" copy that yields the
 * normalized value. Building both from one function keeps them from drifting apart.
 */
import { z } from 'zod';

export interface Kit {
  readonly strict: boolean;
  /** z.object in the data copy, z.strictObject in the lint copy; the output type is the same. */
  obj<S extends z.core.$ZodLooseShape>(shape: S): z.ZodObject<S, z.core.$strip>;
}

export function kit(strict: boolean): Kit {
  return {
    strict,
    obj<S extends z.core.$ZodLooseShape>(shape: S): z.ZodObject<S, z.core.$strip> {
      return (strict ? z.strictObject(shape) : z.object(shape)) as unknown as z.ZodObject<S, z.core.$strip>;
    },
  };
}

/**
 * Keys that MOSN or Layotto configs carry and Ringside accepts without acting on them, by location.
 * A location is a path with indices written `[]` (`servers[].listeners[]`); '*' matches any key.
 * `quietWhenEmpty` skips the warning for values that configure nothing (`"tls_context": {}`).
 */
export interface IgnoredKey {
  reason: string;
  quietWhenEmpty?: boolean;
}
export type IgnoredTable = Readonly<Record<string, Readonly<Record<string, IgnoredKey>>>>;

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
