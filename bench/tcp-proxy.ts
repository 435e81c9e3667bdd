/**
 * bench:tcp — `ringside start --workers 2` with a `tcp_proxy` listener in front of the anchor
 * upstream (127.0.0.1:19000), next to nginx (:19081) in the same run: CPU µs per request (all
 * threads, ../shared/bench/cpu-per-request.sh), the ratio, and how wrk's connections spread over
 * the two workers (each worker's listener totalConnections from admin /stats, before and after).
 * Target: both workers carry ≥ 30% of the connections. Prints JSON.
 *
 *   node dist/bench/tcp-proxy.js [--json] [--seconds 5] [--connections 32] [--rounds 3] [--workers 2]
 *
 * Each round measures Ringside then nginx; the report gives each one's median round and the median
 * of the per-round ratios. The spread counts every connection wrk opened over all rounds.
 */
import { benchOutput, writeBenchOutput } from './output.js';
import {
  BENCH_RINGSIDE,
  adminStats,
  anchorPids,
  cpuPerRequest,
  parseArgs,
  ratio,
  startAnchors,
  startSidecar,
  median,
  medianBy,
  type AdminStats,
  type CpuResult,
} from './common.js';

const config = {
  servers: [
    {
      listeners: [
        {
          name: 'tcp',
          address: '127.0.0.1:0',
          bind_port: true,
          filter_chains: [{ filters: [{ type: 'tcp_proxy', config: { cluster: 'up' } }] }],
        },
      ],
    },
  ],
  cluster_manager: {
    clusters: [{ name: 'up', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: '127.0.0.1:19000' }] }],
  },
  ringside: BENCH_RINGSIDE,
};

/** worker index → the tcp listener's totalConnections. */
function totals(stats: AdminStats): Map<number, number> {
  const m = new Map<number, number>();
  for (const w of stats.workers) {
    m.set(w.workerIndex, w.listeners.filter((l) => l.name === 'tcp').reduce((s, l) => s + l.totalConnections, 0));
  }
  return m;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const wi = process.argv.indexOf('--workers');
  const workers = wi > 0 ? Number(process.argv[wi + 1]) : 2;
  startAnchors();
  const sidecar = await startSidecar(config, workers);
  let spread: { worker: number; connections: number; share: number }[];
  const rounds: { ringside: CpuResult; nginx: CpuResult }[] = [];
  try {
    const url = `http://${sidecar.listeners.get('tcp')}/`;
    const nginxPids = anchorPids('nginx');
    cpuPerRequest('warmup', url, [sidecar.pid], 2, args.connections);
    const before = totals(await adminStats(sidecar.admin));
    // Rounds pair Ringside and nginx back to back: the shared machine's background load drifts.
    for (let r = 0; r < args.rounds; r++) {
      rounds.push({
        ringside: cpuPerRequest(`ringside-tcp-w${workers}`, url, [sidecar.pid], args.seconds, args.connections),
        nginx: cpuPerRequest('nginx', 'http://127.0.0.1:19081/', nginxPids, args.seconds, args.connections),
      });
    }
    const after = totals(await adminStats(sidecar.admin));
    const deltas = [...after].map(([w, n]) => ({ worker: w, connections: n - (before.get(w) ?? 0) }));
    const sum = deltas.reduce((s, d) => s + d.connections, 0);
    spread = deltas.map((d) => ({ ...d, share: sum > 0 ? Math.round((d.connections / sum) * 1000) / 1000 : 0 }));
  } finally {
    await sidecar.stop();
  }
  const ringside = medianBy(rounds.map((r) => r.ringside), (x) => x.cpu_us_per_req);
  const nginx = medianBy(rounds.map((r) => r.nginx), (x) => x.cpu_us_per_req);
  const out = benchOutput('tcp', {
    params: { seconds: args.seconds, connections: args.connections, rounds: args.rounds, workers },
    results: [ringside, nginx],
    ratios: { cpu_ringside_over_nginx: median(rounds.map((r) => ratio(r.ringside.cpu_us_per_req, r.nginx.cpu_us_per_req))) },
    targets: { spread_ok: spread.length === workers && spread.every((s) => s.share >= 0.3) },
    detail: {
      p99_us: { ringside: ringside.p99_us, nginx: nginx.p99_us },
      spread,
      per_round: rounds.map((r) => ({ ringside: r.ringside.cpu_us_per_req, nginx: r.nginx.cpu_us_per_req })),
    },
  });
  writeBenchOutput(out, args.json);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:tcp: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
