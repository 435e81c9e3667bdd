/**
 * bench:compressor — what offloading compression buys: small JSON requests (wrk, 16 connections,
 * `Accept-Encoding: gzip`, compressed inline on the worker) measured for p99 latency through a
 * `ringside start --workers 1` proxy listener with the `compressor` filter, in three phases of one run:
 *
 *   small-only            the small load alone
 *   small+large offload   the same small load while 2 clients fetch 1 MiB JSON bodies gzip-compressed
 *                         on the piscina pool (offload_min_bytes 64 KiB, ringside.offload.threads 1)
 *   small+large inline    the same, with offload_min_bytes above the large size: compressed on the worker
 *
 * Prints JSON: small req/s and p50/p99, large bodies compressed per second, and the ratio of each
 * loaded phase's small p99 to the small-only p99.
 *
 *   node dist/bench/compressor.js [--seconds 5]
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { BENCH_RINGSIDE, adminStats, startSidecar } from './common.js';
import { benchOutput, jsonRequested, ratioOf, writeBenchOutput } from './output.js';

const args = process.argv.slice(2);
const seconds = Number(args[args.indexOf('--seconds') + 1] ?? 5) || 5;
const note = (line: string): void => void process.stderr.write(line + '\n');

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
}).listen(0, '127.0.0.1', function () { process.stdout.write('port ' + this.address().port + '\\n'); });
`;

function config(upstream: string, offloadMinBytes: number): object {
  return {
    servers: [
      {
        routers: [{ router_config_name: 'r', virtual_hosts: [{ name: 'all', domains: ['*'], routers: [{ match: { prefix: '/' }, route: { cluster_name: 'up' } }] }] }],
        listeners: [
          {
            name: 'http',
            address: '127.0.0.1:0',
            bind_port: true,
            filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'Http1', upstream_protocol: 'Http1', router_config_name: 'r' } }] }],
            stream_filters: [{ type: 'compressor', config: { compressor_library: { name: 'gzip' }, offload_min_bytes: offloadMinBytes } }],
          },
        ],
      },
    ],
    cluster_manager: { clusters: [{ name: 'up', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: upstream }] }] },
    ringside: { ...BENCH_RINGSIDE, offload: { threads: 1 } },
  };
}

/** Async on purpose: the large-body clients run on this process's loop while wrk runs. */
async function wrk(url: string): Promise<{ rps: number; p50_us: number; p99_us: number }> {
  const child = spawn('wrk', ['-t1', '-c16', `-d${seconds}s`, '--latency', '-H', 'Accept-Encoding: gzip', url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`wrk failed: ${stderr}`);
  const r = { stdout };
  const us = (label: string): number => {
    const m = new RegExp(`^\\s*${label}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(r.stdout);
    if (m === null) return NaN;
    const v = Number(m[1]);
    return Math.round(m[2] === 'us' ? v : m[2] === 'ms' ? v * 1000 : v * 1e6);
  };
  return { rps: Math.round(Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1] ?? 0)), p50_us: us('50'), p99_us: us('99') };
}

/** Two clients fetching the large body, gzip, back to back, until stopped; counts verified bodies. */
function largeLoad(address: string): { stop(): Promise<number> } {
  const [host, port] = address.split(':');
  let running = true;
  let done = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      http
        .get({ host, port: Number(port), path: '/large', agent, headers: { 'accept-encoding': 'gzip' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            if (res.headers['content-encoding'] !== 'gzip') return reject(new Error('large body was not compressed'));
            JSON.parse(gunzipSync(Buffer.concat(chunks)).toString());
            done++;
            resolve();
          });
        })
        .on('error', reject);
    });
  const lane = async (): Promise<void> => {
    while (running) await one();
  };
  const lanes = [lane(), lane()];
  return {
    async stop() {
      running = false;
      await Promise.all(lanes);
      agent.destroy();
      return done;
    },
  };
}

async function phase(name: string, upstream: string, offloadMinBytes: number, withLarge: boolean): Promise<Record<string, unknown>> {
  const sc = await startSidecar(config(upstream, offloadMinBytes), 1);
  try {
    const address = sc.listeners.get('http')!;
    await wrk(`http://${address}/small`); // warm-up
    const large = withLarge ? largeLoad(address) : null;
    const t0 = Date.now();
    const small = await wrk(`http://${address}/small`);
    const largeDone = large === null ? 0 : await large.stop();
    const counters = ((await adminStats(sc.admin)) as unknown as { workers: { counters: Record<string, number> }[] }).workers[0]!.counters;
    const result = {
      name,
      small,
      large_per_s: Math.round((largeDone / ((Date.now() - t0) / 1000)) * 10) / 10,
      compressed_inline: counters['compressor.compressed_inline'] ?? 0,
      compressed_offload: counters['compressor.compressed_offload'] ?? 0,
      offload_completed: counters['offload.completed'] ?? 0,
    };
    note(`${name}: small ${small.rps} req/s p99 ${small.p99_us} µs; large ${result.large_per_s}/s; offload ${result.compressed_offload}`);
    return result;
  } finally {
    await sc.stop();
  }
}

async function main(): Promise<void> {
  const up = spawn(process.execPath, ['-e', UPSTREAM_SRC], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => up.stdout!.on('data', (d: Buffer) => resolve(Number(/port (\d+)/.exec(d.toString())?.[1]))));
  const upstream = `127.0.0.1:${port}`;
  try {
    const smallOnly = await phase('small-only', upstream, 65536, false);
    const offload = await phase('small+large offload', upstream, 65536, true);
    const inline = await phase('small+large inline', upstream, 2 ** 30, true);
    const p99 = (r: Record<string, unknown>): number => (r.small as { p99_us: number }).p99_us;
    const out = benchOutput('compressor', {
      params: { small: `wrk -t1 -c16 -d${seconds}s, ${SMALL.length} B JSON`, large: `2 clients, ${LARGE_ITEMS} items JSON (~1 MiB)`, workers: 1, offload_threads: 1 },
      results: [smallOnly, offload, inline].map((r) => ({ ...r, name: String((r as { name?: unknown; phase?: unknown }).name ?? (r as { phase?: unknown }).phase ?? 'phase') })),
      ratios: {
        small_p99_offload_over_alone: ratioOf(p99(offload), p99(smallOnly)),
        small_p99_inline_over_alone: ratioOf(p99(inline), p99(smallOnly)),
      },
    });
    writeBenchOutput(out, jsonRequested());
  } finally {
    up.kill();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
