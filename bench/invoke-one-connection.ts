/**
 * bench:invoke1 — what the scheduler buys: ONE gRPC client connection (h2load -c 1 -m 64; every call
 * lands on the worker that accepted it) calling InvokeService through the mosn invoker, the http
 * channel (a pool of 16, as in the default config) and the in-process egress proxy to the anchor
 * upstream, with `ringside start --workers 1` and `--workers 2` measured back to back in each round.
 * With 2 workers the loaded worker's channel pool retires connections and re-dials them onto the
 * idle worker, so the egress proxy work runs there. Prints JSON: req/s, CPU µs per request (every
 * thread of the sidecar), and the scheduler and actor counters from the admin /stats.
 *
 *   node dist/bench/invoke-one-connection.js [--warmup 3] [--duration 5] [--streams 64] [--rounds 4] [--restart] [--upstream 127.0.0.1:19000]
 *                                            [--young-generation-mb N] [--cpu-prof DIR]
 *
 * By default both sidecars start once and stay up; each round opens one new h2load connection to each
 * (its own warm-up, then the measured seconds), in ABBA order, so on a shared machine both
 * configurations sample the same stretch of its load. The ratios are per round, their median, and
 * pooled (all answers of a configuration over all its measured seconds). `--restart` starts a fresh
 * sidecar for every measurement instead (2 rounds of 8 s by default), as earlier rounds of this
 * benchmark did.
 *
 * --young-generation-mb N sets `ringside.worker_heap.max_young_generation_mb` in both sidecars' config
 * (default: the config's default), to measure what the workers' young generation does to this load.
 *
 * --cpu-prof DIR starts the sidecars under `node --cpu-prof` (each thread writes its own profile to DIR;
 * the CPU figures then include the profiler's cost).
 *
 * Start the anchors first (/work/shared/bench/anchors.sh start); run under the machine's exclusive lock.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { messageType } from '../src/runtime/proto.js';
import { benchOutput, jsonRequested, writeBenchOutput } from './output.js';
import { processCpuSeconds } from '../src/observability/proc-cpu.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1]! : fallback;
};
const note = (line: string): void => void process.stderr.write(line + '\n');

const SEED = '{"jsonrpc":"2.0","method":"GetUser","params":["A003"],"id":9527}';
const ID = 'org.apache.dubbo.samples.UserProvider';
const INVOKE_PATH = '/spec.proto.runtime.v1.Runtime/InvokeService';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function sidecarConfig(grpcPort: number, upstream: string): object {
  return {
    servers: [
      {
        routers: [{ router_config_name: 'r', virtual_hosts: [{ name: 'up', domains: ['*'], routers: [{ match: { prefix: '/' }, route: { cluster_name: 'up' } }] }] }],
        listeners: [
          {
            name: 'grpc',
            address: `127.0.0.1:${grpcPort}`,
            bind_port: true,
            filter_chains: [
              {
                filters: [
                  {
                    type: 'grpc',
                    config: {
                      server_name: 'runtime',
                      grpc_config: { rpcs: { mosn: { config: { before_invoke: [{ name: 'dubbo_json_rpc' }], channel: [{ size: 16, protocol: 'http', listener: 'egress_runtime_http' }] } } } },
                    },
                  },
                ],
              },
            ],
          },
          {
            name: 'egress_runtime_http',
            address: 'egress_runtime_http',
            filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'Http1', upstream_protocol: 'Http1', router_config_name: 'r' } }] }],
          },
        ],
      },
    ],
    cluster_manager: { clusters: [{ name: 'up', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: upstream }] }] },
    ringside: {
      dapr: { enabled: false },
      admin: { address: '127.0.0.1:0' },
      ...(opt('young-generation-mb', '') === '' ? {} : { worker_heap: { max_young_generation_mb: Number(opt('young-generation-mb', '')) } }),
    },
  };
}

interface Sidecar {
  child: ChildProcess;
  admin: string;
}

function startSidecar(cli: string, cfg: string, workers: number): Promise<Sidecar> {
  return new Promise((resolve, reject) => {
    const profDir = opt('cpu-prof', '');
    const nodeArgs = profDir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`];
    const child = spawn(process.execPath, [...nodeArgs, cli, 'start', '-c', cfg, '--workers', String(workers)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`sidecar --workers ${workers}: no ready line`));
    }, 20_000);
    const check = (): void => {
      const admin = /admin listening on ([^\s"]+)/.exec(err)?.[1];
      if (/ringside ready:/.test(out) && admin !== undefined) {
        clearTimeout(timer);
        resolve({ child, admin });
      }
    };
    child.stdout!.on('data', (c: Buffer) => ((out += c.toString()), check()));
    child.stderr!.on('data', (c: Buffer) => ((err += c.toString()), check()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sidecar exited with ${code}: ${err.slice(-2000)}`));
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => (clearTimeout(timer), resolve()));
    child.kill('SIGTERM');
  });
}

function getText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      let data = '';
      res.on('data', (d: Buffer) => (data += d.toString()));
      res.on('end', () => resolve(data));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Seconds each worker's event loop has been active (not waiting in epoll), from the admin /metrics. */
