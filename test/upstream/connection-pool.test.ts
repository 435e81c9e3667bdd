import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RingsideError } from '../../src/common/errors.js';
import { ClusterCircuitBreaker } from '../../src/upstream/circuit-breaker.js';
import { UpstreamHost } from '../../src/upstream/host.js';
import { HostConnectionPool } from '../../src/upstream/pool.js';
import type { PoolWaiter, UpstreamClient } from '../../src/types/upstream.js';
import type { CircuitBreakersConfig } from '../../src/config/types.js';

type CircuitBreakerThresholdsConfig = Partial<CircuitBreakersConfig>;
import { host as hostConfig } from '../fixtures/config-shapes.js';
import { closedPort, LineClient, LineClientFactory, lineServer } from './fixtures/line-client.js';

interface Setup {
  pool: HostConnectionPool;
  factory: LineClientFactory;
  breaker: ClusterCircuitBreaker;
  host: UpstreamHost;
}

function setup(port: number, thresholds: CircuitBreakerThresholdsConfig = {}, opts: { maxPerConn?: number; queueTimeoutMs?: number; idleTimeoutMs?: number } = {}): Setup {
  const host = new UpstreamHost('c', hostConfig({ address: `127.0.0.1:${port}` }), 'hosts[0]');
  const factory = new LineClientFactory();
  const breaker = new ClusterCircuitBreaker('c', thresholds);
  const pool = new HostConnectionPool(host, {
    factory,
    breaker,
    maxRequestsPerConnection: opts.maxPerConn,
    queueTimeoutMs: opts.queueTimeoutMs,
    idleTimeoutMs: opts.idleTimeoutMs,
  });
  return { pool, factory, breaker, host };
}

/** Acquires and resolves with the client, or rejects with the pool's error. */
function acquire(pool: HostConnectionPool): Promise<LineClient> {
  return new Promise((resolve, reject) => {
    pool.acquire({
      onPoolReady: (c: UpstreamClient) => resolve(c as LineClient),
      onPoolFailure: reject,
    });
  });
}

async function call(pool: HostConnectionPool, line: string): Promise<string> {
  const c = await acquire(pool);
  return c.request(line);
}

test('a finished request leaves its connection for the next one (keep-alive reuse)', async () => {
  const srv = await lineServer();
  const { pool, factory, host } = setup(srv.port);
  try {
    assert.equal(await call(pool, 'a'), 'a@0');
    assert.equal(await call(pool, 'b'), 'b@0');
    assert.equal(factory.connects, 1);
    assert.equal(host.stats.activeRequests, 0);
    assert.equal(host.stats.activeConnections, 1);
    assert.equal(pool.stats().idle, 1);
  } finally {
    pool.close();
    await srv.close();
  }
});

test('the most recently idle connection is handed out first (LIFO)', async () => {
  const srv = await lineServer();
  const { pool } = setup(srv.port);
  try {
    const [c1, c2] = await Promise.all([acquire(pool), acquire(pool)]);
    await c1.request('x'); // c1 idle first
    await c2.request('y'); // c2 idle last
    const next = await acquire(pool);
    assert.equal(next, c2);
    pool.release(next);
  } finally {
    pool.close();
    await srv.close();
  }
});

test('max_connections caps dials, waiters queue up to max_pending_requests, the rest overflow', async () => {
  const srv = await lineServer(30);
  const { pool, factory, breaker } = setup(srv.port, { max_connections: 2, max_pending_requests: 3 });
  try {
    const ok = [call(pool, '1'), call(pool, '2'), call(pool, '3')];
    await assert.rejects(call(pool, '4'), (err: unknown) => {
      assert.ok(err instanceof RingsideError);
      assert.equal(err.code, 'OVERFLOW');
      assert.equal(err.message, 'circuit breaker open: max_pending_requests (3) reached for cluster c');
      return true;
    });
    const answers = await Promise.all(ok);
    assert.deepEqual(answers.map((a) => a.split('@')[0]), ['1', '2', '3']);
    assert.equal(factory.connects, 2);
    assert.equal(pool.stats().overflows, 1);
    const s = breaker.stats();
    assert.deepEqual([s.connections, s.pendingRequests, s.requests], [2, 0, 0]);
  } finally {
    pool.close();
    await srv.close();
  }
});

