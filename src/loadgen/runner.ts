/**
 * Runs one bench load from the main thread: prepares the request once, probes the target, spreads
 * connections (and the open-loop rate, and -n) over load threads, starts them together, and merges
 * their recorded latencies into one HDR histogram for the report.
 */
import net from 'node:net';
import { Worker } from 'node:worker_threads';
import type { RequestOptions } from './driver.js';
import { protocolDrivers } from './drivers.js';
import { mergeRecorded, summarize, type LatencySummary } from './histogram.js';
import type { FromLoadThread, LoadThreadInit, ThreadResult, ToLoadThread } from './messages.js';

export interface LoadOptions {
  target: string;
  protocol: string;
  connections: number;
  /** Requests in flight per connection (HTTP/1.1: pipelining depth; gRPC: streams). */
  concurrency: number;
  /** Open loop: total req/s; undefined = closed loop. */
  rate: number | undefined;
  durationMs: number | undefined;
  requests: number | undefined;
  warmupMs: number;
  timeoutMs: number;
  threads: number;
  request: RequestOptions;
  onProgress?: (p: Progress) => void;
}

/** The live view of a run, counted as the final report counts: the measured window only. */
export interface Progress {
  /** Since the load started, warm-up included (drives the bar). */
  elapsedMs: number;
  /** Length of the measured window so far (0 while warming up). */
  measuredMs: number;
  requests: number;
  errors: number;
  /** requests / measured seconds: the figure the final report prints as rps. */
  rps: number;
}

export interface LoadReport {
  target: string;
  requests: number;
  errors: number;
  rps: number;
  duration_s: number;
  latency_us: LatencySummary;
  errors_by_status: Record<string, number>;
  latency_us_raw?: LatencySummary;
  target_rps?: number;
  warnings: string[];
  /** Responses during the warm-up (not in `requests`; for CPU-per-request figures over the whole run). */
  warmup_requests: number;
}

/** A run that cannot start or whose result is meaningless; the CLI prints the message on one line. */
export class BenchError extends Error {
  override readonly name = 'BenchError';
}

const ACHIEVED_RATE_FLOOR = 0.95;

export async function runLoad(opts: LoadOptions): Promise<LoadReport> {
  let url: URL;
  try {
    url = new URL(opts.target);
  } catch {
    throw new BenchError(`bad target URL "${opts.target}"`);
  }
  const load = protocolDrivers.get(opts.protocol);
  if (load === undefined) throw new BenchError(`unknown --protocol "${opts.protocol}" (known: ${protocolDrivers.names().join(', ')})`);
  const driver = await load();
  let spec;
  try {
    spec = await driver.prepare(url, opts.request);
  } catch (err) {
    throw new BenchError((err as Error).message);
  }
  if (driver.probe !== undefined) {
    try {
      await driver.probe(spec, opts.timeoutMs);
    } catch (err) {
      throw new BenchError((err as Error).message);
    }
  } else {
    await probe(spec.host, spec.port, opts.timeoutMs);
  }

  const threads = Math.max(1, Math.min(opts.threads, opts.connections));
  const inits: LoadThreadInit[] = [];
  for (let t = 0; t < threads; t++) {
    inits.push({
      spec,
      connections: share(opts.connections, threads, t),
      concurrency: opts.concurrency,
      rate: opts.rate === undefined ? undefined : opts.rate / threads,
      durationMs: opts.durationMs,
      requests: opts.requests === undefined ? undefined : share(opts.requests, threads, t),
      warmupMs: opts.warmupMs,
      timeoutMs: opts.timeoutMs,
    });
  }
  const results = await runThreads(inits.filter((i) => i.requests !== 0), opts.onProgress);
  return buildReport(opts, results);
}

function share(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}

/** One TCP connect before spawning threads, so an unreachable target is one clear error. */
function probe(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    const fail = (why: string): void => {
      s.destroy();
      reject(new BenchError(`cannot connect to ${host}:${port}: ${why}`));
    };
    s.setTimeout(timeoutMs, () => fail(`no answer within ${timeoutMs} ms`));
    s.once('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
    s.once('connect', () => {
      s.destroy();
      resolve();
    });
  });
}

