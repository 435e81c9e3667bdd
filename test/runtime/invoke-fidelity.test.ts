/**
 * Service invocation behaves as Dapr and Layotto do, with the clients that found each gap: the
 * official Dapr JS SDK (gRPC and HTTP), a grpc-js client from Layotto's and Dapr's protos, plain HTTP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { CommunicationProtocolEnum, DaprClient, HttpMethod, LogLevel } from '@dapr/dapr';
import { DAPR_SERVICE, LAYOTTO_SERVICE, messageType, serviceDefinition } from '../../src/runtime/index.js';
import { behavingApp, client, httpCall, makeEnv, startDaprSidecar } from './helpers.js';

const quiet = { level: LogLevel.Error };

function dapr(port: number, protocol: CommunicationProtocolEnum, token?: string): DaprClient {
  return new DaprClient({ daprHost: '127.0.0.1', daprPort: String(port), communicationProtocol: protocol, logger: quiet, ...(token ? { daprApiToken: token } : {}) });
}

/** A unary call that also returns the response headers (metadata) and, on error, the trailers. */
function callWithMetadata(address: string, service: 'layotto' | 'dapr', method: string, req: object, md: Record<string, string> = {}, deadlineMs?: number) {
  const Ctor = grpc.makeGenericClientConstructor(serviceDefinition(service === 'layotto' ? LAYOTTO_SERVICE : DAPR_SERVICE), service);
  const cl = new Ctor(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & Record<string, Function>;
  const meta = new grpc.Metadata();
  for (const [k, v] of Object.entries(md)) meta.set(k, v);
  return new Promise<{ res?: any; err?: grpc.ServiceError; headers: grpc.Metadata }>((resolve) => {
    let headers = new grpc.Metadata();
    const call = cl[method]!.call(cl, req, meta, deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, res: unknown) => {
      cl.close();
      resolve(err ? { err, headers } : { res, headers });
    }) as grpc.ClientUnaryCall;
    call.on('metadata', (m: grpc.Metadata) => (headers = m));
  });
}

function invokeReq(method: string, body = '{"hi":1}', verb = 3): object {
  return { id: 'app', message: { method, data: { value: Buffer.from(body) }, content_type: 'application/json', http_extension: { verb } } };
}

test('1: an empty body reaches the app as zero bytes (Any without value; Dapr SDK Buffer.alloc(0) over gRPC; Layotto client)', async () => {
  const app = await behavingApp();
  const sc = await startDaprSidecar(app.address);
  const sdk = dapr(sc.daprGrpc.port, CommunicationProtocolEnum.GRPC);
  try {
    // data present, value absent: what protobuf-es, Go and Java clients send for an empty body.
    for (const [address, service] of [[sc.layotto.address, 'layotto'], [sc.daprGrpc.address, 'dapr']] as const) {
      const { res, err } = await callWithMetadata(address, service, 'InvokeService', { id: 'app', message: { method: 'empty', data: {}, http_extension: { verb: 3 } } });
      assert.equal(err, undefined, `${service}: ${err?.message}`);
      assert.equal(JSON.parse(Buffer.from(res.data.value).toString()).bodyLength, 0);
    }
    const viaSdk = (await sdk.invoker.invoke('app', 'empty', HttpMethod.POST, Buffer.alloc(0))) as { bodyLength: number; method: string };
    assert.equal(viaSdk.bodyLength, 0);
    assert.equal(viaSdk.method, 'POST');
  } finally {
    await sdk.stop();
    await sc.close();
    await app.close();
  }
});

