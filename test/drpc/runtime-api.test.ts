/**
 * The runtime API over dRPC through a real `ringside start` (2 workers): a `drpc:/path.sock` listener
 * serves module 10 — InvokeService (1001) reaches the demo upstream through the same invoker,
 * channel and proxy as the gRPC API; SayHello (1002) answers; an invoker error is FAILURE with a
 * google.rpc.Status body; a Python client written from the wire format gets the answer too; a
 * session that sends garbage is closed and the worker goes on serving.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer, type AddressInfo } from 'node:net';
import { startChild } from '../supervisor/helpers.js';
import { defaultConfigJson } from '../../src/config/default.js';
import { messageType } from '../../src/runtime/proto.js';
import { RpcStatusType } from '../../src/runtime/drpc/runtime-module.js';
import { ClientConnection, Status } from '../../src/drpc/index.js';
import { RawPeer, script, tempDir } from './helpers.js';

const main = new URL('../../src/cli/main.js', import.meta.url).pathname;
const run = promisify(execFile);
const SERVICE = 'org.apache.dubbo.samples.UserProvider';
const CALL = '{"jsonrpc":"2.0","method":"GetUser","params":["A003"],"id":9527}';
const ANSWER = { jsonrpc: '2.0', id: 9527, result: { id: '113', name: 'Moorse', age: 30, time: 703394193, sex: 'MAN' } };

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const InvokeServiceRequest = messageType('spec.proto.runtime.v1.InvokeServiceRequest');
const InvokeResponse = messageType('spec.proto.runtime.v1.InvokeResponse');
const SayHelloRequest = messageType('spec.proto.runtime.v1.SayHelloRequest');
const SayHelloResponse = messageType('spec.proto.runtime.v1.SayHelloResponse');

function invokeBody(id: string): Uint8Array {
  return InvokeServiceRequest.encode({ id, message: { method: 'GetUser', data: { value: Buffer.from(CALL) }, content_type: 'application/json', http_extension: { verb: 3 } } }).finish();
}

test('InvokeService and SayHello over dRPC through ringside start; errors carry a google.rpc.Status', async (t) => {
  const dir = tempDir(t);
  const sock = join(dir, 'ringside.sock');
  const [grpcPort, demo] = [await freePort(), await freePort()];
  const cfg = JSON.parse(JSON.stringify(defaultConfigJson)) as { servers: { listeners: Record<string, unknown>[] }[]; cluster_manager: { clusters: { hosts: { address: string }[] }[] }; ringside: Record<string, unknown> };
  cfg.servers[0]!.listeners.find((l) => l['name'] === 'grpc')!['address'] = `127.0.0.1:${grpcPort}`;
  cfg.servers[0]!.listeners.push({ name: 'drpc', address: `drpc:${sock}`, filter_chains: [{ filters: [{ type: 'drpc', config: { server_name: 'runtime', socket_mode: '0660' } }] }] });
  cfg.cluster_manager.clusters[0]!.hosts[0]!.address = `127.0.0.1:${demo}`;
  cfg.ringside = { ...cfg.ringside, admin: { address: '127.0.0.1:0' }, demo_upstream: { enabled: true, address: `127.0.0.1:${demo}` }, dapr: { enabled: false }, drain_timeout: 2000 };
  const file = join(dir, 'sidecar.json');
  writeFileSync(file, JSON.stringify(cfg));

  const child = startChild(main, ['start', '-c', file, '--workers', '2']);
  t.after(() => child.kill());
  await child.waitStdout(/^ringside ready:/, 20_000);
  assert.equal(statSync(sock).mode & 0o777, 0o660, 'socket_mode is applied');

  const client = new ClientConnection(sock, { timeoutMs: 5000 });
  await client.connect();
  t.after(() => client.close());
  for (let i = 0; i < 3; i++) {
    const r = await client.sendMsg({ module: 10, method: 1001, body: invokeBody(SERVICE) });
    assert.equal(r.status, Status.SUCCESS);
    const out = InvokeResponse.toObject(InvokeResponse.decode(r.body)) as { data: { value: Uint8Array }; content_type: string };
    assert.deepEqual(JSON.parse(Buffer.from(out.data.value).toString()), ANSWER);
  }
  const hello = await client.sendMsg({ module: 10, method: 1002, body: SayHelloRequest.encode({ name: 'drpc' }).finish() });
  assert.equal(hello.status, Status.SUCCESS);
  assert.equal((SayHelloResponse.decode(hello.body) as unknown as { hello: string }).hello, 'hello, drpc');

  // No route for the id: the egress proxy's own 404 is the sidecar's NOT_FOUND (FAILURE + google.rpc.Status).
  const miss = await client.sendMsg({ module: 10, method: 1001, body: invokeBody('no.such.Service') });
  assert.equal(miss.status, Status.FAILURE);
  const st = RpcStatusType.decode(miss.body) as unknown as { code: number; message: string };
  assert.equal(st.code, 5);
  assert.match(st.message, /no route/);
  const noId = await client.sendMsg({ module: 10, method: 1001, body: invokeBody('') });
  assert.equal(noId.status, Status.FAILURE);
  assert.equal((RpcStatusType.decode(noId.body) as unknown as { code: number }).code, 3, 'INVALID_ARGUMENT');
  assert.equal((await client.sendMsg({ module: 10, method: 1003 })).status, Status.UNKNOWN_METHOD);
  assert.equal((await client.sendMsg({ module: 11, method: 1101 })).status, Status.UNKNOWN_MODULE);
  assert.equal((await client.sendMsg({ module: 10, method: 1001, body: Buffer.from([0xff, 0xff]) })).status, Status.FAILED_UNMARSHAL_PAYLOAD);

  // Garbage closes that session only.
  const bad = new RawPeer(sock);
  bad.send(Buffer.from('not a dRPC chunk header'));
  await bad.until(() => bad.closed, 3000, 'the bad session to be closed');

  const py = JSON.parse((await run('python3', [script, 'invoke', sock, SERVICE, 'GetUser', CALL])).stdout) as { status: string; data: string };
  assert.equal(py.status, 'SUCCESS');
  assert.deepEqual(JSON.parse(py.data), ANSWER, 'the Python client gets the demo answer');
  const again = await client.sendMsg({ module: 10, method: 1001, body: invokeBody(SERVICE) });
  assert.equal(again.status, Status.SUCCESS, 'the first session carries on');
});
