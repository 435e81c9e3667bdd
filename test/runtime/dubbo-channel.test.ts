/**
 * Layotto's `dubbo` channel against a real sofa-rpc-node dubbo server: JSON calls built by the channel
 * (args, argTypes), opaque hessian bodies as Layotto passes them, many calls on few connections,
 * Layotto's control metadata, errors and a connection that dies with calls in flight. Callers are the
 * Layotto gRPC client and the Dapr SDK.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { DaprClient, CommunicationProtocolEnum, HttpMethod, LogLevel } from '@dapr/dapr';
import { RuntimeHost } from '../../src/runtime/index.js';
import { OffloadPool } from '../../src/worker/offload.js';
import { decodeResult, encodeInvocationBody, toJavaArgument } from '../../src/protocol/dubbo/index.js';
import { client, listenWithFilter, makeEnv, type Listening } from './helpers.js';
import { startDubboServer, type DubboServer } from './sofa-dubbo.js';

const CALC = 'com.example.Calc:1.0.0';

function dubboChannelConfig(listener: string, ext: Record<string, unknown> = {}, size = 2): unknown {
  return {
    server_name: 'runtime',
    grpc_config: { rpcs: { mosn: { type: 'mosn', config: { channel: [{ protocol: 'dubbo', listener, size, ext }] } } } },
  };
}

interface Sidecar {
  host: RuntimeHost;
  grpc: Listening;
  dapr: Listening;
  close(): Promise<void>;
}

async function sidecar(listener: string, opts: { ext?: Record<string, unknown>; size?: number; offload?: OffloadPool } = {}): Promise<Sidecar> {
  const host = new RuntimeHost(makeEnv(opts.offload === undefined ? {} : { offload: opts.offload }));
  const grpc = await listenWithFilter(host.grpcFilterFactory, dubboChannelConfig(listener, opts.ext, opts.size));
  const dapr = await listenWithFilter(host.grpcFilterFactory, { server_name: 'runtime' }, 'dapr_grpc');
  return {
    host,
    grpc,
    dapr,
    close: async () => {
      await host.close(100);
      await Promise.all([grpc.close(), dapr.close()]);
    },
  };
}

function jsonCall(method: string, data: unknown, id = CALC) {
  return { id, message: { method, content_type: 'application/json', data: { value: Buffer.from(JSON.stringify(data)) } } };
}

const text = (res: { data?: { value?: Uint8Array } }): string => Buffer.from(res.data?.value ?? []).toString();

let server: DubboServer;
test.before(async () => {
  server = await startDubboServer();
});
test.after(async () => {
  await server.close();
});

test('Layotto InvokeService(id="com.example.Calc:1.0.0", method="plus", data=[1,2]) answers 3 as JSON; argTypes name the Java types', async () => {
  const sc = await sidecar(server.address);
  const c = client(sc.grpc.address);
  try {
    const res = await c.call('InvokeService', jsonCall('plus', [1, 2]));
    assert.equal(text(res), '3');
    assert.equal(res.content_type, 'application/json');
    const typed = await c.call('InvokeService', jsonCall('concat', { args: [7, 'x'], argTypes: ['long', 'java.lang.String'] }));
    assert.equal(text(typed), '"7x"');
    const obj = await c.call('InvokeService', jsonCall('echo', [{ a: [1, 'b'], n: null }]));
    assert.deepEqual(JSON.parse(text(obj)), { a: [1, 'b'], n: null });
  } finally {
    c.close();
    await sc.close();
  }
});

test('the Dapr SDK calls the same dubbo service through the channel with JSON arguments', async () => {
  const sc = await sidecar(server.address);
  const dapr = new DaprClient({ daprHost: '127.0.0.1', daprPort: String(sc.dapr.port), communicationProtocol: CommunicationProtocolEnum.GRPC, logger: { level: LogLevel.Error } });
  try {
    assert.equal(await dapr.invoker.invoke(CALC, 'plus', HttpMethod.POST, [20, 22]), 42);
  } finally {
    await dapr.stop();
    await sc.close();
  }
});

test('without the JSON content type data is the hessian2 body as Layotto passes it, and the answer is the response body', async () => {
  const sc = await sidecar(server.address);
  const c = client(sc.grpc.address);
  try {
    const body = encodeInvocationBody({ service: 'com.example.Calc', version: '1.0.0', method: 'plus', descriptor: 'II', args: [toJavaArgument('int', 40), toJavaArgument('int', 2)], attachments: {} });
    const res = await c.call('InvokeService', { id: CALC, message: { method: 'plus', data: { value: body } } });
    assert.deepEqual(decodeResult(20, Buffer.from(res.data.value)), { kind: 'value', value: 42, attachments: {} });
  } finally {
    c.close();
    await sc.close();
  }
});

test('300 concurrent calls share at most `size` connections, each answered with its own result', async () => {
  // A counting TCP forwarder in front of the server shows how many connections the channel opens.
  let accepted = 0;
  const forwarder = createServer((down) => {
    accepted++;
    const up = connect(server.port, '127.0.0.1');
    down.pipe(up).pipe(down);
    down.on('error', () => up.destroy());
    up.on('error', () => down.destroy());
  });
  await new Promise<void>((r) => forwarder.listen(0, '127.0.0.1', r));
  const sc = await sidecar(`127.0.0.1:${(forwarder.address() as { port: number }).port}`, { size: 2 });
  const c = client(sc.grpc.address);
  try {
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => c.call('InvokeService', jsonCall('plus', [i, 1000]))));
    assert.deepEqual(results.map(text), Array.from({ length: 300 }, (_, i) => String(i + 1000)));
    assert.ok(accepted >= 1 && accepted <= 2, `${accepted} connections for size 2`);
  } finally {
    c.close();
    await sc.close();
    forwarder.close();
  }
});

test('Layotto control metadata: rpc_request_timeout ends a slow call, oneway answers at once, rpc_target_address picks the peer', async () => {
  // The channel's own listener is a port nobody serves: only rpc_target_address can reach the server.
  const dead = createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  const deadAddr = `127.0.0.1:${(dead.address() as { port: number }).port}`;
  await new Promise<void>((r) => dead.close(() => r()));
  const sc = await sidecar(deadAddr);
  const c = client(sc.grpc.address);
  const to = { rpc_target_address: server.address };
  try {
    await assert.rejects(c.call('InvokeService', jsonCall('plus', [1, 2])), (e: any) => e.code === 14 /* UNAVAILABLE: connect refused */);
    assert.equal(text(await c.call('InvokeService', jsonCall('plus', [1, 2]), { metadata: to })), '3');
    const t0 = Date.now();
    await assert.rejects(c.call('InvokeService', jsonCall('sleep', [2000]), { metadata: { ...to, rpc_request_timeout: '100' } }), (e: any) => e.code === 4);
    assert.ok(Date.now() - t0 < 1500, 'ended by rpc_request_timeout, not the 3 s default');
    const before = server.calls.get('echo') ?? 0;
    const one = await c.call('InvokeService', jsonCall('echo', ['fire']), { metadata: { ...to, rpc_request_type: 'oneway' } });
    assert.equal(text(one), '');
    for (let i = 0; i < 50 && (server.calls.get('echo') ?? 0) === before; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(server.calls.get('echo'), before + 1, 'the oneway call reached the service');
    await assert.rejects(c.call('InvokeService', jsonCall('plus', [1, 2]), { metadata: { ...to, rpc_request_timeout: 'soon' } }), (e: any) => e.code === 3);
  } finally {
    c.close();
    await sc.close();
  }
});

