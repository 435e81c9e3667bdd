/**
 * Through a real `ringside start` (the egress proxy in the path): a failure of the sidecar itself — no
 * route for the app id, the app unreachable — answers as Dapr does (HTTP 500 ERR_DIRECT_INVOKE, gRPC
 * INTERNAL "failed to invoke") and never looks like the app's own 404/503, which passes through as
 * the app's answer. A resiliency retry policy for the unreachable app counts its retries in /metrics; Dapr's
 * Shutdown API then stops the sidecar gracefully.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { get } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { CommunicationProtocolEnum, DaprClient, HttpMethod, LogLevel } from '@dapr/dapr';
import { startChild } from '../supervisor/helpers.js';
import { DAPR_SERVICE, LAYOTTO_SERVICE, serviceDefinition } from '../../src/runtime/proto.js';
import { defaultConfigJson } from '../../src/config/default.js';
import { behavingApp, httpCall } from '../runtime/helpers.js';

const main = new URL('../../src/cli/main.js', import.meta.url).pathname;

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

function call(address: string, service: string, req: object): Promise<{ err?: grpc.ServiceError; headers: grpc.Metadata }> {
  const Ctor = grpc.makeGenericClientConstructor(serviceDefinition(service), 'C');
  const c = new Ctor(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & Record<string, Function>;
  return new Promise((resolve) => {
    let headers = new grpc.Metadata();
    const unary = c['InvokeService']!.call(c, req, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err: grpc.ServiceError | null) => {
      c.close();
      resolve(err ? { err, headers } : { headers });
    }) as grpc.ClientUnaryCall;
    unary.on('metadata', (m: grpc.Metadata) => (headers = m));
  });
}

const invoke = (id: string, method: string) => ({ id, message: { method, data: { value: Buffer.from('{}') }, http_extension: { verb: 3 } } });

test('6: sidecar failures answer ERR_DIRECT_INVOKE / the gRPC status, the app\'s own 404 and 503 pass through; Shutdown stops the sidecar', async (t) => {
  const app = await behavingApp();
  t.after(() => app.close());
  const [grpcPort, daprGrpc, daprHttp, dead] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const cfg = JSON.parse(JSON.stringify(defaultConfigJson));
  cfg.servers[0].listeners.find((l: { name: string }) => l.name === 'grpc').address = `127.0.0.1:${grpcPort}`;
  cfg.servers[0].routers[0].virtual_hosts[0].routers = [
    { match: { headers: [{ name: 'id', value: 'app' }] }, route: { cluster_name: 'app' } },
    { match: { headers: [{ name: 'id', value: 'down' }] }, route: { cluster_name: 'down' } },
  ];
  cfg.cluster_manager.clusters = [
    { name: 'app', type: 'SIMPLE', lb_type: 'LB_RANDOM', hosts: [{ address: app.address }] },
    { name: 'down', type: 'SIMPLE', lb_type: 'LB_RANDOM', hosts: [{ address: `127.0.0.1:${dead}` }] },
  ];
  cfg.ringside = {
    admin: { address: '127.0.0.1:0' },
    dapr: { enabled: true, grpc_port: daprGrpc, http_port: daprHttp, app_id: 'caller' },
    drain_timeout: 2000,
    // Connection refused to `down` is retried twice on each Dapr path; the retries reach /metrics.
    resiliency: { spec: { policies: { retries: { twice: { duration: '10ms', maxRetries: 2 } } }, targets: { apps: { down: { retry: 'twice' } } } } },
  };
  const file = join(mkdtempSync(join(tmpdir(), 'ringside-errors-')), 'sidecar.json');
  writeFileSync(file, JSON.stringify(cfg));
  const child = startChild(main, ['start', '-c', file, '--workers', '1']);
  t.after(() => child.kill());
  await child.waitStdout(/^ringside ready:/, 20_000);

  // Dapr HTTP: the sidecar's own failures.
  for (const id of ['nope', 'down']) {
    const r = await httpCall(daprHttp, 'POST', `/v1.0/invoke/${id}/method/x`, { body: '{}' });
    assert.equal(r.status, 500, id);
    assert.equal(r.headers['content-type'], 'application/json');
    const body = JSON.parse(r.body);
    assert.equal(body.errorCode, 'ERR_DIRECT_INVOKE');
    assert.match(body.message, new RegExp(`^failed to invoke, id: ${id}, err: `));
    assert.equal(r.headers['x-ringside-error'], undefined, 'the internal marker does not leak');
  }
  // …and the app's own 404 / 503, unchanged.
  for (const status of [404, 503]) {
    const r = await httpCall(daprHttp, 'POST', `/v1.0/invoke/app/method/status/${status}`, { body: '{}' });
    assert.equal(r.status, status);
    assert.deepEqual(JSON.parse(r.body), { status });
  }
  const sdk = new DaprClient({ daprHost: '127.0.0.1', daprPort: String(daprHttp), communicationProtocol: CommunicationProtocolEnum.HTTP, logger: { level: LogLevel.Error } });
  await assert.rejects(sdk.invoker.invoke('nope', 'x', HttpMethod.POST, {}), /ERR_DIRECT_INVOKE/);
  await sdk.stop();

  // Dapr gRPC: INTERNAL "failed to invoke" without dapr-http-status; the app's 404 is NOT_FOUND with it.
  for (const id of ['nope', 'down']) {
    const r = await call(`127.0.0.1:${daprGrpc}`, DAPR_SERVICE, invoke(id, 'x'));
    assert.equal(r.err?.code, grpc.status.INTERNAL, id);
    assert.match(r.err!.details, new RegExp(`^failed to invoke, id: ${id}, err: `));
    assert.deepEqual(r.headers.get('dapr-http-status'), []);
  }
  const app404 = await call(`127.0.0.1:${daprGrpc}`, DAPR_SERVICE, invoke('app', 'status/404'));
  assert.equal(app404.err?.code, grpc.status.NOT_FOUND);
  assert.equal(app404.headers.get('dapr-http-status')[0], '404');

  // Layotto: no route is NOT_FOUND, an unreachable app UNAVAILABLE — the sidecar's codes, not "http response code".
  const noRoute = await call(`127.0.0.1:${grpcPort}`, LAYOTTO_SERVICE, invoke('nope', 'x'));
  assert.equal(noRoute.err?.code, grpc.status.NOT_FOUND);
  const down = await call(`127.0.0.1:${grpcPort}`, LAYOTTO_SERVICE, invoke('down', 'x'));
  assert.equal(down.err?.code, grpc.status.UNAVAILABLE);
  assert.doesNotMatch(down.err!.details, /http response code/);

  // Two retries for each of the two Dapr calls to `down` (HTTP and gRPC), counted per policy.
  const admin = /admin listening on ([^\s"]+)/.exec(child.stderr())![1]!;
  const scraped = await new Promise<string>((resolve, reject) => {
    get(`http://${admin}/metrics`, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve(text));
    }).on('error', reject);
  });
  assert.match(scraped, /^ringside_resiliency_activations_total\{[^}]*name="twice"[^}]*policy="retry"[^}]*target="down"[^}]*\} 4$/m);

  // Dapr's Shutdown: answered, then the sidecar drains and exits 0.
  assert.equal((await httpCall(daprHttp, 'POST', '/v1.0/shutdown')).status, 204);
  const exit = await child.exited;
  assert.equal(exit.code, 0);
});
