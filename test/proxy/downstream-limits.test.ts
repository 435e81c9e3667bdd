/**
 * What one client can make the proxy hold: a head that never completes (Slowloris), a connection
 * that never speaks again, and more requests at once than ringside.limits.max_pending_requests.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { cluster, proxyConfig, request, startDataplane, startUpstream, type Dataplane } from './harness.js';
import { ClusterManager } from '../../src/upstream/cluster-manager.js';
import { Registry } from '../../src/common/registry.js';
import type { LoadBalancerFactory } from '../../src/types/upstream.js';
import { registerBuiltinLoadBalancers } from '../../src/upstream/load-balancers.js';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers) await c();
});

async function plane(limits: Record<string, unknown>, upstream: string): Promise<string> {
  const json = proxyConfig({ routes: [{ match: { prefix: '/' }, route: { cluster_name: 'c' } }], clusters: [cluster('c', [upstream])] }) as Record<string, unknown>;
  json['ringside'] = { limits };
  const d: Dataplane = await startDataplane(json);
  closers.push(() => d.close());
  return d.addresses.get('ingress')!;
}

async function connect(addr: string): Promise<{ socket: net.Socket; text: () => string; closedAt: Promise<number> }> {
  const [host, port] = addr.split(':');
  const socket = net.connect(Number(port), host);
  await once(socket, 'connect');
  socket.setEncoding('latin1');
  let text = '';
  socket.on('data', (d: string) => (text += d));
  socket.on('error', () => {});
  const closedAt = once(socket, 'close').then(() => Date.now());
  closers.push(async () => void socket.destroy());
  return { socket, text: () => text, closedAt };
}

const within = <T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> =>
  Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))]);

test('a head sent one byte at a time is cut off at request_header_timeout with 408', async () => {
  const u = await startUpstream((_q, s) => s.end('ok'));
  closers.push(() => u.close());
  const addr = await plane({ request_header_timeout: '300ms', idle_timeout: 0 }, u.address);
  const c = await connect(addr);
  const started = Date.now();
  c.socket.write('GET / HTTP/1.1\r\n');
  const drip = setInterval(() => c.socket.writable && c.socket.write('X'), 50);
  const closed = await within(c.closedAt, 3000);
  clearInterval(drip);
  assert.notEqual(closed, 'timeout', 'the dripping client was disconnected');
  assert.ok((closed as number) - started >= 250, 'not before the deadline');
  assert.match(c.text(), /^HTTP\/1\.1 408 Request Timeout/);
  assert.equal(u.requests.length, 0);
});

test('a connection that opens and says nothing is cut off at request_header_timeout', async () => {
  const u = await startUpstream((_q, s) => s.end('ok'));
  closers.push(() => u.close());
  const addr = await plane({ request_header_timeout: '200ms', idle_timeout: 0 }, u.address);
  const c = await connect(addr);
  assert.notEqual(await within(c.closedAt, 3000), 'timeout');
  assert.match(c.text(), /^HTTP\/1\.1 408/);
});

test('between keep-alive requests the idle timeout applies by default, not the header deadline', async () => {
  const u = await startUpstream((_q, s) => s.end('ok'));
  closers.push(() => u.close());
  const addr = await plane({ request_header_timeout: '150ms', idle_timeout: '700ms' }, u.address);
  const c = await connect(addr);
  c.socket.write('GET /1 HTTP/1.1\r\nHost: x\r\n\r\n');
  while (!c.text().endsWith('ok')) await new Promise((r) => setTimeout(r, 5));
  const answeredAt = Date.now();
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(c.socket.destroyed, false, 'still open after the header deadline passed while idle');
  c.socket.write('GET /2 HTTP/1.1\r\nHost: x\r\n\r\n');
  while ((c.text().match(/200 OK/g) ?? []).length < 2) await new Promise((r) => setTimeout(r, 5));
  const closed = await within(c.closedAt, 4000);
  assert.notEqual(closed, 'timeout', 'the default idle timeout closed the idle keep-alive connection');
  assert.ok((closed as number) - answeredAt >= 1000, 'the idle clock restarted with the second request');
  assert.equal((c.text().match(/HTTP\/1\.1 /g) ?? []).length, 2, 'no 408 on an idle connection');
});

test('more requests at once than max_pending_requests are answered 503 at once; the rest complete', async () => {
  const held: (() => void)[] = [];
  const u = await startUpstream((_q, s) => held.push(() => s.end('late')));
  closers.push(() => u.close());
  const addr = await plane({ max_pending_requests: 5 }, u.address);
  const replies = Array.from({ length: 60 }, (_, i) => request(addr, { path: `/r${i}`, keepAlive: false }));
  const settled: number[] = [];
  replies.forEach((p) => void p.then((r) => settled.push(r.status)));
  const deadline = Date.now() + 5000;
  while (settled.length < 55 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(settled.length, 55, 'all but the held requests were answered without waiting');
  assert.ok(settled.every((s) => s === 503));
  assert.equal(u.requests.length, 5, 'only max_pending_requests requests reached the upstream');
  held.forEach((f) => f());
  const all = await Promise.all(replies);
  assert.equal(all.filter((r) => r.status === 200).length, 5);
  // The budget was given back: a new request goes through.
  const again = request(addr, { path: '/again', keepAlive: false });
  while (held.length < 6) await new Promise((r) => setTimeout(r, 5));
  held[5]!();
  assert.equal((await again).status, 200);
});

test('a cluster whose breaker sets no max_pending_requests queues at most limits.max_pending_requests', () => {
  const lbs = new Registry<LoadBalancerFactory>('load balancer');
  registerBuiltinLoadBalancers(lbs);
  const cm = new ClusterManager(
    { clusters: [{ name: 'a', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [], circuit_breakers: {} } as never] },
    { loadBalancers: lbs, defaultMaxPendingRequests: 3 },
  );
  const breaker = cm.getCluster('a')!.circuitBreaker;
  for (let i = 0; i < 3; i++) assert.equal(breaker.tryAcquirePending(), undefined);
  assert.match(breaker.tryAcquirePending()?.message ?? '', /max_pending_requests \(3\)/);
  const own = new ClusterManager(
    { clusters: [{ name: 'b', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [], circuit_breakers: { max_pending_requests: 1 } } as never] },
    { loadBalancers: lbs, defaultMaxPendingRequests: 3 },
  );
  const b = own.getCluster('b')!.circuitBreaker;
  assert.equal(b.tryAcquirePending(), undefined);
  assert.notEqual(b.tryAcquirePending(), undefined, "the cluster's own threshold wins");
});
