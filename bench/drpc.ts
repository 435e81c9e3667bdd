/**
 * bench:drpc — InvokeService over dRPC against InvokeService over the gRPC runtime API, in ONE run, on
 * ONE sidecar (`ringside start --workers 1`) whose grpc and drpc:/…sock listeners share the runtime
 * server (same invoker, channel and proxy) and reach the same upstream (the nginx anchor on
 * 127.0.0.1:19000). Both are driven by `ringside bench` with the same connections, one call in
 * flight per connection (dRPC is synchronous), rounds interleaved (grpc, drpc, grpc, …). Reports the
 * sidecar's CPU µs per call (every thread, /proc) and req/s per protocol, and the round-trip
 * p50/p99 of a bare module call (SayHello: no upstream) over both at one connection. Then the dRPC
 * proxy: the same sidecar's drpc:/…proxy.sock listener (proxy filter, downstream and upstream drpc)
 * in front of a dRPC echo server in its own process (bench/drpc-echo-server.ts), against calling
 * that server directly, same connections and body: the sidecar's CPU µs per proxied call, and
 * req/s, p50/p99 and the echo server's CPU µs per call both ways. Prints JSON.
 *
 *   node dist/bench/drpc.js [--seconds 5] [--connections 16] [--rounds 2]
 *
 * Run under the exclusive CPU lock: flock -x /tmp/ringside-cpu.lock npm run bench:drpc
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_RINGSIDE, median, parseArgs, processCpuSeconds, ratio, startAnchors, startSidecar } from './common.js';
import { benchOutput, jsonRequested, writeBenchOutput } from './output.js';

const CLI = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'dist', 'src', 'cli', 'main.js');
const args = parseArgs(process.argv.slice(2));
const connections = process.argv.includes('--connections') ? args.connections : 16;
const rounds = process.argv.includes('--rounds') ? args.rounds : 2;

function sidecarConfig(sock: string, proxySock: string, upstreamSock: string): object {
  return {
    servers: [
      {
        routers: [
          { router_config_name: 'http_router', virtual_hosts: [{ name: 'anchor', domains: ['*'], routers: [{ match: { prefix: '/' }, route: { cluster_name: 'anchor_upstream' } }] }] },
          { router_config_name: 'drpc_router', virtual_hosts: [{ name: 'echo', domains: ['*'], routers: [{ match: { headers: [{ name: 'module', value: '20' }] }, route: { cluster_name: 'drpc_echo' } }] }] },
        ],
        listeners: [
          {
            name: 'grpc',
            address: '127.0.0.1:0',
            filter_chains: [
              {
                filters: [
                  {
                    type: 'grpc',
                    config: {
                      server_name: 'runtime',
                      grpc_config: { rpcs: { mosn: { config: { before_invoke: [{ name: 'dubbo_json_rpc' }], channel: [{ size: 128, protocol: 'http', listener: 'egress_runtime_http' }] } } } },
                    },
                  },
                ],
              },
            ],
          },
          { name: 'drpc', address: `drpc:${sock}`, filter_chains: [{ filters: [{ type: 'drpc', config: { server_name: 'runtime' } }] }] },
          {
            name: 'drpc_proxy',
            address: `drpc:${proxySock}`,
            filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'drpc', upstream_protocol: 'drpc', router_config_name: 'drpc_router' } }] }],
          },
          {
            name: 'egress_runtime_http',
            address: 'egress_runtime_http',
            filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'Http1', upstream_protocol: 'Http1', router_config_name: 'http_router' } }] }],
          },
        ],
      },
    ],
    cluster_manager: {
      clusters: [
        { name: 'anchor_upstream', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: '127.0.0.1:19000', weight: 1 }] },
        { name: 'drpc_echo', hosts: [{ address: `drpc:${upstreamSock}` }] },
      ],
    },
    ringside: BENCH_RINGSIDE,
  };
}

interface LoadJson {
  requests: number;
  errors: number;
  rps: number;
  latency_us: { p50: number; p99: number };
  errors_by_status: Record<string, number>;
}

interface Run {
  protocol: 'grpc' | 'drpc' | 'drpc-proxy' | 'drpc-direct';
  rps: number;
  requests: number;
  errors: number;
  cpu_us_per_call: number;
  p50_us: number;
  p99_us: number;
}

function load(protocolArgs: string[], target: string, conns: number, seconds: number): LoadJson {
  const r = spawnSync(process.execPath, [CLI, 'bench', ...protocolArgs, '-c', String(conns), '-t', '1', '-d', `${seconds}s`, '--json', target], { encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 1) throw new Error(`ringside bench failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as LoadJson;
}

function measured(protocol: Run['protocol'], pid: number, protocolArgs: string[], target: string, conns: number, seconds: number): Run {
  const before = processCpuSeconds(pid);
  const r = load(protocolArgs, target, conns, seconds);
  const used = processCpuSeconds(pid) - before;
  const ok = r.requests - r.errors;
  if (r.errors > 0) process.stderr.write(`${protocol}: ${r.errors} errors ${JSON.stringify(r.errors_by_status)}\n`);
  // ringside bench counts only the measured window; the CPU window also holds its connect and exit,
  // which both protocols pay alike.
  return { protocol, rps: Math.round(r.rps), requests: r.requests, errors: r.errors, cpu_us_per_call: Math.round(((used * 1e6) / Math.max(1, ok)) * 10) / 10, p50_us: r.latency_us.p50, p99_us: r.latency_us.p99 };
}

/** The echo upstream of the proxy rows, in its own process. */
async function startEcho(sock: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), 'drpc-echo-server.js'), sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolveReady, reject) => {
    child.once('exit', (code) => reject(new Error(`drpc-echo-server exited (${code})`)));
    child.stdout!.once('data', () => resolveReady());
  });
  return child;
}

