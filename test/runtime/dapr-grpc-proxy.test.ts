/**
 * Dapr gRPC proxying with real peers: a grpc-js client calls the app's own service on the Dapr gRPC
 * port with `dapr-app-id` metadata; the call goes out on Ringside's upstream gRPC channel into an
 * in-process HTTP/2 proxy listener whose router picks the app's cluster by that header, and on to the
 * app's grpc-js server. All four call types, a deadline, a cancel and an error with trailers.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { cluster, startDataplane } from '../proxy/harness.js';
import { EchoClient, startEchoServer, type EchoClientT, type EchoServer } from '../proxy/grpc-harness.js';
import { DAPR_SERVICE, serviceDefinition } from '../../src/runtime/index.js';
import { assertIssue, baseConfig, configIssues, parse } from '../config/helpers.js';

const TOKEN = 'proxy-secret';
const closers: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as net.AddressInfo).port;
  s.close();
  await once(s, 'close');
  return port;
}

const raw = { requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b };
const inspectService: grpc.ServiceDefinition = { Headers: { path: '/test.Inspect/Headers', requestStream: false, responseStream: false, ...raw } };

interface Setup {
  app: EchoServer;
  client: EchoClientT;
  daprAddress: string;
  md: () => grpc.Metadata;
}

let shared: Promise<Setup> | undefined;

/** One app, one sidecar (Dapr port + in-process egress proxy), one client — shared by the tests. */
function setup(): Promise<Setup> {
  shared ??= (async () => {
    const app = await startEchoServer();
    app.server.addService(inspectService, {
      Headers: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from(JSON.stringify(call.metadata.getMap()))),
    });
    closers.push(() => app.server.forceShutdown());
    const grpcPort = await freePort();
    const plane = await startDataplane({
      servers: [
        {
          routers: [
            {
              router_config_name: 'apps',
              virtual_hosts: [{ name: 'apps', domains: ['*'], routers: [{ match: { prefix: '/', headers: [{ name: 'dapr-app-id', value: 'echo-app' }] }, route: { cluster_name: 'echo' } }] }],
            },
          ],
          listeners: [
            {
              name: 'egress_grpc',
              address: 'egress_grpc',
              filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'Http2', upstream_protocol: 'Http2', router_config_name: 'apps' } }] }],
            },
          ],
        },
      ],
      cluster_manager: { clusters: [cluster('echo', [app.address])] },
      ringside: { dapr: { enabled: true, grpc_port: grpcPort, http_port: await freePort(), api_token: TOKEN, app_id: 'caller-app', grpc_proxy: { listener: 'egress_grpc' } } },
    });
    closers.push(() => plane.close());
    const daprAddress = plane.addresses.get('dapr_grpc')!;
    const client = new EchoClient(daprAddress, grpc.credentials.createInsecure());
    closers.push(() => client.close());
    const md = (): grpc.Metadata => {
      const m = new grpc.Metadata();
      m.set('dapr-app-id', 'echo-app');
      m.set('dapr-api-token', TOKEN);
      return m;
    };
    return { app, client, daprAddress, md };
  })();
  return shared;
}

function call<T>(fn: (cb: (err: grpc.ServiceError | null, v?: T) => void) => unknown): Promise<{ err: grpc.ServiceError | null; value?: T }> {
  return new Promise((resolve) => fn((err, value) => resolve({ err, ...(value !== undefined ? { value } : {}) })));
}