test('2: with a Dapr API token the Dapr gRPC port guards Layotto\'s API and reflection too, health stays open; the token never reaches the app', async () => {
  const app = await behavingApp();
  const sc = await startDaprSidecar(app.address, { env: makeEnv({ dapr: { api_token: 's3cret' } }) });
  try {
    const denied = await callWithMetadata(sc.daprGrpc.address, 'layotto', 'InvokeService', invokeReq('x'));
    assert.equal(denied.err?.code, grpc.status.UNAUTHENTICATED);
    assert.equal((await callWithMetadata(sc.daprGrpc.address, 'layotto', 'SayHello', { name: 'x' })).err?.code, grpc.status.UNAUTHENTICATED);
    assert.equal(app.seen.length, 0, 'nothing reached the app');
    const ok = await callWithMetadata(sc.daprGrpc.address, 'layotto', 'InvokeService', invokeReq('x'), { 'dapr-api-token': 's3cret' });
    assert.equal(ok.err, undefined);
    const sdk = dapr(sc.daprGrpc.port, CommunicationProtocolEnum.GRPC, 's3cret');
    await sdk.invoker.invoke('app', 'y', HttpMethod.POST, { a: 1 });
    await sdk.stop();
    const viaHttp = await httpCall(sc.daprHttp.port, 'POST', '/v1.0/invoke/app/method/z', { headers: { 'dapr-api-token': 's3cret' }, body: '{}' });
    assert.equal(viaHttp.status, 200);
    assert.equal(app.seen.length, 3);
    for (const r of app.seen) assert.equal(r.headers['dapr-api-token'], undefined, `token forwarded to ${r.url}`);
    // The Layotto port itself carries no Dapr token requirement (Layotto has none).
    assert.equal((await callWithMetadata(sc.layotto.address, 'layotto', 'SayHello', { name: 'x' })).err, undefined);
  } finally {
    await sc.close();
    await app.close();
  }
});

test('3: Dapr gRPC treats any 2xx as OK, maps the others to gRPC codes with dapr-http-status and an ErrorInfo; Layotto keeps UNAVAILABLE', async () => {
  const app = await behavingApp();
  const sc = await startDaprSidecar(app.address);
  const sdk = dapr(sc.daprGrpc.port, CommunicationProtocolEnum.GRPC);
  try {
    assert.deepEqual(await sdk.invoker.invoke('app', 'status/201', HttpMethod.POST, { a: 1 }), { status: 201 });
    const created = await callWithMetadata(sc.daprGrpc.address, 'dapr', 'InvokeService', invokeReq('status/201'));
    assert.equal(created.err, undefined);
    assert.equal(created.headers.get('dapr-http-status')[0], '201');
    const empty = await callWithMetadata(sc.daprGrpc.address, 'dapr', 'InvokeService', invokeReq('status/204'));
    assert.equal(empty.err, undefined);
    assert.equal(empty.headers.get('dapr-http-status')[0], '204');
    for (const [status, code] of [[404, grpc.status.NOT_FOUND], [400, grpc.status.INTERNAL], [403, grpc.status.PERMISSION_DENIED], [503, grpc.status.UNAVAILABLE], [500, grpc.status.UNKNOWN], [418, grpc.status.UNKNOWN]] as const) {
      const r = await callWithMetadata(sc.daprGrpc.address, 'dapr', 'InvokeService', invokeReq(`status/${status}`));
      assert.equal(r.err?.code, code, `HTTP ${status}`);
      assert.equal(r.headers.get('dapr-http-status')[0], String(status));
      const details = r.err!.metadata.get('grpc-status-details-bin')[0] as Buffer;
      const st = messageType('google.rpc.Status').decode(details) as unknown as { code: number; details: { value: Uint8Array }[] };
      assert.equal(st.code, code);
      const info = messageType('google.rpc.ErrorInfo').decode(st.details[0]!.value) as unknown as { domain: string; metadata: Record<string, string> };
      assert.equal(info.domain, 'dapr.io');
      assert.equal(info.metadata['http.code'], String(status));
      assert.equal(info.metadata['http.error_message'], JSON.stringify({ status }));
    }
    await assert.rejects(sdk.invoker.invoke('app', 'status/404', HttpMethod.GET), /NOT_FOUND|Not Found/i);
    // Layotto's own API keeps Layotto's rule: anything but 200 is UNAVAILABLE with status and body.
    const layotto = await callWithMetadata(sc.layotto.address, 'layotto', 'InvokeService', invokeReq('status/201'));
    assert.equal(layotto.err?.code, grpc.status.UNAVAILABLE);
    assert.match(layotto.err!.details, /^http response code 201, body: /);
  } finally {
    await sdk.stop();
    await sc.close();
    await app.close();
  }
});

