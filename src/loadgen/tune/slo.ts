/**
 * `ringside tune --slo p99=5ms`: for a pool size, the highest open-loop rate whose latency percentile
 * stays within the objective. A closed-loop step first measures what the sidecar can do at all (its
 * capacity C); then short open-loop steps search the rate: one probe at C/2, then bisection between
 * the highest rate that held and the lowest that did not, until the bracket is within 5% or the step
 * budget is spent. Open loop matters here: latency is taken from each request's intended send time,
 * so a rate the sidecar cannot keep shows as queueing delay instead of as a slower generator.
 *
 * A rate "holds" when the percentile is within the objective, the sidecar answered at least 95% of
 * the offered rate (an overloaded target that answers fewer requests fast is not holding it; a
 * shortfall of two requests is allowed, which is what still in flight at the end of a short step
 * looks like), and at most 1% of the requests failed. With `--rate R` the question is narrower — does this pool hold R? —
 * so one step at R answers it.
 */
import { parseDuration } from '../options.js';
import type { LatencySummary } from '../histogram.js';
import { BenchError } from '../runner.js';

export type SloPercentile = 'p50' | 'p90' | 'p99' | 'p999';

export interface Slo {
  percentile: SloPercentile;
  limitUs: number;
  /** As the user wrote it, for tables and reports: "p99=5ms". */
  text: string;
}

/** One open-loop step of the search: what was offered and what came back. */
export interface CurvePoint {
  offered_rps: number;
  rps: number;
  p50_us: number;
  p99_us: number;
  /** The objective's percentile at this step (equals p50_us/p99_us for those). */
  slo_us: number;
  errors: number;
  requests: number;
  holds: boolean;
}

export interface StepMeasure {
  rps: number;
  /** Length of the measured window. */
  duration_s: number;
  latency_us: LatencySummary;
  errors: number;
  requests: number;
}

const PERCENTILES: readonly SloPercentile[] = ['p50', 'p90', 'p99', 'p999'];
/** Share of the offered rate the sidecar must answer for the rate to count as held. */
export const MIN_ANSWERED_SHARE = 0.95;
/** Share of failed requests above which a rate does not hold, whatever its latency. */
export const MAX_ERROR_SHARE = 0.01;
/** The search stops once the bracket between held and not held is this narrow (relative). */
const BRACKET = 0.05;

export function parseSlo(text: string): Slo {
  const m = /^\s*(p50|p90|p99|p999)\s*=\s*(\S+)\s*$/.exec(text);
  if (m === null) throw new BenchError(`bad --slo "${text}": expected PERCENTILE=DURATION, e.g. p99=5ms (percentiles: ${PERCENTILES.join(', ')})`);
  const ms = parseDuration('slo', m[2]!);
  if (!(ms > 0)) throw new BenchError(`bad --slo "${text}": the objective must be above 0`);
  return { percentile: m[1] as SloPercentile, limitUs: Math.round(ms * 1000), text: `${m[1]}=${m[2]}` };
}

export function curvePoint(offered: number, m: StepMeasure, slo: Slo): CurvePoint {
  const at = m.latency_us[slo.percentile];
  const answered = m.rps >= offered * MIN_ANSWERED_SHARE || (offered - m.rps) * m.duration_s <= 2;
  const failed = m.requests === 0 || m.errors > m.requests * MAX_ERROR_SHARE;
  return {
    offered_rps: Math.round(offered),
    rps: Math.round(m.rps),
    p50_us: m.latency_us.p50,
    p99_us: m.latency_us.p99,
    slo_us: at,
    errors: m.errors,
    requests: m.requests,
    holds: at <= slo.limitUs && answered && !failed,
  };
}

export interface SearchOptions {
  slo: Slo;
  /** Closed-loop throughput of this pool size: the search stays within (0, 1.1 × capacity]. */
  capacityRps: number;
  /** Open-loop steps at most (each a short measured run). */
  maxSteps: number;
  /** Runs one open-loop step at `rate` req/s. */
  measure: (rate: number) => Promise<StepMeasure>;
  onPoint?: (p: CurvePoint) => void;
}

export interface SearchResult {
  /** Highest offered rate that held; 0 when none did. */
  maxRate: number;
  /** Every step, in the order measured. */
  points: CurvePoint[];
}

/** The rate search of the header; pure apart from `measure`, so its steps can be tested. */
export async function searchRate(opts: SearchOptions): Promise<SearchResult> {
  const points: CurvePoint[] = [];
  const step = async (rate: number): Promise<boolean> => {
    const p = curvePoint(rate, await opts.measure(rate), opts.slo);
    points.push(p);
    opts.onPoint?.(p);
    return p.holds;
  };
  const cap = Math.max(1, opts.capacityRps);
  let lo = 0; // highest rate known to hold
  let hi = cap * 1.1; // lowest rate known (or assumed, past capacity) not to hold
  let next = cap / 2;
  for (let i = 0; i < opts.maxSteps; i++) {
    const rate = Math.max(1, Math.round(next));
    if (await step(rate)) lo = rate;
    else hi = rate;
    if (hi - lo <= hi * BRACKET) break;
    next = (lo + hi) / 2;
  }
  return { maxRate: lo, points };
}

/** `--rate R`: one step at R. */
export async function holdsRate(rate: number, slo: Slo, measure: (rate: number) => Promise<StepMeasure>): Promise<CurvePoint> {
  return curvePoint(rate, await measure(rate), slo);
}
