/**
 * Byte-level mutations of a valid seed input. Generic operators (flip, insert, delete, duplicate,
 * splice) find what nobody thought of; a codec's dictionary of meaningful tokens (CRLF, framing field
 * names, size digits) reaches the states where smuggling bugs live far more often than random bytes.
 */
import type { Rng } from './rng.js';

/** Bytes that change how parsers split and classify input. */
const INTERESTING_BYTES = [0x00, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x2c, 0x3a, 0x3b, 0x7f, 0x80, 0xa0, 0xff, 0x30, 0x46];

export interface MutationOptions {
  /** Tokens worth inserting or substituting, as latin1 strings. */
  readonly dictionary: readonly string[];
  /** Other seeds to splice from. */
  readonly seeds: readonly Buffer[];
  /** Mutated inputs are cut back to this size. */
  readonly maxBytes: number;
}

type Op = (rng: Rng, b: Buffer, o: MutationOptions) => Buffer;

const at = (rng: Rng, b: Buffer): number => rng.below(b.length + 1);

const ops: Op[] = [
  // Flip one bit.
  (rng, b) => {
    if (b.length === 0) return b;
    const c = Buffer.from(b);
    c[rng.below(c.length)]! ^= 1 << rng.below(8);
    return c;
  },
  // Replace one byte with an interesting or random byte.
  (rng, b) => {
    if (b.length === 0) return b;
    const c = Buffer.from(b);
    c[rng.below(c.length)] = rng.chance(0.7) ? rng.pick(INTERESTING_BYTES) : rng.below(256);
    return c;
  },
  // Insert a dictionary token.
  (rng, b, o) => {
    const i = at(rng, b);
    return Buffer.concat([b.subarray(0, i), Buffer.from(rng.pick(o.dictionary), 'latin1'), b.subarray(i)]);
  },
  // Overwrite a range with a dictionary token.
  (rng, b, o) => {
    const tok = Buffer.from(rng.pick(o.dictionary), 'latin1');
    const i = at(rng, b);
    return Buffer.concat([b.subarray(0, i), tok, b.subarray(Math.min(b.length, i + tok.length))]);
  },
  // Delete a short range.
  (rng, b) => {
    const i = at(rng, b);
    return Buffer.concat([b.subarray(0, i), b.subarray(Math.min(b.length, i + 1 + rng.below(8)))]);
  },
  // Duplicate a range (repeated fields, repeated chunks).
  (rng, b) => {
    const i = at(rng, b);
    const j = Math.min(b.length, i + 1 + rng.below(40));
    return Buffer.concat([b.subarray(0, j), b.subarray(i, j), b.subarray(j)]);
  },
  // Truncate.
  (rng, b) => b.subarray(0, at(rng, b)),
  // Splice: our head, another seed's tail (pipelined messages, bodies that look like requests).
  (rng, b, o) => {
    const other = rng.pick(o.seeds);
    return Buffer.concat([b.subarray(0, at(rng, b)), other.subarray(rng.below(other.length + 1))]);
  },
  // Insert one random byte.
  (rng, b) => {
    const i = at(rng, b);
    return Buffer.concat([b.subarray(0, i), Buffer.of(rng.below(256)), b.subarray(i)]);
  },
];

/** One to four mutations of `seed`. */
export function mutate(rng: Rng, seed: Buffer, o: MutationOptions): Buffer {
  let b = seed;
  const n = 1 + rng.below(4);
  for (let k = 0; k < n; k++) b = rng.pick(ops)(rng, b, o);
  return b.length > o.maxBytes ? b.subarray(0, o.maxBytes) : b;
}

/** Cuts `input` into 1–5 pieces at random points, as reads from a socket would. */
export function randomSplit(rng: Rng, input: Buffer): Buffer[] {
  const cuts = new Set<number>();
  const n = rng.below(5);
  for (let k = 0; k < n && input.length > 1; k++) cuts.add(1 + rng.below(input.length - 1));
  const sorted = [...cuts].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of sorted) {
    out.push(input.subarray(prev, c));
    prev = c;
  }
  out.push(input.subarray(prev));
  return out;
}