test('4: Dapr HTTP passes a non-200 answer with all its headers; repeated headers stay repeated over HTTP and gRPC', async () => {
  const app = await behavingApp();
  const sc = await startDaprSidecar(app.address);
  try {
    const r = await httpCall(sc.daprHttp.port, 'GET', '/v1.0/invoke/app/method/cookies');
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, '/elsewhere');
    assert.deepEqual(r.headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/']);
    assert.equal(r.body, 'moved');
    const created = await httpCall(sc.daprHttp.port, 'POST', '/v1.0/invoke/app/method/status/201', { body: '{}' });
    assert.equal(created.status, 201, 'the app status is passed through');
    assert.equal(created.headers['x-app'], 'yes');
    const g = await callWithMetadata(sc.daprGrpc.address, 'dapr', 'InvokeService', invokeReq('cookies', '', 1));
    assert.equal(g.headers.get('dapr-http-status')[0], '302');
    assert.deepEqual(g.headers.get('set-cookie'), ['a=1; Path=/', 'b=2; Path=/']);
  } finally {
    await sc.close();
    await app.close();
  }
});

test('5: the Layotto timeout is configurable and a longer gRPC deadline wins; Dapr has no default cap', async () => {
  const app = await behavingApp();
  const sc = await startDaprSidecar(app.address, { timeout: '300ms' });
  const sdk = dapr(sc.daprHttp.port, CommunicationProtocolEnum.HTTP);
  try {
    let t0 = Date.now();
    const capped = await callWithMetadata(sc.layotto.address, 'layotto', 'InvokeService', invokeReq('slow/800'));
    assert.equal(capped.err?.code, grpc.status.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - t0 < 750, `the configured 300 ms applied (took ${Date.now() - t0} ms)`);
    const longer = await callWithMetadata(sc.layotto.address, 'layotto', 'InvokeService', invokeReq('slow/800'), {}, 5000);
    assert.equal(longer.err, undefined, 'a 5 s deadline wins over the 300 ms default');
    t0 = Date.now();
    const viaDaprGrpc = await callWithMetadata(sc.daprGrpc.address, 'dapr', 'InvokeService', invokeReq('slow/800'));
    assert.equal(viaDaprGrpc.err, undefined, 'no default cap on Dapr gRPC');
    assert.deepEqual(await sdk.invoker.invoke('app', 'slow/800', HttpMethod.GET), { slow: true });
    const shorter = await callWithMetadata(sc.daprGrpc.address, 'dapr', 'InvokeService', invokeReq('slow/800'), {}, 200);
    assert.equal(shorter.err?.code, grpc.status.DEADLINE_EXCEEDED, 'the caller deadline still ends a Dapr call');
  } finally {
    await sdk.stop();
    await sc.close();
    await app.close();
  }
});

