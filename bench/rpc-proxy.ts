/**
 * The X-protocol proxy benchmarks (bench:bolt, bench:dubbo) — CPU µs per call of the sidecar for RPC
 * calls through Ringside's `proxy` listener of that protocol, next to HAProxy `mode tcp` forwarding the
 * same traffic (the L4 floor) and next to Ringside's own HTTP/1.1 proxy (to the nginx anchor
 * upstream), in one run, driven by the same load: `ringside bench` with the same connections and one
 * request in flight on each, at the rate the RPC run reached (open loop) — plus Ringside's HTTP/1.1
 * proxy closed loop at its own pace. CPU is utime+stime of every thread of the process under test
 * (/proc) over the measured window, divided by the requests completed; p99 is the load generator's.
 * Prints the JSON of bench/output.ts.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { BENCH_RINGSIDE, parseArgs, processCpuSeconds, ratio, startAnchors, startSidecar } from './common.js';
import { benchOutput, jsonRequested, writeBenchOutput } from './output.js';
import { startHaproxyTcp } from './haproxy-tcp.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const CLI = resolve(here, '../src/cli/main.js');
const HTTP_UPSTREAM = '127.0.0.1:19000';

/** What differs between the protocols. */
export interface RpcBench {
  /** The protocol name: codec, bench driver, URL scheme. */
  readonly protocol: 'bolt' | 'dubbo';
  /** The upstream server script in bench/ (prints "… on PORT"). */
  readonly server: string;
  /** The `service` header value the route matches. */
  readonly service: string;
  /** The service id `ringside bench --id` calls. */
  readonly id: string;
}

async function startRpcServer(script: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [join(here, script)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((r) => createInterface({ input: child.stdout! }).once('line', r));
  return { child, port: Number(/on (\d+)/.exec(line)![1]) };
}

interface Run {
  name: string;
  rps: number;
  requests: number;
  errors: number;
  p50_us: number;
  p99_us: number;
  cpu_us_per_req: number;
}

/** One `ringside bench` run against target, charging the CPU of `pid`. */
function measure(name: string, pid: number, benchArgs: string[], seconds: number, connections: number): Run {
  const c0 = processCpuSeconds(pid);
  const out = execFileSync(process.execPath, [CLI, 'bench', '--json', '--threads', '1', '-c', String(connections), '--concurrency', '1', '-d', `${seconds}s`, ...benchArgs], {
    encoding: 'utf8',
    timeout: (seconds + 60) * 1000,
  });
  const cpu = processCpuSeconds(pid) - c0;
  const r = JSON.parse(out) as { requests: number; errors: number; rps: number; latency_us: { p50: number; p99: number } };
  return {
    name,
    rps: r.rps,
    requests: r.requests,
    errors: r.errors,
    p50_us: r.latency_us.p50,
    p99_us: r.latency_us.p99,
    cpu_us_per_req: r.requests === 0 ? 0 : Math.round(((cpu * 1e6) / r.requests) * 10) / 10,
  };
}

export async function runRpcBench(spec: RpcBench): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const seconds = args.seconds;
  const connections = args.connections;
  startAnchors();
  const rpc = await startRpcServer(spec.server);
  const hap = await startHaproxyTcp(rpc.port, { listen: spec.protocol, server: 'rpc', nbthread: 1 });
  const config = {
    servers: [
      {
        routers: [
          {
            router_config_name: 'r',
            virtual_hosts: [
              {
                name: 'all',
                domains: ['*'],
                routers: [
                  { match: { headers: [{ name: 'service', value: spec.service }] }, route: { cluster_name: 'rpc' } },
                  { match: { prefix: '/' }, route: { cluster_name: 'http' } },
                ],
              },
            ],
          },
        ],
        listeners: [
          { name: 'rpc', address: '127.0.0.1:0', bind_port: true, filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: spec.protocol, router_config_name: 'r' } }] }] },
          { name: 'http', address: '127.0.0.1:0', bind_port: true, filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'Http1', upstream_protocol: 'Http1', router_config_name: 'r' } }] }] },
        ],
      },
    ],
    cluster_manager: {
      clusters: [
        { name: 'rpc', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: `127.0.0.1:${rpc.port}` }] },
        { name: 'http', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: HTTP_UPSTREAM }] },
      ],
    },
    ringside: BENCH_RINGSIDE,
  };
  const sidecar = await startSidecar(config, 1);
  const call = ['-p', spec.protocol, '--id', spec.id, '--method', 'plus', '--data', '[1,2]'];
  try {
    const via = (port: string): string[] => [...call, `${spec.protocol}://${port}`];
    const ringRpc = sidecar.listeners.get('rpc')!;
    const ringHttp = sidecar.listeners.get('http')!;
    // Warm-up: JIT, pools and the upstream's own warm-up out of the way.
    measure('warmup', sidecar.pid, via(ringRpc), 1, connections);
    measure('warmup', sidecar.pid, [`http://${ringHttp}/`], 1, connections);
    measure('warmup', hap.pid, via(`127.0.0.1:${hap.port}`), 1, connections);
    // The RPC upstream (sofa-rpc-node, one thread) sets the pace; the other two are driven at the
    // rate the RPC proxy reached (open loop), since CPU per request falls as more requests share
    // each read and write: figures taken at one rate compare.
    const first = measure(`ringside ${spec.protocol} proxy`, sidecar.pid, via(ringRpc), seconds, connections);
    const rate = ['-R', String(Math.max(1, Math.floor(first.rps)))];
    const runs = [
      first,
      measure(`haproxy mode tcp (${spec.protocol})`, hap.pid, [...rate, ...via(`127.0.0.1:${hap.port}`)], seconds, connections),
      measure('ringside http1 proxy', sidecar.pid, [...rate, `http://${ringHttp}/`], seconds, connections),
      measure('ringside http1 proxy, closed loop', sidecar.pid, [`http://${ringHttp}/`], seconds, connections),
    ];
    const [rb, hp, rh] = runs as [Run, Run, Run, Run];
    const out = benchOutput(spec.protocol, {
      params: { seconds, connections, in_flight_per_connection: 1, workers: 1 },
      results: runs,
      ratios: {
        [`${spec.protocol}_vs_haproxy_tcp`]: ratio(rb.cpu_us_per_req, hp.cpu_us_per_req),
        [`${spec.protocol}_vs_ringside_http1`]: ratio(rb.cpu_us_per_req, rh.cpu_us_per_req),
      },
      targets: { [`${spec.protocol}_vs_haproxy_tcp`]: '<= 1.5', [`${spec.protocol}_vs_ringside_http1`]: '<= 1' },
      notes: ['shared 2-core machine: compare the figures of one run side by side'],
    });
    writeBenchOutput(out, jsonRequested(), runs.map((r) => `${r.name}: ${r.cpu_us_per_req} µs CPU/call, p99 ${r.p99_us} µs, ${r.rps} calls/s`));
  } finally {
    await sidecar.stop();
    hap.stop();
    rpc.child.kill('SIGTERM');
  }
}

/** Runs one spec as a script's main; exits 1 with the stack on failure. */
export function runMain(spec: RpcBench): void {
  runRpcBench(spec).catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