async function loopActiveSeconds(admin: string): Promise<number[]> {
  const text = await getText(`http://${admin}/metrics`);
  const out: number[] = [];
  for (const m of text.matchAll(/^ringside_worker_event_loop_active_seconds_total\{worker="(\d+)"\} ([\d.e+-]+)$/gm)) out[Number(m[1])] = Number(m[2]);
  return out;
}

function getJson(url: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      let data = '';
      res.on('data', (d: Buffer) => (data += d.toString()));
      res.on('end', () => resolve(JSON.parse(data)));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A /stats counter summed over the workers. */
function counterSum(stats: any, key: string): number {
  return stats.workers.reduce((n: number, w: any) => n + (w.counters?.[key] ?? 0), 0);
}

/** CPU µs of every thread of `pid` (the larger of the live-thread sum and the process total). */
function cpuMicros(pid: number): number {
  return (processCpuSeconds(pid) ?? 0) * 1e6;
}

interface H2loadResult {
  rps: number;
  succeeded: number;
  failed: number;
}

/**
 * One h2load run whose first `warmup` seconds are not measured (--warm-up-time): warm-up and
 * measurement share ONE client connection, so the worker the kernel's SO_REUSEPORT hash gave it is
 * the worker whose pool was re-placed during the warm-up. `atMeasureStart` runs when the warm-up ends.
 */
function h2load(address: string, file: string, warmup: number, seconds: number, atMeasureStart: () => Promise<void>): Promise<H2loadResult> {
  const child = spawn(
    'h2load',
    ['-D', String(seconds), `--warm-up-time=${warmup}`, '-c', '1', '-m', opt('streams', '64'), '-t', '1', '-d', file, '-H', 'content-type: application/grpc', '-H', 'te: trailers', `http://${address}${INVOKE_PATH}`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const marked = new Promise<void>((resolve, reject) => setTimeout(() => atMeasureStart().then(resolve, reject), warmup * 1000));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return Promise.all([marked, exited]).then(([, code]) => {
    if (code !== 0) throw new Error(`h2load failed (${code}): ${out}`);
    const m = /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed/.exec(out);
    return { rps: Number(/finished in [\d.]+\w*, ([\d.]+) req\/s/.exec(out)?.[1] ?? 0), succeeded: Number(m?.[2] ?? 0), failed: Number(m?.[3] ?? 0) };
  });
}

async function sampleStatus(address: string, body: Buffer): Promise<number> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const id = (b: Buffer): Buffer => b;
  try {
    return await new Promise((resolve) => client.makeUnaryRequest(INVOKE_PATH, id, id, body, { deadline: Date.now() + 5000 }, (err) => resolve(err ? (err.code ?? -1) : 0)));
  } finally {
    client.close();
  }
}

interface Run {
  workers: number;
  rps: number;
  succeeded: number;
  failed: number;
  grpc_status: number;
  cpu_us_per_req: number;
  scheduler: { moved: number; moved_while_measured: number; retired: number; kept_local: number; reversals: number };
  egress_connections_per_worker: number[];
  /** CPU µs per request of each worker thread during the measured run (the rest is the main thread). */
  worker_cpu_us_per_req: number[];
  /**
   * Per worker, over the measured run: the share of wall time its event loop was active (running or
   * runnable, not waiting in epoll) and the share it was on a CPU. Active well above on-CPU means the
   * thread had work but the machine gave its core to something else.
   */
  worker_loop_active_share: number[];
  worker_on_cpu_share: number[];
  /**
   * Cross-thread wake-ups per request over the measured run: Atomics.notify calls sent by ring
   * producers (to a thread's doorbell or an end's own), and the times a thread parked on its doorbell.
   */
  ring_notifies_per_req: number;
  bell_parks_per_req: number;
  /** The young-generation limit the workers report in /stats (ringside.worker_heap), MiB. */
  max_young_generation_mb: number | null;
}

interface Started {
  sc: Sidecar;
  address: string;
  workers: number;
  status: number;
}

async function startFor(cli: string, dir: string, workers: number, upstream: string, body: Buffer): Promise<Started> {
  const port = await freePort();
  const cfg = join(dir, `sidecar-${workers}.json`);
  writeFileSync(cfg, JSON.stringify(sidecarConfig(port, upstream)));
  const sc = await startSidecar(cli, cfg, workers);
  const address = `127.0.0.1:${port}`;
  return { sc, address, workers, status: await sampleStatus(address, body) };
}

/** One h2load run on one new connection to a running sidecar: `warmup` seconds, then `duration` measured. */
async function slice(started: Started, file: string, warmup: number, duration: number): Promise<Run> {
  const { sc, address, workers, status } = started;
  {
    const workerCpu = (s: any): number[] => s.workers.map((w: any) => (w.cpuSeconds ?? 0) * 1e6);
    const moves = (s: any): number => s.workers.reduce((n: number, w: any) => n + (w.counters?.['scheduler.moved'] ?? 0), 0);
    let cpuBefore: number[] = [];
    let before = 0;
    let movedInWarmup = 0;
    let notifiesBefore = 0;
    let parksBefore = 0;
    let activeBefore: number[] = [];
    let wallBefore = 0;
    // The warm-up (JIT, the pool and, with 2 workers, the re-placement) is the first seconds of the same connection.
    const r = await h2load(address, file, warmup, duration, async () => {
      const at = await getJson(`http://${sc.admin}/stats`);
      before = cpuMicros(sc.child.pid!);
      cpuBefore = workerCpu(at);
      movedInWarmup = moves(at);
      notifiesBefore = counterSum(at, 'ring.notifies');
      parksBefore = counterSum(at, 'ring.bell.parks');
      activeBefore = await loopActiveSeconds(sc.admin);
      wallBefore = performance.now();
    });
    const used = cpuMicros(sc.child.pid!) - before;
    const stats = await getJson(`http://${sc.admin}/stats`);
    const activeAfter = await loopActiveSeconds(sc.admin);
    const wallUs = (performance.now() - wallBefore) * 1000;
    const share = (us: number): number => Math.round((us / wallUs) * 100) / 100;
    const perReq = (us: number): number => (r.succeeded === 0 ? NaN : Math.round((us / r.succeeded) * 10) / 10);
    const sum = (key: string): number => counterSum(stats, key);
    const perReqCount = (n: number): number => (r.succeeded === 0 ? NaN : Math.round((n / r.succeeded) * 1000) / 1000);
    const run: Run = {
      workers,
      ...r,
      rps: Math.round(r.rps),
      grpc_status: status,
      cpu_us_per_req: perReq(used),
      scheduler: { moved: sum('scheduler.moved'), moved_while_measured: sum('scheduler.moved') - movedInWarmup, retired: sum('scheduler.retired'), kept_local: sum('scheduler.kept_local'), reversals: sum('scheduler.reversals') },
      egress_connections_per_worker: stats.workers.map((w: any) => w.listeners?.find((l: any) => l.name === 'egress_runtime_http')?.totalConnections ?? 0),
      worker_cpu_us_per_req: workerCpu(stats).map((us, i) => perReq(us - (cpuBefore[i] ?? 0))),
      worker_loop_active_share: activeAfter.map((s, i) => share((s - (activeBefore[i] ?? 0)) * 1e6)),
      worker_on_cpu_share: workerCpu(stats).map((us, i) => share(us - (cpuBefore[i] ?? 0))),
      ring_notifies_per_req: perReqCount(sum('ring.notifies') - notifiesBefore),
      bell_parks_per_req: perReqCount(sum('ring.bell.parks') - parksBefore),
      max_young_generation_mb: stats.workers[0]?.maxYoungGenerationMb ?? null,
    };
    note(`--workers ${workers}: ${run.rps} req/s, ${run.cpu_us_per_req} µs CPU/req, moved ${run.scheduler.moved} (${run.scheduler.moved_while_measured} while measured), egress cx per worker ${run.egress_connections_per_worker.join('/')}, worker CPU µs/req ${run.worker_cpu_us_per_req.join('/')}, loop active ${run.worker_loop_active_share.join('/')}, on CPU ${run.worker_on_cpu_share.join('/')}, ring notifies/req ${run.ring_notifies_per_req}, doorbell parks/req ${run.bell_parks_per_req}`);
    return run;
  }
}

async function main(): Promise<void> {
  const cli = join(dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');
  const upstream = opt('upstream', '127.0.0.1:19000');
  const interleaved = !args.includes('--restart');
  const rounds = Number(opt('rounds', interleaved ? '4' : '2'));
  const dir = mkdtempSync(join(tmpdir(), 'ringside-invoke1-'));
  const body = Buffer.from(
    messageType('spec.proto.runtime.v1.InvokeServiceRequest').encode({ id: ID, message: { method: 'GetUser', data: { value: Buffer.from(SEED) }, http_extension: { verb: 3 } } }).finish(),
  );
  const framed = Buffer.alloc(5 + body.length);
  framed.writeUInt32BE(body.length, 1);
  body.copy(framed, 5);
  const file = join(dir, 'invoke.bin');
  writeFileSync(file, framed);
  const perRound: { w1: Run; w2: Run; rps_ratio_w2_over_w1: number }[] = [];
  const warmup = Number(opt('warmup', '3'));
  const duration = Number(opt('duration', interleaved ? '5' : '8'));
  const push = (w1: Run, w2: Run): void => void perRound.push({ w1, w2, rps_ratio_w2_over_w1: Math.round((w2.rps / w1.rps) * 100) / 100 });
  try {
    if (interleaved) {
      // Both sidecars stay up; each round measures one new connection to each, in ABBA order, so both
      // sample the same stretch of a shared machine's load.
      const one = await startFor(cli, dir, 1, upstream, body);
      let two: Started | undefined;
      try {
        two = await startFor(cli, dir, 2, upstream, body);
        for (let i = 0; i < rounds; i++) {
          if (i % 2 === 0) {
            const w1 = await slice(one, file, warmup, duration);
            push(w1, await slice(two, file, warmup, duration));
          } else {
            const w2 = await slice(two, file, warmup, duration);
            push(await slice(one, file, warmup, duration), w2);
          }
        }
      } finally {
        await stop(one.sc.child);
        if (two !== undefined) await stop(two.sc.child);
      }
    } else {
      for (let i = 0; i < rounds; i++) {
        const runOn = async (workers: number): Promise<Run> => {
          const started = await startFor(cli, dir, workers, upstream, body);
          try {
            return await slice(started, file, warmup, duration);
          } finally {
            await stop(started.sc.child);
          }
        };
        const w1 = await runOn(1);
        push(w1, await runOn(2));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // Every measured second of each configuration pooled: total answers over total measured time.
  const pooled = (pick: (r: (typeof perRound)[number]) => Run): number => perRound.reduce((n, r) => n + pick(r).succeeded, 0) / (rounds * duration);
  const pooledRatio = Math.round((pooled((r) => r.w2) / pooled((r) => r.w1)) * 100) / 100;
  const ratios = perRound.map((r) => r.rps_ratio_w2_over_w1).sort((a, b) => a - b);
  // An even number of rounds takes the mean of the middle two: the upper one alone would flatter.
  const mid = ratios.length >> 1;
  const median = ratios.length % 2 === 1 ? ratios[mid]! : Math.round(((ratios[mid - 1]! + ratios[mid]!) / 2) * 100) / 100;
  const out = benchOutput('invoke1', {
    params: {
      tool: 'h2load',
      clients: 1,
      streams: Number(opt('streams', '64')),
      warmup_s: warmup,
      duration_s: duration,
      upstream,
      channel_size: 16,
      rounds,
      interleaved,
      max_young_generation_mb: perRound[0]?.w1.max_young_generation_mb ?? null,
    },
    results: perRound.flatMap((r, i) => [
      { ...r.w1, name: `round ${i + 1} --workers 1` },
      { ...r.w2, name: `round ${i + 1} --workers 2` },
    ]),
    ratios: { rps_w2_over_w1_pooled: pooledRatio, rps_w2_over_w1_median: median, rps_w2_over_w1_min: ratios[0]!, ...Object.fromEntries(perRound.map((r, i) => [`rps_w2_over_w1_round_${i + 1}`, r.rps_ratio_w2_over_w1])) },
    targets: { rps_ratio_ge_1_3: median >= 1.3, pooled_ratio_ge_1_3: pooledRatio >= 1.3, every_round_ge_1_3: ratios[0]! >= 1.3, moved_gt_0: perRound.every((r) => r.w2.scheduler.moved > 0), all_ok: perRound.every((r) => r.w1.failed + r.w2.failed === 0 && r.w1.grpc_status === 0 && r.w2.grpc_status === 0) },
  });
  writeBenchOutput(out, jsonRequested());
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
