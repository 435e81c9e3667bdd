import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli, startHttp, delayed, type TestServer } from './fixtures/servers.js';

describe('closed loop percentiles', () => {
  let server: TestServer;
  before(async () => {
    server = await startHttp(delayed(10));
  });
  after(() => server.close());

  it('an upstream with a fixed 10 ms delay gives a p50 between 10 and 12 ms', async () => {
    const r = await runCli(['bench', '-c', '2', '-t', '1', '-d', '2s', '--warmup', '200ms', '--json', server.url]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { requests: number; errors: number; rps: number; latency_us: Record<string, number> };
    assert.equal(out.errors, 0);
    assert.ok(out.requests > 100, `only ${out.requests} requests`);
    assert.ok(out.latency_us.p50! >= 10_000 && out.latency_us.p50! <= 12_000, `p50 ${out.latency_us.p50} µs`);
    // Node's timers count from the loop's cached clock and may fire up to ~1 ms early.
    assert.ok(out.latency_us.min! >= 9_000, `min ${out.latency_us.min} µs`);
    // Two connections, one request each, 10 ms apiece: about 200 req/s.
    assert.ok(out.rps > 120 && out.rps < 210, `rps ${out.rps}`);
  });

  it('-n stops after exactly that many requests and pipelining keeps K in flight', async () => {
    const before = server.count();
    const r = await runCli(['bench', '-c', '1', '--concurrency', '4', '-n', '40', '--json', server.url]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { requests: number; rps: number };
    assert.equal(out.requests, 40);
    assert.ok(server.count() - before >= 40);
    // One request at a time would cap one connection at ~100/s against a 10 ms upstream; Node's
    // server works on pipelined requests concurrently, so 4 in flight gives well above that.
    assert.ok(out.rps > 180, `rps ${out.rps}`);
  });
});
