import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status as Status } from '@grpc/grpc-js';
import { startDemoUpstream } from '../../src/runtime/index.js';
import { SEED_ANSWER, channelStats, client, grpcConfig, recordingUpstream, seedRequest, startRuntime } from './helpers.js';

test('a Layotto InvokeService call gets the demo GetUser answer through grpc filter, invoker and http channel', async () => {
  const upstream = await startDemoUpstream('127.0.0.1:0');
  const rt = await startRuntime(grpcConfig(upstream.address));
  const c = client(rt.grpc.address);
  try {
    const res = await c.call('InvokeService', seedRequest());
    assert.equal(Buffer.from(res.data.value).toString(), SEED_ANSWER);
    assert.equal(res.content_type, 'application/json');
  } finally {
    c.close();
    await rt.close();
    await upstream.close();
  }
});

test('dubbo_json_rpc sends POST /{id} with x-services, x-method, id, json content-type and accept, host localhost', async () => {
  const up = await recordingUpstream(() => ({ status: 200, body: '{}' }));
  const rt = await startRuntime(grpcConfig(up.address));
  const c = client(rt.grpc.address);
  try {
    await c.call('InvokeService', seedRequest(), { metadata: { 'x-trace': 't-1' } });
    const r = up.seen[0]!;
    assert.equal(r.method, 'POST');
    assert.equal(r.url, '/org.apache.dubbo.samples.UserProvider');
    assert.equal(r.headers['x-services'], 'org.apache.dubbo.samples.UserProvider');
    assert.equal(r.headers['x-method'], 'GetUser');
    assert.equal(r.headers['id'], 'org.apache.dubbo.samples.UserProvider');
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers['accept'], 'application/json');
    assert.equal(r.headers['host'], 'localhost');
    assert.equal(r.headers['x-trace'], 't-1', 'incoming metadata travels as headers');
    assert.equal(r.headers['te'], undefined, 'gRPC transport headers stay behind');
    assert.equal(r.body, '{"jsonrpc":"2.0","method":"GetUser","params":["A003"],"id":9527}');
  } finally {
    c.close();
    await rt.close();
    await up.close();
  }
});

test('without callbacks the http channel uses verb, method as URI and querystring as Layotto does', async () => {
  const up = await recordingUpstream(() => ({ status: 200, body: 'ok' }));
  const rt = await startRuntime(grpcConfig(up.address, { before: [] }));
  const c = client(rt.grpc.address);
  try {
    const res = await c.call('InvokeService', {
      id: 'HelloService:1.0',
      message: { method: 'hello', data: { value: Buffer.from('hi') }, http_extension: { verb: 4, querystring: 'a=1&b=2' } },
    });
    assert.equal(Buffer.from(res.data.value).toString(), 'ok');
    const r = up.seen[0]!;
    assert.equal(r.method, 'PUT');
    assert.equal(r.url, '/hello?a=1&b=2');
    assert.equal(r.headers['id'], 'HelloService:1.0');
    assert.equal(r.body, 'hi');
    // No http_extension at all: GET, as Layotto's default.
    await c.call('InvokeService', { id: 'HelloService:1.0', message: { method: 'ping' } });
    assert.equal(up.seen[1]!.method, 'GET');
    assert.equal(up.seen[1]!.url, '/ping');
  } finally {
    c.close();
    await rt.close();
    await up.close();
  }
});

test('SayHello answers without touching the invoker', async () => {
  const rt = await startRuntime({ server_name: 'runtime' });
  const c = client(rt.grpc.address);
  try {
    const res = await c.call('SayHello', { service_name: 'helloworld', name: 'ringside' });
    assert.equal(res.hello, 'hello, ringside');
  } finally {
    c.close();
    await rt.close();
  }
});

test('calls share pooled connections: many sequential calls dial no more than size connections', async () => {
  const up = await recordingUpstream(() => ({ status: 200, body: '{}' }));
  const rt = await startRuntime(grpcConfig(up.address, { size: 2 }));
  const c = client(rt.grpc.address);
  try {
    for (let i = 0; i < 5; i++) await Promise.all([c.call('InvokeService', seedRequest()), c.call('InvokeService', seedRequest())]);
    const stats = channelStats(rt);
    assert.equal(up.seen.length, 10);
    assert.ok(stats.dialed <= 2, `dialed ${stats.dialed}`);
    assert.equal(stats.busy, 0);
  } finally {
    c.close();
    await rt.close();
    await up.close();
  }
});

test('upstream response headers come back as gRPC response metadata', async () => {
  const up = await recordingUpstream(() => ({ status: 200, body: '{}' }));
  const rt = await startRuntime(grpcConfig(up.address));
  const c = client(rt.grpc.address);
  try {
    const { call, done } = c.start('InvokeService', seedRequest());
    const md = await new Promise<import('@grpc/grpc-js').Metadata>((r) => call.once('metadata', r));
    await done;
    assert.deepEqual(md.get('x-upstream'), ['yes']);
    assert.equal(Status.OK, 0);
  } finally {
    c.close();
    await rt.close();
    await up.close();
  }
});