test('max_requests refuses a request before it queues', async () => {
  const srv = await lineServer(30);
  const { pool } = setup(srv.port, { max_requests: 1 });
  try {
    const first = call(pool, 'a');
    await assert.rejects(call(pool, 'b'), /circuit breaker open: max_requests \(1\) reached for cluster c/);
    assert.equal(await first, 'a@0');
    assert.equal(await call(pool, 'c'), 'c@0', 'the slot is returned when the request ends');
  } finally {
    pool.close();
    await srv.close();
  }
});

test('a waiter that outlasts the queue timeout fails with TIMEOUT', async () => {
  const srv = await lineServer(400);
  const { pool, breaker } = setup(srv.port, { max_connections: 1 }, { queueTimeoutMs: 50 });
  try {
    const busy = call(pool, 'slow');
    const started = Date.now();
    await assert.rejects(acquire(pool), (err: unknown) => {
      assert.ok(err instanceof RingsideError);
      assert.equal(err.code, 'TIMEOUT');
      return true;
    });
    const waited = Date.now() - started;
    assert.ok(waited >= 45 && waited < 300, `waited ${waited} ms`);
    assert.equal(pool.stats().queueTimeouts, 1);
    assert.equal(breaker.stats().pendingRequests, 0);
    await busy;
  } finally {
    pool.close();
    await srv.close();
  }
});

test('a connection the server closed while idle is evicted and replaced', async () => {
  const srv = await lineServer();
  const { pool, factory, host } = setup(srv.port);
  try {
    assert.equal(await call(pool, 'a'), 'a@0');
    for (const s of srv.sockets) s.destroy();
    while (!factory.clients[0]!.closed) await new Promise((r) => setTimeout(r, 5));
    assert.equal(pool.stats().connections, 0);
    assert.equal(host.stats.activeConnections, 0);
    assert.equal(await call(pool, 'b'), 'b@1');
    assert.equal(factory.connects, 2);
  } finally {
    pool.close();
    await srv.close();
  }
});

test('under concurrency no connection ever carries two requests at once', async () => {
  const srv = await lineServer(1);
  const { pool, factory, host, breaker } = setup(srv.port, { max_connections: 4, max_pending_requests: 1000, max_requests: 1000 });
  try {
    const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => call(pool, String(i))));
    answers.forEach((a, i) => assert.equal(a.split('@')[0], String(i)));
    assert.ok(factory.connects <= 4, `dialed ${factory.connects}`);
    assert.equal(host.stats.activeRequests, 0);
    assert.equal(breaker.stats().requests, 0);
    assert.equal(pool.stats().totalRequests, 300);
  } finally {
    pool.close();
    await srv.close();
  }
});

test('connect refused fails every waiter with a retryable CONNECT_FAILED', async () => {
  const port = await closedPort();
  const { pool, host, breaker } = setup(port, { max_connections: 1 });
  const results = await Promise.allSettled([acquire(pool), acquire(pool), acquire(pool)]);
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    const err = (r as PromiseRejectedResult).reason as RingsideError;
    assert.equal(err.code, 'CONNECT_FAILED');
    assert.equal(err.retryable, true);
    assert.match(err.message, /ECONNREFUSED/);
  }
  assert.equal(host.stats.connectFailures, 1);
  const s = breaker.stats();
  assert.deepEqual([s.connections, s.pendingRequests, s.requests], [0, 0, 0]);
});

