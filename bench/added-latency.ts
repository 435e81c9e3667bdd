/**
 * bench:latency — what the HTTP/1.1 `proxy` listener adds to a request's latency at a fixed rate:
 * `ringside bench -R RATE -c C --compare` through a `--workers 1` sidecar to the anchor nginx
 * (127.0.0.1:19000), then straight to nginx, open loop (per-request intended send times, corrected
 * for coordinated omission). Each round runs both back to back; the reported figures are the median
 * of the rounds.
 *
 *   node dist/bench/added-latency.js [--json] [--rate 2000] [--connections 20] [--seconds 8] [--rounds 2]
 *
 * Targets: added p50 ≤ 100 µs and added p99 ≤ 0.5 ms over direct (corrected figures).
 */
import { spawnSync } from 'node:child_process';
import { BENCH_RINGSIDE, CLI, median, numberOption, startAnchors, startSidecar } from './common.js';
import { benchOutput, jsonRequested, progress, writeBenchOutput } from './output.js';

const RATE = numberOption('rate', 2000);
const CONNECTIONS = numberOption('connections', 20);
const SECONDS = numberOption('seconds', 8);
const ROUNDS = numberOption('rounds', 2);
const DIRECT = 'http://127.0.0.1:19000/';

const config = {
  servers: [
    {
      routers: [{ router_config_name: 'r', virtual_hosts: [{ name: 'all', domains: ['*'], routers: [{ match: { prefix: '/' }, route: { cluster_name: 'up' } }] }] }],
      listeners: [
        {
          name: 'http',
          address: '127.0.0.1:0',
          bind_port: true,
          filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'Http1', upstream_protocol: 'Http1', router_config_name: 'r' } }] }],
        },
      ],
    },
  ],
  cluster_manager: { clusters: [{ name: 'up', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: '127.0.0.1:19000' }] }] },
  ringside: BENCH_RINGSIDE,
};

interface Latency {
  p50: number;
  p99: number;
}
interface CompareJson {
  rps: number;
  latency_us: Latency;
  latency_us_raw?: Latency;
  compare: { rps: number; latency_us: Latency; latency_us_raw?: Latency; added_p50_us: number; added_p99_us: number; added_p50_us_raw?: number; added_p99_us_raw?: number };
}

async function main(): Promise<void> {
  startAnchors();
  const sidecar = await startSidecar(config, 1);
  const rounds: CompareJson[] = [];
  try {
    const target = `http://${sidecar.listeners.get('http')}/`;
    for (let r = 0; r < ROUNDS; r++) {
      progress(`latency: round ${r + 1}/${ROUNDS}, ${RATE} req/s over ${CONNECTIONS} connections, ${SECONDS} s through Ringside then direct`);
      const run = spawnSync(
        process.execPath,
        [CLI, 'bench', '-R', String(RATE), '-c', String(CONNECTIONS), '-t', '1', '-d', `${SECONDS}s`, '--warmup', '2s', '--json', '--compare', DIRECT, target],
        { encoding: 'utf8' },
      );
      if (run.status !== 0) throw new Error(`ringside bench failed (${run.status}): ${run.error?.message ?? run.stderr.trim()}`);
      rounds.push(JSON.parse(run.stdout) as CompareJson);
    }
  } finally {
    await sidecar.stop();
  }
  const med = (f: (c: CompareJson) => number | undefined): number => median(rounds.map(f).filter((x): x is number => x !== undefined));
  const added = {
    p50_us: med((c) => c.compare.added_p50_us),
    p99_us: med((c) => c.compare.added_p99_us),
    p50_us_raw: med((c) => c.compare.added_p50_us_raw),
    p99_us_raw: med((c) => c.compare.added_p99_us_raw),
  };
  const out = benchOutput('latency', {
    params: { rate: RATE, connections: CONNECTIONS, seconds: SECONDS, warmup_s: 2, rounds: ROUNDS, workers: 1, load_threads: 1, direct: DIRECT },
    results: [
      { name: 'ringside proxy --workers 1', rps: med((c) => c.rps), p50_us: med((c) => c.latency_us.p50), p99_us: med((c) => c.latency_us.p99), p50_us_raw: med((c) => c.latency_us_raw?.p50), p99_us_raw: med((c) => c.latency_us_raw?.p99) },
      { name: 'nginx direct', rps: med((c) => c.compare.rps), p50_us: med((c) => c.compare.latency_us.p50), p99_us: med((c) => c.compare.latency_us.p99), p50_us_raw: med((c) => c.compare.latency_us_raw?.p50), p99_us_raw: med((c) => c.compare.latency_us_raw?.p99) },
      { name: 'added by ringside', ...added },
    ],
    ratios: {},
    targets: { added_p50_le_100_us: added.p50_us <= 100, added_p99_le_500_us: added.p99_us <= 500 },
    notes: ['latency from each request\'s intended send time (open loop); *_raw from when it left', 'figures are medians of the rounds'],
    detail: { rounds: rounds.map((c) => c.compare) },
  });
  writeBenchOutput(out, jsonRequested(), [`added at ${RATE} req/s: p50 +${added.p50_us} µs, p99 +${added.p99_us} µs (raw: p50 +${added.p50_us_raw} µs, p99 +${added.p99_us_raw} µs)`]);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:latency: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
