/**
 * bench:compressor — what offloading compression buys: the p99 latency of small JSON requests
 * (`Accept-Encoding: gzip`, compressed inline on the worker) through a `ringside start --workers 1`
 * proxy with the `compressor` filter, alone and while large bodies are compressed, in three phases of
 * one run against one sidecar:
 *
 *   small-only            the small load alone
 *   small+large uncompressed  the same while the large bodies below are fetched without
 *                         Accept-Encoding: what carrying them costs, without compressing them
 *   small+large offload   the same small load while ~1 MiB JSON bodies are fetched gzip-compressed at
 *                         a fixed rate, compressed on the piscina pool (offload_min_bytes 64 KiB,
 *                         ringside.offload.threads 1)
 *   small+large inline    the same, on a listener whose offload_min_bytes is above the large size:
 *                         every large body is compressed on the worker's loop
 *
 * A discarded warm-up runs both listeners first. Both loads are open loop at fixed rates well below what the worker can serve (`ringside bench -R`,
 * whose latency counts from each request's intended send time, and a paced large-body client), so
 * the phases carry the same work and differ only in where the large bodies are compressed: a closed
 * loop at saturation would instead measure how much CPU the extra work takes from the small requests
 * on this 2-core machine, wherever it runs. What a large body costs the loop when compressed inline
 * (about 10-20 ms of gzip) is what a small request queued behind it waits.
 *
 * Prints JSON: per phase the small requests' rate, p50/p99/p999 (µs), errors, the large bodies
 * compressed per second and the compressor counters of that phase, and the ratio of each loaded
 * phase's small p99 to the small-only p99.
 *
 *   node dist/bench/compressor.js [--json] [--seconds 5] [--small-rate 2000] [--large-rate 8]
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { BENCH_RINGSIDE, adminStats, startSidecar } from './common.js';
import { benchOutput, jsonRequested, progress, ratioOf, writeBenchOutput } from './output.js';

const CLI = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'dist', 'src', 'cli', 'main.js');

function numberArg(name: string, fallback: number): number {
  const argv = process.argv.slice(2);
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(argv[i + 1]);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}: expected a positive number, got "${argv[i + 1]}"`);
  return n;
}

const SECONDS = numberArg('seconds', 5);
const SMALL_RATE = numberArg('small-rate', 2000);
const LARGE_RATE = numberArg('large-rate', 8);
const OFFLOAD_MIN_BYTES = 64 * 1024;

const SMALL = JSON.stringify({ items: Array.from({ length: 12 }, (_, i) => ({ id: i, name: `item-${i}`, tags: ['a', 'b'] })) });
const LARGE_ITEMS = 16_000;

/** The upstream runs in its own process so its CPU does not compete inside this one. */
const UPSTREAM_SRC = `
const http = require('node:http');
const small = ${JSON.stringify(SMALL)};
const large = JSON.stringify({ items: Array.from({ length: ${LARGE_ITEMS} }, (_, i) => ({ id: i, name: 'item-' + i, note: 'x'.repeat(i % 40) })) });
http.createServer((req, res) => {
  const body = req.url === '/large' ? large : small;
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}).listen(0, '127.0.0.1', function () { process.stdout.write('port ' + this.address().port + ' large ' + Buffer.byteLength(large) + '\\n'); });
`;

/** Two listeners on one worker, the same but for where a large body is compressed. */
function config(upstream: string): object {
  const listener = (name: string, offloadMinBytes: number) => ({
    name,
    address: '127.0.0.1:0',
    bind_port: true,
    filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'Http1', upstream_protocol: 'Http1', router_config_name: 'r' } }] }],
    stream_filters: [{ type: 'compressor', config: { compressor_library: { name: 'gzip' }, offload_min_bytes: offloadMinBytes } }],
  });
  return {
    servers: [
      {
        routers: [{ router_config_name: 'r', virtual_hosts: [{ name: 'all', domains: ['*'], routers: [{ match: { prefix: '/' }, route: { cluster_name: 'up' } }] }] }],
        listeners: [listener('offload', OFFLOAD_MIN_BYTES), listener('inline', 2 ** 30)],
      },
    ],
    cluster_manager: { clusters: [{ name: 'up', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: upstream }] }] },
    ringside: { ...BENCH_RINGSIDE, offload: { threads: 1 } },
  };
}

interface SmallResult {
  requests: number;
  errors: number;
  rps: number;
  target_rps: number;
  p50_us: number;
  p99_us: number;
  p999_us: number;
  max_us: number;
  warnings: string[];
}

/** The small load: `ringside bench` open loop in its own process; async so the large load runs meanwhile. */
async function smallLoad(url: string, seconds: number, warmup: number): Promise<SmallResult> {
  const args = [CLI, 'bench', '-R', String(SMALL_RATE), '-c', '16', '-t', '1', '-d', `${seconds}s`, '--warmup', `${warmup}s`, '-H', 'Accept-Encoding: gzip', '--json', url];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  // 1: the run completed with errors or warnings; its JSON says which.
  if ((code !== 0 && code !== 1) || stdout.trim() === '') throw new Error(`ringside bench failed (${code}): ${stderr.trim()}`);
  const r = JSON.parse(stdout) as { requests: number; errors: number; rps: number; target_rps: number; latency_us: Record<string, number>; warnings?: string[] };
  return {
    requests: r.requests,
    errors: r.errors,
    rps: r.rps,
    target_rps: r.target_rps,
    p50_us: r.latency_us.p50!,
    p99_us: r.latency_us.p99!,
    p999_us: r.latency_us.p999!,
    max_us: r.latency_us.max!,
    warnings: r.warnings ?? [],
  };
}

