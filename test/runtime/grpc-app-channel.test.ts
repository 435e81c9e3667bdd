/**
 * The `grpc` channel: InvokeService on the Dapr (official JS SDK, grpc-js) and Layotto APIs reaches an
 * app that speaks gRPC through its AppCallback/OnInvoke, on Ringside's upstream gRPC channel — the
 * app's status and trailers unchanged, the retry policy's attempts with grpc-previous-rpc-attempts,
 * gzip for large messages.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { DaprClient, CommunicationProtocolEnum, HttpMethod, LogLevel } from '@dapr/dapr';
import { APP_CALLBACK_SERVICE, RuntimeHost, serviceDefinition } from '../../src/runtime/index.js';
import { client, listenWithFilter, makeEnv, type Listening } from './helpers.js';

const closers: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

interface Seen {
  method: string;
  data: string;
  contentType: string;
  verb: number;
  metadata: Record<string, unknown>;
}

/** A grpc-js app serving AppCallback.OnInvoke: `echo`, `fail` (NOT_FOUND + trailers), `flaky` (UNAVAILABLE twice). */
async function startApp(): Promise<{ address: string; seen: Seen[]; flakyAttempts: string[] }> {
  const server = new grpc.Server();
  const seen: Seen[] = [];
  const flakyAttempts: string[] = [];
  let flaky = 0;
  server.addService(serviceDefinition(APP_CALLBACK_SERVICE), {
    OnInvoke: (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
      const req = call.request;
      const data = Buffer.from(req.data?.value ?? []).toString();
      seen.push({ method: req.method, data, contentType: req.content_type, verb: req.http_extension?.verb ?? 0, metadata: call.metadata.getMap() });
      if (req.method === 'fail') {
        const md = new grpc.Metadata();
        md.set('x-why', 'because');
        cb({ code: grpc.status.NOT_FOUND, details: 'no such order', metadata: md });
        return;
      }
      if (req.method === 'flaky') {
        flakyAttempts.push(String(call.metadata.get('grpc-previous-rpc-attempts')[0] ?? ''));
        if (++flaky % 3 !== 0) {
          cb({ code: grpc.status.UNAVAILABLE, details: 'warming up' });
          return;
        }
      }
      const md = new grpc.Metadata();
      md.set('x-app', 'yes');
      call.sendMetadata(md);
      cb(null, { data: { type_url: '', value: Buffer.from(req.method === 'big' ? `${data.length}` : `{"echo":${JSON.stringify(data)}}`) }, content_type: 'application/json' });
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  closers.push(() => server.forceShutdown());
  return { address: `127.0.0.1:${port}`, seen, flakyAttempts };
}

/** A TCP relay that counts the bytes the sidecar sends toward the app. */
async function countingRelay(target: string): Promise<{ address: string; bytesUp: () => number }> {
  let up = 0;
  const [host, port] = target.split(':');
  const relay = net.createServer((down) => {
    const app = net.connect(Number(port), host!);
    down.on('data', (c: Buffer) => (up += c.length));
    down.pipe(app).pipe(down);
    down.on('error', () => app.destroy());
    app.on('error', () => down.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise<void>((r) => relay.close(() => r())));
  return { address: `127.0.0.1:${(relay.address() as net.AddressInfo).port}`, bytesUp: () => up };
}

async function sidecar(listener: string): Promise<{ layotto: Listening; dapr: Listening }> {
  const host = new RuntimeHost(makeEnv());
  const cfg = {
    server_name: 'runtime',
    grpc_config: {
      rpcs: {
        mosn: {
          config: {
            channel: [
              {
                protocol: 'grpc',
                listener,
                size: 2,
                ext: {
                  retry_policy: { max_attempts: 3, initial_backoff: '10ms', max_backoff: '50ms', backoff_multiplier: 2, retryable_status_codes: ['UNAVAILABLE'] },
                  gzip_min_bytes: 1024,
                },
              },
            ],
          },
        },
      },
    },
  };
  const layotto = await listenWithFilter(host.grpcFilterFactory, cfg);
  const dapr = await listenWithFilter(host.grpcFilterFactory, { server_name: 'runtime' }, 'dapr_grpc');
  closers.push(async () => {
    await host.close(100);
    await Promise.all([layotto.close(), dapr.close()]);
  });
  return { layotto, dapr };
}

test('the Dapr JS SDK and grpc-js invoke a gRPC app through OnInvoke; its status and trailers come back unchanged', async () => {
  const app = await startApp();
  const sc = await sidecar(app.address);
  const sdk = new DaprClient({ daprHost: '127.0.0.1', daprPort: String(sc.dapr.port), communicationProtocol: CommunicationProtocolEnum.GRPC, logger: { level: LogLevel.Error } });
  try {
    const res = await sdk.invoker.invoke('orders', 'echo', HttpMethod.POST, { id: 7 });
    assert.deepEqual(res, { echo: '{"id":7}' });
  } finally {
    await sdk.stop();
  }
  const first = app.seen[0]!;
  assert.equal(first.method, 'echo');
  assert.equal(first.verb, 3, 'http_extension.verb POST travels in the InvokeRequest');
  assert.equal(first.metadata['dapr-callee-app-id'], 'orders');

  const dapr = client(sc.dapr.address, 'dapr');
  closers.push(() => dapr.close());
  const req = (method: string, body = 'x') => ({ id: 'orders', message: { method, data: { value: Buffer.from(body) }, content_type: 'text/plain' } });
  const err = await dapr.call('InvokeService', req('fail')).then(
    () => null,
    (e: grpc.ServiceError) => e,
  );
  assert.equal(err?.code, grpc.status.NOT_FOUND, "the app's own code, not an HTTP-mapped one");
  assert.equal(err?.details, 'no such order');
  assert.equal(err?.metadata.get('x-why')[0], 'because', "the app's trailer metadata");

  // The Layotto API on the same channel: any non-OK app status is UNAVAILABLE, OK is the answer.
  const layotto = client(sc.layotto.address, 'layotto');
  closers.push(() => layotto.close());
  const ok = await layotto.call('InvokeService', req('echo', 'hi'));
  assert.equal(Buffer.from(ok.data.value).toString(), '{"echo":"hi"}');
});

test('the retry policy retries UNAVAILABLE with grpc-previous-rpc-attempts; large messages go out gzip-compressed', async () => {
  const app = await startApp();
  const relay = await countingRelay(app.address);
  const sc = await sidecar(relay.address);
  const dapr = client(sc.dapr.address, 'dapr');
  closers.push(() => dapr.close());
  const req = (method: string, body: string) => ({ id: 'orders', message: { method, data: { value: Buffer.from(body) }, content_type: 'text/plain' } });

  const res = await dapr.call('InvokeService', req('flaky', 'x'));
  assert.equal(Buffer.from(res.data.value).toString(), '{"echo":"x"}', 'the third attempt answered');
  assert.deepEqual(app.flakyAttempts, ['', '1', '2']);

  const before = relay.bytesUp();
  const big = 'abcdefgh'.repeat(64 * 1024); // 512 KiB, very compressible
  const bigRes = await dapr.call('InvokeService', req('big', big));
  assert.equal(Buffer.from(bigRes.data.value).toString(), String(big.length), 'the app got the whole message');
  const sent = relay.bytesUp() - before;
  assert.ok(sent < 64 * 1024, `the request went compressed: ${sent} bytes on the wire for ${big.length}`);
});

test('a bad retry policy is refused with its path; an unreachable app is UNAVAILABLE-class, fast', async () => {
  const host = new RuntimeHost(makeEnv());
  closers.push(() => host.close(100));
  const cfg = (ext: unknown) => ({ server_name: 'bad', grpc_config: { rpcs: { mosn: { config: { channel: [{ protocol: 'grpc', listener: '127.0.0.1:1', size: 1, ext }] } } } } });
  assert.throws(() => host.grpcFilterFactory.create(cfg({ retry_policy: { max_attempts: 9 } }), 'f', { listenerName: 'grpc' } as never), /ext/);

  const sc = await sidecar('127.0.0.1:1');
  const dapr = client(sc.dapr.address, 'dapr');
  closers.push(() => dapr.close());
  const started = Date.now();
  const err = await dapr.call('InvokeService', { id: 'orders', message: { method: 'echo', data: { value: Buffer.from('x') } } }).then(
    () => null,
    (e: grpc.ServiceError) => e,
  );
  assert.equal(err?.code, grpc.status.INTERNAL, "Dapr's ERR_DIRECT_INVOKE for an unreachable app");
  assert.match(err?.details ?? '', /failed to invoke, id: orders/);
  assert.ok(Date.now() - started < 2000, 'fails fast in TRANSIENT_FAILURE, no wait');
});
