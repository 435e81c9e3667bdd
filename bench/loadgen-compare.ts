/**
 * Load generator comparison: `ringside bench --protocol http1` vs autocannon vs wrk against the same
 * upstream with the same connection count, interleaved in rounds (the machine is shared, so each
 * round runs all three back to back), printing the JSON of bench/output.ts: req/s of each, the
 * ratios, and the CPU each tool spent per request (the figure that holds when the machine is noisy).
 *
 *   node dist/bench/loadgen-compare.js [--json] [--url http://127.0.0.1:19000/] [-c 50] [-d 5s] [-t CORES] [--rounds 3]
 *
 * `ringside bench` runs in this process, so its CPU (process.cpuUsage, all threads) counts the
 * bench's own threads as wrk's and autocannon's /usr/bin/time figures count theirs. It warms up for
 * WARMUP_MS first (V8 optimising); its CPU per request covers the whole run, warm-up included.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../src/loadgen/grpc-request.js';
import { parseDuration, toLoadOptions } from '../src/loadgen/options.js';
import { runLoad } from '../src/loadgen/runner.js';
import { benchOutput, progress, ratioOf, writeBenchOutput } from './output.js';

interface Sample {
  rps: number;
  cpu_us_per_request: number;
}

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:19000/' },
    connections: { type: 'string', short: 'c', default: '50' },
    duration: { type: 'string', short: 'd', default: '5s' },
    threads: { type: 'string', short: 't', default: String(availableParallelism()) },
    rounds: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const url = values.url;
const connections = Number(values.connections);
const threads = Number(values.threads);
const seconds = Math.max(1, Math.round(parseDuration('duration', values.duration) / 1000));
/**
 * `ringside bench` loads for this long before its measured window, so V8 has optimised the driver,
 * the response scanner and the engine (tier-up takes a few hundred ms at this rate) before req/s is
 * counted; wrk and autocannon measure from their first request.
 */
const WARMUP_MS = 1000;

/** Runs a command under /usr/bin/time to get its user+system CPU seconds. */
function timed(cmd: string, args: string[]): Promise<{ stdout: string; cpuS: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'CPU %U %S', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /CPU ([\d.]+) ([\d.]+)/.exec(stderr);
      if (code !== 0 || m === null) reject(new Error(`${cmd} failed (${code}): ${stderr.trim().split('\n').pop()}`));
      else resolve({ stdout, cpuS: Number(m[1]) + Number(m[2]) });
    });
  });
}

async function ringside(): Promise<Sample> {
  const opts = toLoadOptions(url, { duration: `${seconds}s`, threads: String(threads), warmup: `${WARMUP_MS}ms` }, String(connections));
  const cpu0 = process.cpuUsage();
  const r = await runLoad(opts);
  const cpu = process.cpuUsage(cpu0);
  // The CPU of the whole run (thread start, warm-up, measured window) over every response it got.
  return { rps: Math.round(r.rps), cpu_us_per_request: round((cpu.user + cpu.system) / (r.requests + r.warmup_requests)) };
}

async function autocannon(): Promise<Sample> {
  const bin = join(packageRoot(), 'node_modules/.bin/autocannon');
  const { stdout, cpuS } = await timed(bin, ['-c', String(connections), '-d', String(seconds), '-j', url]);
  const j = JSON.parse(stdout) as { requests: { total: number }; duration: number };
  return { rps: Math.round(j.requests.total / j.duration), cpu_us_per_request: round((cpuS * 1e6) / j.requests.total) };
}

async function wrk(): Promise<Sample> {
  const { stdout, cpuS } = await timed('wrk', ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, url]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const total = Number(/(\d+) requests in/.exec(stdout)?.[1]);
  return { rps: Math.round(rps), cpu_us_per_request: round((cpuS * 1e6) / total) };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : Math.round((s[mid - 1]! + s[mid]!) / 2);
}

const rounds = Number(values.rounds);
const samples: Record<'ringside' | 'autocannon' | 'wrk', Sample[]> = { ringside: [], autocannon: [], wrk: [] };
for (let i = 0; i < rounds; i++) {
  samples.ringside.push(await ringside());
  samples.autocannon.push(await autocannon());
  samples.wrk.push(await wrk());
  progress(`round ${i + 1}/${rounds}: ${JSON.stringify({ ringside: samples.ringside.at(-1), autocannon: samples.autocannon.at(-1), wrk: samples.wrk.at(-1) })}`);
}
const med = (k: keyof typeof samples, f: keyof Sample): number => median(samples[k].map((s) => s[f]));
const tools = ['ringside', 'autocannon', 'wrk'] as const;
const out = benchOutput('loadgen', {
  params: { url, connections, threads, duration_s: seconds, rounds, ringside_warmup_ms: WARMUP_MS },
  results: tools.map((name) => ({ name, rps: med(name, 'rps'), cpu_us_per_request: med(name, 'cpu_us_per_request') })),
  ratios: {
    rps_ringside_over_wrk: ratioOf(med('ringside', 'rps'), med('wrk', 'rps')),
    rps_ringside_over_autocannon: ratioOf(med('ringside', 'rps'), med('autocannon', 'rps')),
    cpu_ringside_over_wrk: ratioOf(med('ringside', 'cpu_us_per_request'), med('wrk', 'cpu_us_per_request')),
  },
  targets: { rps_ringside_over_wrk_min: 1 },
  notes: [
    'figures are the medians over rounds; each round runs the three tools back to back',
    `ringside bench runs a ${WARMUP_MS} ms warm-up before its measured window (req/s is of the window); its CPU per request is the whole run's CPU (threads starting, warm-up, window) over every response, warm-up included`,
  ],
  detail: { samples },
});
writeBenchOutput(out, values.json);
