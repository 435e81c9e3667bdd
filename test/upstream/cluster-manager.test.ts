import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RingsideError } from '../../src/common/errors.js';
import { Registry } from '../../src/common/registry.js';
import { ClusterCircuitBreaker } from '../../src/upstream/circuit-breaker.js';
import { ClusterManager } from '../../src/upstream/cluster-manager.js';
import { registerBuiltinLoadBalancers } from '../../src/upstream/load-balancers.js';
import type { LoadBalancerFactory } from '../../src/types/upstream.js';
import type { ClusterConfig } from '../../src/config/types.js';
import { cluster, clusters, type ClusterInput } from '../fixtures/config-shapes.js';
import { assertIssue, configIssues, parse } from '../config/helpers.js';
import { LineClient, LineClientFactory, lineServer } from './fixtures/line-client.js';

function lbs(): Registry<LoadBalancerFactory> {
  const r = new Registry<LoadBalancerFactory>('load balancer');
  registerBuiltinLoadBalancers(r);
  return r;
}

const httpServerInput: ClusterInput = {
  name: 'http_server',
  type: 'SIMPLE',
  lb_type: 'LB_RANDOM',
  hosts: [{ address: '127.0.0.1:8889', hostname: 'downstream_machine1', weight: 1 }],
};
const httpServer: ClusterConfig = cluster(httpServerInput);

test('chooseHost hands tcp_proxy an address with host and port split out', () => {
  const cm = new ClusterManager({ clusters: [httpServer, cluster({ ...httpServerInput, name: 'v6', hosts: [{ address: '[::1]:9000' }] })] }, { loadBalancers: lbs() });
  const h = cm.chooseHost('http_server')!;
  assert.deepEqual([h.address, h.host, h.port, h.hostname, h.weight], ['127.0.0.1:8889', '127.0.0.1', 8889, 'downstream_machine1', 1]);
  const v6 = cm.chooseHost('v6')!;
  assert.deepEqual([v6.host, v6.port], ['::1', 9000]);
  assert.equal(cm.chooseHost('nope'), undefined);
  assert.equal(cm.getCluster('nope'), undefined);
});

test('a retry avoids the host its failed try used when another is healthy', () => {
  const cm = new ClusterManager(
    clusters({ ...httpServerInput, lb_type: 'LB_RANDOM', hosts: [{ address: '10.0.0.1:80' }, { address: '10.0.0.2:80' }] }),
    { loadBalancers: lbs(), random: () => 0 }, // random always picks the first host
  );
  const first = cm.chooseHost('http_server')!;
  assert.equal(first.address, '10.0.0.1:80');
  assert.equal(cm.chooseHost('http_server', { excludeHost: first })!.address, '10.0.0.2:80');
});

test('invalid cluster config fails at load with the JSON path and the reason', () => {
  const issues = (c: Partial<ClusterInput>) => configIssues(() => parse({ servers: [{ listeners: [] }], cluster_manager: { clusters: [{ ...httpServerInput, ...c }] } }));
  const at = 'cluster_manager.clusters[0]';
  assertIssue(issues({ lb_type: 'LB_PEAK_EWMA' }), `${at}.lb_type`, /unknown load balancer "LB_PEAK_EWMA" \(known: LB_RANDOM/);
  assertIssue(issues({ hosts: [{ address: 'localhost' }] }), `${at}.hosts[0].address`, /expected host:port, got "localhost"/);
  assertIssue(issues({ hosts: [{ address: 'a:1', weight: 200 }] }), `${at}.hosts[0].weight`, /1\.\.128/);
  assertIssue(issues({ type: 'EDS' }), `${at}.type`, /unknown cluster type "EDS" \(known: SIMPLE, STATIC, STRICT_DNS, LOGICAL_DNS/);
  assertIssue(issues({ circuit_breakers: [{ max_requests: -1 }] }), `${at}.circuit_breakers[0].max_requests`, /≥ 0/);
  // The builder's own guard, for callers that hand it clusters directly.
  assert.throws(
    () => new ClusterManager({ clusters: [httpServer, httpServer] }, { loadBalancers: lbs() }),
    /clusters\[1\]\.name: duplicate cluster "http_server"/,
  );
});

test('circuit breakers answer OVERFLOW with the limit and the cluster in the reason, and reopen on release', () => {
  const cb = new ClusterCircuitBreaker('x', { max_requests: 2, max_retries: 1, max_connections: 1, max_pending_requests: 0 });
  assert.equal(cb.tryAcquireRequest(), undefined);
  assert.equal(cb.tryAcquireRequest(), undefined);
  const err = cb.tryAcquireRequest();
  assert.ok(err instanceof RingsideError);
  assert.equal(err.code, 'OVERFLOW');
  assert.equal(err.source, 'upstream');
  assert.equal(err.message, 'circuit breaker open: max_requests (2) reached for cluster x');
  cb.releaseRequest();
  assert.equal(cb.tryAcquireRequest(), undefined);

  assert.equal(cb.tryAcquireRetry(), undefined);
  assert.match(cb.tryAcquireRetry()!.message, /max_retries \(1\) reached for cluster x/);
  assert.equal(cb.tryAcquireConnection(), undefined);
  assert.match(cb.tryAcquireConnection()!.message, /max_connections \(1\)/);
  assert.match(cb.tryAcquirePending()!.message, /max_pending_requests \(0\)/);
  assert.deepEqual(cb.stats().overflows, { max_connections: 1, max_pending_requests: 1, max_requests: 1, max_retries: 1 });
});

test('circuit breakers default to 1024 connections, pending and requests and 3 retries', () => {
  const cb = new ClusterCircuitBreaker('d');
  for (let i = 0; i < 3; i++) assert.equal(cb.tryAcquireRetry(), undefined);
  assert.ok(cb.tryAcquireRetry() instanceof RingsideError);
  for (let i = 0; i < 1024; i++) assert.equal(cb.tryAcquireRequest(), undefined);
  assert.ok(cb.tryAcquireRequest() instanceof RingsideError);
});

test('connPool gives one pool per host and protocol, bounded by the cluster breaker', async () => {
  const srv = await lineServer(20);
  const cm = new ClusterManager(
    {
      ...clusters({
        name: 'lines',
        type: 'SIMPLE',
        lb_type: 'LB_ROUNDROBIN',
        max_request_per_conn: 0,
        circuit_breakers: [{ max_requests: 1 }],
        hosts: [{ address: `127.0.0.1:${srv.port}` }],
      }),
    },
    { loadBalancers: lbs() },
  );
  const factory = new LineClientFactory();
  try {
    const host = cm.chooseHost('lines')!;
    const pool = cm.connPool(host, factory);
    assert.equal(cm.connPool(host, factory), pool);
    assert.notEqual(cm.connPool(host, new LineClientFactory()), pool);
    const client = await new Promise<LineClient>((resolve, reject) =>
      pool.acquire({ onPoolReady: (c) => resolve(c as LineClient), onPoolFailure: reject }),
    );
    const overflow = await new Promise<RingsideError>((resolve) =>
      pool.acquire({ onPoolReady: () => resolve(new RingsideError('INTERNAL', 'internal', 'unexpected')), onPoolFailure: resolve }),
    );
    assert.equal(overflow.message, 'circuit breaker open: max_requests (1) reached for cluster lines');
    assert.equal(await client.request('hi'), 'hi@0');
    assert.equal(cm.stats()[0]!.hosts[0]!.totalRequests, 1);
    await Promise.race([cm.drain(), new Promise((_, rej) => setTimeout(() => rej(new Error('drain hung')), 2000))]);
  } finally {
    cm.close();
    await srv.close();
  }
});
