/**
 * bench:runtime — the floor of any grpc-js front door (a bare unary echo server) against Ringside's
 * InvokeService → HTTP upstream (the anchor nginx on 127.0.0.1:19000), both driven by h2load with the
 * same load, reporting req/s and CPU µs per request of the server process (all threads). Prints JSON.
 *
 *   node dist/bench/runtime.js [--duration 5] [--clients 8] [--streams 4] [--upstream 127.0.0.1:19000]
 *                              [--sidecar "node dist/src/cli/main.js start -c cfg.json --workers 2"]
 *
 * Without --sidecar the Ringside side runs in a child process of this script (one worker thread's worth:
 * the grpc filter, invoker and http channel on one event loop). With --sidecar the given command is
 * started instead and the bench waits for its "ringside ready: …" line; its runtime API must listen on
 * --sidecar-address (default 127.0.0.1:34904).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';

const args = process.argv.slice(2);
function opt(name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1]! : fallback;
}

const SEED = '{"jsonrpc":"2.0","method":"GetUser","params":["A003"],"id":9527}';
const ID = 'org.apache.dubbo.samples.UserProvider';

// ── child modes: the two servers under test ─────────────────────────────────────────────────────────

async function serveBare(): Promise<void> {
  const server = new grpc.Server();
  const identity = (b: Buffer): Buffer => b;
  server.addService(
    {
      Echo: { path: '/bench.Echo/Echo', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
    },
    { Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request) },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  process.stdout.write(`ringside ready: bare 127.0.0.1:${port}\n`);
}

async function serveRingside(upstream: string): Promise<void> {
  const { RuntimeHost, newInvokerFilterRegistries, registerBuiltinInvokerFilters, registerBuiltinChannels } = await import('../src/runtime/index.js');
  const { Registry } = await import('../src/common/registry.js');
  const { http1Codec } = await import('../src/protocol/http1/index.js');
  const invokerFilters = newInvokerFilterRegistries();
  registerBuiltinInvokerFilters(invokerFilters);
  const channels = new Registry<import('../src/types/runtime.js').ChannelFactory>('channel');
  registerBuiltinChannels(channels, http1Codec as unknown as import('../src/types/protocol.js').ProtocolCodec);
  const host = new RuntimeHost({
    workerIndex: 0,
    dialInProcess: undefined,
    invokerFilters,
    channels,
    maxGrpcMessageBytes: 4 << 20,
    dapr: { enabled: true, grpcPort: 0, httpPort: 0, apiToken: undefined, appId: 'bench' },
  });
  const config = {
    server_name: 'runtime',
    grpc_config: { rpcs: { mosn: { config: { before_invoke: [{ name: 'dubbo_json_rpc' }], channel: [{ size: 128, protocol: 'http', listener: upstream }] } } } },
  };
  const perConnection = host.grpcFilterFactory.create(config, 'bench', { workerIndex: 0, listenerName: 'grpc', services: {} });
  // Stands in for a worker's listener: each accepted socket goes through the grpc filter's hand-over.
  const server = createServer((socket) => {
    const filters: import('../src/types/network.js').ReadFilter[] = [];
    perConnection(
      {
        id: 0,
        listenerName: 'grpc',
        remoteAddress: '',
        localAddress: '',
        closed: false,
        write: () => undefined,
        close: () => socket.destroy(),
        setReadEnabled: () => undefined,
        addEventListener: () => undefined,
        takeTransport: () => ({ kind: 'socket', socket }),
        context: new Map(),
      },
      { addReadFilter: (f) => filters.push(f), addWriteFilter: () => undefined },
    );
    for (const f of filters) f.onNewConnection();
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`ringside ready: runtime 127.0.0.1:${(server.address() as AddressInfo).port}\n`));
}

// ── driver ──────────────────────────────────────────────────────────────────────────────────────────

function startServer(command: string[], readyTimeoutMs = 15000): Promise<{ child: ChildProcess; address: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no "ringside ready:" line from ${command.join(' ')}`)), readyTimeoutMs);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /ringside ready: \S+ (\S+:\d+)/.exec(out) ?? /ringside ready:.*?(\d+\.\d+\.\d+\.\d+:\d+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve({ child, address: m[1]! });
      }
    });
    child.once('exit', (code) => reject(new Error(`${command.join(' ')} exited with ${code}`)));
  });
}

/** utime + stime of the whole process (every thread, live or exited), in microseconds. */
function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e6) / 100; // CLK_TCK is 100 on Linux
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

