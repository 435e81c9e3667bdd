/**
 * bench:footprint — what an idle and a loaded Ringside sidecar costs in memory and start-up time,
 * and what each part of it costs. A sidecar runs next to every app instance, so these are paid per pod.
 *
 *   node dist/bench/footprint.js [--json] [--settle-ms 1500] [--rate 1000] [--seconds 5] [--young-generation-mb N]
 *
 * --young-generation-mb N sets `ringside.worker_heap.max_young_generation_mb` in every sidecar's config
 * (default: the config's own), to measure what the workers' young generation costs in memory.
 *
 * Figures (RSS from /proc/PID/status VmRSS, MiB):
 *   - `ringside start` on the embedded default config (its ports moved to free ones), --workers 1
 *     and 2: ms from spawn to the ready line, threads, idle RSS after --settle-ms, and RSS at the end
 *     of --rate req/s of the Dapr HTTP invoke of the demo call (ringside bench, open loop) on w1;
 *   - parts, each measured as the difference between two idle processes: a bare `node` process, the
 *     module graph `ringside start` loads on the main thread, grpc-js and piscina imported alone,
 *     each extra worker (w2 − w1), the main thread (w1 − one worker);
 *   - each thread's memory from /stats (V8 heap used and committed, V8's mallocs, external memory,
 *     ArrayBuffers), idle and at the end of the load, which tells what the loaded RSS growth is.
 * Targets: idle w1 ≤ 64 MiB, each extra worker ≤ 20 MiB, RSS under load ≤ 1.25× idle, ready ≤ 300 ms.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfigJson } from '../src/config/default.js';
import { CLI, REPO, numberOption } from './common.js';
import { benchOutput, jsonRequested, progress, ratioOf, writeBenchOutput } from './output.js';

const SETTLE_MS = numberOption('settle-ms', 1500);
const RATE = numberOption('rate', 1000);
const SECONDS = numberOption('seconds', 5);
const YOUNG_GENERATION_MB = numberOption('young-generation-mb', 0);
const MiB = 1024 * 1024;

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return Math.round((kb / 1024) * 10) / 10;
}

function threads(pid: number): number {
  return readdirSync(`/proc/${pid}/task`).length;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => res(port));
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}

interface Started {
  child: ChildProcess;
  readyMs: number;
}

/** Spawns `node ARGS` and resolves once a stdout line matches `ready` (ms from spawn). */
function startUntil(args: string[], ready: RegExp, env: NodeJS.ProcessEnv = process.env): Promise<Started> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  return new Promise((res, rej) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail('no ready line within 20 s'), 20_000);
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      rej(new Error(`${args.join(' ')}: ${why}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
    };
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (ready.test(out)) {
        clearTimeout(timer);
        res({ child, readyMs: Math.round(performance.now() - t0) });
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
    child.once('exit', (code) => fail(`exited (${code})`));
  });
}

/** Idle RSS of a plain node process that imports `specifiers` (nothing = bare node). */
async function idleImport(specifiers: string[]): Promise<number> {
  const code = `${specifiers.map((s) => `await import(${JSON.stringify(s)});`).join('')} console.log('up'); setInterval(() => {}, 1000);`;
  const p = await startUntil(['--input-type=module', '-e', code], /up/);
  await sleep(SETTLE_MS);
  const rss = rssMiB(p.child.pid!);
  await stop(p.child);
  return rss;
}

type MemoryMiB = Record<string, number>;

/** Each thread's memory (/stats: the main thread and every worker), MiB, to tell what grows where. */
async function threadMemoryMiB(admin: number): Promise<Record<string, MemoryMiB>> {
  const res = await fetch(`http://127.0.0.1:${admin}/stats`);
  const stats = (await res.json()) as { main: { memory: Record<string, number> }; workers: { workerIndex: number; memory?: Record<string, number> }[] };
  const mib = (m: Record<string, number>): MemoryMiB => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Math.round((v / MiB) * 10) / 10]));
  const out: Record<string, MemoryMiB> = { main: mib(stats.main.memory) };
  for (const w of stats.workers) if (w.memory !== undefined) out[`worker${w.workerIndex}`] = mib(w.memory);
  return out;
}

interface SidecarRun {
  name: string;
  workers: number;
  ready_ms: number;
  threads: number;
  idle_rss_mib: number;
  loaded_rss_mib?: number;
  loaded_rps?: number;
  loaded_ratio?: number;
  /** Per thread (V8 heap used / committed, V8's mallocs, external, ArrayBuffers), idle and at the end of the load. */
  idle_threads_mib?: Record<string, MemoryMiB>;
  loaded_threads_mib?: Record<string, MemoryMiB>;
}