test('unary, a 1,000-message server stream, a client stream and bidi ping-pong reach the app through the Dapr port', async () => {
  const { client, md } = await setup();
  const c = client as unknown as Record<string, (...a: unknown[]) => unknown>;

  let headers: grpc.Metadata | undefined;
  let trailers: grpc.Metadata | undefined;
  const u = await new Promise<{ err: grpc.ServiceError | null; value?: Buffer }>((resolve) => {
    const h = c['Unary']!(Buffer.from('hi'), md(), (err: grpc.ServiceError | null, value?: Buffer) => setImmediate(() => resolve({ err, ...(value ? { value } : {}) }))) as grpc.ClientUnaryCall;
    h.on('metadata', (m: grpc.Metadata) => (headers = m));
    h.on('status', (s: grpc.StatusObject) => (trailers = s.metadata));
  });
  assert.equal(u.err, null);
  assert.equal(u.value!.toString(), 'echo:hi');
  assert.ok(headers!.get('x-seen-xff').length === 1, "the app's response headers come back");
  assert.equal(trailers!.get('x-trailer')[0], 'from-server', "the app's trailers come back");

  const got: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const s = c['ServerStream']!(Buffer.from('1000'), md()) as grpc.ClientReadableStream<Buffer>;
    s.on('data', (b: Buffer) => got.push(b.toString()));
    s.on('error', reject);
    s.on('status', (st: grpc.StatusObject) => (st.code === 0 ? resolve() : reject(new Error(st.details))));
  });
  assert.equal(got.length, 1000);
  assert.equal(got[0], 'm0');
  assert.equal(got[999], 'm999');

  const sum = await call<Buffer>((cb) => {
    const w = c['ClientStream']!(md(), cb) as grpc.ClientWritableStream<Buffer>;
    for (let i = 0; i < 100; i++) w.write(Buffer.alloc(1000, i));
    w.end();
  });
  assert.equal(sum.err, null);
  assert.equal(sum.value!.toString(), '100/100000');

  const pongs: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const d = c['Bidi']!(md()) as grpc.ClientDuplexStream<Buffer, Buffer>;
    let n = 0;
    d.on('data', (b: Buffer) => {
      pongs.push(b.toString());
      if (++n < 50) d.write(Buffer.from(`p${n}`));
      else d.end();
    });
    d.on('error', reject);
    d.on('status', (st: grpc.StatusObject) => (st.code === 0 ? resolve() : reject(new Error(st.details))));
    d.write(Buffer.from('p0'));
  });
  assert.equal(pongs.length, 50);
  assert.equal(pongs[49], 'pong:p49');
});

test("the app's error status, message and trailer metadata come back unchanged (Trailers-Only)", async () => {
  const { client, md } = await setup();
  const r = await new Promise<{ err: grpc.ServiceError | null }>((resolve) =>
    (client as unknown as Record<string, (...a: unknown[]) => unknown>)['Fail']!(Buffer.from('x'), md(), (err: grpc.ServiceError | null) => resolve({ err })),
  );
  assert.equal(r.err?.code, grpc.status.NOT_FOUND);
  assert.equal(r.err?.details, 'no such thing');
  assert.equal(r.err?.metadata.get('x-why')[0], 'because');
});

test('a deadline ends the call DEADLINE_EXCEEDED and the app sees it cancelled; a cancel reaches the app', async () => {
  const { app, client, md } = await setup();
  const c = client as unknown as Record<string, (...a: unknown[]) => unknown>;
  const started = Date.now();
  const r = await new Promise<{ err: grpc.ServiceError | null }>((resolve) => c['Never']!(Buffer.from('x'), md(), { deadline: Date.now() + 300 }, (err: grpc.ServiceError | null) => resolve({ err })));
  assert.equal(r.err?.code, grpc.status.DEADLINE_EXCEEDED);
  assert.ok(Date.now() - started < 3000);
  const until = Date.now() + 3000;
  while (!app.cancelled.includes('Never') && Date.now() < until) await new Promise((res) => setTimeout(res, 10));
  assert.ok(app.cancelled.includes('Never'), 'the grpc-timeout went to the app, which ended the call too');

  const before = app.cancelled.filter((x) => x === 'ServerStream').length;
  await new Promise<void>((resolve) => {
    const s = c['ServerStream']!(Buffer.from('100000'), md()) as grpc.ClientReadableStream<Buffer>;
    let n = 0;
    s.on('data', () => {
      if (++n === 10) s.cancel();
    });
    s.on('error', (e: grpc.ServiceError) => {
      assert.equal(e.code, grpc.status.CANCELLED);
      resolve();
    });
  });
  const until2 = Date.now() + 3000;
  while (app.cancelled.filter((x) => x === 'ServerStream').length === before && Date.now() < until2) await new Promise((res) => setTimeout(res, 10));
  assert.ok(app.cancelled.filter((x) => x === 'ServerStream').length > before, 'the cancel reached the app (RST_STREAM through both hops)');
});

