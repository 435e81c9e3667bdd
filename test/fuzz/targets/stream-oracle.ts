/**
 * What every framed-codec target checks besides its own reference: a codec fed the same bytes in one
 * read and in random pieces must report the same items and the same end, and the only exceptions that
 * may leave it are its own error types. A trace is the list of decoded items (short descriptions) and
 * how the input ended.
 */
import { crc32 } from 'node:zlib';

export interface Trace {
  readonly items: string[];
  /** "clean", "incomplete" or "error <what>"; "crash <message>" when a foreign exception escaped. */
  end: string;
}

/** A short, comparable description of bytes: length and CRC-32. */
export function digest(b: Buffer): string {
  return `${b.length}:${(crc32(b) >>> 0).toString(16)}`;
}

/** The first difference between two traces, or null. */
export function diffTraces(a: Trace, b: Trace, labels: [string, string] = ['one read', 'split reads']): string | null {
  if (a.end.startsWith('crash')) return `${labels[0]}: ${a.end}`;
  if (b.end.startsWith('crash')) return `${labels[1]}: ${b.end}`;
  const n = Math.max(a.items.length, b.items.length);
  for (let i = 0; i < n; i++) {
    if (a.items[i] !== b.items[i]) return `item ${i}: ${labels[0]} ${a.items[i] ?? '(none)'}, ${labels[1]} ${b.items[i] ?? '(none)'}`;
  }
  if (a.end !== b.end) return `end: ${labels[0]} "${a.end}", ${labels[1]} "${b.end}"`;
  return null;
}

/** Runs fn; an exception that is not one of `allowed` becomes the trace's "crash" end. */
export function guarded(trace: Trace, allowed: readonly (abstract new (...args: never[]) => Error)[], fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (allowed.some((k) => err instanceof k)) trace.end = `error ${(err as Error).name}`;
    else trace.end = `crash ${(err as Error)?.stack ?? String(err)}`;
  }
}

/** The outcome bucket of a trace for the report: item count and how it ended. */
export function outcomeOf(t: Trace): string {
  const n = t.items.length === 0 ? '0' : t.items.length === 1 ? '1' : '2+';
  const end = t.end.startsWith('error') ? t.end.split(' ').slice(0, 2).join(' ') : t.end;
  return `${n} then ${end}`;
}
