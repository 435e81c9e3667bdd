import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { delayed, runCli, startHttp, type TestServer } from './fixtures/servers.js';

describe('bench --compare', () => {
  let fast: TestServer;
  let slow: TestServer;
  before(async () => {
    fast = await startHttp((_n, _req, res) => res.end('ok'));
    slow = await startHttp(delayed(30));
  });
  after(async () => {
    await fast.close();
    await slow.close();
  });

  it('reports what TARGET adds over the baseline with a + sign when TARGET is slower, corrected and raw', async () => {
    const r = await runCli(['bench', '-R', '100', '-c', '4', '-t', '1', '-d', '1s', '--compare', fast.url, slow.url]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^target {3}http:\/\/127\.0\.0\.1:\d+\//m);
    assert.match(r.stdout, /^baseline http:\/\/127\.0\.0\.1:\d+\//m);
    // A 30 ms upstream against one answering at once: both rows show a positive overhead of ms.
    assert.match(r.stdout, /^ {2}corrected {2}p50 \+\d+\.\d+ms \(/m);
    assert.match(r.stdout, /^ {2}raw \(sent\) p50 \+\d+\.\d+ms \(/m);

    const j = await runCli(['bench', '-R', '100', '-c', '4', '-t', '1', '-d', '1s', '--json', '--compare', fast.url, slow.url]);
    assert.equal(j.code, 0, j.stderr);
    const out = JSON.parse(j.stdout) as { target: string; compare: { target: string; added_p50_us: number; added_p50_us_raw: number } };
    assert.equal(out.target, slow.url);
    assert.equal(out.compare.target, fast.url);
    assert.ok(out.compare.added_p50_us > 20_000, `added p50 ${out.compare.added_p50_us}`);
    assert.ok(out.compare.added_p50_us_raw > 20_000, `added raw p50 ${out.compare.added_p50_us_raw}`);
  });
});
