/**
 * bench:h2 — unary gRPC through Ringside's HTTP/2 proxy (Http2 → Http2), driven by h2load
 * (8 connections × 16 streams), next to HAProxy proxying the same traffic end to end over h2c
 * (`proto h2` on both sides, one thread) and a bare node:http2 pass-through forwarder
 * (bench/h2-peers.ts), in one run. All forward to one node:http2 unary gRPC responder. The figure is
 * CPU µs per call of every thread of the server under test (user + system from /proc), with p99
 * from h2load's per-request log; the direct run (h2load → responder) is the floor for latency.
 *
 * Then the streaming figure: each call a server stream of 1,000 gRPC messages of 17 bytes (100 per
 * DATA write), 8 connections × 4 streams, direct, through Ringside and through HAProxy: messages/s
 * counted from the DATA bytes h2load received (every completed stream must have brought all of its
 * messages), the p99 of a whole stream, and CPU µs per message of the proxy. The proxies pass the
 * bytes through without parsing the gRPC messages. About 60 s in all with the defaults.
 *
 *   node dist/bench/h2.js [--json] [--seconds 5] [--connections 8] [--streams 16]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_LOCK, BENCH_RINGSIDE, processCpuSeconds, ratio, startSidecar } from './common.js';
import { benchOutput, jsonRequested, writeBenchOutput } from './output.js';

const PEERS = fileURLToPath(new URL('./h2-peers.js', import.meta.url));
const PATH = '/bench.Echo/Unary';
/** A server stream of STREAM_MESSAGES messages per call (bench/h2-peers.ts). */
const STREAM_PATH = '/bench.Echo/Stream';
/** Messages per streaming call, passed to the responder (bench/h2-peers.ts). */
const STREAM_MESSAGES = 1000;
/** Bytes of one reply message: 5-byte gRPC prefix + `hello world!`. */
const MESSAGE_BYTES = 17;

interface H2Result {
  name: string;
  calls: number;
  failed: number;
  rps: number;
  p50_us: number;
  p99_us: number;
  cpu_us_per_call: number;
  /** Response DATA bytes h2load received in the measured window. */
  data_bytes: number;
  seconds: number;
}

interface H2Opts {
  seconds: number;
  connections: number;
  streams: number;
  path?: string;
  /** Calls of the warm-up run before the measured one. */
  warmup?: number;
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

function startPeer(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [PEERS, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m !== null) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`h2-peers ${args[0]} exited with ${code}`)));
  });
}

function freePort(): number {
  const out = execFileSync(process.execPath, ['-e', "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"], { encoding: 'utf8' });
  return Number(out.trim());
}

function startHaproxy(dir: string, port: number, upstreamPort: number): ChildProcess {
  const cfg = join(dir, 'haproxy-h2.cfg');
  writeFileSync(
    cfg,
    `global
  nbthread 1
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend h2in
  bind 127.0.0.1:${port} proto h2
  default_backend h2out
backend h2out
  http-reuse always
  server up 127.0.0.1:${upstreamPort} proto h2
`,
  );
  return spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** One h2load run against `addr`; CPU of `pids` over exactly that run. */
function h2load(name: string, addr: string, pids: number[], body: string, log: string, opts: H2Opts): H2Result {
  const url = `http://${addr}${opts.path ?? PATH}`;
  const common = ['-c', String(opts.connections), '-m', String(opts.streams), '-d', body, '-H', 'content-type: application/grpc', '-H', 'te: trailers'];
  // Warm-up outside the measured window: V8 optimises the path, pools fill.
  execFileSync('flock', [BENCH_LOCK, 'h2load', ...common, '-n', String(opts.warmup ?? 5000), url], { encoding: 'utf8', timeout: 30_000 });
  rmSync(log, { force: true });
  const before = pids.reduce((s, p) => s + processCpuSeconds(p), 0);
  const out = execFileSync('flock', [BENCH_LOCK, 'h2load', ...common, '-D', String(opts.seconds), '--log-file', log, url], {
    encoding: 'utf8',
    timeout: (opts.seconds + 30) * 1000,
  });
  const after = pids.reduce((s, p) => s + processCpuSeconds(p), 0);
  const m = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed/.exec(out);
  const finished = /finished in ([\d.]+)s, ([\d.]+) req\/s/.exec(out);
  const data = /traffic: .*?, .*? headers .*?, [\d.]+\w*B \((\d+)\) data/.exec(out);
  const succeeded = Number(m?.[3] ?? 0);
  if (succeeded === 0) throw new Error(`${name}: no call succeeded at ${addr}:\n${out.slice(-600)}`);
  if (data === null || finished === null) throw new Error(`${name}: unreadable h2load summary:\n${out.slice(-600)}`);
  const times = readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => Number(l.split('\t')[2]))
    .sort((a, b) => a - b);
  const pct = (q: number): number => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? -1;
  return {
    name,
    calls: succeeded,
    failed: Number(m?.[4] ?? 0),
    rps: Math.round(Number(finished[2])),
    p50_us: pct(0.5),
    p99_us: pct(0.99),
    cpu_us_per_call: pids.length === 0 || succeeded === 0 ? -1 : Math.round(((after - before) * 1e6 * 100) / succeeded) / 100,
    data_bytes: Number(data[1]),
    seconds: Number(finished[1]),
  };
}

interface StreamResult extends H2Result {
  messages_per_s: number;
  cpu_us_per_message: number;
}

