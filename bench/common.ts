/**
 * Shared helpers for the side-by-side proxy benchmarks (bench:http, bench:tcp): start and stop a
 * Ringside sidecar as its own process (so its CPU is told apart from the load generator's), bring
 * up the reference anchors, and run ../shared/bench/cpu-per-request.sh under the machine-wide bench
 * lock so load runs by different engineers never overlap on this shared 2-core machine.
 */
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processCpuSeconds as procCpuSeconds } from '../src/observability/proc-cpu.js';

/** dist/bench → repo root; the shared bench scripts live next to the repo in ../shared/bench. */
/** The repository root and the built CLI every benchmark drives. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED_BENCH = process.env.RINGSIDE_SHARED_BENCH ?? resolve(REPO, '..', 'shared', 'bench');
export const BENCH_LOCK = '/tmp/ringside-bench.lock';
export const CLI = join(REPO, 'dist', 'src', 'cli', 'main.js');

/** `--NAME N` from the bench's own arguments, else `fallback`. */
export function numberOption(name: string, fallback: number, argv: readonly string[] = process.argv.slice(2)): number {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? Number(argv[i + 1]) : fallback;
}

export interface BenchArgs {
  json: boolean;
  seconds: number;
  connections: number;
  rounds: number;
}

export function parseArgs(argv: readonly string[]): BenchArgs {
  const value = (name: string, fallback: number): number => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return fallback;
    const n = Number(argv[i + 1]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: expected an integer ≥ 1, got "${argv[i + 1]}"`);
    return n;
  };
  return { json: argv.includes('--json'), seconds: value('seconds', 5), connections: value('connections', 32), rounds: value('rounds', 3) };
}

/** What cpu-per-request.sh prints, one JSON line per server measured. */
export interface CpuResult {
  name: string;
  rps: number;
  requests: number;
  errors: number;
  p50_us: number;
  p99_us: number;
  cpu_us_per_req: number;
}

/**
 * One wrk run against `url`, charging the CPU of every thread of `pids`. Runs under flock on the
 * shared bench lock: another engineer's load would otherwise steal the cores being measured.
 */
export function cpuPerRequest(name: string, url: string, pids: readonly number[], seconds: number, connections: number): CpuResult {
  const script = join(SHARED_BENCH, 'cpu-per-request.sh');
  const out = execFileSync('flock', [BENCH_LOCK, script, name, url, pids.join(' '), String(seconds), String(connections)], {
    encoding: 'utf8',
    timeout: (seconds + 120) * 1000, // waiting for the lock counts too
  });
  const line = out.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as CpuResult;
}

/** Starts the anchors (idempotent) and returns the PIDs of one of them. */
export function anchorPids(name: 'upstream' | 'nginx' | 'haproxy'): number[] {
  const script = join(SHARED_BENCH, 'anchors.sh');
  const out = execFileSync(script, ['pids', name], { encoding: 'utf8' });
  return out.split(/\s+/).filter(Boolean).map(Number);
}

export function startAnchors(): void {
  const r = spawnSync(join(SHARED_BENCH, 'anchors.sh'), ['start'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`anchors.sh start failed: ${r.stderr.trim()}`);
}

export interface Sidecar {
  readonly pid: number;
  /** listener name → bound address, from the ready line. */
  readonly listeners: ReadonlyMap<string, string>;
  /** The admin endpoint the sidecar bound (its config asks for port 0). */
  readonly admin: string;
  stop(): Promise<void>;
}

const READY = /^ringside ready: workers=\d+ listeners=(.*)$/;
// The supervisor logs its bound admin address at info level; port 0 leaves no other way to learn it.
const ADMIN = /admin listening on ([^\s"]+)/;

/**
 * Writes `config` to a temp file and runs `ringside start -c FILE --workers N` as a child process
 * (`nodeArgs` such as --cpu-prof go before the script). Resolves once the ready line and the admin
 * address have both been seen.
 */
export function startSidecar(config: object, workers: number, nodeArgs: readonly string[] = []): Promise<Sidecar> {
  const dir = mkdtempSync(join(tmpdir(), 'ringside-bench-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'start', '-c', file, '--workers', String(workers)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  return new Promise((resolvePromise, reject) => {
    let out = '';
    let err = '';
    let listeners: Map<string, string> | undefined;
    let admin: string | undefined;
    let settled = false;
    const timer = setTimeout(() => fail('printed no ready line within 20 s'), 20_000);
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`ringside --workers ${workers} ${why}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
    };
    const check = (): void => {
      if (settled || listeners === undefined || admin === undefined) return;
      settled = true;
      clearTimeout(timer);
      resolvePromise(running(child, listeners, admin, exited));
    };
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      for (const line of out.split('\n')) {
        const m = READY.exec(line.trim());
        if (m === null) continue;
        listeners = new Map();
        for (const item of m[1]!.split(',')) {
          const at = item.indexOf('@');
          if (at > 0) listeners.set(item.slice(0, at), item.slice(at + 1));
        }
      }
      check();
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      // Keep only what is needed: the admin line and a tail for error messages.
      err = (err + d).slice(-8000);
      const m = ADMIN.exec(err);
      if (m !== null && admin === undefined) admin = m[1]!;
      check();
    });
    child.once('error', (e) => fail(`could not start (${e.message})`));
    void exited.then(() => fail(`exited with code ${child.exitCode}`));
  });
}

function running(child: ChildProcess, listeners: Map<string, string>, admin: string, exited: Promise<void>): Sidecar {
  return {
    pid: child.pid!,
    listeners,
    admin,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      // Drain waits for in-flight work; the bench has none left, so a stuck drain is a kill.
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** CPU seconds of the whole process `pid`, every thread, exited ones included (src/observability/proc-cpu.ts). */
export function processCpuSeconds(pid: number): number {
  return procCpuSeconds(pid) ?? 0;
}

/** GET admin /stats as parsed JSON. */
export async function adminStats(admin: string): Promise<AdminStats> {
  const res = await fetch(`http://${admin}/stats`);
  if (!res.ok) throw new Error(`admin /stats answered ${res.status}`);
  return (await res.json()) as AdminStats;
}

export interface AdminStats {
  workers: {
    workerIndex: number;
    listeners: { name: string; address: string; activeConnections: number; totalConnections: number }[];
  }[];
}

/** Ringside's settings for a bench sidecar: admin on any free port, no Dapr ports to collide on. */
export const BENCH_RINGSIDE = { admin: { address: '127.0.0.1:0' }, dapr: { enabled: false } };

export const ratio = (a: number, b: number): number => Math.round((a / b) * 100) / 100;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : Math.round(((s[m - 1]! + s[m]!) / 2) * 100) / 100;
}

/** The element whose key is the median (the lower middle one for an even count). */
export function medianBy<T>(xs: readonly T[], key: (x: T) => number): T {
  const s = [...xs].sort((a, b) => key(a) - key(b));
  return s[(s.length - 1) >> 1]!;
}