test('max_request_per_conn recycles a connection after that many requests', async () => {
  const srv = await lineServer();
  const { pool, factory } = setup(srv.port, {}, { maxPerConn: 2 });
  try {
    const got: string[] = [];
    for (let i = 0; i < 5; i++) got.push(await call(pool, String(i)));
    assert.deepEqual(got, ['0@0', '1@0', '2@1', '3@1', '4@2']);
    assert.equal(factory.connects, 3);
  } finally {
    pool.close();
    await srv.close();
  }
});

test('a client given back unused serves the next waiter and is not counted as a request', async () => {
  const srv = await lineServer();
  const { pool, factory, host } = setup(srv.port, {}, { maxPerConn: 1 });
  try {
    const c = await acquire(pool);
    assert.equal(host.stats.activeRequests, 1);
    pool.release(c);
    assert.equal(host.stats.activeRequests, 0);
    assert.equal(await call(pool, 'a'), 'a@0', 'still within max_request_per_conn');
    assert.equal(factory.connects, 1);
  } finally {
    pool.close();
    await srv.close();
  }
});

test('a cancelled waiter is never called and gives back its slots', async () => {
  const srv = await lineServer(50);
  const { pool, breaker } = setup(srv.port, { max_connections: 1 });
  try {
    const first = await acquire(pool);
    const busy = first.request('a');
    let called = false;
    const w: PoolWaiter = { onPoolReady: () => (called = true), onPoolFailure: () => (called = true) };
    pool.acquire(w);
    assert.equal(pool.stats().pending, 1);
    assert.equal(pool.cancel(w), true);
    assert.equal(pool.cancel(w), false);
    await busy;
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(called, false);
    assert.deepEqual([breaker.stats().pendingRequests, breaker.stats().requests], [0, 0]);
  } finally {
    pool.close();
    await srv.close();
  }
});

test('drain lets in-flight requests finish, then closes every connection; new requests are refused', async () => {
  const srv = await lineServer(50);
  const { pool } = setup(srv.port);
  try {
    const [idle, busy] = await Promise.all([acquire(pool), acquire(pool)]);
    const inFlight = busy.request('late');
    pool.release(idle);
    let drained = false;
    const d = pool.drain().then(() => (drained = true));
    assert.equal(idle.closed, true, 'idle connections close at once');
    await assert.rejects(acquire(pool), (e: unknown) => (e as RingsideError).code === 'UNAVAILABLE');
    assert.equal(drained, false);
    assert.match(await inFlight, /^late@/);
    await d;
    assert.equal(pool.stats().connections, 0);
  } finally {
    pool.close();
    await srv.close();
  }
});

test('close fails queued waiters with UNAVAILABLE', async () => {
  const srv = await lineServer(50);
  const { pool } = setup(srv.port, { max_connections: 1 });
  try {
    const busy = call(pool, 'a');
    const queued = acquire(pool);
    // Let the first connect complete so the second is queued behind a busy connection.
    await new Promise((r) => setTimeout(r, 20));
    pool.close();
    await assert.rejects(queued, (e: unknown) => (e as RingsideError).code === 'UNAVAILABLE');
    await assert.rejects(busy, (e: unknown) => (e as RingsideError).code === 'UPSTREAM_RESET');
  } finally {
    await srv.close();
  }
});

test('cluster idle_timeout closes a connection that carried nothing for that long, and only then', async () => {
  const srv = await lineServer();
  const { pool, factory } = setup(srv.port, {}, { idleTimeoutMs: 200 });
  try {
    assert.equal(await call(pool, 'a'), 'a@0');
    // Busy well inside the timeout: the connection stays.
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 80));
      await call(pool, `k${i}`);
    }
    assert.equal(factory.connects, 1);
    assert.equal(pool.stats().connections, 1);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(pool.stats().connections, 0, 'closed after idling past idle_timeout');
    assert.equal(await call(pool, 'b'), 'b@1');
    assert.equal(factory.connects, 2);
  } finally {
    pool.close();
    await srv.close();
  }
});