/** A server-streaming run: messages from the DATA bytes, checked against the completed streams. */
function streamRun(name: string, addr: string, pids: number[], body: string, log: string, opts: H2Opts): StreamResult {
  const r = h2load(name, addr, pids, body, log, { ...opts, path: STREAM_PATH, warmup: 64 });
  const messages = Math.floor(r.data_bytes / MESSAGE_BYTES);
  // Streams still open when the window closed add partial bytes; completed ones must be whole.
  if (messages < r.calls * STREAM_MESSAGES) throw new Error(`${name}: ${r.calls} streams completed but only ${messages} messages arrived`);
  const cpuUs = pids.length === 0 ? -1 : (r.cpu_us_per_call * r.calls) / messages;
  return { ...r, messages_per_s: Math.round(messages / r.seconds), cpu_us_per_message: cpuUs < 0 ? -1 : Math.round(cpuUs * 1000) / 1000 };
}

async function main(): Promise<void> {
  const opts = { seconds: arg('--seconds', 5), connections: arg('--connections', 8), streams: arg('--streams', 16) };
  const dir = mkdtempSync(join(tmpdir(), 'ringside-bench-h2-'));
  const body = join(dir, 'request.bin');
  writeFileSync(body, Buffer.concat([Buffer.from([0, 0, 0, 0, 5]), Buffer.from('hello')]));
  const children: ChildProcess[] = [];
  const stops: (() => Promise<void>)[] = [];
  try {
    const upstream = await startPeer(['upstream', String(STREAM_MESSAGES)]);
    children.push(upstream.child);
    const up = `127.0.0.1:${upstream.port}`;
    const forwarder = await startPeer(['forwarder', up]);
    children.push(forwarder.child);
    const haPort = freePort();
    const haproxy = startHaproxy(dir, haPort, upstream.port);
    children.push(haproxy);
    const config = (workers: string) => ({
      servers: [
        {
          routers: [{ router_config_name: 'r', virtual_hosts: [{ name: 'all', domains: ['*'], routers: [{ match: { prefix: '/bench.Echo/' }, route: { cluster_name: 'up' } }] }] }],
          listeners: [
            {
              name: workers,
              address: '127.0.0.1:0',
              bind_port: true,
              filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'Http2', upstream_protocol: 'Http2', router_config_name: 'r' } }] }],
            },
          ],
        },
      ],
      cluster_manager: { clusters: [{ name: 'up', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: up }] }] },
      ringside: BENCH_RINGSIDE,
    });
    const w1 = await startSidecar(config('h2'), 1);
    stops.push(() => w1.stop());
    await new Promise((r) => setTimeout(r, 300)); // HAProxy up
    const log = join(dir, 'h2load.log');
    const results = [
      h2load('direct', up, [], body, log, opts),
      h2load('ringside-w1', w1.listeners.get('h2')!, [w1.pid], body, log, opts),
      h2load('haproxy-h2', `127.0.0.1:${haPort}`, [haproxy.pid!], body, log, opts),
      h2load('node-http2-forwarder', `127.0.0.1:${forwarder.port}`, [forwarder.child.pid!], body, log, opts),
    ];
    const [, rs, ha, nf] = results as [H2Result, H2Result, H2Result, H2Result];
    // Streaming: each call is a server stream of STREAM_MESSAGES messages; C connections × 4 streams.
    const streamOpts = { ...opts, streams: 4 };
    const streaming = [
      streamRun('stream-direct', up, [], body, log, streamOpts),
      streamRun('stream-ringside-w1', w1.listeners.get('h2')!, [w1.pid], body, log, streamOpts),
      streamRun('stream-haproxy-h2', `127.0.0.1:${haPort}`, [haproxy.pid!], body, log, streamOpts),
    ];
    const [sd, sr, sh] = streaming as [StreamResult, StreamResult, StreamResult];
    const out = benchOutput('h2', {
      params: { ...opts, path: PATH, load: 'h2load -c C -m S (unary gRPC, 10-byte request, 17-byte reply + trailers)', upstream: 'node:http2 responder' },
      results,
      detail: { streaming_load: `h2load -c ${opts.connections} -m 4, ${opts.seconds} s, ${STREAM_PATH}: a server stream of ${STREAM_MESSAGES} messages of ${MESSAGE_BYTES} bytes`, streaming },
      ratios: {
        stream_msgs_ringside_over_direct: ratio(sr.messages_per_s, sd.messages_per_s),
        stream_msgs_ringside_over_haproxy: ratio(sr.messages_per_s, sh.messages_per_s),
        stream_p99_ringside_over_haproxy: ratio(sr.p99_us, sh.p99_us),
        cpu_ringside_over_haproxy: ratio(rs.cpu_us_per_call, ha.cpu_us_per_call),
        cpu_ringside_over_node_forwarder: ratio(rs.cpu_us_per_call, nf.cpu_us_per_call),
        p99_ringside_over_haproxy: ratio(rs.p99_us, ha.p99_us),
      },
      targets: { cpu_over_haproxy_max: 3, cpu_over_node_forwarder_max: 0.5 },
      notes: ['one run, side by side, on a shared 2-core machine; h2load and the responder run on the same cores'],
    });
    writeBenchOutput(
      out,
      jsonRequested(),
      [
        ...results.map((r) => `${r.name.padEnd(22)} ${String(r.rps).padStart(7)} calls/s  p50 ${r.p50_us} µs  p99 ${r.p99_us} µs  CPU ${r.cpu_us_per_call} µs/call  failed ${r.failed}`),
        ...streaming.map((r) => `${r.name.padEnd(22)} ${String(r.messages_per_s).padStart(8)} msgs/s  stream p50 ${r.p50_us} µs  p99 ${r.p99_us} µs  CPU ${r.cpu_us_per_message} µs/msg  failed ${r.failed}`),
      ],
    );
  } finally {
    for (const s of stops) await s();
    for (const c of children) c.kill('SIGTERM');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:h2: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
