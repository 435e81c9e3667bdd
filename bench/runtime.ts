/**
 * bench:runtime — the floor of any grpc-js front door (a bare unary echo server) against Ringside's
 * InvokeService → HTTP upstream (the anchor nginx on 127.0.0.1:19000) run as a real sidecar
 * (`ringside start --workers 1`, then `--workers 2`), all in ONE run and driven by the same h2load load.
 * Reports req/s and CPU µs per request of each server process (every thread), checks grpc-status of
 * one sample call per server (h2load counts HTTP 200 as success, not grpc-status 0), prints JSON.
 *
 *   node dist/bench/runtime.js [--json] [--duration 8] [--clients 8] [--streams 8]
 *                              [--upstream 127.0.0.1:19000] [--workers 1,2] [--only bare|ringside]
 *                              [--baseline-cli OTHER/dist/src/cli/main.js]
 *
 * --baseline-cli measures another build of Ringside (e.g. the previous commit's) in the same run,
 * each worker count right after this build's, so a change is compared side by side on one machine state.
 *
 * Start the anchors first: /work/shared/bench/anchors.sh start. Wrap the run in
 * `flock /tmp/ringside-bench.lock …` on a shared machine so load runs never overlap.
 */
import { processCpuSeconds } from '../src/observability/proc-cpu.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { benchOutput, writeBenchOutput } from './output.js';

const args = process.argv.slice(2);
function opt(name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1]! : fallback;
}
const JSON_ONLY = args.includes('--json');
function note(line: string): void {
  // Progress goes to stderr so `--json` keeps stdout a single JSON document.
  if (!JSON_ONLY) process.stderr.write(line + '\n');
}

const SEED = '{"jsonrpc":"2.0","method":"GetUser","params":["A003"],"id":9527}';
const ID = 'org.apache.dubbo.samples.UserProvider';
const INVOKE_PATH = '/spec.proto.runtime.v1.Runtime/InvokeService';
const ECHO_PATH = '/bench.Echo/Echo';

// ── child mode: the bare grpc-js echo server (the floor) ─────────────────────────────────────────────

async function serveBare(): Promise<void> {
  const server = new grpc.Server();
  const identity = (b: Buffer): Buffer => b;
  server.addService(
    {
      Echo: { path: ECHO_PATH, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
    },
    { Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request) },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  process.stdout.write(`ringside ready: bare 127.0.0.1:${port}\n`);
}

// ── the Ringside config under test ──────────────────────────────────────────────────────────────────

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** grpc listener (mosn invoker, http channel) → in-process egress proxy → cluster on the anchor upstream. */
function sidecarConfig(grpcPort: number, upstream: string): object {
  return {
    servers: [
      {
        default_log_level: 'WARN',
        routers: [
          {
            router_config_name: 'http_router',
            virtual_hosts: [{ name: 'anchor', domains: ['*'], routers: [{ match: { prefix: '/' }, route: { cluster_name: 'anchor_upstream' } }] }],
          },
        ],
        listeners: [
          {
            name: 'grpc',
            address: `127.0.0.1:${grpcPort}`,
            bind_port: true,
            filter_chains: [
              {
                filters: [
                  {
                    type: 'grpc',
                    config: {
                      server_name: 'runtime',
                      grpc_config: {
                        rpcs: { mosn: { config: { before_invoke: [{ name: 'dubbo_json_rpc' }], channel: [{ size: 128, protocol: 'http', listener: 'egress_runtime_http' }] } } },
                      },
                    },
                  },
                ],
              },
            ],
          },
          {
            name: 'egress_runtime_http',
            address: 'egress_runtime_http',
            filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'Http1', upstream_protocol: 'Http1', router_config_name: 'http_router' } }] }],
          },
        ],
      },
    ],
    cluster_manager: { clusters: [{ name: 'anchor_upstream', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: upstream, weight: 1 }] }] },
    ringside: { dapr: { enabled: false }, admin: { address: '127.0.0.1:0' } },
  };
}

// ── driver ──────────────────────────────────────────────────────────────────────────────────────────

