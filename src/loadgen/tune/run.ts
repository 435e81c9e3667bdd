/**
 * The tune loop: for each setting (a worker pool size, or a --param value) start the sidecar, warm it
 * up, drive the measured load, read the sidecar's CPU over the same window, stop it; then recommend
 * by the rule in recommend.ts. `--auto` judges each step as soon as it is measured and stops climbing
 * at the first one that does not pay.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BenchError, runLoad, type LoadOptions } from '../runner.js';
import { withParam, type ParamSweep } from './param.js';
import { judge, recommend, type StepResult } from './recommend.js';
import { startSidecar } from './sidecar.js';
import { deriveTarget } from './target.js';

export interface TuneOptions {
  sidecarScript: string;
  configPath: string | undefined;
  config: unknown;
  /** Explicit pool sizes, in order; with `auto` the climb goes 1..maxWorkers. */
  workers: number[];
  auto: boolean;
  maxWorkers: number;
  param: ParamSweep | undefined;
  minGain: number;
  p99Guard: number;
  /** The load; `target` empty = derive from the config per step. */
  load: LoadOptions;
  explicitTarget: boolean;
  warmupMs: number;
  readyTimeoutMs: number;
  onStep?: (msg: string) => void;
  onLoadProgress?: LoadOptions['onProgress'];
}

export interface TuneResult {
  results: StepResult[];
  recommendedIndex: number;
  reason: string;
  sweptLabel: string;
  target: string;
}

export async function runTuneSteps(opts: TuneOptions): Promise<TuneResult> {
  const sweptLabel = opts.param === undefined ? 'workers' : opts.param.path;
  const label = (r: StepResult): string => (opts.param === undefined ? `${r.workers} workers` : `${opts.param.path}=${r.value}`);
  const steps: { workers: number; value: string | undefined }[] =
    opts.param !== undefined
      ? opts.param.values.map((value) => ({ workers: opts.workers[0] ?? opts.maxWorkers, value }))
      : (opts.auto ? range(1, opts.maxWorkers) : opts.workers).map((workers) => ({ workers, value: undefined }));
  const tmp = opts.param === undefined ? undefined : mkdtempSync(join(tmpdir(), 'ringside-tune-'));
  const results: StepResult[] = [];
  let best = 0;
  let target = opts.load.target;
  try {
    for (const [i, step] of steps.entries()) {
      let configPath = opts.configPath;
      if (opts.param !== undefined && step.value !== undefined) {
        configPath = join(tmp!, `config-${i}.json`);
        writeFileSync(configPath, JSON.stringify(withParam(opts.config, opts.param.path, step.value), null, 2));
      }
      const r = await measureStep(opts, step.workers, configPath, (t) => (target = t));
      if (step.value !== undefined) r.value = step.value;
      results.push(r);
      opts.onStep?.(
        `${label(r)}: ${Math.round(r.rps)} req/s  p50 ${r.p50_us} µs  p99 ${r.p99_us} µs  sidecar CPU ${r.cpu_cores.toFixed(2)} cores` +
          (r.errors > 0 ? `  errors ${r.errors}` : ''),
      );
      if (opts.auto && results.length > 1) {
        const v = judge(results[best]!, r, opts.minGain, opts.p99Guard, label);
        if (!v.accept) {
          opts.onStep?.(`stop climbing: ${v.why}`);
          break;
        }
        best = results.length - 1;
      }
    }
  } finally {
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  }
  const rec = recommend(results, opts.minGain, opts.p99Guard, label);
  return { results, recommendedIndex: rec.index, reason: rec.reason, sweptLabel, target };
}

async function measureStep(opts: TuneOptions, workers: number, configPath: string | undefined, onTarget: (t: string) => void): Promise<StepResult> {
  const sidecar = await startSidecar({ script: opts.sidecarScript, config: configPath, workers, readyTimeoutMs: opts.readyTimeoutMs });
  try {
    let load = opts.load;
    if (!opts.explicitTarget) {
      const t = deriveTarget(opts.config, sidecar.listeners);
      load = {
        ...load,
        target: t.url,
        request: {
          ...load.request,
          method: t.method ?? load.request.method,
          body: t.body === undefined ? load.request.body : Buffer.from(t.body),
        },
      };
      if (t.method !== undefined && !load.request.headers.some(([k]) => k.toLowerCase() === 'content-type')) {
        load.request = { ...load.request, headers: [...load.request.headers, ['Content-Type', 'application/json']] };
      }
      onTarget(`${t.url} (${t.why})`);
    } else {
      onTarget(load.target);
    }
    if (opts.warmupMs > 0) {
      await runLoad({ ...load, durationMs: opts.warmupMs, requests: undefined, warmupMs: 0 });
    }
    const cpu0 = sidecar.cpuSeconds();
    const t0 = performance.now();
    const report = await runLoad({ ...load, warmupMs: 0, onProgress: opts.onLoadProgress });
    const wallS = (performance.now() - t0) / 1000;
    const cpu = sidecar.cpuSeconds() - cpu0;
    if (report.requests === 0 || report.errors === report.requests) {
      throw new BenchError(`${workers} workers: every request failed (${JSON.stringify(report.errors_by_status)}); is the target right? (${load.target})`);
    }
    return {
      workers,
      rps: report.rps,
      p50_us: report.latency_us.p50,
      p99_us: report.latency_us.p99,
      cpu_cores: Math.round((cpu / wallS) * 100) / 100,
      requests: report.requests,
      errors: report.errors,
    };
  } finally {
    await sidecar.stop();
  }
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}