test('an unknown service, a thrown exception and bad JSON fail as Layotto maps them', async () => {
  const sc = await sidecar(server.address);
  const c = client(sc.grpc.address);
  try {
    await assert.rejects(c.call('InvokeService', jsonCall('plus', [1, 2], 'com.example.Nope:1.0.0')), (e: any) => e.code === 14 && /dubbo error code 80/.test(e.details));
    await assert.rejects(c.call('InvokeService', jsonCall('fail', [])), (e: any) => e.code === 14 && /dubbo error code/.test(e.details));
    await assert.rejects(
      c.call('InvokeService', { id: CALC, message: { method: 'plus', content_type: 'application/json', data: { value: Buffer.from('[1,') } } }),
      (e: any) => e.code === 3 && /not JSON/.test(e.details),
    );
    await assert.rejects(c.call('InvokeService', jsonCall('plus', { args: [1], argTypes: ['int', 'int'] })), (e: any) => e.code === 3);
    // The connection carries on after all of these.
    assert.equal(text(await c.call('InvokeService', jsonCall('plus', [2, 2]))), '4');
  } finally {
    c.close();
    await sc.close();
  }
});

test('a connection that dies with calls in flight fails each of them at once, and the next call dials again', async () => {
  const sockets: Socket[] = [];
  let received = 0;
  const blackhole = createServer((s) => {
    sockets.push(s);
    s.on('data', (d) => {
      received += d.length;
    });
  });
  await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
  const sc = await sidecar(`127.0.0.1:${(blackhole.address() as { port: number }).port}`, { size: 1 });
  const c = client(sc.grpc.address);
  try {
    const pending = Array.from({ length: 5 }, () => c.call('InvokeService', jsonCall('plus', [1, 2])).then(() => 'ok', (e: any) => e.code));
    while (received === 0 || sockets.length === 0) await new Promise((r) => setTimeout(r, 5));
    const t0 = Date.now();
    for (const s of sockets) s.destroy();
    assert.deepEqual(await Promise.all(pending), [14, 14, 14, 14, 14]);
    assert.ok(Date.now() - t0 < 1000, 'failed when the connection closed, not at the timeout');
    await assert.rejects(c.call('InvokeService', jsonCall('plus', [1, 2]), { metadata: { rpc_request_timeout: '100' } }), (e: any) => e.code === 4);
    assert.equal(sockets.length, 2, 'the broken connection left the pool; the next call dialed a new one');
  } finally {
    c.close();
    await sc.close();
    await new Promise<void>((r) => blackhole.close(() => r()));
  }
});

test('JSON bodies above json_offload_min_bytes are transcoded on the offload pool both ways', async () => {
  const pool = new OffloadPool({ threads: 1 });
  const sc = await sidecar(server.address, { ext: { json_offload_min_bytes: 1024 }, offload: pool });
  const c = client(sc.grpc.address);
  try {
    const big = 'x'.repeat(200_000);
    const res = await c.call('InvokeService', jsonCall('echo', [big]));
    assert.equal(JSON.parse(text(res)), big);
    assert.equal(pool.stats().completed, 2, 'request encode and response decode ran on the pool');
    assert.equal(text(await c.call('InvokeService', jsonCall('plus', [1, 2]))), '3');
    assert.equal(pool.stats().completed, 2, 'small bodies stay on the worker');
  } finally {
    c.close();
    await sc.close();
    await pool.close();
  }
});