function startServer(command: string[], match: RegExp, readyTimeoutMs = 20000): Promise<{ child: ChildProcess; line: RegExpExecArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`no ready line from ${command.join(' ')}`));
    }, readyTimeoutMs);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = match.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve({ child, line: m });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command.join(' ')} exited with ${code}`));
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** CPU of the whole sidecar process in µs: every thread, exited ones included (src/observability/proc-cpu.ts). */
function cpuMicros(pid: number): number {
  return (processCpuSeconds(pid) ?? 0) * 1e6;
}

function frame(message: Buffer): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

async function invokeRequestBytes(): Promise<Buffer> {
  const { messageType } = await import('../src/runtime/proto.js');
  const type = messageType('spec.proto.runtime.v1.InvokeServiceRequest');
  return Buffer.from(type.encode({ id: ID, message: { method: 'GetUser', data: { value: Buffer.from(SEED) }, http_extension: { verb: 3 } } }).finish());
}

/** One call with grpc-js: returns the grpc-status (0 = OK) and the response size. */
async function checkOnce(address: string, path: string, body: Buffer): Promise<{ grpc_status: number; response_bytes: number; details?: string }> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const identity = (b: Buffer): Buffer => b;
  try {
    return await new Promise((resolve) =>
      client.makeUnaryRequest(path, identity, identity, body, { deadline: Date.now() + 5000 }, (err, value) =>
        resolve(err ? { grpc_status: err.code ?? -1, response_bytes: 0, details: err.details } : { grpc_status: 0, response_bytes: value?.length ?? 0 }),
      ),
    );
  } finally {
    client.close();
  }
}

interface Result {
  name: string;
  workers: number | null;
  /** 'this' build, or the --baseline-cli build measured beside it. */
  build?: 'this' | 'baseline';
  sample_grpc_status: number;
  sample_response_bytes: number;
  rps: number;
  succeeded: number;
  failed: number;
  cpu_us_per_req: number;
  cpu_cores_busy: number;
}

function h2load(address: string, path: string, file: string, seconds: string): string {
  const r = spawnSync(
    'h2load',
    ['-D', seconds, '-c', opt('clients', '8'), '-m', opt('streams', '8'), '-t', '1', '-d', file, '-H', 'content-type: application/grpc', '-H', 'te: trailers', `http://${address}${path}`],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`h2load failed: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function measure(name: string, workers: number | null, pid: number, address: string, path: string, body: Buffer, dir: string): Promise<Result> {
  const sample = await checkOnce(address, path, body);
  if (sample.grpc_status !== 0) note(`${name}: sample call answered grpc-status ${sample.grpc_status} ${sample.details ?? ''}`);
  const file = join(dir, `${path.replace(/\W/g, '_')}.bin`);
  writeFileSync(file, frame(body));
  const duration = opt('duration', '8');
  h2load(address, path, file, '2'); // warm-up: JIT, channel pool, upstream connections
  const before = cpuMicros(pid);
  const t0 = process.hrtime.bigint();
  const out = h2load(address, path, file, duration);
  const wallUs = Number(process.hrtime.bigint() - t0) / 1000;
  const used = cpuMicros(pid) - before;
  const rps = Number(/finished in [\d.]+\w*, ([\d.]+) req\/s/.exec(out)?.[1] ?? 0);
  const m = /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed/.exec(out);
  const succeeded = Number(m?.[2] ?? 0);
  const result: Result = {
    name,
    workers,
    sample_grpc_status: sample.grpc_status,
    sample_response_bytes: sample.response_bytes,
    rps: Math.round(rps),
    succeeded,
    failed: Number(m?.[3] ?? 0),
    cpu_us_per_req: succeeded === 0 ? NaN : Math.round((used / succeeded) * 10) / 10,
    cpu_cores_busy: Math.round((used / wallUs) * 100) / 100,
  };
  note(`${name}: ${result.rps} req/s, ${result.cpu_us_per_req} µs CPU/req, ${result.cpu_cores_busy} cores, grpc-status ${sample.grpc_status}`);
  return result;
}

function ratio(a: number | undefined, b: number | undefined): number | null {
  return a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? null : Math.round((a / b) * 100) / 100;
}

