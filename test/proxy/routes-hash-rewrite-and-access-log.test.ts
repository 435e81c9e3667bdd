/**
 * Route features through the real data plane: hash_policy with LB_MAGLEV and LB_RING_HASH keeps
 * one key on one host, host_rewrite replaces the Host header the upstream sees, and a listener's
 * access_logs writes one MOSN-format line per request to a file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cluster, proxyConfig, request, startDataplane, startUpstream, type Upstream } from './harness.js';

async function upstreams(n: number): Promise<Upstream[]> {
  const out: Upstream[] = [];
  for (let i = 0; i < n; i++) {
    out.push(await startUpstream((req, res) => res.end(`${i} ${req.headers.host ?? ''}`)));
  }
  return out;
}

for (const lb of ['LB_MAGLEV', 'LB_RING_HASH']) {
  test(`${lb}: a hash_policy header keeps each key on one host, and keys spread over the hosts`, async (t) => {
    const ups = await upstreams(3);
    t.after(() => Promise.all(ups.map((u) => u.close())));
    const dp = await startDataplane(
      proxyConfig({
        routes: [{ match: { prefix: '/' }, route: { cluster_name: 'c', hash_policy: [{ header: { key: 'x-user' } }] } }],
        clusters: [cluster('c', ups.map((u) => u.address), { lb_type: lb })],
      }),
    );
    t.after(() => dp.close());
    const addr = dp.addresses.get('ingress')!;
    const owners = new Map<string, string>();
    for (let round = 0; round < 3; round++) {
      for (let k = 0; k < 24; k++) {
        const r = await request(addr, { headers: { 'x-user': `user-${k}` } });
        const host = r.body.split(' ')[0]!;
        const first = owners.get(`user-${k}`);
        if (first === undefined) owners.set(`user-${k}`, host);
        else assert.equal(host, first, `user-${k} moved from host ${first} to ${host}`);
      }
    }
    assert.equal(new Set(owners.values()).size, 3, 'the 24 keys land on every host');
  });
}

test('host_rewrite replaces the Host header the upstream receives', async (t) => {
  const [up] = await upstreams(1);
  t.after(() => up!.close());
  const dp = await startDataplane(
    proxyConfig({
      routes: [{ match: { prefix: '/' }, route: { cluster_name: 'c', host_rewrite: 'backend.internal' } }],
      clusters: [cluster('c', [up!.address])],
    }),
  );
  t.after(() => dp.close());
  const r = await request(dp.addresses.get('ingress')!, { headers: { host: 'public.example' } });
  assert.equal(r.body, '0 backend.internal');
});

test('access_logs write one line per request with MOSN variables and request headers', async (t) => {
  const [up] = await upstreams(1);
  t.after(() => up!.close());
  const file = join(mkdtempSync(join(tmpdir(), 'ringside-alog-')), 'access.log');
  const cfg = proxyConfig({
    routes: [
      { match: { prefix: '/none' }, direct_response: { status: 404, body: 'nope' } },
      { match: { prefix: '/' }, route: { cluster_name: 'c' } },
    ],
    clusters: [cluster('c', [up!.address])],
  }) as { servers: { listeners: Record<string, unknown>[] }[] };
  cfg.servers[0]!.listeners[0]!['access_logs'] = [
    { log_path: file, log_format: '%method% %path% %response_code% %bytes_sent% %upstream_host% %REQ.x-trace% %response_flag%' },
  ];
  const dp = await startDataplane(cfg);
  const addr = dp.addresses.get('ingress')!;
  await request(addr, { path: '/hello', headers: { 'x-trace': 't1' } });
  await request(addr, { path: '/none' });
  await dp.close();
  // The destination writes asynchronously; closing flushes it.
  for (let i = 0; i < 50 && !(existsSync(file) && readFileSync(file, 'utf8').split('\n').length > 2); i++) await new Promise((r) => setTimeout(r, 20));
  // A line is written when its request ends, and a proxied request can end (its upstream side
  // released) after its client already holds the answer, so the two lines' order is not asserted.
  const lines = readFileSync(file, 'utf8').trim().split('\n').sort();
  assert.deepEqual(lines, [`GET /hello 200 ${`0 127.0.0.1:${up!.address.split(':')[1]}`.length} ${up!.address} t1 -`, 'GET /none 404 4 - - -']);
});