async function runThreads(inits: LoadThreadInit[], onProgress: ((p: Progress) => void) | undefined): Promise<ThreadResult[]> {
  const workers = inits.map((init) => new Worker(new URL('./worker.js', import.meta.url), { workerData: init }));
  const counters = inits.map(() => ({ requests: 0, errors: 0, measuredMs: 0 }));
  const results: (ThreadResult | undefined)[] = inits.map(() => undefined);
  let startedAt = 0;
  const onSigint = (): void => {
    for (const w of workers) w.postMessage({ type: 'stop' } satisfies ToLoadThread);
  };
  let connectedCount = 0;
  let connectOk = 0;
  let firstDetail: string | undefined;
  let rejectConnect: (e: Error) => void = () => {};
  try {
    const all = workers.map(
      (w, i) =>
        new Promise<void>((resolve, reject) => {
          let connected = false;
          w.on('message', (m: FromLoadThread) => {
            switch (m.type) {
              case 'connected':
                connected = true;
                connectedCount++;
                connectOk += m.ok;
                firstDetail ??= m.detail;
                if (connectedCount === workers.length) allConnected();
                break;
              case 'progress':
                counters[i] = { requests: m.requests, errors: m.errors, measuredMs: m.measuredMs };
                if (onProgress !== undefined) onProgress(progressOf(counters, performance.now() - startedAt));
                break;
              case 'done':
                results[i] = m.result;
                resolve();
                break;
              case 'fatal':
                reject(new BenchError(m.message));
                break;
            }
          });
          w.on('error', reject);
          w.on('exit', (code) => {
            if (results[i] === undefined) reject(new BenchError(`load thread ${i} exited (${code}) ${connected ? 'during' : 'before'} the run`));
          });
        }),
    );
    const allConnected = (): void => {
      if (connectOk === 0) {
        rejectConnect(new BenchError(`cannot connect to the target: ${firstDetail ?? 'every connection failed'}`));
        return;
      }
      startedAt = performance.now();
      process.on('SIGINT', onSigint);
      for (const w of workers) w.postMessage({ type: 'go' } satisfies ToLoadThread);
    };
    await Promise.race([Promise.all(all), new Promise<never>((_, reject) => (rejectConnect = reject))]);
    return results as ThreadResult[];
  } finally {
    process.off('SIGINT', onSigint);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Sums thread counters the way buildReport does: the rate over the longest measured window. */
export function progressOf(counters: readonly { requests: number; errors: number; measuredMs: number }[], elapsedMs: number): Progress {
  const requests = counters.reduce((a, c) => a + c.requests, 0);
  const measuredMs = Math.max(0, ...counters.map((c) => c.measuredMs));
  return {
    elapsedMs,
    measuredMs,
    requests,
    errors: counters.reduce((a, c) => a + c.errors, 0),
    rps: measuredMs > 0 ? requests / (measuredMs / 1000) : 0,
  };
}

function buildReport(opts: LoadOptions, results: ThreadResult[]): LoadReport {
  const requests = results.reduce((a, r) => a + r.requests, 0);
  const errors = results.reduce((a, r) => a + r.errors, 0);
  const elapsedMs = Math.max(1, ...results.map((r) => r.elapsedMs));
  const errorsByStatus: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.errorsByStatus)) errorsByStatus[k] = (errorsByStatus[k] ?? 0) + v;
  const rps = requests / (elapsedMs / 1000);
  const report: LoadReport = {
    target: opts.target,
    requests,
    errors,
    rps: round(rps),
    duration_s: round(elapsedMs / 1000),
    latency_us: summarize(mergeRecorded(results.map((r) => r.histogram))),
    errors_by_status: errorsByStatus,
    warnings: [],
    warmup_requests: results.reduce((a, r) => a + r.warmupRequests, 0),
  };
  if (opts.rate !== undefined) {
    report.latency_us_raw = summarize(mergeRecorded(results.flatMap((r) => (r.rawHistogram === undefined ? [] : [r.rawHistogram]))));
    report.target_rps = opts.rate;
    const unsent = results.reduce((a, r) => a + r.unsent, 0);
    if (rps < ACHIEVED_RATE_FLOOR * opts.rate) {
      report.warnings.push(
        `target rate not reached: ${Math.round(rps)} of ${opts.rate} req/s (${Math.round((100 * rps) / opts.rate)}%, ${unsent} scheduled requests never sent); ` +
          'latency_us counts the wait from each intended send time',
      );
    }
  }
  if (requests === 0) report.warnings.push('no request completed in the measured window');
  else if (errors === requests) {
    // Answers with an error status (HTTP 5xx, a gRPC code) leave no firstFailure: name the statuses.
    const statuses = Object.entries(errorsByStatus).map(([k, v]) => `${k}: ${v}`).join(', ');
    report.warnings.push(`every request failed (${results.find((r) => r.firstFailure)?.firstFailure ?? statuses})`);
  }
  return report;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