/**
 * The large load: GET /large (gzip) at LARGE_RATE/s on a fixed schedule, each on its own keep-alive
 * socket when the previous is still busy; counts completed compressed bodies. One body per phase is
 * gunzipped and parsed (the rest only checked for their header, to keep this process's CPU low).
 */
function largeLoad(address: string, compressed: boolean): { stop(): Promise<{ done: number; failed: number; seconds: number }> } {
  const [host, port] = address.split(':');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  let done = 0;
  let failed = 0;
  let verified = false;
  const inFlight = new Set<Promise<void>>();
  const one = (): void => {
    const p = new Promise<void>((resolvePromise) => {
      http
        .get({ host, port: Number(port), path: '/large', agent, headers: compressed ? { 'accept-encoding': 'gzip' } : {} }, (res) => {
          const chunks: Buffer[] | null = verified ? null : [];
          res.on('data', (c: Buffer) => chunks?.push(c));
          res.on('end', () => {
            if (res.headers['content-encoding'] !== (compressed ? 'gzip' : undefined)) failed++;
            else {
              if (chunks !== null) {
                const body = Buffer.concat(chunks);
                JSON.parse((compressed ? gunzipSync(body) : body).toString());
                verified = true;
              }
              done++;
            }
            resolvePromise();
          });
        })
        .on('error', () => {
          failed++;
          resolvePromise();
        });
    });
    inFlight.add(p);
    void p.then(() => inFlight.delete(p));
  };
  const t0 = Date.now();
  const timer = setInterval(one, 1000 / LARGE_RATE);
  return {
    async stop() {
      clearInterval(timer);
      const seconds = (Date.now() - t0) / 1000;
      await Promise.all(inFlight);
      agent.destroy();
      return { done, failed, seconds };
    },
  };
}

type Counters = Record<string, number>;
const COUNTERS = ['compressor.compressed_inline', 'compressor.compressed_offload', 'offload.completed'];

async function counters(admin: string): Promise<Counters> {
  return ((await adminStats(admin)) as unknown as { workers: { counters: Counters }[] }).workers[0]!.counters;
}

async function phase(name: string, admin: string, address: string, large: 'none' | 'plain' | 'gzip', seconds = SECONDS): Promise<Record<string, unknown> & { name: string; small: SmallResult }> {
  const before = await counters(admin);
  // The large load starts before the small load's 1 s warm-up, so the measured window is all loaded.
  const largeClients = large === 'none' ? null : largeLoad(address, large === 'gzip');
  const small = await smallLoad(`http://${address}/small`, seconds, 1);
  const largeRun = largeClients === null ? null : await largeClients.stop();
  const after = await counters(admin);
  const delta = Object.fromEntries(COUNTERS.map((k) => [k.replace(/^.*\./, ''), (after[k] ?? 0) - (before[k] ?? 0)]));
  const result = {
    name,
    small,
    large_per_s: largeRun === null ? 0 : Math.round((largeRun.done / largeRun.seconds) * 10) / 10,
    large_failed: largeRun?.failed ?? 0,
    ...delta,
  };
  progress(`${name}: small ${small.rps}/${small.target_rps} req/s p50 ${small.p50_us} µs p99 ${small.p99_us} µs; large ${result.large_per_s}/s; offloaded ${String(delta.compressed_offload)}`);
  return result;
}

async function main(): Promise<void> {
  const up = spawn(process.execPath, ['-e', UPSTREAM_SRC], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [port, largeBytes] = await new Promise<[number, number]>((r) =>
    up.stdout!.on('data', (d: Buffer) => {
      const m = /port (\d+) large (\d+)/.exec(d.toString());
      if (m !== null) r([Number(m[1]), Number(m[2])]);
    }),
  );
  let sc: Awaited<ReturnType<typeof startSidecar>> | undefined;
  try {
    sc = await startSidecar(config(`127.0.0.1:${port}`), 1);
    const offloadAt = sc.listeners.get('offload')!;
    const inlineAt = sc.listeners.get('inline')!;
    // Not reported: JIT warm-up of both paths and the offload pool's first start (piscina is
    // imported and its thread started by the first offloaded task).
    await phase('warm-up offload', sc.admin, offloadAt, 'gzip', 2);
    await phase('warm-up inline', sc.admin, inlineAt, 'gzip', 1);
    const smallOnly = await phase('small-only', sc.admin, offloadAt, 'none');
    const plain = await phase('small+large uncompressed', sc.admin, offloadAt, 'plain');
    const offload = await phase('small+large offload', sc.admin, offloadAt, 'gzip');
    const inline = await phase('small+large inline', sc.admin, inlineAt, 'gzip');
    const p99 = (r: { small: SmallResult }): number => r.small.p99_us;
    const out = benchOutput('compressor', {
      params: {
        small: `ringside bench -R ${SMALL_RATE} -c 16 -t 1 -d ${SECONDS}s --warmup 1s, ${SMALL.length} B JSON, gzip inline`,
        large: `GET at ${LARGE_RATE}/s, ${largeBytes} B JSON gzip-compressed`,
        workers: 1,
        offload_threads: 1,
        offload_min_bytes: OFFLOAD_MIN_BYTES,
      },
      results: [smallOnly, plain, offload, inline],
      ratios: {
        small_p99_uncompressed_over_alone: ratioOf(p99(plain), p99(smallOnly)),
        small_p99_offload_over_alone: ratioOf(p99(offload), p99(smallOnly)),
        small_p99_inline_over_alone: ratioOf(p99(inline), p99(smallOnly)),
        small_p99_inline_over_offload: ratioOf(p99(inline), p99(offload)),
      },
      notes: ['latency from each intended send time (open loop); the machine is shared: compare the phases of one run'],
    });
    writeBenchOutput(out, jsonRequested());
  } finally {
    await sc?.stop();
    up.kill();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
