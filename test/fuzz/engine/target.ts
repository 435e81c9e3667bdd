/**
 * The fuzzing contract every codec plugs into, and the loop that drives it.
 *
 * A target owns its seeds, its dictionary and its oracle: check() runs one input through the codec
 * under test and through an independent reference, and names the first disagreement. The runner owns
 * everything generic — seeded case generation, crash and hang detection, fixtures of failing inputs —
 * so adding a codec is one file under test/fuzz/targets/ and one line in targets/index.ts.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mutate } from './mutate.js';
import { Rng } from './rng.js';

export interface CheckResult {
  /** How the reference classified the input (e.g. "valid", "error 400", "incomplete"), for the report. */
  readonly outcome: string;
  /** null when codec and reference agree; otherwise what differed. */
  readonly failure: string | null;
}

export interface FuzzTarget {
  /** Codec name for --codec and the fixtures folder. */
  readonly name: string;
  /** Cases per CI run (≥ 100,000 where the codec is fast enough to stay within a few seconds). */
  readonly ciCases: number;
  readonly seeds: readonly Buffer[];
  readonly dictionary: readonly string[];
  /** Mutated inputs are cut to this size. */
  readonly maxBytes: number;
  /** Outcome patterns a CI run must reach (proof that the mutations cover the codec's paths). */
  readonly requiredOutcomes?: readonly RegExp[];
  /** Runs one input through the codec and the reference; must not throw (a throw is a crash). */
  check(input: Buffer, rng: Rng): CheckResult;
}

export interface Failure {
  readonly caseIndex: number;
  readonly input: Buffer;
  readonly reason: string;
}

export interface FuzzReport {
  readonly codec: string;
  readonly seed: number;
  readonly cases: number;
  readonly ms: number;
  /** The slowest single case: a hang shows here long before the test timeout. */
  readonly maxCaseMs: number;
  readonly outcomes: Record<string, number>;
  readonly failures: Failure[];
}

/** A case slower than this is a hang: decoders take microseconds per input, and the margin covers GC pauses and a shared CPU. */
export const HANG_MS = 2000;

export function runCases(target: FuzzTarget, opts: { cases: number; seed: number; maxFailures?: number }): FuzzReport {
  const rng = new Rng(opts.seed);
  const outcomes: Record<string, number> = {};
  const failures: Failure[] = [];
  const maxFailures = opts.maxFailures ?? 20;
  const mopts = { dictionary: target.dictionary, seeds: target.seeds, maxBytes: target.maxBytes };
  let maxCaseMs = 0;
  // Codecs report bad input with Error objects; their stack traces would cost more than the decoding.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const started = performance.now();
  try {
  for (let i = 0; i < opts.cases && failures.length < maxFailures; i++) {
    // One case in sixteen is an unmutated seed, so the valid paths stay covered too.
    const seed = rng.pick(target.seeds);
    const input = i % 16 === 0 ? seed : mutate(rng, seed, mopts);
    const r = checkOne(target, input, rng);
    outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    maxCaseMs = Math.max(maxCaseMs, r.ms);
    if (r.failure !== null) failures.push({ caseIndex: i, input, reason: r.failure });
  }
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  return { codec: target.name, seed: opts.seed, cases: opts.cases, ms: performance.now() - started, maxCaseMs, outcomes, failures };
}

/** One input, with crashes and hangs turned into failures. */
export function checkOne(target: FuzzTarget, input: Buffer, rng: Rng): CheckResult & { ms: number } {
  const t0 = performance.now();
  let r: CheckResult;
  try {
    r = target.check(input, rng);
  } catch (err) {
    r = { outcome: 'crash', failure: `threw: ${(err as Error)?.stack ?? String(err)}` };
  }
  const ms = performance.now() - t0;
  if (r.failure === null && ms > HANG_MS) r = { outcome: r.outcome, failure: `took ${ms.toFixed(0)} ms (hang)` };
  return { ...r, ms };
}

// ── fixtures: failing inputs kept in the source tree and replayed by every run ─────────────────────

/** test/fuzz/fixtures in the source tree (this file runs from dist/test/fuzz/engine/). */
export const FIXTURES_DIR = fileURLToPath(new URL('../../../../test/fuzz/fixtures/', import.meta.url));

export interface Fixture {
  readonly file: string;
  readonly note: string;
  readonly input: Buffer;
}

export function loadFixtures(codec: string): Fixture[] {
  const dir = join(FIXTURES_DIR, codec);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return [];
  }
  return names.map((file) => {
    const j = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { note: string; input_base64: string };
    return { file, note: j.note, input: Buffer.from(j.input_base64, 'base64') };
  });
}

/** Writes a failing input as a fixture (named by its hash, so the same input is kept once). */
export function saveFixture(codec: string, input: Buffer, note: string): string {
  const dir = join(FIXTURES_DIR, codec);
  mkdirSync(dir, { recursive: true });
  const file = `${createHash('sha1').update(input).digest('hex').slice(0, 12)}.json`;
  const body = { note: note.split('\n')[0]!.slice(0, 300), input_latin1: input.toString('latin1'), input_base64: input.toString('base64') };
  writeFileSync(join(dir, file), `${JSON.stringify(body, null, 2)}\n`);
  return join(dir, file);
}