test('7: Dapr HTTP forms: dapr-app-id header, URL targets, PUT metadata, full metadata shape, shutdown; gRPC SetMetadata and Shutdown', async () => {
  const app = await behavingApp();
  let shutdowns = 0;
  const sc = await startDaprSidecar(app.address, { env: makeEnv({ requestShutdown: () => shutdowns++ }) });
  try {
    const byHeader = await httpCall(sc.daprHttp.port, 'POST', '/hello?x=1', { headers: { 'dapr-app-id': 'app' }, body: 'b' });
    assert.equal(byHeader.status, 200);
    assert.equal(JSON.parse(byHeader.body).url, '/hello?x=1');
    for (const target of [`http://${app.address}`, encodeURIComponent(`http://${app.address}`)]) {
      const viaUrl = await httpCall(sc.daprHttp.port, 'PUT', `/v1.0/invoke/${target}/method/direct/path?q=2`, { body: 'abc' });
      assert.equal(viaUrl.status, 200, target);
      const seen = JSON.parse(viaUrl.body);
      assert.equal(seen.url, '/direct/path?q=2');
      assert.equal(seen.method, 'PUT');
      assert.equal(seen.bodyLength, 3);
    }
    assert.equal((await httpCall(sc.daprHttp.port, 'PUT', '/v1.0/metadata/team', { body: 'runtime' })).status, 204);
    const g = client(sc.daprGrpc.address, 'dapr');
    await g.call('SetMetadata', { key: 'mood', value: 'calm' });
    const md = JSON.parse((await httpCall(sc.daprHttp.port, 'GET', '/v1.0/metadata')).body);
    assert.equal(md.extended.team, 'runtime');
    assert.equal(md.extended.mood, 'calm');
    for (const key of ['id', 'runtimeVersion', 'enabledFeatures', 'actors', 'components', 'extended', 'subscriptions', 'httpEndpoints', 'appConnectionProperties', 'actorRuntime']) {
      assert.ok(key in md, `metadata has ${key}`);
    }
    const gm = await g.call('GetMetadata', {});
    assert.equal(gm.extended_metadata.team, 'runtime');
    assert.deepEqual(gm.subscriptions, []);
    const sdkMd = await dapr(sc.daprGrpc.port, CommunicationProtocolEnum.GRPC).metadata.get();
    assert.equal(sdkMd.extended['mood'], 'calm');
    await g.call('Shutdown', {});
    assert.equal((await httpCall(sc.daprHttp.port, 'POST', '/v1.0/shutdown')).status, 204);
    await new Promise((r) => setImmediate(r));
    assert.equal(shutdowns, 2);
    g.close();
  } finally {
    await sc.close();
    await app.close();
  }
});

test('8: Dapr adds dapr-caller-app-id, dapr-callee-app-id, W3C trace context and forwarding headers', async () => {
  const app = await behavingApp();
  const sc = await startDaprSidecar(app.address);
  try {
    const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await httpCall(sc.daprHttp.port, 'POST', '/v1.0/invoke/app/method/a', { headers: { traceparent: parent, tracestate: 'congo=t61rcWkgMzE', host: 'front.example' }, body: '{}' });
    await httpCall(sc.daprHttp.port, 'POST', '/v1.0/invoke/app/method/b', { body: '{}' });
    await callWithMetadata(sc.daprGrpc.address, 'dapr', 'InvokeService', invokeReq('c'), { traceparent: parent, 'dapr-caller-app-id': 'spoofed' });
    const [a, b, c] = app.seen;
    for (const r of [a!, b!, c!]) {
      assert.equal(r.headers['dapr-caller-app-id'], 'ringside-test');
      assert.equal(r.headers['dapr-callee-app-id'], 'app');
      assert.match(String(r.headers['traceparent']), /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/);
    }
    const tp = String(a!.headers['traceparent']).split('-');
    assert.equal(tp[1], '0af7651916cd43dd8448eb211c80319c', 'the trace continues');
    assert.notEqual(tp[2], 'b7ad6b7169203331', 'with the sidecar hop as parent');
    assert.equal(tp[3], '01');
    assert.equal(a!.headers['tracestate'], 'congo=t61rcWkgMzE');
    assert.notEqual(String(b!.headers['traceparent']).split('-')[1], '0af7651916cd43dd8448eb211c80319c', 'a new trace starts without one');
    assert.equal(String(c!.headers['traceparent']).split('-')[1], '0af7651916cd43dd8448eb211c80319c');
    assert.equal(a!.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(a!.headers['x-forwarded-host'], 'front.example');
    assert.equal(a!.headers['forwarded'], 'for=127.0.0.1;by=127.0.0.1;host=front.example');
  } finally {
    await sc.close();
    await app.close();
  }
});
