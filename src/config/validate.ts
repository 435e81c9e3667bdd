/**
 * Runs a lint/data schema pair over a JSON value and turns zod's issues into Ringside's: errors and
 * warnings that each name a JSON path and say what is wrong in words a config author uses.
 */
import type { z } from 'zod';
import { formatPath, type ConfigIssue, type PathSegment } from './errors.js';
import { isEmptyValue, type IgnoredTable, type SchemaPair } from './kit.js';

export type { SchemaPair };

export type Validated<T> = { ok: true; value: T; warnings: string[] } | { ok: false; issues: ConfigIssue[]; warnings: string[] };

type ZodIssue = z.core.$ZodIssue;

export function validate<T>(pair: SchemaPair<T>, raw: unknown, basePath: string, ignored: IgnoredTable): Validated<T> {
  const warnings: string[] = [];
  const lint = pair.lint.safeParse(raw);
  if (!lint.success) collect(lint.error.issues, [], raw, { basePath, ignored, warnings, errors: undefined });
  const data = pair.data.safeParse(raw);
  if (data.success) return { ok: true, value: data.data, warnings };
  const errors: ConfigIssue[] = [];
  collect(data.error.issues, [], raw, { basePath, ignored, warnings: undefined, errors });
  return { ok: false, issues: dedupe(errors), warnings };
}

interface Sink {
  basePath: string;
  ignored: IgnoredTable;
  /** Set in the lint pass only: unknown keys are reported once, from there. */
  warnings: string[] | undefined;
  /** Set in the data pass only: every other issue is reported once, from there. */
  errors: ConfigIssue[] | undefined;
}

function collect(issues: readonly ZodIssue[], prefix: readonly PathSegment[], raw: unknown, sink: Sink): void {
  for (const issue of issues) {
    const segs = [...prefix, ...(issue.path as PathSegment[])];
    if (issue.code === 'unrecognized_keys') {
      if (sink.warnings !== undefined) for (const key of issue.keys) unknownKey(segs, key, raw, sink.warnings, sink);
      continue;
    }
    if (issue.code === 'invalid_union' && issue.message === 'Invalid input') {
      const branch = pickBranch(issue.errors);
      if (branch !== undefined) {
        collect(branch, segs, raw, sink);
        continue;
      }
      // Every branch failed on the type itself: say which types would do.
      const expected = issue.errors.map((b) => (b[0] as { expected?: string } | undefined)?.expected ?? '?');
      sink.errors?.push({ path: formatPath(segs, sink.basePath), message: typeMessage(expected.join(' or '), valueAt(raw, segs)) });
      continue;
    }
    sink.errors?.push({ path: formatPath(segs, sink.basePath), message: describe(issue, valueAt(raw, segs)) });
  }
}

/** The union branch the user evidently meant: the first whose failure is deeper than its root type. */
function pickBranch(branches: readonly (readonly ZodIssue[])[]): readonly ZodIssue[] | undefined {
  return branches.find((b) => !(b.length === 1 && b[0]?.code === 'invalid_type' && b[0].path.length === 0));
}

function unknownKey(segs: readonly PathSegment[], key: string, raw: unknown, warnings: string[], sink: Sink): void {
  const where = locationPattern(segs);
  const table = sink.ignored[where];
  const rule = table?.[key] ?? table?.['*'];
  const path = formatPath([...segs, key], sink.basePath);
  if (rule === undefined) {
    warnings.push(`${path}: unknown key, ignored`);
    return;
  }
  if (rule.quietWhenEmpty === true && isEmptyValue(valueAt(raw, [...segs, key]))) return;
  warnings.push(`${path}: ${rule.reason}`);
}

/** `servers[0].listeners[2]` → `servers[].listeners[]`, the form IgnoredTable keys use. */
export function locationPattern(segs: readonly PathSegment[]): string {
  let out = '';
  for (const s of segs) out += typeof s === 'number' ? '[]' : out === '' ? s : `.${s}`;
  return out;
}

export function valueAt(raw: unknown, segs: readonly PathSegment[]): unknown {
  let v = raw;
  for (const s of segs) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[s];
  }
  return v;
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  return typeof v;
}

function typeMessage(expected: string, value: unknown): string {
  return value === undefined ? `required (expected ${expected})` : `expected ${expected}, got ${kindOf(value)}`;
}

function describe(issue: ZodIssue, value: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      // Messages set through { error } in the schema are already worded for users.
      return issue.message.startsWith('Invalid input') ? typeMessage(issue.expected, value) : issue.message;
    case 'invalid_value':
      return issue.message.startsWith('Invalid') ? `expected one of ${issue.values.map(String).join(', ')}, got ${kindOf(value)}` : issue.message;
    case 'too_small':
      if (!issue.message.startsWith('Too small')) return issue.message;
      if (issue.origin === 'array') return `needs at least ${String(issue.minimum)} entr${issue.minimum === 1 ? 'y' : 'ies'}`;
      if (issue.origin === 'string') return 'must not be empty';
      return `must be ≥ ${String(issue.minimum)}, got ${kindOf(value)}`;
    case 'too_big':
      return issue.message.startsWith('Too big') ? `must be ≤ ${String(issue.maximum)}, got ${kindOf(value)}` : issue.message;
    default:
      return issue.message;
  }
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\0${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