test('the hop to the app carries caller and callee ids and a trace, never the API token; without dapr-app-id the call fails as Dapr does', async () => {
  const { client, md, daprAddress } = await setup();
  const inspect = new (grpc.makeGenericClientConstructor(inspectService, 'Inspect'))(daprAddress, grpc.credentials.createInsecure());
  closers.push(() => inspect.close());
  const seen = await call<Buffer>((cb) => (inspect as unknown as Record<string, (...a: unknown[]) => unknown>)['Headers']!(Buffer.alloc(0), md(), cb));
  assert.equal(seen.err, null);
  const headers = JSON.parse(seen.value!.toString()) as Record<string, string>;
  assert.equal(headers['dapr-caller-app-id'], 'caller-app');
  assert.equal(headers['dapr-callee-app-id'], 'echo-app');
  assert.equal(headers['dapr-app-id'], 'echo-app', 'the metadata the caller set travels on');
  assert.match(headers['traceparent'] ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  assert.equal(headers['dapr-api-token'], undefined, 'the API token stays at the sidecar');

  const noId = new grpc.Metadata();
  noId.set('dapr-api-token', TOKEN);
  const missing = await new Promise<grpc.ServiceError | null>((resolve) =>
    (client as unknown as Record<string, (...a: unknown[]) => unknown>)['Unary']!(Buffer.from('x'), noId, (err: grpc.ServiceError | null) => resolve(err)),
  );
  assert.equal(missing?.code, grpc.status.UNKNOWN);
  assert.match(missing?.details ?? '', /failed to proxy request: required metadata dapr-callee-app-id or dapr-app-id not found/);

  // Without the token the call never leaves the sidecar.
  const noToken = new grpc.Metadata();
  noToken.set('dapr-app-id', 'echo-app');
  const denied = await new Promise<grpc.ServiceError | null>((resolve) =>
    (client as unknown as Record<string, (...a: unknown[]) => unknown>)['Unary']!(Buffer.from('x'), noToken, (err: grpc.ServiceError | null) => resolve(err)),
  );
  assert.equal(denied?.code, grpc.status.UNAUTHENTICATED);

  // The port's own Dapr service still answers on the same connection pool.
  const Dapr = grpc.makeGenericClientConstructor(serviceDefinition(DAPR_SERVICE), 'Dapr');
  const dapr = new Dapr(daprAddress, grpc.credentials.createInsecure()) as unknown as Record<string, (...a: unknown[]) => unknown>;
  const meta = await call<{ id: string }>((cb) => dapr['GetMetadata']!({}, md(), cb));
  (dapr as unknown as grpc.Client).close();
  assert.equal(meta.err, null);
  assert.equal(meta.value!.id, 'caller-app');
});

test('ringside.dapr.grpc_proxy.listener must name a listener of the file (a bare name is in-process)', () => {
  const cfg = { ...baseConfig(), ringside: { dapr: { enabled: true, grpc_proxy: { listener: 'no_such_listener' } } } };
  assertIssue(configIssues(() => parse(cfg)), 'ringside.dapr.grpc_proxy.listener', /no listener named "no_such_listener"/);
  // host:port dials out: nothing to cross-check.
  parse({ ...baseConfig(), ringside: { dapr: { enabled: true, grpc_proxy: { listener: '127.0.0.1:50051' } } } });
});
