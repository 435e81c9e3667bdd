/**
 * The HeaderMap used by every Ringside codec: a flat [name, value, …] array with case-insensitive
 * lookups. A flat array is what decoders produce most cheaply and what encoders walk without
 * allocating; heads carry a dozen fields, so a linear scan with a length check first beats hashing.
 */
import type { HeaderMap } from '../types/protocol.js';

/** Case-insensitive ASCII equality; only A–Z fold, so token chars like `^` and `~` never collide. */
export function equalsIgnoreCase(a: string, b: string): boolean {
  if (a === b) return true;
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 65 && x <= 90) x += 32;
    if (y >= 65 && y <= 90) y += 32;
    if (x !== y) return false;
  }
  return true;
}

export class Headers implements HeaderMap {
  readonly raw: string[];

  /** Wraps the list without copying: decoders hand over the array they filled. */
  constructor(raw: string[] = []) {
    this.raw = raw;
  }

  /** Builds a map from a plain object (config, tests, local replies). */
  static from(init: Record<string, string> | readonly (readonly [string, string])[]): Headers {
    const raw: string[] = [];
    const entries = Array.isArray(init) ? init : Object.entries(init);
    for (const [k, v] of entries) raw.push(k, v);
    return new Headers(raw);
  }

  get size(): number {
    return this.raw.length >> 1;
  }

  get(name: string): string | undefined {
    const raw = this.raw;
    for (let i = 0; i < raw.length; i += 2) {
      if (equalsIgnoreCase(raw[i]!, name)) return raw[i + 1];
    }
    return undefined;
  }

  /** Every value under the name, in order. */
  getAll(name: string): string[] {
    const out: string[] = [];
    const raw = this.raw;
    for (let i = 0; i < raw.length; i += 2) {
      if (equalsIgnoreCase(raw[i]!, name)) out.push(raw[i + 1]!);
    }
    return out;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  set(name: string, value: string): void {
    const raw = this.raw;
    let found = false;
    for (let i = 0; i < raw.length; ) {
      if (equalsIgnoreCase(raw[i]!, name)) {
        if (!found) {
          raw[i + 1] = value;
          found = true;
          i += 2;
        } else {
          raw.splice(i, 2);
        }
      } else {
        i += 2;
      }
    }
    if (!found) raw.push(name, value);
  }

  add(name: string, value: string): void {
    this.raw.push(name, value);
  }

  remove(name: string): boolean {
    const raw = this.raw;
    let removed = false;
    for (let i = 0; i < raw.length; ) {
      if (equalsIgnoreCase(raw[i]!, name)) {
        raw.splice(i, 2);
        removed = true;
      } else {
        i += 2;
      }
    }
    return removed;
  }

  forEach(fn: (name: string, value: string) => void): void {
    const raw = this.raw;
    for (let i = 0; i < raw.length; i += 2) fn(raw[i]!, raw[i + 1]!);
  }

  /** A lower-cased plain object (repeated names joined with ", "), for logs and tests. */
  toObject(): Record<string, string> {
    const out: Record<string, string> = {};
    this.forEach((k, v) => {
      const key = k.toLowerCase();
      out[key] = out[key] === undefined ? v : `${out[key]}, ${v}`;
    });
    return out;
  }
}
