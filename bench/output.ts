/**
 * The one output shape of every benchmark script, so runs can be compared and collected alike:
 *
 *   {"bench": NAME, "at": ISO time, "machine": {"cores","node","loadavg_1m"},
 *    "params": {what the run was asked to do}, "results": [{"name", ...figures}, ...],
 *    "ratios": {"a_over_b": n, ...}, "targets": {...}, "notes": [...]}
 *
 * `--json` prints it as one line on stdout and nothing else there (progress goes to stderr);
 * without it the same object is printed indented, then the optional human summary lines.
 */
import { availableParallelism, loadavg } from 'node:os';

/** One measured thing: a name and its figures (interfaces with a `name` fit as they are). */
export type BenchResult = { readonly name: string; readonly [figure: string]: unknown } | ({ readonly name: string } & object);

export interface BenchOutput {
  bench: string;
  at: string;
  machine: { cores: number; node: string; loadavg_1m: number };
  params: Record<string, unknown>;
  results: BenchResult[];
  ratios: Record<string, number | null>;
  targets?: Record<string, unknown>;
  notes?: string[];
  /** Anything else a bench keeps (per-round figures, samples). */
  detail?: Record<string, unknown>;
}

export function benchOutput(bench: string, parts: Omit<BenchOutput, 'bench' | 'at' | 'machine'>): BenchOutput {
  return {
    bench,
    at: new Date().toISOString(),
    machine: { cores: availableParallelism(), node: process.version, loadavg_1m: Math.round(loadavg()[0]! * 100) / 100 },
    ...parts,
  };
}

/** True when the script was asked for `--json`. */
export function jsonRequested(argv: readonly string[] = process.argv.slice(2)): boolean {
  return argv.includes('--json');
}

export function writeBenchOutput(out: BenchOutput, json: boolean, summary: readonly string[] = []): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  for (const line of summary) process.stdout.write(`${line}\n`);
}

/** Progress for a human, kept off stdout so `--json` output stays one document. */
export function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** a / b rounded to 2 decimals, null when either is missing or b is 0. */
export function ratioOf(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return null;
  return Math.round((a / b) * 100) / 100;
}
