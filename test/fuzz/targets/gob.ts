/**
 * Fuzz target: the gob stream decoder (src/protocol/gob), as geerpc reads it from a connection.
 *
 * Checked: nothing but a GobError leaves feed() (its documented way to refuse a stream); one read and
 * random pieces give the same values and the same verdict (a refused stream may lose the values decoded
 * in the same feed, so on an error the shorter list must be a prefix of the longer); message framing
 * agrees with an independent reading of gob's length prefixes — a prefix past the limit, an empty
 * message or a prefix of more than 8 bytes is refused, and the bytes held back never pass one message
 * within the limit (bounded memory).
 */
import { GobDecoder, GobEncoder, GobError, gob, type GobType } from '../../../src/protocol/gob/index.js';
import type { CheckResult, FuzzTarget } from '../engine/target.js';
import { randomSplit } from '../engine/mutate.js';
import type { Rng } from '../engine/rng.js';
import { digest } from './stream-oracle.js';

const MAX_MESSAGE = 400;
/** A message within the limit plus its longest length prefix (1 + 8 bytes). */
const MAX_HELD = MAX_MESSAGE + 9;

type RefEnd = 'clean' | 'incomplete' | 'refused';

/** gob's framing: an unsigned length (< 128 in one byte; else 256 − n, then n big-endian bytes), then the message. */
function messages(input: Buffer): { count: number; end: RefEnd } {
  let at = 0;
  let count = 0;
  while (at < input.length) {
    const b = input[at]!;
    let len = b;
    let head = 1;
    if (b >= 128) {
      const n = 256 - b;
      if (n > 8) return { count, end: 'refused' };
      if (at + 1 + n > input.length) return { count, end: 'incomplete' };
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + input[at + 1 + i]!;
      head = 1 + n;
    }
    if (len === 0 || len > MAX_MESSAGE) return { count, end: 'refused' };
    if (at + head + len > input.length) return { count, end: 'incomplete' };
    at += head + len;
    count++;
  }
  return { count, end: 'clean' };
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (Buffer.isBuffer(v)) return `bytes(${digest(v)})`;
  if (v instanceof Map) return `map{${[...v].map(([k, e]) => `${show(k)}:${show(e)}`).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map(show).join(',')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, e]) => `${k}:${show(e)}`).join(',')}}`;
  return typeof v === 'number' && Number.isNaN(v) ? 'NaN' : JSON.stringify(v) ?? String(v);
}

interface Run {
  values: string[];
  end: string;
  maxHeld: number;
}

function run(pieces: Buffer[]): Run {
  const d = new GobDecoder({ maxMessageBytes: MAX_MESSAGE, maxDepth: 8 });
  const out: Run = { values: [], end: 'clean', maxHeld: 0 };
  try {
    for (const p of pieces) {
      for (const v of d.feed(Buffer.from(p))) out.values.push(show(v));
      out.maxHeld = Math.max(out.maxHeld, d.buffered);
    }
    if (d.buffered > 0) out.end = 'incomplete';
  } catch (err) {
    out.end = err instanceof GobError ? 'error' : `crash ${(err as Error)?.stack ?? String(err)}`;
  }
  return out;
}

function compare(a: Run, b: Run): string | null {
  for (const r of [a, b]) if (r.end.startsWith('crash')) return r.end;
  if (a.end !== b.end) return `one read ended ${a.end}, split reads ${b.end}`;
  const n = a.end === 'error' ? Math.min(a.values.length, b.values.length) : Math.max(a.values.length, b.values.length);
  for (let i = 0; i < n; i++) if (a.values[i] !== b.values[i]) return `value ${i}: one read ${a.values[i] ?? '(none)'}, split reads ${b.values[i] ?? '(none)'}`;
  return null;
}

// ── seeds: what a geerpc peer and a Go encoder write ──────────────────────────────────────────────

const Header = gob.struct('Header', { ServiceMethod: gob.string, Seq: gob.uint, Error: gob.string });
const Args = gob.struct('Args', { Num1: gob.int, Num2: gob.int });
const Point = gob.struct('Point', { X: gob.int, Y: gob.int });
const Shape = gob.struct('Shape', { Name: gob.string, Points: gob.slice(Point), Tags: gob.map(gob.string, gob.int), Blob: gob.bytes, Ok: gob.bool, F: gob.float });
const Grid = gob.struct('Grid', { Cells: gob.array(gob.int, 3), Nested: gob.slice(gob.slice(gob.uint)), C: gob.complex });

function stream(items: [unknown, GobType | undefined][]): Buffer {
  return new GobEncoder().encodeMany(items);
}

const seeds = [
  stream([[{ ServiceMethod: 'Foo.Sum', Seq: 1, Error: '' }, Header], [{ Num1: 1, Num2: 2 }, Args]]),
  stream([[{ ServiceMethod: 'Foo.Sum', Seq: 1, Error: '' }, Header], [{ Num1: -7, Num2: 1 << 30 }, Args], [{ ServiceMethod: 'Foo.Sum', Seq: 2, Error: 'boom' }, Header], [3, gob.int]]),
  stream([[{ X: 22, Y: 33 }, Point]]),
  stream([[{ Name: 'tri', Points: [{ X: 1, Y: 2 }, { X: -3, Y: 0 }], Tags: new Map([['a', 1], ['b', -2]]), Blob: Buffer.from([0, 1, 255]), Ok: true, F: 1.5 }, Shape]]),
  stream([[{ Cells: [1, 2, 3], Nested: [[1], [], [2, 3]], C: { real: 1, imag: -2 } }, Grid]]),
  stream([['hello gob', gob.string], [Buffer.from('raw'), gob.bytes], [true, gob.bool], [2.25, gob.float], [[1, 2, 3], gob.slice(gob.int)]]),
];

const dictionary = ['\x00', '\x01', '\x7f', '\x80', '\xff', '\xfe', '\xf8', '\xf7', '\xff\x81', '\xff\x82', '\xff\x83', '\x03\x04\x00', '\x02', '\x04', '\x06', '\x0c', '\x0e', '\x01\x01'];

export const gobTarget: FuzzTarget = {
  name: 'gob',
  // hessian2 head decoding (dubbo) and value decoding (gob) cost more per case: 15,000 keep CI lean.
  ciCases: 15_000,
  seeds,
  dictionary,
  maxBytes: 1200,
  requiredOutcomes: [/clean/, /error/, /incomplete/],
  check(input: Buffer, rng: Rng): CheckResult {
    const whole = run([input]);
    const split = run(randomSplit(rng, input));
    const outcome = `${whole.values.length === 0 ? '0' : whole.values.length === 1 ? '1' : '2+'} then ${whole.end.startsWith('crash') ? 'crash' : whole.end}`;
    const diff = compare(whole, split);
    if (diff !== null) return { outcome, failure: diff };
    const held = Math.max(whole.maxHeld, split.maxHeld);
    if (held > MAX_HELD) return { outcome, failure: `held ${held} bytes back, past one message within the limit (${MAX_HELD})` };
    const ref = messages(input);
    if (ref.end === 'refused' && whole.end !== 'error') return { outcome, failure: `framing says refused after ${ref.count} messages; the decoder ended ${whole.end}` };
    if (whole.end === 'clean' && ref.end !== 'clean') return { outcome, failure: `ended clean; framing says ${ref.end}` };
    if (whole.end === 'incomplete' && ref.end !== 'incomplete') return { outcome, failure: `waits for more; framing says ${ref.end}` };
    if (whole.values.length > ref.count) return { outcome, failure: `${whole.values.length} values from ${ref.count} messages` };
    return { outcome, failure: null };
  },
};
