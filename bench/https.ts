/**
 * bench:https — Ringside terminating TLS on an HTTP/1.1 `proxy` listener against nginx terminating
 * TLS on the same traffic, in one run: wrk over HTTPS keep-alive (handshakes amortised), both
 * proxying to the anchor upstream (127.0.0.1:19000) in plaintext. Same certificate (EC P-256, made by
 * openssl for the run), same TLS 1.3 default suites on both. CPU µs per request of every thread of the
 * server under test comes from ../shared/bench/cpu-per-request.sh. Prints the JSON of bench/output.ts.
 *
 *   node dist/bench/https.js [--json] [--seconds 5] [--connections 32] [--rounds 3]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_RINGSIDE, cpuPerRequest, median, medianBy, parseArgs, ratio, startAnchors, startSidecar, type CpuResult } from './common.js';
import { benchOutput, writeBenchOutput } from './output.js';

const UPSTREAM = '127.0.0.1:19000';

function certificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'server.pem');
  const key = join(dir, 'server.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], {
    stdio: 'ignore',
  });
  return { cert, key };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** nginx with one worker process terminating TLS and proxying to the upstream (keep-alive both sides). */
async function startNginx(dir: string, tls: { cert: string; key: string }): Promise<{ port: number; pids: () => number[]; stop(): void }> {
  const port = await freePort();
  const conf = join(dir, 'nginx-https.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
pid ${dir}/nginx-https.pid;
error_log ${dir}/nginx-https.err;
events { worker_connections 8192; }
http {
  access_log off;
  upstream up { server ${UPSTREAM}; keepalive 128; keepalive_requests 10000000; }
  server {
    listen 127.0.0.1:${port} ssl; keepalive_requests 10000000;
    ssl_certificate ${tls.cert}; ssl_certificate_key ${tls.key};
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`,
  );
  const child: ChildProcess = spawn('nginx', ['-c', conf, '-p', dir], { stdio: 'ignore' });
  // Ready once the worker process exists and the port accepts.
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const workers = execFileSync('sh', ['-c', `pgrep -P ${child.pid ?? 0} || true`], { encoding: 'utf8' }).split(/\s+/).filter(Boolean);
    if (workers.length > 0) break;
  }
  return {
    port,
    pids: () => execFileSync('sh', ['-c', `pgrep -P ${child.pid ?? 0} || true`], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number),
    stop: () => child.kill('SIGQUIT'),
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const { seconds, connections, rounds } = args;
  startAnchors();
  const dir = mkdtempSync(join(tmpdir(), 'ringside-bench-https-'));
  const tls = certificate(dir);
  const config = {
    servers: [
      {
        routers: [{ router_config_name: 'r', virtual_hosts: [{ name: 'all', domains: ['*'], routers: [{ match: { prefix: '/' }, route: { cluster_name: 'up' } }] }] }],
        listeners: [
          {
            name: 'https',
            address: '127.0.0.1:0',
            bind_port: true,
            filter_chains: [
              {
                tls_context: { status: true, cert_chain: tls.cert, private_key: tls.key, alpn: 'http/1.1' },
                filters: [{ type: 'proxy', config: { downstream_protocol: 'Http1', upstream_protocol: 'Http1', router_config_name: 'r' } }],
              },
            ],
          },
        ],
      },
    ],
    cluster_manager: { clusters: [{ name: 'up', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: UPSTREAM }] }] },
    ringside: BENCH_RINGSIDE,
  };
  const w1 = await startSidecar(config, 1);
  const nginx = await startNginx(dir, tls).catch(async (err: unknown) => {
    await w1.stop();
    throw err;
  });
  const perRound: Record<string, CpuResult>[] = [];
  try {
    const ringsideUrl = `https://${w1.listeners.get('https')}/`;
    const nginxUrl = `https://127.0.0.1:${nginx.port}/`;
    cpuPerRequest('warmup', ringsideUrl, [w1.pid], 2, connections);
    cpuPerRequest('warmup', nginxUrl, nginx.pids(), 1, connections);
    for (let r = 0; r < rounds; r++) {
      perRound.push({
        ringside: cpuPerRequest('ringside-https-w1', ringsideUrl, [w1.pid], seconds, connections),
        nginx: cpuPerRequest('nginx-https', nginxUrl, nginx.pids(), seconds, connections),
      });
    }
  } finally {
    nginx.stop();
    await w1.stop();
  }
  const results = (['ringside', 'nginx'] as const).map((k) => medianBy(perRound.map((r) => r[k]!), (x) => x.cpu_us_per_req));
  const out = benchOutput('https', {
    params: { seconds, connections, rounds, upstream: UPSTREAM, load: 'wrk -t1 over HTTPS keep-alive via cpu-per-request.sh', certificate: 'EC P-256 self-signed', ringside_workers: 1, nginx_workers: 1 },
    results,
    ratios: { cpu_ringside_over_nginx: median(perRound.map((r) => ratio(r['ringside']!.cpu_us_per_req, r['nginx']!.cpu_us_per_req))) },
    targets: { cpu_over_nginx_max: 1.5 },
    notes: ['each result is its median round (by CPU/request); the ratio is the median of the per-round ratios', 'the machine is shared: compare the ratio, not absolute figures'],
    detail: { per_round: perRound.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, { cpu_us_per_req: v.cpu_us_per_req, rps: v.rps, p99_us: v.p99_us, errors: v.errors }]))) },
  });
  writeBenchOutput(
    out,
    args.json,
    results.map((r) => `${r.name.padEnd(18)} ${String(r.rps).padStart(7)} req/s  p50 ${r.p50_us} µs  p99 ${r.p99_us} µs  CPU ${r.cpu_us_per_req} µs/req  errors ${r.errors}`),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:https: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
