import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cluster, deadAddress, proxyConfig, rawExchange, request, startDataplane, startUpstream, type Dataplane, type Upstream } from './harness.js';
import { snapshotCounters } from '../../src/common/counters.js';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers) await c();
});

async function up(handler: Parameters<typeof startUpstream>[0]): Promise<Upstream> {
  const u = await startUpstream(handler);
  closers.push(() => u.close());
  return u;
}
async function plane(json: unknown): Promise<Dataplane> {
  const d = await startDataplane(json);
  closers.push(() => d.close());
  return d;
}

test('a request matched on the id header reaches the upstream and keep-alive reuses the upstream connection', async () => {
  const u = await up((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ path: req.url, id: req.headers['id'], xff: req.headers['x-forwarded-for'] }));
  });
  const d = await plane(
    proxyConfig({
      routes: [{ match: { headers: [{ name: 'id', value: 'HelloService:1.0' }] }, route: { cluster_name: 'http_server' } }],
      clusters: [cluster('http_server', [u.address], { lb_type: 'LB_RANDOM' })],
    }),
  );
  const addr = d.addresses.get('ingress')!;
  for (let i = 0; i < 3; i++) {
    const r = await request(addr, { path: `/hello?n=${i}`, headers: { id: 'HelloService:1.0' } });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { path: `/hello?n=${i}`, id: 'HelloService:1.0', xff: '127.0.0.1' });
  }
  assert.equal(u.connections, 1, 'three sequential requests share one upstream connection');
  const counters = snapshotCounters();
  assert.ok((counters['proxy.phase.MatchRoute'] ?? 0) >= 3);
  assert.ok((counters['proxy.phase.UpRecvHeader'] ?? 0) >= 3);
});

test('no matching route answers 404 with a body that says so', async () => {
  const u = await up((_req, res) => res.end('never'));
  const d = await plane(
    proxyConfig({ routes: [{ match: { headers: [{ name: 'id', value: 'x' }] }, route: { cluster_name: 'c' } }], clusters: [cluster('c', [u.address])] }),
  );
  const r = await request(d.addresses.get('ingress')!, { path: '/nothing', headers: { id: 'other' } });
  assert.equal(r.status, 404);
  assert.match(r.body, /no route for GET \/nothing/);
  assert.equal(u.requests.length, 0);
});

test('an upstream that refuses connections gives 503, one that never answers gives 504', async () => {
  const dead = await deadAddress();
  const slow = await up(() => {
    /* never answers */
  });
  const d = await plane(
    proxyConfig({
      routes: [
        { match: { prefix: '/dead' }, route: { cluster_name: 'dead' } },
        { match: { prefix: '/slow' }, route: { cluster_name: 'slow', timeout: '300ms' } },
      ],
      clusters: [cluster('dead', [dead]), cluster('slow', [slow.address])],
    }),
  );
  const addr = d.addresses.get('ingress')!;
  const refused = await request(addr, { path: '/dead', keepAlive: false });
  assert.equal(refused.status, 503);
  assert.match(refused.body, /connect to .* failed/);
  const started = Date.now();
  const timedOut = await request(addr, { path: '/slow', keepAlive: false });
  assert.equal(timedOut.status, 504);
  assert.ok(Date.now() - started >= 250, 'the route timeout, not an earlier failure, ended it');
});

test('an upstream that resets mid-response closes the downstream connection instead of hanging', async () => {
  const u = await up((_req, res) => {
    res.writeHead(200, { 'content-length': '100' });
    res.write('partial');
    setTimeout(() => res.socket?.destroy(), 20);
  });
  const d = await plane(proxyConfig({ routes: [{ match: { prefix: '/' }, route: { cluster_name: 'c' } }], clusters: [cluster('c', [u.address])] }));
  const r = await rawExchange(d.addresses.get('ingress')!, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(r.closed, true, 'the downstream connection was closed');
  assert.match(r.text, /^HTTP\/1\.1 200/);
  assert.ok(!r.text.includes('\r\n\r\n' + 'partial'.repeat(2)));
});

test('malformed HTTP gets 400 on that connection only; another connection keeps working', async () => {
  const u = await up((_req, res) => res.end('ok'));
  const d = await plane(proxyConfig({ routes: [{ match: { prefix: '/' }, route: { cluster_name: 'c' } }], clusters: [cluster('c', [u.address])] }));
  const addr = d.addresses.get('ingress')!;
  const bad = await rawExchange(addr, 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n');
  assert.match(bad.text, /^HTTP\/1\.1 400/);
  assert.equal(bad.closed, true);
  const good = await request(addr, { path: '/', keepAlive: false });
  assert.equal(good.status, 200);
  assert.equal(good.body, 'ok');
});

test('a GET answered 503 is retried on the other host when the route allows it', async () => {
  const failing = await up((_req, res) => {
    res.statusCode = 503;
    res.end('down');
  });
  const healthy = await up((_req, res) => res.end('from healthy'));
  const d = await plane(
    proxyConfig({
      routes: [{ match: { prefix: '/' }, route: { cluster_name: 'c', retry_policy: { retry_on: true, num_retries: 2 } } }],
      clusters: [cluster('c', [failing.address, healthy.address])],
    }),
  );
  const addr = d.addresses.get('ingress')!;
  for (let i = 0; i < 4; i++) {
    const r = await request(addr, { path: '/', keepAlive: false });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'from healthy');
  }
  assert.ok(failing.requests.length >= 1, 'round robin did send tries to the failing host');
});

test('a POST body and chunked response are carried through intact', async () => {
  const u = await up((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      res.write(body.toUpperCase());
      setTimeout(() => res.end('!'), 5);
    });
  });
  const d = await plane(proxyConfig({ routes: [{ match: { prefix: '/' }, route: { cluster_name: 'c' } }], clusters: [cluster('c', [u.address])] }));
  const big = 'abc'.repeat(50_000);
  const r = await request(d.addresses.get('ingress')!, { method: 'POST', path: '/echo', body: big });
  assert.equal(r.status, 200);
  assert.equal(r.body, big.toUpperCase() + '!');
});

test('a direct_response route answers without an upstream', async () => {
  const d = await plane(
    proxyConfig({ routes: [{ match: { path: '/health' }, direct_response: { status: 200, body: 'alive' } }], clusters: [] }),
  );
  const r = await request(d.addresses.get('ingress')!, { path: '/health', keepAlive: false });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'alive');
});

test('the circuit breaker answers 503 with its reason when max_requests is reached', async () => {
  const held: (() => void)[] = [];
  const u = await up((_req, res) => held.push(() => res.end('late')));
  const d = await plane(
    proxyConfig({
      routes: [{ match: { prefix: '/' }, route: { cluster_name: 'c' } }],
      clusters: [cluster('c', [u.address], { circuit_breakers: [{ max_requests: 1, max_pending_requests: 1, max_connections: 1 }] })],
    }),
  );
  const addr = d.addresses.get('ingress')!;
  const first = request(addr, { path: '/', keepAlive: false });
  while (held.length === 0) await new Promise((r) => setTimeout(r, 5));
  const second = await request(addr, { path: '/', keepAlive: false });
  assert.equal(second.status, 503);
  assert.match(second.body, /circuit breaker|max_/);
  held.forEach((f) => f());
  assert.equal((await first).status, 200);
});
