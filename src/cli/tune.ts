/**
 * `ringside tune -c CONFIG`: run the sidecar at several worker pool sizes (or values of another
 * setting) under the same bench load and recommend one, with the evidence: a table, JSON, and a
 * self-contained HTML report. Exit codes: 0 done, 1 a step failed, 2 bad usage.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultConfigJson } from '../config/default.js';
import { loadOptionSpec, loadOptionsHelp, parseDuration, parsePositive, toLoadOptions } from '../loadgen/options.js';
import { progressDisplay, type ProgressDisplay } from '../loadgen/progress.js';
import { BenchError, type LoadOptions } from '../loadgen/runner.js';
import { renderHtml } from '../loadgen/tune/html.js';
import { parseParam, type ParamSweep } from '../loadgen/tune/param.js';
import type { StepResult } from '../loadgen/tune/recommend.js';
import { runTuneSteps, type TuneResult } from '../loadgen/tune/run.js';
import { parseSlo, type Slo } from '../loadgen/tune/slo.js';
import { stopAllSidecars } from '../loadgen/tune/sidecar.js';

const usage = `usage: ringside tune [-c CONFIG] [--workers 1,2,4 | --auto] [options]

Starts Ringside with CONFIG at each pool size, drives the same load at it, measures throughput,
p50/p99 and the sidecar's CPU (all threads), and recommends a size. Without -c the embedded default
config is used.

  -c, --config FILE      sidecar config (MOSN/Layotto JSON)
      --workers LIST     pool sizes to measure, e.g. 1,2,4 (default 1,2)
      --auto             hill climb from 1 worker up to the core count
      --min-gain X       climb only while throughput grows by at least X (default 10%; 0.1 or 10%)
      --p99-guard X      ... and p99 stays within X × the previous choice (default 1.5)
      --param PATH=V1,V2 sweep another setting instead, written into temp configs, e.g.
                         ringside.offload.threads=1,2 (workers fixed at the first --workers value)
      --target URL       load target (default: derived from the config — the first proxy listener
                         with an HTTP1 downstream on a TCP address, else the Dapr HTTP invoke URL
                         of the demo GetUser call; for the embedded default config that is
                         http://127.0.0.1:3500/v1.0/invoke/org.apache.dubbo.samples.UserProvider/method/GetUser;
                         with -p h2 or -p grpc the first proxy listener with an Http2 or Auto
                         downstream on a TCP address)
      --duration T       measured time per step (default 10s)
      --warmup T         load before each measured step (default 2s)
      --ready-timeout T  how long to wait for the sidecar's ready line (default 30s)
      --sidecar SCRIPT   the Ringside entry to run (default: this package's dist/src/cli/main.js)
      --json             print one JSON object instead of the table
      --report FILE      write a self-contained HTML report with charts
      --slo P=T          latency objective, e.g. p99=5ms (p50, p90, p99, p999): after each
                         closed-loop step, short open-loop steps search the highest rate whose
                         percentile stays within T (latency from each request's intended send
                         time); the recommendation is by that rate, the report plots the curve
                         With --slo, -R R is the rate to hold: each setting gets one open-loop
                         step at R and the smallest setting that holds R is recommended
      --step-duration T  measured time of each open-loop step of --slo (default 2s)
      --max-steps N      open-loop steps per setting in the --slo search (default 6)
  -h, --help
${loadOptionsHelp.replace('(bench also takes -c N; default 10)', '(default 32)')}
`;

export async function runTune(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        ...loadOptionSpec,
        config: { type: 'string', short: 'c' },
        workers: { type: 'string' },
        auto: { type: 'boolean' },
        'min-gain': { type: 'string' },
        'p99-guard': { type: 'string' },
        param: { type: 'string' },
        target: { type: 'string' },
        'ready-timeout': { type: 'string' },
        sidecar: { type: 'string' },
        json: { type: 'boolean' },
        report: { type: 'string' },
        slo: { type: 'string' },
        'step-duration': { type: 'string' },
        'max-steps': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return usageError((err as Error).message);
  }
  if (values.help === true) {
    process.stdout.write(usage);
    return 0;
  }
  // Without -c the sidecar serves the embedded default config, so the target is derived from that.
  let config: unknown = defaultConfigJson;
  let load: LoadOptions;
  let workers: number[];
  let param: ParamSweep | undefined;
  let minGain: number;
  let p99Guard: number;
  let warmupMs: number;
  let readyTimeoutMs: number;
  let slo: Slo | undefined;
  let holdRate: number | undefined;
  let sloStepMs = 2000;
  let sloMaxSteps = 6;
  try {
    if (values.config !== undefined) {
      try {
        config = JSON.parse(readFileSync(values.config, 'utf8'));
      } catch (err) {
        throw new BenchError(`cannot read config ${values.config}: ${(err as Error).message}`);
      }
    }
    if (values.auto === true && values.workers !== undefined && values.param === undefined) throw new BenchError('give --workers or --auto, not both');
    workers = (values.workers ?? '1,2').split(',').map((w) => {
      const n = Number(w.trim());
      if (!Number.isInteger(n) || n < 1) throw new BenchError(`bad --workers "${values.workers}": expected e.g. 1,2,4`);
      return n;
    });
    if (values.param !== undefined) {
      if (values.config === undefined) throw new BenchError('--param needs -c CONFIG to write variants of');
      param = parseParam(values.param);
    }
    minGain = parseFraction('min-gain', values['min-gain'] ?? '10%');
    p99Guard = Number(values['p99-guard'] ?? '1.5');
    if (!Number.isFinite(p99Guard) || p99Guard < 1) throw new BenchError(`bad --p99-guard "${values['p99-guard']}": expected a factor ≥ 1`);
    warmupMs = parseDuration('warmup', values.warmup ?? '2s');
    readyTimeoutMs = parseDuration('ready-timeout', values['ready-timeout'] ?? '30s');
    load = toLoadOptions(values.target ?? '', { ...values, warmup: undefined }, values.connections ?? '32');
    if (values.target !== undefined) new URL(values.target);
    if (values.slo !== undefined) {
      slo = parseSlo(values.slo);
      // With an objective, -R is the rate to hold; the closed-loop step before the search stays closed.
      holdRate = load.rate;
      load = { ...load, rate: undefined };
      sloStepMs = parseDuration('step-duration', values['step-duration'] ?? '2s');
      sloMaxSteps = parsePositive('max-steps', values['max-steps'], 6);
      if (!Number.isInteger(sloMaxSteps)) throw new BenchError(`bad --max-steps "${values['max-steps']}": expected a whole number`);
    } else if (values['step-duration'] !== undefined || values['max-steps'] !== undefined) {
      throw new BenchError('--step-duration and --max-steps belong to --slo');
    }
  } catch (err) {
    return usageError((err as Error).message);
  }

  let display: ProgressDisplay | undefined;
  const step = (msg: string): void => {
    display?.stop();
    display = undefined;
    process.stderr.write(`ringside tune: ${msg}\n`);
  };
  // Ctrl-C or SIGTERM mid-run: stop the sidecar and wait for it to exit so it does not outlive tune
  // holding the fixed ports (the next tune or start would fail, or share them through SO_REUSEPORT).
  const onSignal = (signal: NodeJS.Signals): void => {
    display?.stop();
    display = undefined;
    process.stderr.write(`ringside tune: ${signal}: stopping the sidecar\n`);
    void stopAllSidecars().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let result: TuneResult;
  try {
    result = await runTuneSteps({
      sidecarScript: values.sidecar ?? fileURLToPath(new URL('./main.js', import.meta.url)),
      configPath: values.config,
      config,
      workers,
      auto: values.auto === true && param === undefined,
      maxWorkers: availableParallelism(),
      param,
      minGain,
      p99Guard,
      load,
      explicitTarget: values.target !== undefined,
      warmupMs,
      readyTimeoutMs,
      ...(slo !== undefined ? { slo, sloStepMs, sloMaxSteps } : {}),
      ...(holdRate !== undefined ? { holdRate } : {}),
      onStep: step,
      onLoadProgress: (p) => {
        display ??= progressDisplay('tune', { durationMs: load.durationMs, requests: load.requests });
        display.update(p);
      },
    });
  } catch (err) {
    display?.stop();
    process.stderr.write(`ringside tune: ${(err as Error).message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  display?.stop();
  const rec = result.results[result.recommendedIndex];
  if (values.json === true) process.stdout.write(JSON.stringify(toJson(result, rec, param, slo, holdRate)) + '\n');
  else process.stdout.write(renderTable(result, param, slo));
  if (values.report !== undefined) {
    writeFileSync(
      values.report,
      renderHtml({
        title: `ringside tune: ${result.sweptLabel}`,
        sweptLabel: result.sweptLabel,
        results: result.results,
        recommendedIndex: result.recommendedIndex,
        reason: result.reason,
        load:
          `${load.protocol} ${result.target}, ${load.connections} connections × ${load.concurrency}, ${(load.durationMs ?? 0) / 1000}s per step` +
          (slo === undefined ? '' : `; ${slo.text}: open-loop steps of ${sloStepMs / 1000}s` + (holdRate === undefined ? '' : ` at ${holdRate} req/s`)),
        ...(slo !== undefined ? { slo } : {}),
        generatedAt: new Date().toISOString(),
      }),
    );
    process.stderr.write(`ringside tune: report written to ${values.report}\n`);
  }
  return rec === undefined ? 1 : 0;
}

function usageError(message: string): number {
  process.stderr.write(`ringside tune: ${message}\n(see ringside tune --help)\n`);
  return 2;
}

function parseFraction(flag: string, v: string): number {
  const pct = v.trim().endsWith('%');
  const n = Number(pct ? v.trim().slice(0, -1) : v);
  if (!Number.isFinite(n) || n < 0) throw new BenchError(`bad --${flag} "${v}": expected e.g. 10% or 0.1`);
  return pct ? n / 100 : n;
}

function toJson(r: TuneResult, rec: StepResult | undefined, param: ParamSweep | undefined, slo: Slo | undefined, holdRate: number | undefined): Record<string, unknown> {
  const row = (s: StepResult): Record<string, unknown> => {
    const o: Record<string, unknown> = { workers: s.workers, rps: s.rps, p50_us: s.p50_us, p99_us: s.p99_us, cpu_cores: s.cpu_cores, errors: s.errors };
    if (param !== undefined) o[param.path] = s.value;
    if (slo !== undefined) {
      o.slo_max_rps = s.slo_max_rps ?? 0;
      if (holdRate !== undefined) o.holds_rate = s.holds_rate === true;
      o.curve = s.curve ?? [];
    }
    return o;
  };
  const recommended: Record<string, unknown> = { workers: rec?.workers ?? null, reason: r.reason };
  if (param !== undefined) recommended[param.path] = rec?.value ?? null;
  const out: Record<string, unknown> = { results: r.results.map(row), recommended, target: r.target };
  if (slo !== undefined) out.slo = { percentile: slo.percentile, limit_us: slo.limitUs, ...(holdRate !== undefined ? { rate: holdRate } : {}) };
  return out;
}

function renderTable(r: TuneResult, param: ParamSweep | undefined, slo: Slo | undefined): string {
  const head = [param?.path ?? 'workers', 'req/s', 'p50 µs', 'p99 µs', 'CPU cores', 'errors'];
  if (slo !== undefined) head.push(`req/s within ${slo.text}`);
  const rows = r.results.map((s, i) => {
    const cells = [
      (param === undefined ? String(s.workers) : String(s.value)) + (i === r.recommendedIndex ? ' *' : ''),
      String(Math.round(s.rps)),
      String(s.p50_us),
      String(s.p99_us),
      s.cpu_cores.toFixed(2),
      String(s.errors),
    ];
    if (slo !== undefined) cells.push(String(s.slo_max_rps ?? 0));
    return cells;
  });
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const fmt = (cells: string[]): string => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  const rec = r.results[r.recommendedIndex];
  const recText = rec === undefined ? 'none' : param === undefined ? `${rec.workers} workers` : `${param.path}=${rec.value}`;
  return [`target: ${r.target}`, fmt(head), ...rows.map(fmt), `recommended: ${recText} (*)`, `why: ${r.reason}`, ''].join('\n');
}
