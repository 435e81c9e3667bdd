import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Registry } from '../../src/common/registry.js';
import { ClusterManager } from '../../src/upstream/cluster-manager.js';
import { registerBuiltinLoadBalancers } from '../../src/upstream/load-balancers.js';
import type { Host, LoadBalancerFactory } from '../../src/types/upstream.js';
import { clusters, type HealthCheckInput } from '../fixtures/config-shapes.js';
import { assertIssue, configIssues, parse } from '../config/helpers.js';
import { closedPort } from './fixtures/line-client.js';

// Health check timers are unref'd (a worker's listeners keep it alive, not its probes); this handle
// stands in for those listeners while a test waits on a verdict.
const keepAlive = setInterval(() => {}, 1000);
after(() => clearInterval(keepAlive));

function manager(addresses: string[], health_check: HealthCheckInput): ClusterManager {
  const loadBalancers = new Registry<LoadBalancerFactory>('load balancer');
  registerBuiltinLoadBalancers(loadBalancers);
  return new ClusterManager(
    clusters({ name: 'svc', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', health_check, hosts: addresses.map((address) => ({ address })) }),
    { loadBalancers },
  );
}

/** Resolves at the next health transition of any host. */
function nextChange(cm: ClusterManager): Promise<{ host: Host; healthy: boolean; at: number }> {
  return new Promise((resolve) => {
    let done = false;
    cm.onHostHealthChange((host, healthy) => {
      if (!done) resolve({ host, healthy, at: Date.now() });
      done = true;
    });
  });
}

test('HTTP checks eject a host after unhealthy_threshold bad answers and restore it after healthy_threshold good ones', async () => {
  let failing = false;
  let checks = 0;
  const server = http.createServer((req, res) => {
    checks++;
    assert.equal(req.url, '/healthz');
    res.statusCode = failing ? 503 : 204;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const cm = manager([`127.0.0.1:${port}`], {
    protocol: 'http',
    timeout: 500,
    interval: 20,
    healthy_threshold: 2,
    unhealthy_threshold: 3,
    check_config: { http_check_config: { path: '/healthz', codes: [200, 204] } },
  });
  try {
    cm.start();
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(cm.chooseHost('svc')?.port, port, 'passing checks keep the host in');

    const ejected = nextChange(cm);
    failing = true;
    const failedFrom = checks;
    const e = await ejected;
    assert.equal(e.healthy, false);
    assert.ok(checks - failedFrom >= 3, `ejected after ${checks - failedFrom} checks`);
    assert.equal(cm.chooseHost('svc'), undefined);

    const restored = nextChange(cm);
    failing = false;
    const r = await restored;
    assert.equal(r.healthy, true);
    assert.equal(cm.chooseHost('svc')?.port, port);
  } finally {
    cm.stop();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('TCP checks eject a host whose port stops accepting, and restore it when it listens again', async () => {
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const other = await closedPort();
  const cm = manager([`127.0.0.1:${port}`, `127.0.0.1:${other}`], {
    protocol: 'tcp',
    timeout: 300,
    interval: 20,
    healthy_threshold: 1,
    unhealthy_threshold: 2,
  });
  try {
    const first = nextChange(cm);
    cm.start();
    const dead = await first;
    assert.equal(dead.host.port, other, 'the closed port is ejected first');
    assert.equal(dead.healthy, false);
    for (let i = 0; i < 10; i++) assert.equal(cm.chooseHost('svc')?.port, port);

    const ejected = nextChange(cm);
    await new Promise<void>((r) => server.close(() => r()));
    assert.equal((await ejected).host.port, port);
    assert.equal(cm.chooseHost('svc'), undefined);

    const restored = nextChange(cm);
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    const back = await restored;
    assert.equal(back.host.port, port);
    assert.equal(back.healthy, true);
  } finally {
    cm.stop();
    server.close();
  }
});

test('a check that outlasts its timeout counts as a failure', async () => {
  // Accepts and never answers: only the timeout can fail the check.
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => void sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const cm = manager([`127.0.0.1:${port}`], { protocol: 'http', timeout: 40, interval: 10, healthy_threshold: 1, unhealthy_threshold: 1 });
  try {
    const started = Date.now();
    const change = nextChange(cm);
    cm.start();
    const c = await change;
    assert.equal(c.healthy, false);
    assert.ok(c.at - started >= 35, `ejected after ${c.at - started} ms`);
  } finally {
    cm.stop();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('stop() ends probing: no check runs after it', async () => {
  let checks = 0;
  const server = http.createServer((_req, res) => {
    checks++;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const cm = manager([`127.0.0.1:${port}`], { protocol: 'http', timeout: 200, interval: 10, healthy_threshold: 1, unhealthy_threshold: 1 });
  cm.start();
  await new Promise((r) => setTimeout(r, 60));
  cm.stop();
  await new Promise((r) => setTimeout(r, 20));
  const after = checks;
  assert.ok(after > 0);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(checks, after);
  await new Promise<void>((r) => server.close(() => r()));
});

test('a health check config with an unknown protocol fails with its path', () => {
  const cfg = {
    servers: [{ listeners: [] }],
    cluster_manager: { clusters: [{ name: 'svc', hosts: [{ address: '127.0.0.1:1' }], health_check: { protocol: 'udp', timeout: 1, interval: 1 } }] },
  };
  assertIssue(configIssues(() => parse(cfg)), 'cluster_manager.clusters[0].health_check.protocol', /health check protocol "udp" is not supported/);
});
