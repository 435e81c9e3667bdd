import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { AdminServer, type AdminBackend } from '../../src/supervisor/admin.js';
import { AdminGuard, adminExposureWarning } from '../../src/supervisor/admin-guard.js';

function backend(): AdminBackend & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    ready: () => true,
    stats: async () => (calls.push('stats'), { ok: true }),
    metrics: async () => (calls.push('metrics'), { contentType: 'text/plain', body: '' }),
    configDump: () => (calls.push('config_dump'), {}),
    drain: () => void calls.push('drain'),
  };
}

function call(address: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<number> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path, headers, agent: false, setHost: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('admin refuses a foreign Host (DNS rebinding) on every route, and serves its own names', async () => {
  const b = backend();
  const admin = new AdminServer(b);
  const addr = await admin.listen('127.0.0.1:0');
  const port = addr.slice(addr.lastIndexOf(':') + 1);
  try {
    for (const path of ['/stats', '/metrics', '/api/v1/config_dump', '/ready']) {
      assert.equal(await call(addr, 'GET', path, { host: `evil.example:${port}` }), 403, path);
    }
    assert.equal(await call(addr, 'GET', '/stats', { host: `127.0.0.1:${Number(port) + 1}` }), 403, 'wrong port');
    assert.ok((await call(addr, 'GET', '/stats', {})) >= 400, 'no Host at all');
    assert.deepEqual(b.calls, []);
    assert.equal(await call(addr, 'GET', '/stats', { host: `127.0.0.1:${port}` }), 200);
    assert.equal(await call(addr, 'GET', '/stats', { host: `localhost:${port}` }), 200);
  } finally {
    await admin.close();
  }
});

test('admin refuses cross-origin and simple-form POSTs; a plain POST /drain still works', async () => {
  const b = backend();
  const admin = new AdminServer(b);
  const addr = await admin.listen('127.0.0.1:0');
  const port = addr.slice(addr.lastIndexOf(':') + 1);
  const host = `127.0.0.1:${port}`;
  try {
    assert.equal(await call(addr, 'POST', '/drain', { host, origin: 'http://evil.example', 'content-type': 'text/plain' }, 'x'), 403);
    assert.equal(await call(addr, 'POST', '/drain', { host, origin: 'null' }), 403);
    assert.equal(await call(addr, 'POST', '/drain', { host, 'content-type': 'text/plain' }, 'x'), 415);
    assert.equal(await call(addr, 'POST', '/drain', { host, 'content-type': 'application/x-www-form-urlencoded' }, 'a=b'), 415);
    assert.equal(await call(addr, 'POST', '/drain', { host, 'content-type': 'multipart/form-data; boundary=x' }, '--x--'), 415);
    assert.equal(await call(addr, 'POST', '/drain', { host, 'sec-fetch-site': 'cross-site' }), 403);
    assert.deepEqual(b.calls, [], 'nothing reached the backend');
    assert.equal(await call(addr, 'GET', '/stats', { host, origin: `http://${host}` }), 200, 'its own origin is fine');
    assert.equal(await call(addr, 'POST', '/drain', { host }), 202);
    assert.deepEqual(b.calls, ['stats', 'drain']);
  } finally {
    await admin.close();
  }
});

test('a wildcard admin bind accepts IP literals with its port, and is warned about loudly', () => {
  const g = new AdminGuard('0.0.0.0', '0.0.0.0', 34901);
  assert.equal(g.check('GET', { host: '10.1.2.3:34901' }), null);
  assert.equal(g.check('GET', { host: '[fe80::1]:34901' }), null);
  assert.equal(g.check('GET', { host: 'evil.example:34901' })?.status, 403);
  assert.match(adminExposureWarning('0.0.0.0', 34901) ?? '', /not a loopback address.*POST \/drain/);
  assert.match(adminExposureWarning('10.0.0.5', 1) ?? '', /not a loopback/);
  assert.equal(adminExposureWarning('127.0.0.1', 34901), null);
  assert.equal(adminExposureWarning('::1', 34901), null);
});