/** Proxied calls (sidecar CPU) and direct calls, each with the echo server's CPU per call. */
function proxyRows(sidecarPid: number, echo: ChildProcess, proxySock: string, upstreamSock: string): { proxy: Run & { upstream_cpu_us_per_call: number }; direct: Run & { upstream_cpu_us_per_call: number } } {
  const call = ['-p', 'drpc', '--call', '20/2001', '--body', 'x'.repeat(256)];
  const echoPid = echo.pid!;
  const withEcho = (protocol: 'drpc-proxy' | 'drpc-direct', pid: number, target: string): Run & { upstream_cpu_us_per_call: number } => {
    const before = processCpuSeconds(echoPid);
    const r = measured(protocol, pid, call, target, connections, args.seconds);
    const used = processCpuSeconds(echoPid) - before;
    return { ...r, upstream_cpu_us_per_call: Math.round(((used * 1e6) / Math.max(1, r.requests - r.errors)) * 10) / 10 };
  };
  load(call, `drpc:${proxySock}`, connections, 2);
  load(call, `drpc:${upstreamSock}`, connections, 2);
  const proxy = withEcho('drpc-proxy', sidecarPid, `drpc:${proxySock}`);
  // Direct: the only CPU that matters is the echo server's own (the sidecar is idle).
  const direct = withEcho('drpc-direct', echoPid, `drpc:${upstreamSock}`);
  return { proxy, direct };
}

