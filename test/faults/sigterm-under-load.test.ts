/**
 * SIGTERM while the sidecar (two worker threads) carries slow requests and holds idle keep-alive
 * connections: the idle ones are closed at once, every request in flight finishes with a 200 that
 * says Connection: close, and the process exits 0 as soon as they are done — long before its drain
 * timeout. (test/supervisor/drain-on-signal.test.ts covers the signal path with a line protocol;
 * test/proxy/drain-tells-connections-to-go-away.test.ts one connection of each kind in-process.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { proxySidecarConfig, startSidecar } from '../fuzz/sidecar.js';
import { KeepAliveClient, sleep } from './helpers.js';
import { tryConnect } from '../supervisor/helpers.js';

const SLOW_MS = 800;
const DRAIN_TIMEOUT_MS = 8000;

test('SIGTERM under load: idle connections closed at once, in-flight requests finish with Connection: close, exit 0', async (t) => {
  const upstream = http.createServer((req, res) => {
    if (req.url?.startsWith('/slow')) setTimeout(() => res.end('slow done'), SLOW_MS);
    else res.end('fast');
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  t.after(() => {
    upstream.closeAllConnections();
    upstream.close();
  });
  const sidecar = await startSidecar(
    proxySidecarConfig([`127.0.0.1:${(upstream.address() as AddressInfo).port}`], { ringside: { drain_timeout: DRAIN_TIMEOUT_MS } }),
  );
  t.after(() => sidecar.child.kill());
  const address = sidecar.listeners.get('edge')!;

  const idle = await Promise.all(Array.from({ length: 8 }, () => KeepAliveClient.connect(address)));
  const busy = await Promise.all(Array.from({ length: 8 }, () => KeepAliveClient.connect(address)));
  t.after(() => [...idle, ...busy].forEach((c) => c.socket.destroy()));
  for (const c of [...idle, ...busy]) assert.equal((await c.get('/fast')).status, 200);

  const inFlight = busy.map((c) => c.get('/slow'));
  await sleep(150);
  const signalled = performance.now();
  sidecar.child.proc.kill('SIGTERM');

  const answers = await Promise.all(inFlight);
  const finishedAt = performance.now();
  const { code } = await sidecar.child.exited;
  const exitedAt = performance.now();

  const idleClosedMs = idle.map((c) => (c.closed ? c.closedAt - signalled : Infinity));
  t.diagnostic(`idle closed after ${Math.max(...idleClosedMs).toFixed(0)} ms; in-flight done ${(finishedAt - signalled).toFixed(0)} ms; exit after ${(exitedAt - signalled).toFixed(0)} ms`);
  for (const ms of idleClosedMs) assert.ok(ms < SLOW_MS / 2, `an idle connection closed ${ms} ms after SIGTERM (the slow requests still ran)`);
  for (const a of answers) {
    assert.equal(a.status, 200);
    assert.equal(a.body, 'slow done');
    assert.equal(a.headers.connection, 'close');
  }
  assert.equal(code, 0);
  assert.ok(exitedAt - signalled < DRAIN_TIMEOUT_MS / 2, 'exit followed the last request, not the drain timeout');
  assert.ok(busy.every((c) => c.closed), 'busy connections closed after their answer');
  assert.equal(await tryConnect(address), 'ECONNREFUSED');
});
