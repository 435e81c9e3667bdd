/**
 * bench:eds — how fast an EDS update reaches every worker while traffic flows, and whether any
 * request fails across it. A control plane (the tests' ADS server, test/mesh/ads-server.ts, on
 * grpc-js with Envoy's protos) serves a listener, routes and an EDS cluster to `ringside start
 * --workers 2`; wrk keeps 16 keep-alive connections busy through the listener while the control plane
 * pushes 20 ClusterLoadAssignments, alternating the cluster's hosts between the two anchor servers
 * (127.0.0.1:19000, the upstream, and 127.0.0.1:19081, nginx in front of it).
 *
 * "Applied on all workers" is the ACK: Ringside acknowledges a version only after every worker has
 * swapped the cluster's hosts (Supervisor.applyConfig waits for each worker's apply), so the time
 * from push to the ACK arriving at the control plane bounds push-to-applied from above.
 *
 *   node dist/bench/eds.js [--json] [--updates 20] [--connections 16]
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { AdsServer } from '../test/mesh/ads-server.js';
import { BENCH_LOCK, median, startAnchors, startSidecar } from './common.js';
import { benchOutput, writeBenchOutput } from './output.js';

const T = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
};
const HCM = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'envoy.extensions.filters.http.router.v3.Router';
const HOST_SETS = [['127.0.0.1:19000'], ['127.0.0.1:19081'], ['127.0.0.1:19000', '127.0.0.1:19081']];
/** Pause between one update's ACK and the next push: the load keeps running through each swap. */
const GAP_MS = 250;

const sa = (address: string) => {
  const i = address.lastIndexOf(':');
  return { socket_address: { address: address.slice(0, i), port_value: Number(address.slice(i + 1)) } };
};

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i > 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

interface WrkOutcome {
  requests: number;
  errors: number;
  rps: number;
}

