/**
 * bench:http — Ringside's HTTP/1.1 `proxy` listener against nginx and HAProxy, in one run, on the
 * anchor upstream (127.0.0.1:19000). Every figure comes from ../shared/bench/cpu-per-request.sh:
 * CPU µs per request of all threads of the server under test, which holds on this shared machine
 * where req/s does not. Prints the JSON of bench/output.ts.
 *
 *   node dist/bench/http.js [--json] [--seconds 5] [--connections 32] [--rounds 3] [--cpu-prof DIR]
 *
 * Each round measures Ringside --workers 1, --workers 2, nginx and HAProxy back to back; the report
 * gives each server's median round and the median of the per-round CPU ratios.
 *
 * --cpu-prof DIR starts the sidecars under `node --cpu-prof` (worker threads write their own
 * profiles there too); the CPU figures then include the profiler's cost.
 */
import {
  BENCH_RINGSIDE,
  anchorPids,
  cpuPerRequest,
  parseArgs,
  ratio,
  startAnchors,
  startSidecar,
  median,
  medianBy,
  type CpuResult,
} from './common.js';
import { benchOutput, writeBenchOutput } from './output.js';

const UPSTREAM = '127.0.0.1:19000';

const config = {
  servers: [
    {
      routers: [
        {
          router_config_name: 'r',
          virtual_hosts: [{ name: 'all', domains: ['*'], routers: [{ match: { prefix: '/' }, route: { cluster_name: 'up' } }] }],
        },
      ],
      listeners: [
        {
          name: 'http',
          address: '127.0.0.1:0',
          bind_port: true,
          filter_chains: [
            {
              filters: [
                { type: 'proxy', config: { downstream_protocol: 'Http1', upstream_protocol: 'Http1', router_config_name: 'r' } },
              ],
            },
          ],
        },
      ],
    },
  ],
  cluster_manager: {
    clusters: [{ name: 'up', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: UPSTREAM }] }],
  },
  ringside: BENCH_RINGSIDE,
};

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const profIndex = process.argv.indexOf('--cpu-prof');
  const nodeArgs = profIndex > 0 && process.argv[profIndex + 1] !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${process.argv[profIndex + 1]}`] : [];
  startAnchors();
  const { seconds, connections, rounds } = args;
  // Both sidecars stay up for the whole run (an idle one costs nothing) so that every round measures
  // all four servers back to back: on this shared machine the load from others drifts over a minute,
  // and a ratio taken within one round pairs figures taken under the same conditions.
  const w1 = await startSidecar(config, 1, nodeArgs);
  const w2 = await startSidecar(config, 2, nodeArgs).catch(async (err: unknown) => {
    await w1.stop();
    throw err;
  });
  const perRound: Record<string, CpuResult>[] = [];
  try {
    const url1 = `http://${w1.listeners.get('http')}/`;
    const url2 = `http://${w2.listeners.get('http')}/`;
    // Warm-up: lets V8 optimise the hot path and the upstream pools fill before figures are taken.
    cpuPerRequest('warmup', url1, [w1.pid], 2, connections);
    cpuPerRequest('warmup', url2, [w2.pid], 2, connections);
    const nginxPids = anchorPids('nginx');
    const haproxyPids = anchorPids('haproxy');
    for (let r = 0; r < rounds; r++) {
      perRound.push({
        w1: cpuPerRequest('ringside-w1', url1, [w1.pid], seconds, connections),
        w2: cpuPerRequest('ringside-w2', url2, [w2.pid], seconds, connections),
        nginx: cpuPerRequest('nginx', 'http://127.0.0.1:19081/', nginxPids, seconds, connections),
        haproxy: cpuPerRequest('haproxy', 'http://127.0.0.1:19082/', haproxyPids, seconds, connections),
      });
    }
  } finally {
    await Promise.all([w1.stop(), w2.stop()]);
  }
  const keys = ['w1', 'w2', 'nginx', 'haproxy'] as const;
  // The round whose CPU/request is the median stands for each server; ratios are medians of the
  // per-round ratios.
  const results = keys.map((k) => medianBy(perRound.map((r) => r[k]!), (x) => x.cpu_us_per_req));
  const [rw1, rw2, nginx, haproxy] = results as [CpuResult, CpuResult, CpuResult, CpuResult];
  const roundRatio = (k: 'w1' | 'w2', vs: 'nginx' | 'haproxy'): number =>
    median(perRound.map((r) => ratio(r[k]!.cpu_us_per_req, r[vs]!.cpu_us_per_req)));
  const out = benchOutput('http', {
    params: { seconds, connections, rounds, upstream: UPSTREAM, load: 'wrk -t1 via cpu-per-request.sh', cpu_prof: nodeArgs.length > 0 },
    results,
    ratios: {
      cpu_w1_over_nginx: roundRatio('w1', 'nginx'),
      cpu_w2_over_nginx: roundRatio('w2', 'nginx'),
      cpu_w1_over_haproxy: roundRatio('w1', 'haproxy'),
      cpu_w2_over_haproxy: roundRatio('w2', 'haproxy'),
    },
    targets: { cpu_over_nginx_max: 1.25 },
    notes: ['each result is its median round (by CPU/request); ratios are medians of the per-round ratios'],
    detail: {
      p99_us: { w1: rw1.p99_us, w2: rw2.p99_us, nginx: nginx.p99_us, haproxy: haproxy.p99_us },
      per_round: perRound.map((r) => Object.fromEntries(keys.map((k) => [k, { cpu_us_per_req: r[k]!.cpu_us_per_req, rps: r[k]!.rps, p99_us: r[k]!.p99_us }]))),
    },
  });
  writeBenchOutput(
    out,
    args.json,
    results.map((r) => `${r.name.padEnd(12)} ${String(r.rps).padStart(7)} req/s  p50 ${r.p50_us} µs  p99 ${r.p99_us} µs  CPU ${r.cpu_us_per_req} µs/req  errors ${r.errors}`),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:http: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