async function main(): Promise<void> {
  if (opt('serve', '') === 'bare') return serveBare();

  const self = fileURLToPath(import.meta.url);
  const cli = join(dirname(self), '../src/cli/main.js');
  const upstream = opt('upstream', '127.0.0.1:19000');
  const only = opt('only', '');
  const workerCounts = opt('workers', '1,2').split(',').map(Number);
  const dir = mkdtempSync(join(tmpdir(), 'ringside-bench-'));
  const results: Result[] = [];
  try {
    if (only !== 'ringside') {
      const bare = await startServer([process.execPath, self, '--serve', 'bare'], /ringside ready: bare (\S+:\d+)/);
      try {
        results.push(await measure('grpc-js bare echo', null, bare.child.pid!, bare.line[1]!, ECHO_PATH, Buffer.from(SEED), dir));
      } finally {
        await stop(bare.child);
      }
    }
    if (only !== 'bare') {
      const body = await invokeRequestBytes();
      const baselineCli = opt('baseline-cli', '');
      const builds: { build: 'this' | 'baseline'; cli: string }[] = [{ build: 'this', cli }, ...(baselineCli === '' ? [] : [{ build: 'baseline' as const, cli: baselineCli }])];
      for (const workers of workerCounts) {
        for (const b of builds) {
          const port = await freePort();
          const cfg = join(dir, `sidecar-${workers}.json`);
          writeFileSync(cfg, JSON.stringify(sidecarConfig(port, upstream)));
          // Extra node flags (e.g. --cpu-prof) for profiling runs go through RINGSIDE_BENCH_NODE_ARGS.
          const nodeArgs = (process.env['RINGSIDE_BENCH_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
          const sc = await startServer([process.execPath, ...nodeArgs, b.cli, 'start', '-c', cfg, '--workers', String(workers)], /ringside ready: workers=\d+/);
          const label = b.build === 'baseline' ? 'baseline build ' : '';
          try {
            const r = await measure(`${label}ringside InvokeService → HTTP upstream, --workers ${workers}`, workers, sc.child.pid!, `127.0.0.1:${port}`, INVOKE_PATH, body, dir);
            results.push({ ...r, build: b.build });
          } finally {
            await stop(sc.child);
          }
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const bare = results.find((r) => r.workers === null);
  const w1 = results.find((r) => r.workers === 1 && r.build === 'this');
  const w2 = results.find((r) => r.workers === 2 && r.build === 'this');
  const b1 = results.find((r) => r.workers === 1 && r.build === 'baseline');
  const b2 = results.find((r) => r.workers === 2 && r.build === 'baseline');
  const cpuRatio = ratio(w1?.cpu_us_per_req, bare?.cpu_us_per_req);
  const scale = ratio(w2?.rps, w1?.rps);
  const out = benchOutput('runtime', {
    params: { tool: 'h2load', duration_s: Number(opt('duration', '8')), clients: Number(opt('clients', '8')), streams_per_client: Number(opt('streams', '8')), upstream, baseline_cli: opt('baseline-cli', '') || null },
    results: results.map((r) => ({ ...r })),
    ratios: {
      cpu_w1_over_bare: cpuRatio,
      cpu_w2_over_bare: ratio(w2?.cpu_us_per_req, bare?.cpu_us_per_req),
      rps_w2_over_w1: scale,
      ...(b1 === undefined && b2 === undefined
        ? {}
        : {
            baseline_cpu_w1_over_bare: ratio(b1?.cpu_us_per_req, bare?.cpu_us_per_req),
            baseline_cpu_w2_over_bare: ratio(b2?.cpu_us_per_req, bare?.cpu_us_per_req),
            cpu_w1_over_baseline_w1: ratio(w1?.cpu_us_per_req, b1?.cpu_us_per_req),
            cpu_w2_over_baseline_w2: ratio(w2?.cpu_us_per_req, b2?.cpu_us_per_req),
          }),
    },
    targets: {
      cpu_ratio_le_1_3: cpuRatio === null ? null : cpuRatio <= 1.3,
      scale_w2_ge_1_5: scale === null ? null : scale >= 1.5,
      all_grpc_status_ok: results.every((r) => r.sample_grpc_status === 0),
    },
  });
  writeBenchOutput(out, JSON_ONLY);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
