/**
 * Dapr resiliency on service invocation, with the official Dapr SDK over HTTP and gRPC (Dapr applied
 * its policies on the gRPC path only: dapr/dapr#5602): retries (constant, exponential with maxInterval,
 * maxRetries, status matching), connection refused retried (dapr/dapr#7053), timeouts, and a circuit
 * breaker whose open state answers an error, never 200 (dapr/dapr#4454); counters per policy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { CommunicationProtocolEnum, DaprClient, HttpMethod, LogLevel } from '@dapr/dapr';
import { recorder } from '../../src/observability/index.js';
import { kit } from '../../src/config/kit.js';
import { resiliencySchema } from '../../src/runtime/resiliency/schema.js';
import { compileTrip } from '../../src/runtime/resiliency/trip.js';
import { assertIssue, baseConfig, configIssues, parse } from '../config/helpers.js';
import { client, httpCall, makeEnv, startDaprSidecar } from './helpers.js';

const parseSpec = (v: unknown) => resiliencySchema(kit(false)).parse(v);

/** An app whose answer to each request a script decides (status, or 'hang'); counts requests. */
async function scriptedApp(answer: (n: number, path: string) => number | 'hang'): Promise<{ address: string; port: number; count(): number; close(): Promise<void> }> {
  let n = 0;
  const server: Server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const a = answer(++n, req.url ?? '/');
      if (a === 'hang') return;
      res.writeHead(a, { 'content-type': 'application/json' }).end(JSON.stringify({ n, status: a }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    port,
    count: () => n,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function sidecarWith(upstream: string, resiliency: unknown) {
  return startDaprSidecar(upstream, { env: makeEnv({ resiliency: parseSpec(resiliency) }) });
}

const invokeReq = (id: string, method: string) => ({ id, message: { method, data: { value: Buffer.from('{}') }, http_extension: { verb: 3 } } });

function activations(name: string, policy: string, target: string): number {
  const fam = recorder.families().find((f) => f.name === 'ringside_resiliency_activations_total');
  return fam?.values.find((v) => v.labels['name'] === name && v.labels['policy'] === policy && v.labels['target'] === target)?.value ?? 0;
}

test('the resiliency config: Dapr defaults, code ranges, trip expressions and policy references are checked with their JSON path', () => {
  const r = parseSpec({ spec: { policies: { retries: { r: {} }, circuitBreakers: { cb: {} } }, targets: { apps: { a: { retry: 'r', circuitBreaker: 'cb' } } } } });
  assert.deepEqual(r.spec.policies.retries['r'], { policy: 'constant', duration: 5000, maxInterval: 60_000, maxRetries: -1 });
  assert.deepEqual(r.spec.policies.circuitBreakers['cb'], { maxRequests: 1, interval: 0, timeout: 60_000, trip: 'consecutiveFailures > 5' });
  assert.deepEqual(parseSpec({ spec: { policies: { retries: { r: { matching: { httpStatusCodes: '429,500-599' } } } } } }).spec.policies.retries['r']!.matching, {
    httpStatusCodes: [[429, 429], [500, 599]],
  });
  const trip = compileTrip('requests >= 4 && (totalFailures * 2 > requests || consecutiveFailures > 2)');
  assert.equal(trip({ requests: 4, totalFailures: 3, totalSuccesses: 1, consecutiveFailures: 1, consecutiveSuccesses: 0 }), true);
  assert.equal(trip({ requests: 4, totalFailures: 1, totalSuccesses: 3, consecutiveFailures: 1, consecutiveSuccesses: 0 }), false);

  const withResiliency = (resiliency: unknown) => {
    const cfg = baseConfig() as { ringside?: Record<string, unknown> };
    cfg.ringside = { ...(cfg.ringside ?? {}), resiliency };
    return () => parse(cfg);
  };
  assertIssue(configIssues(withResiliency({ spec: { policies: { circuitBreakers: { cb: { trip: 'consecutiveFailure > 5' } } } } })), 'ringside.resiliency.spec.policies.circuitBreakers.cb.trip', /unknown name "consecutiveFailure"/);
  assertIssue(configIssues(withResiliency({ spec: { policies: { circuitBreakers: { cb: { trip: 'consecutiveFailures' } } } } })), 'ringside.resiliency.spec.policies.circuitBreakers.cb.trip', /must be a condition/);
  assertIssue(configIssues(withResiliency({ spec: { policies: { retries: { r: { matching: { httpStatusCodes: '500-700' } } } } } })), 'ringside.resiliency.spec.policies.retries.r.matching.httpStatusCodes', /within 100-599/);
  assertIssue(configIssues(withResiliency({ spec: { policies: { retries: { r: { policy: 'linear' } } } } })), 'ringside.resiliency.spec.policies.retries.r.policy', /constant|exponential/);
  assertIssue(configIssues(withResiliency({ spec: { targets: { apps: { a: { retry: 'nope' } } } } })), 'ringside.resiliency.spec.targets.apps.a.retry', /no retry policy named "nope"/);
  const warned = parse({ ...baseConfig(), ringside: { resiliency: { spec: { targets: { components: { statestore: {} } } } } } });
  assert.ok(warned.warnings.some((w) => w.startsWith('ringside.resiliency.spec.targets') && /components/.test(w)), JSON.stringify(warned.warnings));
});

test('retries apply on the Dapr HTTP and gRPC paths alike: constant back-off, maxRetries, status matching; the last answer is the app\'s', async () => {
  const app = await scriptedApp((n, path) => (path.startsWith('/flaky') ? (n % 3 === 0 ? 200 : 503) : path.startsWith('/missing') ? 404 : 503));
  const sc = await sidecarWith(app.address, {
    spec: {
      policies: { retries: { three: { policy: 'constant', duration: '50ms', maxRetries: 2, matching: { httpStatusCodes: '500-599' } } } },
      targets: { apps: { app: { retry: 'three' } } },
    },
  });
  const http = new DaprClient({ daprHost: '127.0.0.1', daprPort: String(sc.daprHttp.port), communicationProtocol: CommunicationProtocolEnum.HTTP, logger: { level: LogLevel.Error } });
  const grpcSdk = new DaprClient({ daprHost: '127.0.0.1', daprPort: String(sc.daprGrpc.port), communicationProtocol: CommunicationProtocolEnum.GRPC, logger: { level: LogLevel.Error } });
  try {
    const t0 = Date.now();
    assert.deepEqual(await http.invoker.invoke('app', 'flaky', HttpMethod.POST, {}), { n: 3, status: 200 }, 'HTTP: two 503s retried');
    assert.ok(Date.now() - t0 >= 90, 'two 50 ms waits');
    assert.deepEqual(await grpcSdk.invoker.invoke('app', 'flaky', HttpMethod.POST, {}), { n: 6, status: 200 }, 'gRPC: two 503s retried');
    assert.equal(app.count(), 6);

    const exhausted = await httpCall(sc.daprHttp.port, 'POST', '/v1.0/invoke/app/method/down', { body: '{}' });
    assert.equal(exhausted.status, 503, 'after maxRetries the app\'s own answer');
    assert.equal(app.count(), 9, '1 try + maxRetries 2');
    const g = client(sc.daprGrpc.address, 'dapr');
    await assert.rejects(g.call('InvokeService', invokeReq('app', 'down')), (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE);
    assert.equal(app.count(), 12);
    g.close();

    const notMatched = await httpCall(sc.daprHttp.port, 'POST', '/v1.0/invoke/app/method/missing', { body: '{}' });
    assert.equal(notMatched.status, 404);
    assert.equal(app.count(), 13, '404 is outside matching.httpStatusCodes: no retry');
    // Another app has no policy: one try.
    const other = await httpCall(sc.daprHttp.port, 'POST', `/v1.0/invoke/${encodeURIComponent(`http://${app.address}`)}/method/down`, { body: '{}' });
    assert.equal(other.status, 503);
    assert.equal(app.count(), 14);
    const stats = sc.host.resiliencyStats().find((s) => s.app === 'app')!;
    assert.equal(stats.retries, 8);
    assert.equal(activations('three', 'retry', 'app'), 8);
  } finally {
    await http.stop();
    await grpcSdk.stop();
    await sc.close();
    await app.close();
  }
});

test('connection refused is retried (exponential back-off capped by maxInterval) until the app comes up', async () => {
  const probe = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => probe.once('listening', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const sc = await sidecarWith(`127.0.0.1:${port}`, {
    spec: { policies: { retries: { exp: { policy: 'exponential', maxInterval: '100ms', maxRetries: 20 } } }, targets: { apps: { late: { retry: 'exp' } } } },
  });
  let late: Server | undefined;
  const starter = setTimeout(() => {
    late = createHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"up":true}')).listen(port, '127.0.0.1');
  }, 400);
  try {
    const t0 = Date.now();
    const r = await httpCall(sc.daprHttp.port, 'POST', '/v1.0/invoke/late/method/x', { body: '{}' });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(JSON.parse(r.body), { up: true });
    const took = Date.now() - t0;
    assert.ok(took >= 390 && took < 2000, `answered once the app listened (${took} ms; waits capped at 100 ms)`);
    assert.ok(sc.host.resiliencyStats()[0]!.retries >= 2);
  } finally {
    clearTimeout(starter);
    await sc.close();
    await new Promise((r) => (late ? late.close(r) : r(undefined)));
  }
});

test('a timeout policy ends a slow try on both paths; with retries each try gets the timeout', async () => {
  const app = await scriptedApp((n) => (n <= 3 ? 'hang' : 200));
  const sc = await sidecarWith(app.address, {
    spec: {
      policies: { timeouts: { quick: '150ms' }, retries: { once: { duration: '10ms', maxRetries: 1 } } },
      targets: { apps: { slow: { timeout: 'quick' }, retried: { timeout: 'quick', retry: 'once' } } },
    },
  });
  try {
    let t0 = Date.now();
    const r = await httpCall(sc.daprHttp.port, 'POST', '/v1.0/invoke/slow/method/x', { body: '{}' });
    assert.equal(r.status, 500);
    assert.equal(JSON.parse(r.body).errorCode, 'ERR_DIRECT_INVOKE');
    assert.ok(Date.now() - t0 < 1000);
    t0 = Date.now();
    const g = client(sc.daprGrpc.address, 'dapr');
    await assert.rejects(g.call('InvokeService', invokeReq('slow', 'x')), (e: grpc.ServiceError) => e.code === grpc.status.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - t0 < 1000);
    // Try 3 hangs and times out, try 4 answers.
    const retried = await g.call('InvokeService', invokeReq('retried', 'x'));
    assert.equal(JSON.parse(Buffer.from(retried.data.value).toString()).n, 4);
    g.close();
    assert.equal(sc.host.resiliencyStats().find((s) => s.app === 'slow')!.timeouts, 2);
    assert.equal(activations('quick', 'timeout', 'retried'), 1);
  } finally {
    await sc.close();
    await app.close();
  }
});

test('a circuit breaker trips on consecutive failures, answers an error while open (never 200, nothing reaches the app), half-opens after its timeout and closes', async () => {
  let healthy = false;
  const app = await scriptedApp(() => (healthy ? 200 : 503));
  const sc = await sidecarWith(app.address, {
    spec: {
      policies: { circuitBreakers: { cb: { maxRequests: 1, timeout: '300ms', trip: 'consecutiveFailures >= 2' } } },
      targets: { apps: { app: { circuitBreaker: 'cb' } } },
    },
  });
  const g = client(sc.daprGrpc.address, 'dapr');
  try {
    for (let i = 0; i < 2; i++) assert.equal((await httpCall(sc.daprHttp.port, 'POST', '/v1.0/invoke/app/method/x', { body: '{}' })).status, 503);
    assert.equal(app.count(), 2);
    healthy = true; // the app would now answer 200: the open breaker must still answer an error
    const open = await httpCall(sc.daprHttp.port, 'POST', '/v1.0/invoke/app/method/x', { body: '{}' });
    assert.equal(open.status, 500);
    assert.match(JSON.parse(open.body).message, /circuit breaker is open/);
    await assert.rejects(g.call('InvokeService', invokeReq('app', 'x')), (e: grpc.ServiceError) => e.code !== grpc.status.OK && /circuit breaker is open/.test(e.details));
    assert.equal(app.count(), 2, 'nothing reached the app while open');
    assert.equal(sc.host.resiliencyStats()[0]!.breakerState, 'open');
    await new Promise((r) => setTimeout(r, 350));
    assert.equal(sc.host.resiliencyStats()[0]!.breakerState, 'half-open');
    const probe = await httpCall(sc.daprHttp.port, 'POST', '/v1.0/invoke/app/method/x', { body: '{}' });
    assert.equal(probe.status, 200);
    assert.equal(sc.host.resiliencyStats()[0]!.breakerState, 'closed');
    assert.ok((await g.call('InvokeService', invokeReq('app', 'x'))).data);
    const s = sc.host.resiliencyStats()[0]!;
    assert.equal(s.breakerOpened, 1);
    assert.equal(s.breakerRejected, 2);
    assert.equal(activations('cb', 'circuitbreaker', 'app'), 1);
  } finally {
    g.close();
    await sc.close();
    await app.close();
  }
});