async function main(): Promise<void> {
  startAnchors();
  const dir = mkdtempSync(join(tmpdir(), 'ringside-bench-drpc-'));
  const sock = join(dir, 'ringside.sock');
  const proxySock = join(dir, 'proxy.sock');
  const upstreamSock = join(dir, 'echo.sock');
  const echo = await startEcho(upstreamSock);
  const sc = await startSidecar(sidecarConfig(sock, proxySock, upstreamSock), 1);
  try {
    const grpcTarget = `http://${sc.listeners.get('grpc')}`;
    const drpcTarget = `drpc:${sock}`;
    const grpcInvoke = ['-p', 'grpc', '--grpc-api', 'layotto', '--concurrency', '1'];
    const drpcInvoke = ['-p', 'drpc', '--call', '10/1001'];
    // Warm-up: JIT, channel pool, upstream connections.
    load(grpcInvoke, grpcTarget, connections, 2);
    load(drpcInvoke, drpcTarget, connections, 2);
    const runs: Run[] = [];
    for (let i = 0; i < rounds; i++) {
      runs.push(measured('grpc', sc.pid, grpcInvoke, grpcTarget, connections, args.seconds));
      runs.push(measured('drpc', sc.pid, drpcInvoke, drpcTarget, connections, args.seconds));
    }
    const { proxy, direct } = proxyRows(sc.pid, echo, proxySock, upstreamSock);
    const of = (p: Run['protocol']): Run[] => runs.filter((r) => r.protocol === p);
    const cpuGrpc = median(of('grpc').map((r) => r.cpu_us_per_call));
    const cpuDrpc = median(of('drpc').map((r) => r.cpu_us_per_call));
    // Bare module call: SayHello answers in the runtime module itself, no invoker, no upstream.
    const helloGrpc = measured('grpc', sc.pid, ['-p', 'grpc', '--proto', join(dirname(CLI), '..', '..', '..', 'proto', 'spec', 'proto', 'runtime', 'v1', 'runtime.proto'), '--call', 'spec.proto.runtime.v1.Runtime/SayHello', '--message', '{"name":"bench"}'], grpcTarget, 1, args.seconds);
    const helloDrpc = measured('drpc', sc.pid, ['-p', 'drpc', '--call', '10/1002'], drpcTarget, 1, args.seconds);
    const out = benchOutput('drpc', {
      params: { tool: 'ringside bench -t 1', seconds: args.seconds, connections, in_flight_per_connection: 1, rounds, upstream: 'nginx anchor 127.0.0.1:19000', sidecar_workers: 1, proxy_call: 'module 20 method 2001, 256-byte body, echo server in its own process' },
      results: [
        { name: 'InvokeService over gRPC', median_cpu_us_per_call: cpuGrpc, median_rps: median(of('grpc').map((r) => r.rps)) },
        { name: 'InvokeService over dRPC', median_cpu_us_per_call: cpuDrpc, median_rps: median(of('drpc').map((r) => r.rps)) },
        { name: 'SayHello over dRPC, one connection', p50_us: helloDrpc.p50_us, p99_us: helloDrpc.p99_us, rps: helloDrpc.rps, cpu_us_per_call: helloDrpc.cpu_us_per_call },
        { name: 'SayHello over gRPC, one connection', p50_us: helloGrpc.p50_us, p99_us: helloGrpc.p99_us, rps: helloGrpc.rps, cpu_us_per_call: helloGrpc.cpu_us_per_call },
        { name: 'dRPC echo through the dRPC proxy', sidecar_cpu_us_per_call: proxy.cpu_us_per_call, upstream_cpu_us_per_call: proxy.upstream_cpu_us_per_call, rps: proxy.rps, p50_us: proxy.p50_us, p99_us: proxy.p99_us },
        { name: 'dRPC echo called directly', upstream_cpu_us_per_call: direct.upstream_cpu_us_per_call, rps: direct.rps, p50_us: direct.p50_us, p99_us: direct.p99_us },
      ],
      ratios: {
        cpu_drpc_over_grpc: ratio(cpuDrpc, cpuGrpc),
        proxy_cpu_over_upstream_cpu: ratio(proxy.cpu_us_per_call, direct.upstream_cpu_us_per_call),
        proxy_rps_over_direct: ratio(proxy.rps, direct.rps),
      },
      targets: { drpc_cheaper: cpuDrpc < cpuGrpc },
      detail: { runs, proxy, direct },
    });
    writeBenchOutput(out, jsonRequested());
  } finally {
    await sc.stop();
    echo.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
