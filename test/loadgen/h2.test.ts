/**
 * `ringside bench -p h2` against a node:http2 server (h2c prior knowledge): requests carry the
 * method, path, headers and body asked for, and non-2xx/3xx statuses are counted by status.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { once } from 'node:events';
import type net from 'node:net';
import { test } from 'node:test';
import { runCli } from './fixtures/servers.js';

test('bench -p h2 drives HTTP/2 streams with the given request and counts statuses', async () => {
  const seen: { method: string; path: string; header: string; body: string }[] = [];
  const server = http2.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (seen.length < 5) seen.push({ method: req.method, path: req.url, header: String(req.headers['x-bench']), body });
      res.statusCode = req.url === '/fail' ? 503 : 200;
      res.end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  try {
    const ok = await runCli(['bench', '-p', 'h2', '-m', 'POST', '-H', 'x-bench: 1', '--body', 'hello', '-c', '2', '--concurrency', '4', '-d', '1s', '--threads', '1', '--json', `${url}/ok?q=1`]);
    assert.equal(ok.code, 0, ok.stderr);
    const report = JSON.parse(ok.stdout) as { requests: number; errors: number };
    assert.ok(report.requests > 0);
    assert.equal(report.errors, 0);
    assert.deepEqual(seen[0], { method: 'POST', path: '/ok?q=1', header: '1', body: 'hello' });
    const failing = await runCli(['bench', '-p', 'h2', '-c', '1', '-d', '1s', '--threads', '1', '--json', `${url}/fail`]);
    const r = JSON.parse(failing.stdout) as { errors_by_status: Record<string, number> };
    assert.ok((r.errors_by_status['503'] ?? 0) > 0, failing.stdout);
  } finally {
    server.close();
  }
});
