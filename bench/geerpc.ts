/**
 * bench:geerpc — calls/s and CPU µs per call for a Node geerpc client → Node geerpc server (the
 * examples/geerpc-foo.ts process, Foo.Sum over gob): direct, through Ringside's geerpc proxy (one
 * worker; each call's gob header decoded, its body checked against the stream's definitions and
 * both re-encoded on the upstream connection's stream) and through HAProxy `mode tcp` (bytes
 * forwarded), in the same run. One client connection with `--depth` calls in flight, closed loop.
 * CPU is utime+stime of each process over the measured window (/proc), divided by the calls
 * completed; the target is Ringside's proxy CPU per call ≤ 2× HAProxy's. Prints JSON.
 *
 *   node dist/bench/geerpc.js [--seconds 5] [--depth 64] [--codec application/gob|application/json]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Client, type CodecType } from '../src/geerpc/index.js';
import { BENCH_RINGSIDE, processCpuSeconds, ratio, startSidecar } from './common.js';
import { benchOutput, jsonRequested, writeBenchOutput } from './output.js';
import { startHaproxyTcp } from './haproxy-tcp.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
}

async function startFoo(): Promise<{ child: ChildProcess; addr: string }> {
  const child = spawn(process.execPath, ['dist/examples/geerpc-foo.js', '--listen', 'tcp@127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const line = await new Promise<string>((r) => createInterface({ input: child.stdout! }).once('line', r));
  return { child, addr: /on (tcp@\S+)/.exec(line)![1]! };
}

interface Run {
  path: string;
  calls: number;
  callsPerSec: number;
  serverCpuUsPerCall: number;
  clientCpuUsPerCall: number;
  proxyCpuUsPerCall?: number;
}

async function run(path: string, addr: string, codec: CodecType, seconds: number, depth: number, pids: { server: number; proxy?: number }): Promise<Run> {
  const client = await Client.dial(addr, { codec });
  // Warm-up: JIT and type definitions out of the way.
  for (let i = 0; i < 2000; i++) await client.call('Foo.Sum', { Num1: i, Num2: 1 });
  const s0 = processCpuSeconds(pids.server);
  const h0 = pids.proxy === undefined ? 0 : processCpuSeconds(pids.proxy);
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const end = Date.now() + seconds * 1000;
  let calls = 0;
  await Promise.all(Array.from({ length: depth }, async (_, k) => {
    while (Date.now() < end) {
      const r = await client.call('Foo.Sum', { Num1: calls, Num2: k });
      if (typeof r !== 'number') throw new Error(`unexpected reply ${String(r)}`);
      calls++;
    }
  }));
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  const server = processCpuSeconds(pids.server) - s0;
  const proxy = pids.proxy === undefined ? undefined : processCpuSeconds(pids.proxy) - h0;
  await client.close();
  const perCall = (sec: number): number => Math.round((sec * 1e6 / calls) * 100) / 100;
  const out: Run = {
    path,
    calls,
    callsPerSec: Math.round(calls / elapsed),
    serverCpuUsPerCall: perCall(server),
    clientCpuUsPerCall: perCall((c.user + c.system) / 1e6),
  };
  if (proxy !== undefined) out.proxyCpuUsPerCall = perCall(proxy);
  return out;
}

async function main(): Promise<void> {
  const seconds = Number(arg('seconds', '5'));
  const depth = Number(arg('depth', '64'));
  const codec = arg('codec', 'application/gob') as CodecType;
  const foo = await startFoo();
  const fooPort = Number(foo.addr.slice(foo.addr.lastIndexOf(':') + 1));
  const hap = await startHaproxyTcp(fooPort, { listen: 'geerpc', server: 'foo', nbthread: 1 });
  const sidecar = await startSidecar({
    servers: [
      {
        routers: [{ router_config_name: 'r', virtual_hosts: [{ name: 'all', domains: ['*'], routers: [{ match: { headers: [{ name: 'service', value: 'Foo' }] }, route: { cluster_name: 'foo' } }] }] }],
        listeners: [{ name: 'geerpc', address: '127.0.0.1:0', bind_port: true, filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'geerpc', upstream_protocol: 'geerpc', router_config_name: 'r' } }] }] }],
      },
    ],
    cluster_manager: { clusters: [{ name: 'foo', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: `127.0.0.1:${fooPort}` }] }] },
    ringside: BENCH_RINGSIDE,
  }, 1);
  try {
    const direct = await run('direct', foo.addr, codec, seconds, depth, { server: foo.child.pid! });
    const viaRingside = codec === 'application/gob'
      ? await run('ringside geerpc proxy', `tcp@${sidecar.listeners.get('geerpc')!}`, codec, seconds, depth, { server: foo.child.pid!, proxy: sidecar.pid })
      : undefined;
    const viaHaproxy = await run('haproxy mode tcp', `tcp@127.0.0.1:${hap.port}`, codec, seconds, depth, { server: foo.child.pid!, proxy: hap.pid });
    const runs = viaRingside === undefined ? [direct, viaHaproxy] : [direct, viaRingside, viaHaproxy];
    const out = benchOutput('geerpc', {
      params: { codec, seconds, depth, connections: 1, workers: 1, haproxy_nbthread: 1 },
      results: runs.map((r) => ({ name: r.path, ...r })),
      ratios: viaRingside === undefined ? {} : { ringside_vs_haproxy_tcp_cpu_per_call: ratio(viaRingside.proxyCpuUsPerCall!, viaHaproxy.proxyCpuUsPerCall!) },
      targets: { ringside_vs_haproxy_tcp_cpu_per_call: '<= 2' },
    });
    writeBenchOutput(out, jsonRequested());
  } finally {
    await sidecar.stop();
    hap.stop();
    foo.child.kill('SIGTERM');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