/** One call with grpc-js first: h2load counts HTTP 200 as success, so grpc-status is checked here. */
async function checkOnce(address: string, path: string, body: Buffer): Promise<void> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const identity = (b: Buffer): Buffer => b;
  await new Promise<void>((resolve, reject) =>
    client.makeUnaryRequest(path, identity, identity, body, (err) => (err ? reject(new Error(`${path}: ${err.message}`)) : resolve())),
  );
  client.close();
}

interface Result {
  name: string;
  rps: number;
  succeeded: number;
  failed: number;
  cpu_us_per_req: number;
}

async function measure(name: string, child: ChildProcess, address: string, path: string, body: Buffer): Promise<Result> {
  await checkOnce(address, path, body);
  const dir = mkdtempSync(join(tmpdir(), 'ringside-bench-'));
  const file = join(dir, 'req.bin');
  writeFileSync(file, frame(body));
  const duration = opt('duration', '5');
  const h2 = (seconds: string): string => {
    const r = spawnSync(
      'h2load',
      ['-D', seconds, '-c', opt('clients', '8'), '-m', opt('streams', '4'), '-t', '1', '-d', file, '-H', 'content-type: application/grpc', '-H', 'te: trailers', `http://${address}${path}`],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`h2load failed: ${r.stderr}`);
    return r.stdout;
  };
  h2('1'); // warm-up: JIT, pools, connections
  const before = cpuMicros(child.pid!);
  const out = h2(duration);
  const used = cpuMicros(child.pid!) - before;
  const rps = Number(/finished in [\d.]+\w*, ([\d.]+) req\/s/.exec(out)?.[1] ?? 0);
  const m = /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed/.exec(out);
  const succeeded = Number(m?.[2] ?? 0);
  return { name, rps, succeeded, failed: Number(m?.[3] ?? 0), cpu_us_per_req: succeeded === 0 ? NaN : Math.round((used / succeeded) * 10) / 10 };
}

async function main(): Promise<void> {
  const mode = opt('serve', '');
  if (mode === 'bare') return serveBare();
  if (mode === 'ringside') return serveRingside(opt('upstream', '127.0.0.1:19000'));

  const self = fileURLToPath(import.meta.url);
  const results: Result[] = [];
  const bare = await startServer([process.execPath, self, '--serve', 'bare']);
  try {
    results.push(await measure('grpc-js bare echo', bare.child, bare.address, '/bench.Echo/Echo', Buffer.from(SEED)));
  } finally {
    bare.child.kill();
  }
  const sidecar = opt('sidecar', '');
  const ringside = sidecar === '' ? await startServer([process.execPath, self, '--serve', 'ringside', '--upstream', opt('upstream', '127.0.0.1:19000')]) : await startServer(sidecar.split(' '));
  const address = sidecar === '' ? ringside.address : opt('sidecar-address', '127.0.0.1:34904');
  try {
    results.push(await measure('ringside InvokeService → HTTP upstream', ringside.child, address, '/spec.proto.runtime.v1.Runtime/InvokeService', await invokeRequestBytes()));
  } finally {
    ringside.child.kill();
  }
  const [b, r] = results;
  process.stdout.write(
    JSON.stringify(
      {
        load: { tool: 'h2load', duration_s: Number(opt('duration', '5')), clients: Number(opt('clients', '8')), streams_per_client: Number(opt('streams', '4')) },
        results,
        cpu_ratio_ringside_over_bare: b && r ? Math.round((r.cpu_us_per_req / b.cpu_us_per_req) * 100) / 100 : null,
      },
      null,
      2,
    ) + '\n',
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
