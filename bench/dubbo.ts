/**
 * bench:dubbo — sidecar CPU µs per dubbo call through Ringside's dubbo `proxy` listener, next to
 * HAProxy `mode tcp` forwarding the same dubbo traffic (the L4 floor) and next to Ringside's HTTP/1.1
 * proxy (wrk on the nginx anchor, as bench:http measures it), one run, p99 of each. The dubbo load is
 * `ringside bench -p dubbo` (the same command, options and call for both dubbo targets) against a
 * sofa-rpc-node dubbo upstream in its own process. CPU counts every thread of the server under test.
 * Prints JSON.
 *
 *   node dist/bench/dubbo.js [--json] [--seconds 8] [--connections 16]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BENCH_RINGSIDE, cpuPerRequest, parseArgs, processCpuSeconds, ratio, startAnchors, startSidecar, type CpuResult } from './common.js';

const CLI = 'dist/src/cli/main.js';

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function startUpstream(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['dist/bench/dubbo-upstream.js'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const line = await new Promise<string>((r) => createInterface({ input: child.stdout! }).once('line', r));
  return { child, port: Number(/on (\d+)/.exec(line)![1]) };
}

async function startHaproxy(upstreamPort: number): Promise<{ pid: number; port: number; stop(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'ringside-bench-haproxy-dubbo-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'haproxy.cfg'),
    ['global', '  maxconn 4096', 'defaults', '  mode tcp', '  timeout connect 5s', '  timeout client 60s', '  timeout server 60s', 'listen dubbo', `  bind 127.0.0.1:${port}`, `  server up 127.0.0.1:${upstreamPort}`, ''].join('\n'),
  );
  const pidFile = join(dir, 'haproxy.pid');
  await new Promise<void>((resolve, reject) => {
    const p = spawn('haproxy', ['-D', '-q', '-f', join(dir, 'haproxy.cfg'), '-p', pidFile], { stdio: 'ignore' });
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`haproxy exited with ${code}`))));
  });
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return { pid, port, stop: () => { process.kill(pid, 'SIGTERM'); rmSync(dir, { recursive: true, force: true }); } };
}

function sidecarConfig(upstreamPort: number): object {
  const proxy = (name: string, protocol: string, router: string) => ({
    name,
    address: '127.0.0.1:0',
    bind_port: true,
    filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: protocol, upstream_protocol: protocol, router_config_name: router } }] }],
  });
  return {
    servers: [
      {
        routers: [
          { router_config_name: 'dubbo', virtual_hosts: [{ name: 'all', domains: ['*'], routers: [{ match: { headers: [{ name: 'service', value: 'com.example.Calc' }] }, route: { cluster_name: 'calc' } }] }] },
          { router_config_name: 'http', virtual_hosts: [{ name: 'all', domains: ['*'], routers: [{ match: { prefix: '/' }, route: { cluster_name: 'nginx' } }] }] },
        ],
        listeners: [proxy('dubbo', 'dubbo', 'dubbo'), proxy('http', 'Http1', 'http')],
      },
    ],
    cluster_manager: {
      clusters: [
        { name: 'calc', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: `127.0.0.1:${upstreamPort}` }] },
        { name: 'nginx', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: '127.0.0.1:19000' }] },
      ],
    },
    ringside: BENCH_RINGSIDE,
  };
}

interface DubboRun {
  name: string;
  calls: number;
  rps: number;
  errors: number;
  p50_us: number;
  p99_us: number;
  cpu_us_per_call: number;
}

/** `ringside bench -p dubbo` at `addr`, with the CPU the server `pid` spent meanwhile. */
function dubboLoad(name: string, addr: string, pid: number, seconds: number, connections: number): DubboRun {
  const before = processCpuSeconds(pid);
  const r = spawnSync(
    process.execPath,
    [CLI, 'bench', '-p', 'dubbo', '--json', '--threads', '1', '-c', String(connections), '-d', `${seconds}s`, '--id', 'com.example.Calc:1.0.0', '--method', 'plus', '--data', '[1,2]', `dubbo://${addr}`],
    { encoding: 'utf8' },
  );
  const cpu = processCpuSeconds(pid) - before;
  if (r.status !== 0) throw new Error(`ringside bench -p dubbo ${addr} failed: ${r.stderr || r.stdout}`);
  const out = JSON.parse(r.stdout) as { requests: number; errors: number; rps: number; latency_us: { p50: number; p99: number } };
  return {
    name,
    calls: out.requests,
    rps: Math.round(out.rps),
    errors: out.errors,
    p50_us: out.latency_us.p50,
    p99_us: out.latency_us.p99,
    cpu_us_per_call: out.requests > 0 ? Math.round((cpu / out.requests) * 1e6 * 100) / 100 : -1,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const seconds = process.argv.includes('--seconds') ? args.seconds : 8;
  const connections = process.argv.includes('--connections') ? args.connections : 16;
  startAnchors();
  const upstream = await startUpstream();
  const haproxy = await startHaproxy(upstream.port);
  let sidecar: Awaited<ReturnType<typeof startSidecar>> | undefined;
  try {
    sidecar = await startSidecar(sidecarConfig(upstream.port), 1);
    const dubboAddr = sidecar.listeners.get('dubbo')!;
    const haproxyAddr = `127.0.0.1:${haproxy.port}`;
    // Warm-up: V8 optimises the hot path and the upstream pools fill before figures are taken.
    dubboLoad('warmup', dubboAddr, sidecar.pid, 2, connections);
    dubboLoad('warmup', haproxyAddr, haproxy.pid, 1, connections);
    cpuPerRequest('warmup', `http://${sidecar.listeners.get('http')}/`, [sidecar.pid], 2, connections);
    const ringsideDubbo = dubboLoad('ringside-dubbo', dubboAddr, sidecar.pid, seconds, connections);
    const haproxyTcp = dubboLoad('haproxy-tcp', haproxyAddr, haproxy.pid, seconds, connections);
    const ringsideHttp: CpuResult = cpuPerRequest('ringside-http1', `http://${sidecar.listeners.get('http')}/`, [sidecar.pid], seconds, connections);
    const report = {
      seconds,
      connections,
      workers: 1,
      results: { ringside_dubbo: ringsideDubbo, haproxy_tcp: haproxyTcp, ringside_http1: ringsideHttp },
      ratio_cpu_dubbo_vs_haproxy_tcp: ratio(ringsideDubbo.cpu_us_per_call, haproxyTcp.cpu_us_per_call),
      ratio_cpu_dubbo_vs_ringside_http1: ratio(ringsideDubbo.cpu_us_per_call, ringsideHttp.cpu_us_per_req),
      p99_us: { ringside_dubbo: ringsideDubbo.p99_us, haproxy_tcp: haproxyTcp.p99_us, ringside_http1: ringsideHttp.p99_us },
      target: { ratio_vs_haproxy_tcp_max: 1.5, ratio_vs_ringside_http1_max: 1 },
    };
    process.stdout.write(`${JSON.stringify(report, null, args.json ? 0 : 2)}\n`);
  } finally {
    await sidecar?.stop();
    haproxy.stop();
    upstream.child.kill('SIGTERM');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:dubbo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