async function sidecar(workers: number, load: boolean, dir: string): Promise<SidecarRun> {
  const [grpc, admin, demo, daprGrpc, daprHttp] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const text = JSON.stringify(defaultConfigJson)
    .replaceAll('127.0.0.1:34904', `127.0.0.1:${grpc}`)
    .replaceAll('127.0.0.1:34999', `127.0.0.1:${demo}`);
  const cfg = JSON.parse(text) as { ringside: Record<string, unknown> };
  cfg.ringside['admin'] = { address: `127.0.0.1:${admin}` };
  if (YOUNG_GENERATION_MB > 0) cfg.ringside['worker_heap'] = { max_young_generation_mb: YOUNG_GENERATION_MB };
  const file = join(dir, `footprint-${workers}.json`);
  writeFileSync(file, JSON.stringify(cfg));
  const env = { ...process.env, DAPR_GRPC_PORT: String(daprGrpc), DAPR_HTTP_PORT: String(daprHttp) };
  const s = await startUntil([CLI, 'start', '-c', file, '--workers', String(workers)], /ringside ready: workers=/, env);
  try {
    await sleep(SETTLE_MS);
    const run: SidecarRun = { name: `ringside --workers ${workers}`, workers, ready_ms: s.readyMs, threads: threads(s.child.pid!), idle_rss_mib: rssMiB(s.child.pid!) };
    run.idle_threads_mib = await threadMemoryMiB(admin);
    if (load) {
      const url = `http://127.0.0.1:${daprHttp}/v1.0/invoke/org.apache.dubbo.samples.UserProvider/method/GetUser`;
      const body = '{"jsonrpc":"2.0","method":"GetUser","params":["A003"],"id":9527}';
      let peak = run.idle_rss_mib;
      const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(s.child.pid!))), 200);
      const r = spawnSync(process.execPath, [CLI, 'bench', '-R', String(RATE), '-c', '10', '-t', '1', '-d', `${SECONDS}s`, '-m', 'POST', '--body', body, '--json', url], { encoding: 'utf8' });
      clearInterval(sampler);
      peak = Math.max(peak, rssMiB(s.child.pid!));
      if (r.status !== 0) throw new Error(`bench at ${RATE} req/s failed: ${r.stderr.trim()}`);
      run.loaded_rss_mib = peak;
      run.loaded_rps = (JSON.parse(r.stdout) as { rps: number }).rps;
      run.loaded_ratio = ratioOf(peak, run.idle_rss_mib) ?? undefined;
      run.loaded_threads_mib = await threadMemoryMiB(admin);
    }
    return run;
  } finally {
    await stop(s.child);
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ringside-footprint-'));
  try {
    progress('footprint: bare node and module imports');
    const bare = await idleImport([]);
    const startModules = await idleImport([join(REPO, 'dist/src/cli/start.js')]);
    const grpcJs = await idleImport(['@grpc/grpc-js']);
    const piscina = await idleImport(['piscina']);
    progress('footprint: ringside --workers 1 (idle, then under load) and --workers 2');
    const w1 = await sidecar(1, true, dir);
    const w2 = await sidecar(2, false, dir);
    const perWorker = Math.round((w2.idle_rss_mib - w1.idle_rss_mib) * 10) / 10;
    const parts = {
      bare_node: bare,
      main_thread_modules: Math.round((startModules - bare) * 10) / 10,
      grpc_js_import: Math.round((grpcJs - bare) * 10) / 10,
      piscina_import: Math.round((piscina - bare) * 10) / 10,
      each_worker: perWorker,
      main_thread: Math.round((w1.idle_rss_mib - perWorker) * 10) / 10,
    };
    const out = benchOutput('footprint', {
      params: {
        config: 'embedded default (ports moved to free ones)',
        settle_ms: SETTLE_MS,
        load_rps: RATE,
        load_seconds: SECONDS,
        max_young_generation_mb: YOUNG_GENERATION_MB > 0 ? YOUNG_GENERATION_MB : 'default',
      },
      results: [w1, w2, { name: 'parts (MiB, differences of idle RSS)', ...parts }],
      ratios: { loaded_over_idle_w1: w1.loaded_ratio ?? null },
      targets: {
        idle_w1_le_64_mib: w1.idle_rss_mib <= 64,
        each_worker_le_20_mib: perWorker <= 20,
        loaded_le_1_25x_idle: (w1.loaded_ratio ?? Infinity) <= 1.25,
        ready_le_300_ms: w1.ready_ms <= 300 && w2.ready_ms <= 300,
      },
      notes: ['ready_ms counts from spawn (node start-up included) to the ready line', `1 MiB = ${MiB} bytes`],
    });
    writeBenchOutput(out, jsonRequested(), [
      `w1: ready ${w1.ready_ms} ms, ${w1.threads} threads, idle ${w1.idle_rss_mib} MiB, at ${RATE} req/s ${w1.loaded_rss_mib} MiB (${w1.loaded_ratio}x)`,
      `w2: ready ${w2.ready_ms} ms, ${w2.threads} threads, idle ${w2.idle_rss_mib} MiB (+${perWorker} MiB per worker)`,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:footprint: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