/** wrk for `seconds` in the background; resolves with its counts once it ends. */
function runWrk(url: string, seconds: number, connections: number): Promise<WrkOutcome> {
  return new Promise((resolve, reject) => {
    // The bench lock keeps other benchmarks' load generators off the machine meanwhile.
    const p = spawn('flock', [BENCH_LOCK, 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.once('error', reject);
    p.once('exit', () => {
      const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? -1);
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
      let errors = 0;
      const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
      if (non2xx !== null) errors += Number(non2xx[1]);
      const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      if (sock !== null) errors += Number(sock[1]) + Number(sock[2]) + Number(sock[3]) + Number(sock[4]);
      resolve({ requests, errors, rps: Math.round(rps) });
    });
  });
}

async function main(): Promise<void> {
  const updates = argValue('--updates', 20);
  const connections = argValue('--connections', 16);
  startAnchors();
  const ads = new AdsServer();
  await ads.start();
  const node = 'bench-eds';
  const cla = (version: number) =>
    ads.any('envoy.config.endpoint.v3.ClusterLoadAssignment', {
      cluster_name: 'backend',
      endpoints: [{ locality: { region: 'r1' }, lb_endpoints: HOST_SETS[version % HOST_SETS.length]!.map((h) => ({ endpoint: { address: sa(h) } })) }],
    });
  ads.push(node, T.cluster, 'c1', [{ name: 'backend', any: ads.any('envoy.config.cluster.v3.Cluster', { name: 'backend', type: 'EDS', eds_cluster_config: { eds_config: { ads: {} } }, connect_timeout: { seconds: 1 } }) }]);
  ads.push(node, T.endpoint, 'e0', [{ name: 'backend', any: cla(0) }]);
  const hcm = ads.any(HCM, { stat_prefix: 'in', codec_type: 'HTTP1', rds: { route_config_name: 'routes', config_source: { ads: {} } }, http_filters: [{ name: 'envoy.filters.http.router', typed_config: ads.any(ROUTER, {}) }] });
  ads.push(node, T.listener, 'l1', [{ name: 'ingress', any: ads.any('envoy.config.listener.v3.Listener', { name: 'ingress', address: sa('127.0.0.1:0'), filter_chains: [{ filters: [{ name: 'hcm', typed_config: hcm }] }] }) }]);
  ads.push(node, T.route, 'r1', [
    {
      name: 'routes',
      any: ads.any('envoy.config.route.v3.RouteConfiguration', { name: 'routes', virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'backend' } }] }] }),
    },
  ]);
  const bootstrap = {
    node: { id: node, cluster: 'bench' },
    dynamic_resources: {
      ads_config: { api_type: 'GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }] },
      lds_config: { ads: {} },
      cds_config: { ads: {} },
    },
    static_resources: { clusters: [{ name: 'xds', type: 'STATIC', load_assignment: { endpoints: [{ lb_endpoints: [{ endpoint: { address: sa(ads.address) } }] }] } }] },
    servers: [{}],
    ringside: { admin: { address: '127.0.0.1:0' }, dapr: { enabled: false } },
  };
  const sidecar = await startSidecar(bootstrap, 2);
  const latencies: number[] = [];
  let wrk: WrkOutcome | null = null;
  try {
    const edge = await listenerOnEveryWorker(sidecar.admin, 'ingress');
    await ads.waitFor((r) => r.type === T.endpoint && r.version === 'e0' && r.error === undefined);
    // Long enough for every update with its gap; wrk's connections stay open across all of them.
    const seconds = Math.ceil((updates * (GAP_MS + 150)) / 1000) + 3;
    const load = runWrk(`http://${edge}/`, seconds, connections);
    await new Promise((r) => setTimeout(r, 1000));
    for (let v = 1; v <= updates; v++) {
      const version = `e${v}`;
      const pushed = performance.now();
      ads.push(node, T.endpoint, version, [{ name: 'backend', any: cla(v) }]);
      const ack = await ads.waitFor((r) => r.type === T.endpoint && r.version === version, 10_000);
      if (ack.error !== undefined) throw new Error(`update ${version} was NACKed: ${ack.error}`);
      latencies.push(Math.round((performance.now() - pushed) * 10) / 10);
      await new Promise((r) => setTimeout(r, GAP_MS));
    }
    wrk = await load;
  } finally {
    await sidecar.stop();
    ads.stop();
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const out = benchOutput('eds', {
    params: { updates, connections, workers: 2, gap_ms: GAP_MS, host_sets: HOST_SETS, load: 'wrk -t1 keep-alive through the xDS listener' },
    results: [
      { name: 'eds-push-to-ack', updates: latencies.length, p50_ms: median(latencies), max_ms: sorted[sorted.length - 1] ?? -1, all_ms: latencies },
      { name: 'load-during-updates', requests: wrk?.requests ?? -1, rps: wrk?.rps ?? 0, failed_requests: wrk?.errors ?? -1 },
    ],
    ratios: {},
    targets: { push_to_applied_max_ms: 100, failed_requests: 0 },
    notes: ['push-to-ack: Ringside ACKs an EDS version once every worker applied it', 'the machine is shared: figures include other agents\' load'],
  });
  writeBenchOutput(out, process.argv.includes('--json'), [
    `EDS push → applied on all workers (ACK): p50 ${median(latencies)} ms, max ${sorted[sorted.length - 1] ?? -1} ms over ${latencies.length} updates`,
    `load meanwhile: ${wrk?.requests ?? -1} requests, ${wrk?.rps ?? 0} req/s, failed ${wrk?.errors ?? -1}`,
  ]);
}

/** The listener's address once every worker serves it (xDS listeners arrive after the ready line). */
async function listenerOnEveryWorker(admin: string, name: string): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const s = (await (await fetch(`http://${admin}/stats`)).json()) as { workers: { listeners: { name: string; address: string }[] }[] };
    const all = s.workers.map((w) => w.listeners.find((l) => l.name === name)?.address);
    if (all.length > 0 && all.every((x) => x !== undefined)) return all[0]!;
    if (Date.now() > deadline) throw new Error(`listener ${name} is not on every worker: ${JSON.stringify(s.workers)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:eds: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
