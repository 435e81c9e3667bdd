import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { recommend, type StepResult } from '../../src/loadgen/tune/recommend.js';
import { fixturePath, runCli } from './fixtures/servers.js';

const fake = fileURLToPath(new URL('./fixtures/fake-sidecar.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ringside-tune-test-'));

interface TuneOut {
  results: { workers: number; rps: number; p50_us: number; p99_us: number; cpu_cores: number; errors: number }[];
  recommended: { workers: number; reason: string };
}

describe('ringside tune with a fake sidecar', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('measures each pool size and recommends by the rule it prints, with a self-contained HTML report', async () => {
    const report = join(dir, 'tune.html');
    const r = await runCli(['tune', '-c', fixturePath('fake-sidecar.json'), '--sidecar', fake, '--workers', '1,2', '--duration', '1s',
      '--warmup', '200ms', '--connections', '8', '-t', '1', '--json', '--report', report]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as TuneOut;
    assert.deepEqual(out.results.map((s) => s.workers), [1, 2]);
    for (const s of out.results) {
      assert.ok(s.rps > 0 && s.p99_us >= s.p50_us && s.cpu_cores >= 0 && s.errors === 0, JSON.stringify(s));
    }
    // 8 connections at 8 ms vs 4 ms per response: ~1000 vs ~2000 req/s.
    assert.ok(out.results[1]!.rps > out.results[0]!.rps * 1.3, JSON.stringify(out.results));
    const rows = out.results.map((s) => ({ ...s, requests: 1 })) as StepResult[];
    const again = recommend(rows, 0.1, 1.5, (s) => `${s.workers} workers`);
    assert.equal(out.recommended.workers, out.results[again.index]!.workers);
    assert.equal(out.recommended.workers, 2);
    assert.match(out.recommended.reason, /rule: take the next step while it adds ≥ \+10% throughput/);
    assert.match(r.stderr, /ringside tune: 1 workers: \d+ req\/s/);

    const html = readFileSync(report, 'utf8');
    assert.match(html, /^<!doctype html>/);
    assert.equal((html.match(/<svg /g) ?? []).length, 2);
    assert.doesNotMatch(html, /<script|<link|<img|<iframe|src=|href=|url\(|@import/i);
    assert.match(html, /Recommended: workers = 2/);
  });

  it('sweeps another setting through temp configs with --param', async () => {
    const r = await runCli(['tune', '-c', fixturePath('fake-sidecar.json'), '--sidecar', fake, '--workers', '1', '--param', 'fake.delay_ms=4,40',
      '--duration', '500ms', '--warmup', '0', '--connections', '4', '-t', '1', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { results: Record<string, unknown>[]; recommended: Record<string, unknown> };
    assert.deepEqual(out.results.map((s) => s['fake.delay_ms']), ['4', '40']);
    // A 10× slower setting loses throughput: the first value stays recommended.
    assert.equal(out.recommended['fake.delay_ms'], '4');
  });

  it('fails with one line when the sidecar exits before it is ready', async () => {
    const cfg = join(dir, 'failing.json');
    writeFileSync(cfg, JSON.stringify({ ...JSON.parse(readFileSync(fixturePath('fake-sidecar.json'), 'utf8')), fake: { fail: true } }));
    const r = await runCli(['tune', '-c', cfg, '--sidecar', fake, '--workers', '1', '--duration', '500ms']);
    assert.equal(r.code, 1);
    assert.match(r.stderr.trim(), /^ringside tune: sidecar with --workers 1 exited with code 3 before it was ready: fake sidecar: refusing to start \(fake\.fail\)$/);
  });
});
