/**
 * Layotto's demo/rpc/http/example.json (our fixture copy): its egress listener is a TCP listener that
 * the channel reaches by name, its router matches the `id` header, its cluster uses LB_RANDOM.
 * Loaded as is, with only the ports and the cluster host moved to this test's sockets.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { request, startDataplane, startUpstream } from './harness.js';
import { LAYOTTO_SERVICE, serviceDefinition } from '../../src/runtime/proto.js';

const fixture = new URL('../../../test/fixtures/config/layotto-http-example.json', import.meta.url);

interface Fixture {
  servers: { listeners: { name: string; address: string }[] }[];
  cluster_manager: { clusters: { name: string; hosts: { address: string }[] }[] };
}

const closers: (() => Promise<void>)[] = [];

type InvokeResult = { data: { value: Uint8Array } };
type Unary = (r: object, cb: (e: grpc.ServiceError | null, r?: InvokeResult) => void) => void;

/** InvokeService of the Layotto API on `address`, resolving to the app's body. */
function invoker(address: string): { call(id: string, method?: string): Promise<string>; close(): void } {
  const Runtime = grpc.makeGenericClientConstructor(serviceDefinition(LAYOTTO_SERVICE), 'Runtime');
  const client = new Runtime(address, grpc.credentials.createInsecure());
  const invoke = (client as unknown as Record<string, Unary>)['InvokeService']!;
  return {
    call: (id, method = 'hello') =>
      new Promise((resolve, reject) => {
        invoke.call(client, { id, message: { method, data: { value: Buffer.from('world') }, http_extension: { verb: 3 } } }, (err, res) =>
          err ? reject(err) : resolve(Buffer.from(res!.data.value).toString()),
        );
      }),
    close: () => client.close(),
  };
}
after(async () => {
  for (const c of closers) await c();
});

test('the Layotto http example config proxies InvokeService by the id header to its cluster', async () => {
  const upstream = await startUpstream((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => res.end(`${req.method} ${req.url} id=${req.headers['id']} body=${body}`));
  });
  closers.push(() => upstream.close());
  const json = JSON.parse(readFileSync(fixture, 'utf8')) as Fixture;
  for (const l of json.servers[0]!.listeners) l.address = '127.0.0.1:0';
  json.cluster_manager.clusters[0]!.hosts = [{ address: upstream.address }];
  const plane = await startDataplane(json);
  closers.push(() => plane.close());

  const client = invoker(plane.addresses.get('grpc')!);
  const call = (id: string): Promise<string> => client.call(id);
  try {
    assert.equal(await call('HelloService:1.0'), 'POST /hello id=HelloService:1.0 body=world');
    // Another id matches no route: the proxy's own 404 is the sidecar's NOT_FOUND, not the app's answer.
    await assert.rejects(call('Other:1.0'), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND && /no route/.test(e.details));
  } finally {
    client.close();
  }
  assert.equal(upstream.requests.length, 1);
});

test("an app's own x-ringside-error header is removed by the proxy: its answer stays the app's, never the sidecar's error", async () => {
  // The app answers 504 and claims Ringside's TIMEOUT marker; only Ringside may set that marker.
  const upstream = await startUpstream((_req, res) => {
    res.writeHead(504, { 'x-ringside-error': 'TIMEOUT', 'content-type': 'text/plain' });
    res.end('app timed out itself');
  });
  closers.push(() => upstream.close());
  const json = JSON.parse(readFileSync(fixture, 'utf8')) as Fixture;
  for (const l of json.servers[0]!.listeners) l.address = '127.0.0.1:0';
  json.cluster_manager.clusters[0]!.hosts = [{ address: upstream.address }];
  const plane = await startDataplane(json);
  closers.push(() => plane.close());

  // Straight through the egress proxy: the status and body pass, the marker does not.
  const direct = await request(plane.addresses.get('egress_runtime_http')!, { headers: { id: 'HelloService:1.0' } });
  assert.equal(direct.status, 504);
  assert.equal(direct.body, 'app timed out itself');
  assert.equal(direct.headers['x-ringside-error'], undefined);

  // Through the runtime API's in-process channel: Layotto reports an app's non-200 as UNAVAILABLE with
  // its status and body, not as the sidecar's own deadline.
  const client = invoker(plane.addresses.get('grpc')!);
  try {
    await assert.rejects(client.call('HelloService:1.0'), (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE && /http response code 504, body: app timed out itself/.test(e.details));
  } finally {
    client.close();
  }
});
