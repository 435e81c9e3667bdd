/**
 * Renders bench results: the human table on stdout, the one-object JSON, and the --compare overhead.
 */
import type { LatencySummary } from './histogram.js';
import type { LoadReport } from './runner.js';

/**
 * TARGET measured against a baseline (the `--compare URL`, e.g. the upstream direct): positive
 * `added_*` figures mean TARGET is slower, i.e. what the extra hop (the sidecar) adds.
 */
export interface CompareReport {
  /** The baseline's URL. */
  target: string;
  result: LoadReport;
  /** TARGET minus baseline, from the intended send times in open loop. */
  added_p50_us: number;
  added_p99_us: number;
  /** Open loop: TARGET minus baseline, from the actual send times. */
  added_p50_us_raw?: number;
  added_p99_us_raw?: number;
  /** TARGET rps / baseline rps. */
  rps_ratio: number;
}

export function compareReports(main: LoadReport, baseline: LoadReport): CompareReport {
  const out: CompareReport = {
    target: baseline.target,
    result: baseline,
    added_p50_us: main.latency_us.p50 - baseline.latency_us.p50,
    added_p99_us: main.latency_us.p99 - baseline.latency_us.p99,
    rps_ratio: baseline.rps === 0 ? 0 : Math.round((main.rps / baseline.rps) * 1000) / 1000,
  };
  if (main.latency_us_raw !== undefined && baseline.latency_us_raw !== undefined) {
    out.added_p50_us_raw = main.latency_us_raw.p50 - baseline.latency_us_raw.p50;
    out.added_p99_us_raw = main.latency_us_raw.p99 - baseline.latency_us_raw.p99;
  }
  return out;
}

/** "+135µs" / "-20µs": the sign says whether TARGET is slower (+) or faster (-) than the baseline. */
export function signedUs(us: number): string {
  return `${us >= 0 ? '+' : '-'}${formatUs(Math.abs(us))}`;
}

/** The --json object: the required keys first, then extras. */
export function toJson(report: LoadReport, compare: CompareReport | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {
    requests: report.requests,
    errors: report.errors,
    rps: report.rps,
    latency_us: report.latency_us,
    errors_by_status: report.errors_by_status,
  };
  if (report.latency_us_raw !== undefined) out.latency_us_raw = report.latency_us_raw;
  if (report.target_rps !== undefined) out.target_rps = report.target_rps;
  out.target = report.target;
  out.duration_s = report.duration_s;
  out.warnings = report.warnings;
  if (compare !== undefined) {
    out.compare = {
      target: compare.target,
      requests: compare.result.requests,
      errors: compare.result.errors,
      rps: compare.result.rps,
      latency_us: compare.result.latency_us,
      errors_by_status: compare.result.errors_by_status,
      added_p50_us: compare.added_p50_us,
      added_p99_us: compare.added_p99_us,
      ...(compare.added_p50_us_raw === undefined ? {} : { latency_us_raw: compare.result.latency_us_raw, added_p50_us_raw: compare.added_p50_us_raw, added_p99_us_raw: compare.added_p99_us_raw }),
      rps_ratio: compare.rps_ratio,
    };
  }
  return out;
}

export function formatUs(us: number): string {
  if (us >= 1_000_000) return `${(us / 1_000_000).toFixed(2)}s`;
  if (us >= 1000) return `${(us / 1000).toFixed(2)}ms`;
  return `${Math.round(us)}µs`;
}

function latencyRows(label: string, l: LatencySummary): string[] {
  const cells = [l.min, l.p50, l.p90, l.p99, l.p999, l.max].map((v) => formatUs(v).padStart(9));
  return [`  ${label.padEnd(14)}${cells.join('')}`];
}

export function renderTable(report: LoadReport, compare: CompareReport | undefined): string {
  const lines: string[] = [];
  const one = (r: LoadReport, title: string): void => {
    lines.push(`${title} ${r.target}`);
    lines.push(`  requests ${r.requests}  errors ${r.errors}  rps ${r.rps.toFixed(0)}  over ${r.duration_s}s` + (r.target_rps !== undefined ? `  (target ${r.target_rps} req/s)` : ''));
    lines.push(`  ${'latency'.padEnd(14)}${['min', 'p50', 'p90', 'p99', 'p99.9', 'max'].map((h) => h.padStart(9)).join('')}`);
    lines.push(...latencyRows(r.latency_us_raw === undefined ? 'measured' : 'corrected', r.latency_us));
    if (r.latency_us_raw !== undefined) lines.push(...latencyRows('raw (sent)', r.latency_us_raw));
    const errs = Object.entries(r.errors_by_status);
    if (errs.length > 0) lines.push(`  errors by status: ${errs.map(([k, v]) => `${k}=${v}`).join('  ')}`);
    for (const w of r.warnings) lines.push(`  warning: ${w}`);
  };
  one(report, 'target  ');
  if (compare !== undefined) {
    one(compare.result, 'baseline');
    const b = compare.result;
    const pair = (label: string, added: number, t: number, base: number): string => `${label} ${signedUs(added)} (${formatUs(base)} -> ${formatUs(t)})`;
    lines.push(`overhead of target over baseline (target - baseline; + = target slower):`);
    lines.push(
      `  ${report.latency_us_raw === undefined ? 'measured ' : 'corrected'}  ` +
        pair('p50', compare.added_p50_us, report.latency_us.p50, b.latency_us.p50) +
        '  ' +
        pair('p99', compare.added_p99_us, report.latency_us.p99, b.latency_us.p99),
    );
    if (compare.added_p50_us_raw !== undefined && report.latency_us_raw !== undefined && b.latency_us_raw !== undefined) {
      lines.push(
        `  raw (sent) ` +
          pair('p50', compare.added_p50_us_raw, report.latency_us_raw.p50, b.latency_us_raw.p50) +
          '  ' +
          pair('p99', compare.added_p99_us_raw!, report.latency_us_raw.p99, b.latency_us_raw.p99),
      );
    }
    lines.push(`  throughput target / baseline ${compare.rps_ratio}`);
  }
  return lines.join('\n') + '\n';
}
