/**
 * The rule `ringside tune` recommends by, applied to the measured table so the recommendation can
 * always be checked against it: walk the settings in order; move to the next one only while it buys
 * at least `minGain` more throughput and keeps p99 within `p99Guard` × the current choice's p99.
 * `--auto` applies the same rule while measuring, so it stops at the first step that fails.
 *
 * With `--slo` the figure is the highest rate within the objective instead of the closed-loop
 * throughput (judgeSlo), and with `--slo … --rate R` the answer is the first setting that holds R.
 */
import type { CurvePoint, Slo } from './slo.js';

export interface StepResult {
  workers: number;
  rps: number;
  p50_us: number;
  p99_us: number;
  cpu_cores: number;
  requests: number;
  errors: number;
  /** The swept setting's value when --param is used. */
  value?: string;
  /** --slo: the highest open-loop rate that held the objective (0: none did). */
  slo_max_rps?: number;
  /** --slo --rate R: whether this setting held R within the objective. */
  holds_rate?: boolean;
  /** --slo: every open-loop step, in the order measured (the latency-under-load curve). */
  curve?: CurvePoint[];
}

export interface Recommendation {
  index: number;
  reason: string;
}

export interface Verdict {
  accept: boolean;
  why: string;
}

/** Whether `next` is worth taking over `current`. */
export function judge(current: StepResult, next: StepResult, minGain: number, p99Guard: number, label: (r: StepResult) => string): Verdict {
  const gain = current.rps === 0 ? Number.POSITIVE_INFINITY : next.rps / current.rps - 1;
  const p99x = current.p99_us === 0 ? 1 : next.p99_us / current.p99_us;
  const fig = `${label(next)} vs ${label(current)}: throughput ${fmtPct(gain)}, p99 ×${p99x.toFixed(2)}`;
  if (next.errors * 2 > next.requests) return { accept: false, why: `${fig}; mostly errors` };
  if (gain < minGain) return { accept: false, why: `${fig}; gain below ${fmtPct(minGain)}` };
  if (p99x > p99Guard) return { accept: false, why: `${fig}; p99 above the ×${p99Guard} guard` };
  return { accept: true, why: `${fig}; taken` };
}

export function recommend(results: readonly StepResult[], minGain: number, p99Guard: number, label: (r: StepResult) => string): Recommendation {
  if (results.length === 0) return { index: -1, reason: 'no step was measured' };
  let best = 0;
  const notes: string[] = [];
  for (let i = 1; i < results.length; i++) {
    const v = judge(results[best]!, results[i]!, minGain, p99Guard, label);
    notes.push(v.why);
    if (!v.accept) break;
    best = i;
  }
  const rule = `rule: take the next step while it adds ≥ ${fmtPct(minGain)} throughput and keeps p99 ≤ ×${p99Guard}`;
  const reason = notes.length === 0 ? `${label(results[0]!)} is the only step measured (${rule})` : `${notes.join('; ')} → ${label(results[best]!)} (${rule})`;
  return { index: best, reason };
}

function fmtPct(x: number): string {
  if (!Number.isFinite(x)) return '+∞%';
  return `${x >= 0 ? '+' : ''}${Math.round(x * 100)}%`;
}

/** --slo: whether `next` is worth taking over `current`, by the rate each holds within the objective. */
export function judgeSlo(current: StepResult, next: StepResult, minGain: number, slo: Slo, label: (r: StepResult) => string): Verdict {
  const a = current.slo_max_rps ?? 0;
  const b = next.slo_max_rps ?? 0;
  const gain = a === 0 ? (b > 0 ? Number.POSITIVE_INFINITY : 0) : b / a - 1;
  const fig = `${label(next)} vs ${label(current)}: rate within ${slo.text} ${b} vs ${a} req/s (${fmtPct(gain)})`;
  if (gain < minGain || b === 0) return { accept: false, why: `${fig}; gain below ${fmtPct(minGain)}` };
  return { accept: true, why: `${fig}; taken` };
}

export function recommendSlo(results: readonly StepResult[], minGain: number, slo: Slo, holdRate: number | undefined, label: (r: StepResult) => string): Recommendation {
  if (results.length === 0) return { index: -1, reason: 'no step was measured' };
  if (holdRate !== undefined) {
    const i = results.findIndex((r) => r.holds_rate === true);
    const rule = `rule: the smallest setting that holds ${holdRate} req/s with ${slo.text}`;
    if (i < 0) return { index: -1, reason: `no setting measured held ${holdRate} req/s with ${slo.text} (${rule})` };
    const failed = results.slice(0, i).map((r) => `${label(r)} did not`);
    return { index: i, reason: `${[...failed, `${label(results[i]!)} holds it`].join('; ')} (${rule})` };
  }
  let best = 0;
  const notes: string[] = [];
  for (let i = 1; i < results.length; i++) {
    const v = judgeSlo(results[best]!, results[i]!, minGain, slo, label);
    notes.push(v.why);
    if (!v.accept) break;
    best = i;
  }
  const rule = `rule: take the next step while it holds ≥ ${fmtPct(minGain)} more rate within ${slo.text}`;
  if ((results[best]!.slo_max_rps ?? 0) === 0) return { index: -1, reason: `no rate held ${slo.text} at any setting measured (${rule})` };
  const reason = notes.length === 0 ? `${label(results[0]!)} is the only step measured (${rule})` : `${notes.join('; ')} → ${label(results[best]!)} (${rule})`;
  return { index: best, reason };
}
