import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli, startHttp } from './fixtures/servers.js';

interface Out {
  requests: number;
  errors: number;
  errors_by_status: Record<string, number>;
}

describe('errors by status', () => {
  it('counts HTTP 500s under "500" and leaves successes out', async () => {
    const server = await startHttp((n, _req, res) => {
      res.statusCode = n % 2 === 0 ? 500 : 200;
      res.end('x');
    });
    try {
      const r = await runCli(['bench', '-c', '2', '-t', '1', '-n', '200', '--json', server.url]);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as Out;
      assert.equal(out.requests, 200);
      assert.ok(out.errors >= 95 && out.errors <= 105, `errors ${out.errors}`);
      assert.deepEqual(Object.keys(out.errors_by_status), ['500']);
      assert.equal(out.errors_by_status['500'], out.errors);
    } finally {
      await server.close();
    }
  });

  it('counts refused reconnects as connect_error after the target goes away', async () => {
    // Goes away after 300 requests (not after a time: a loaded machine may start the bench late).
    const server = await startHttp((n, _req, res) => {
      res.end('ok');
      if (n === 300) setImmediate(() => void server.close());
    });
    const r = await runCli(['bench', '-c', '2', '-t', '1', '-d', '2s', '--json', server.url]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Out;
    assert.ok(out.requests > out.errors, 'requests succeeded before the stop');
    assert.ok((out.errors_by_status['connect_error'] ?? 0) >= 4, JSON.stringify(out.errors_by_status));
  });

  it('counts requests that outlive --timeout under "timeout"', async () => {
    const server = await startHttp((n, _req, res) => (n <= 2 ? undefined : res.end('ok')));
    try {
      const r = await runCli(['bench', '-c', '2', '-t', '1', '-d', '1s', '--timeout', '200ms', '--json', server.url]);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as Out;
      assert.equal(out.errors_by_status['timeout'], 2, JSON.stringify(out.errors_by_status));
      assert.ok(out.requests > 100);
    } finally {
      await server.close();
    }
  });
});
