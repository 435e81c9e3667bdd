import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli, startHttp, delayed, type TestServer } from './fixtures/servers.js';

interface Out {
  requests: number;
  rps: number;
  target_rps: number;
  latency_us: Record<string, number>;
  latency_us_raw: Record<string, number>;
  warnings: string[];
}

describe('open loop with coordinated-omission correction', () => {
  let stalling: TestServer;
  let slow: TestServer;
  before(async () => {
    // Answers at once, except one request that stalls the connection for 200 ms.
    stalling = await startHttp((n, _req, res) => (n === 150 ? setTimeout(() => res.end('late'), 200) : res.end('ok')));
    slow = await startHttp(delayed(20));
  });
  after(async () => {
    await stalling.close();
    await slow.close();
  });

  it('a single 200 ms stall shows in the corrected p99 but hardly in the raw one', async () => {
    const r = await runCli(['bench', '-R', '200', '-c', '1', '-t', '1', '-d', '3s', '--json', stalling.url]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Out;
    assert.equal(out.target_rps, 200);
    assert.ok(out.requests > 500, `requests ${out.requests}`);
    // ~40 requests were due during the stall: more than 1% of the run waited 100+ ms from their intended time.
    assert.ok(out.latency_us.p99! > 100_000, `corrected p99 ${out.latency_us.p99}`);
    assert.ok(out.latency_us.max! >= 190_000, `corrected max ${out.latency_us.max}`);
    // Measured from the actual send, only the stalled request itself was slow.
    assert.ok(out.latency_us_raw.p99! < 20_000, `raw p99 ${out.latency_us_raw.p99}`);
    assert.ok(out.latency_us.p99! > 5 * out.latency_us_raw.p99!);
    assert.deepEqual(out.warnings, []);
  });

  it('warns when the target rate is not reached', async () => {
    // One connection to a 20 ms upstream carries at most ~50 req/s; ask for 500.
    const r = await runCli(['bench', '-R', '500', '-c', '1', '-t', '1', '-d', '1s', '--json', slow.url]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Out;
    assert.ok(out.rps < 100, `rps ${out.rps}`);
    assert.equal(out.warnings.length, 1);
    assert.match(out.warnings[0]!, /target rate not reached/);
    assert.match(r.stderr, /warning: target rate not reached/);
    // The backlog grows for the whole second: corrected latency dwarfs the 20 ms service time.
    assert.ok(out.latency_us.p50! > 200_000, `corrected p50 ${out.latency_us.p50}`);
  });
});
