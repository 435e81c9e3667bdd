/**
 * The tune loop: for each setting (a worker pool size, or a --param value) start the sidecar, warm it
 * up, drive the measured load, read the sidecar's CPU over the same window, stop it; then recommend
 * by the rule in recommend.ts. `--auto` judges each step as soon as it is measured and stops climbing
 * at the first one that does not pay.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BenchError, runLoad, type LoadOptions } from '../runner.js';
import { withParam, type ParamSweep } from './param.js';
import { judge, judgeSlo, recommend, recommendSlo, type StepResult } from './recommend.js';
import { holdsRate, searchRate, type CurvePoint, type Slo, type StepMeasure } from './slo.js';
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
  /** --slo: search each setting for the highest open-loop rate within the objective. */
  slo?: Slo;
  /** --slo with --rate R: only ask whether each setting holds R (the smallest that does wins). */
  holdRate?: number;
  /** Measured time of each open-loop step of the rate search. */
  sloStepMs?: number;
  /** Open-loop steps per setting at most. */
  sloMaxSteps?: number;
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
      if (opts.slo !== undefined) {
        const held = opts.holdRate !== undefined ? (r.holds_rate === true ? `holds ${opts.holdRate} req/s` : `does not hold ${opts.holdRate} req/s`) : `${r.slo_max_rps} req/s`;
        opts.onStep?.(`${label(r)}: within ${opts.slo.text}: ${held}`);
        // --rate R: the smallest setting that holds R is the answer; larger ones cannot beat it.
        if (opts.holdRate !== undefined && r.holds_rate === true) break;
      }
      if (opts.auto && results.length > 1 && opts.holdRate === undefined) {
        const v = opts.slo !== undefined ? judgeSlo(results[best]!, r, opts.minGain, opts.slo, label) : judge(results[best]!, r, opts.minGain, opts.p99Guard, label);
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
  const rec = opts.slo !== undefined ? recommendSlo(results, opts.minGain, opts.slo, opts.holdRate, label) : recommend(results, opts.minGain, opts.p99Guard, label);
  return { results, recommendedIndex: rec.index, reason: rec.reason, sweptLabel, target };
}

async function measureStep(opts: TuneOptions, workers: number, configPath: string | undefined, onTarget: (t: string) => void): Promise<StepResult> {
  if (!opts.explicitTarget) {
    // Ringside's data listeners bind with SO_REUSEPORT, so a sidecar left over from an earlier run
    // would not make this one fail to start: the two would split the load and the step would
    // measure neither. A fixed target port that already accepts before the spawn is that case.
    let planned;
    try {
      planned = new URL(deriveTarget(opts.config, new Map(), opts.load.protocol).url);
    } catch (err) {
      throw new BenchError((err as Error).message);
    }
    if (planned.port !== '0' && (await accepts(planned.hostname, Number(planned.port)))) {
      throw new BenchError(
        `${planned.host} already accepts connections before the ${workers}-worker sidecar started: another process ` +
          '(a ringside start still running?) holds the port and would take part of the load; stop it first',
      );
    }
  }
  const sidecar = await startSidecar({ script: opts.sidecarScript, config: configPath, workers, readyTimeoutMs: opts.readyTimeoutMs });
  try {
    let load = opts.load;
    if (!opts.explicitTarget) {
      let t;
      try {
        t = deriveTarget(opts.config, sidecar.listeners, opts.load.protocol);
      } catch (err) {
        throw new BenchError((err as Error).message);
      }
      const has = (name: string): boolean => load.request.headers.some(([k]) => k.toLowerCase() === name);
      const extra: [string, string][] = t.headers.filter(([k]) => !has(k.toLowerCase()));
      if (t.method !== undefined && !has('content-type')) extra.push(['Content-Type', 'application/json']);
      load = {
        ...load,
        target: t.url,
        request: {
          ...load.request,
          method: t.method ?? load.request.method,
          body: t.body === undefined ? load.request.body : Buffer.from(t.body),
          headers: [...load.request.headers, ...extra],
        },
      };
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
    const result: StepResult = {
      workers,
      rps: report.rps,
      p50_us: report.latency_us.p50,
      p99_us: report.latency_us.p99,
      cpu_cores: Math.round((cpu / wallS) * 100) / 100,
      requests: report.requests,
      errors: report.errors,
    };
    const slo = opts.slo;
    if (slo !== undefined) {
      const openLoop = (rate: number): Promise<StepMeasure> =>
        runLoad({ ...load, rate, durationMs: opts.sloStepMs ?? 2000, requests: undefined, warmupMs: 0, onProgress: opts.onLoadProgress });
      const note = (p: CurvePoint): void =>
        opts.onStep?.(`  ${workers} workers at ${p.offered_rps} req/s offered: ${p.rps} req/s, ${slo.percentile} ${p.slo_us} µs → ${p.holds ? 'holds' : 'does not hold'} ${slo.text}`);
      if (opts.holdRate !== undefined) {
        const p = await holdsRate(opts.holdRate, slo, openLoop);
        note(p);
        result.curve = [p];
        result.holds_rate = p.holds;
        result.slo_max_rps = p.holds ? p.offered_rps : 0;
      } else {
        const found = await searchRate({ slo, capacityRps: report.rps, maxSteps: opts.sloMaxSteps ?? 6, measure: openLoop, onPoint: note });
        result.curve = found.points;
        result.slo_max_rps = found.maxRate;
      }
    }
    return result;
  } finally {
    await sidecar.stop();
  }
}

/** Whether something accepts TCP connections at host:port right now. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (v: boolean): void => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(1000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}
