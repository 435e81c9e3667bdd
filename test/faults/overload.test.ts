/**
 * Far above capacity: 300 connections each pipeline 40 requests in one write (12,000 requests) at a
 * sidecar (two worker threads) whose listener may hold 32 requests per worker and whose connections
 * may pipeline 4, in front of an upstream that takes 30 ms per request. Ringside must answer 503
 * instead of holding the excess — the listener's bound answers at once and reads on, a connection
 * past its depth gets the 503 that ends it — so the upstream never sees more than 2 × 32 at once,
 * every connection is answered in order and closed, RSS stays bounded, and an ordinary request is
 * served afterwards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { createHttp1ResponseDecoder } from '../../src/protocol/http1/decoder.js';
import { http1Codec } from '../../src/protocol/http1/codec.js';
import { proxySidecarConfig, startSidecar } from '../fuzz/sidecar.js';
import { getOnce } from './helpers.js';

const CONNECTIONS = 300;
const PIPELINED = 40;
const MAX_PENDING = 32;
const MAX_PIPELINED = 4;
const WORKERS = 2;

function flood(address: string): Promise<{ statuses: number[]; bodies: string[]; closed: boolean }> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const statuses: number[] = [];
    const bodies: string[] = [];
    const decoder = createHttp1ResponseDecoder({
      onHead: (h) => {
        statuses.push(h.status);
        bodies.push('');
      },
      onBody: (_id, c) => (bodies[bodies.length - 1] += c.toString('latin1')),
      onComplete: () => {},
      onError: () => {},
    });
    for (let k = 0; k < PIPELINED; k++) decoder.expect(http1Codec.newRequest('GET', '/'));
    const socket = net.connect(Number(address.slice(i + 1)), address.slice(0, i));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ statuses, bodies, closed: false });
    }, 15_000);
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => decoder.execute(d));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ statuses, bodies, closed: true });
    });
    socket.on('connect', () => {
      let bytes = '';
      for (let k = 0; k < PIPELINED; k++) bytes += `GET /r/${k} HTTP/1.1\r\nHost: t\r\n\r\n`;
      socket.end(bytes);
    });
  });
}

test(`overload: ${CONNECTIONS * PIPELINED} pipelined requests at once are answered 503 beyond the limits; upstream load, per-connection work and RSS stay bounded`, async (t) => {
  let inFlight = 0;
  let maxInFlight = 0;
  const upstream = http.createServer((_req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    setTimeout(() => {
      inFlight--;
      res.end('ok');
    }, 30);
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  t.after(() => {
    upstream.closeAllConnections();
    upstream.close();
  });
  const sidecar = await startSidecar(
    proxySidecarConfig([`127.0.0.1:${(upstream.address() as net.AddressInfo).port}`], {
      limits: { max_pending_requests: MAX_PENDING, max_pipelined_requests: MAX_PIPELINED },
      cluster: { max_request_per_conn: 0 },
    }),
    { workers: WORKERS },
  );
  t.after(() => sidecar.stop());
  const address = sidecar.listeners.get('edge')!;
  for (let k = 0; k < 20; k++) assert.equal((await getOnce(address, '/warm')).status, 200);
  const baseline = sidecar.rssBytes();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, sidecar.rssBytes())), 20);

  const results = await Promise.all(Array.from({ length: CONNECTIONS }, () => flood(address)));
  clearInterval(sampler);
  peak = Math.max(peak, sidecar.rssBytes());

  const all = results.flatMap((r) => r.statuses);
  const bodies = results.flatMap((r) => r.bodies);
  const count = (re: RegExp): number => bodies.filter((b) => re.test(b)).length;
  const summary = {
    answers: all.length,
    ok: all.filter((s) => s === 200).length,
    pendingRefused: count(/max_pending_requests/),
    pipelineRefused: count(/pipelined requests/),
    maxInFlight,
    rssGrowthMiB: Math.round((peak - baseline) / 2 ** 20),
  };
  t.diagnostic(JSON.stringify(summary));
  const open = results.filter((r) => !r.closed);
  assert.equal(open.length, 0, `${open.length} connections not closed; answers ${open.slice(0, 3).map((r) => r.statuses.length)}`);
  for (const r of results) {
    assert.ok(r.statuses.length >= 1, 'every connection got an answer');
    assert.ok(r.statuses.every((s) => s === 200 || s === 503), `statuses ${r.statuses}`);
    // A connection that hit its depth got the 503 that ends it as its last answer, and nothing after.
    const cut = r.bodies.findIndex((b) => /pipelined requests/.test(b));
    if (cut !== -1) assert.equal(cut, r.statuses.length - 1, 'answers after the depth 503');
    else assert.equal(r.statuses.length, PIPELINED, 'a connection not cut off had every request answered');
  }
  assert.ok(summary.pipelineRefused > 0, 'connections pipelining past the depth were answered 503');
  assert.ok(summary.pendingRefused > 0, 'the listener bound answered 503 too');
  assert.ok(maxInFlight <= WORKERS * MAX_PENDING, `the upstream saw ${maxInFlight} requests at once`);
  assert.ok(peak - baseline < 150 * 2 ** 20, `RSS grew by ${summary.rssGrowthMiB} MiB`);
  assert.equal((await getOnce(address, '/after')).status, 200);
});
