/**
 * The rule `ringside tune` recommends by, applied to the measured table so the recommendation can
 * always be checked against it: walk the settings in order; move to the next one only while it buys
 * at least `minGain` more throughput and keeps p99 within `p99Guard` × the current choice's p99.
 * `--auto` applies the same rule while measuring, so it stops at the first step that fails.
 */

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
