import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { recommend, recommendSlo, type StepResult } from '../../src/loadgen/tune/recommend.js';
import { parseSlo, searchRate, type StepMeasure } from '../../src/loadgen/tune/slo.js';
import { renderHtml } from '../../src/loadgen/tune/html.js';
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
    // Which size wins depends on the machine's timers under load, so the test checks the decision,
    // not the outcome: it is one of the measured points, the one the printed rule picks from the
    // figures the run recorded, with the rule's reason.
    assert.ok(out.results.some((s) => s.workers === out.recommended.workers), JSON.stringify(out.recommended));
    const rows = out.results.map((s) => ({ ...s, requests: 1 })) as StepResult[];
    const again = recommend(rows, 0.1, 1.5, (s) => `${s.workers} workers`);
    assert.equal(out.recommended.workers, out.results[again.index]!.workers);
    assert.equal(out.recommended.reason, again.reason);
    assert.match(out.recommended.reason, /rule: take the next step while it adds ≥ \+10% throughput/);
    for (const s of out.results) assert.match(r.stderr, new RegExp(`ringside tune: ${s.workers} workers: ${Math.round(s.rps)} req/s`));

    // The report: self-contained, the recommendation it names, one table row per measured point with
    // that point's figures, and the recommended row marked.
    const html = readFileSync(report, 'utf8');
    assert.match(html, /^<!doctype html>/);
    assert.equal((html.match(/<svg /g) ?? []).length, 2);
    assert.doesNotMatch(html, /<script|<link|<img|<iframe|src=|href=|url\(|@import/i);
    assert.match(html, new RegExp(`Recommended: workers = ${out.recommended.workers}<`));
    const tableRows = [...html.matchAll(/<tr( class="recrow")?><td>(\d+)<\/td><td>(\d+)<\/td><td>(\d+)<\/td><td>(\d+)<\/td>/g)];
    assert.deepEqual(
      tableRows.map((m) => [Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), m[1] !== undefined]),
      out.results.map((s) => [s.workers, Math.round(s.rps), s.p50_us, s.p99_us, s.workers === out.recommended.workers]),
    );
    assert.equal((html.match(/<th>workers<\/th>/g) ?? []).length, 1, 'one workers column when workers is what was swept');
  });

  it('with --slo searches each pool size for the highest open-loop rate within the objective and plots the curves', async () => {
    // A serial server: 20/N ms per response, one at a time (capacity about 48 and 95 req/s). Below
    // capacity p99 stays near the service time; past it the queue grows for the whole step and the
    // server answers less than is offered. The objective is far above the service time, so timer
    // delays on a loaded machine do not decide the outcome.
    const cfg = join(dir, 'serial.json');
    writeFileSync(cfg, JSON.stringify({ ...JSON.parse(readFileSync(fixturePath('fake-sidecar.json'), 'utf8')), fake: { delay_ms: 20, serial: true } }));
    const report = join(dir, 'slo.html');
    const r = await runCli(['tune', '-c', cfg, '--sidecar', fake, '--workers', '1,2', '--duration', '400ms', '--warmup', '0', '--connections', '16',
      '-t', '1', '--slo', 'p99=500ms', '--step-duration', '600ms', '--max-steps', '2', '--json', '--report', report]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { results: { workers: number; rps: number; slo_max_rps: number; curve: { offered_rps: number; slo_us: number; holds: boolean; errors: number; requests: number }[] }[]; recommended: { workers: number; reason: string }; slo: unknown };
    assert.deepEqual(out.slo, { percentile: 'p99', limit_us: 500_000 });
    for (const s of out.results) {
      assert.equal(s.curve.length, 2, JSON.stringify(s));
      // The search's steps follow from what it recorded: a probe at half the closed-loop throughput,
      // then the midpoint of the bracket that probe left (up to 1.1 × capacity if it held, down to 0
      // if not). Whether a step holds depends on the machine's timers, so that is not asserted.
      const [first, second] = s.curve as [(typeof s.curve)[0], (typeof s.curve)[0]];
      assert.ok(Math.abs(first.offered_rps - Math.round(s.rps / 2)) <= 1, JSON.stringify(s));
      const expected = first.holds ? (first.offered_rps + Math.max(1, s.rps) * 1.1) / 2 : first.offered_rps / 2;
      assert.ok(Math.abs(second.offered_rps - Math.max(1, Math.round(expected))) <= 1, JSON.stringify(s));
      const held = s.curve.filter((p) => p.holds).map((p) => p.offered_rps);
      assert.equal(s.slo_max_rps, held.length === 0 ? 0 : Math.max(...held));
      for (const p of s.curve) if (p.holds) assert.ok(p.slo_us <= 500_000 && p.errors <= p.requests * 0.01, JSON.stringify(p));
    }
    // The recommendation is the rule applied to the table it printed (how much more the larger pool
    // holds depends on the machine's timers under load, so it is not asserted here).
    const rows = out.results.map((s) => ({ ...s, p50_us: 0, p99_us: 0, cpu_cores: 0, errors: 0, requests: 1 })) as StepResult[];
    const again = recommendSlo(rows, 0.1, parseSlo('p99=500ms'), undefined, (s) => `${s.workers} workers`);
    assert.equal(out.recommended.workers, out.results[again.index]!.workers);
    assert.equal(out.recommended.reason, again.reason);
    assert.match(out.recommended.reason, /rate within p99=500ms/);
    const html = readFileSync(report, 'utf8');
    assert.match(html, /p99 latency under open-loop load \(objective p99=500ms\)/);
    assert.equal((html.match(/<polyline points=[^>]*stroke="#/g) ?? []).length, 2, 'one curve per pool size');
    assert.match(html, /<th>req\/s within p99=500ms<\/th>/);

    // --rate: sizes are measured in order until one holds the rate; that one is recommended (none: exit 1).
    const rate = Math.max(2, Math.round(out.results[0]!.rps * 0.3));
    const r2 = await runCli(['tune', '-c', cfg, '--sidecar', fake, '--workers', '1,2', '--duration', '300ms', '--warmup', '0', '--connections', '16',
      '-t', '1', '--slo', 'p99=500ms', '-R', String(rate), '--step-duration', '600ms', '--json']);
    const out2 = JSON.parse(r2.stdout) as { results: { workers: number; holds_rate: boolean }[]; recommended: { workers: number | null; reason: string } };
    const firstHolding = out2.results.findIndex((s) => s.holds_rate);
    const measured = out2.results.map((s) => s.workers);
    assert.deepEqual(measured, firstHolding === -1 ? [1, 2] : [1, 2].slice(0, firstHolding + 1), JSON.stringify(out2.results));
    if (firstHolding === -1) {
      assert.equal(r2.code, 1);
      assert.equal(out2.recommended.workers, null);
      assert.match(out2.recommended.reason, new RegExp(`no setting measured held ${rate} req/s with p99=500ms`));
    } else {
      assert.equal(r2.code, 0, r2.stderr);
      const w = measured[firstHolding]!;
      assert.equal(out2.recommended.workers, w);
      assert.match(out2.recommended.reason, new RegExp(`${w} workers holds it \\(rule: the smallest setting that holds ${rate} req/s with p99=500ms\\)`));
    }
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

describe('the --slo rate search', () => {
  const slo = parseSlo('p99=5ms');
  // A target whose p99 stays at 1 ms up to 1,000 req/s and explodes past it.
  const knee = async (rate: number): Promise<StepMeasure> => {
    const over = rate > 1000;
    const latency = over ? 50_000 : 1000;
    return { rps: over ? 1000 : rate, duration_s: 2, errors: 0, requests: 2 * Math.min(rate, 1000), latency_us: { min: 1, p50: latency / 2, p90: latency, p99: latency, p999: latency, max: latency } };
  };

  it('brackets the knee from half the capacity by bisection', async () => {
    const found = await searchRate({ slo, capacityRps: 1500, maxSteps: 8, measure: knee });
    assert.deepEqual(found.points.map((p) => [p.offered_rps, p.holds]).slice(0, 3), [[750, true], [1200, false], [975, true]]);
    assert.ok(found.maxRate <= 1000 && found.maxRate > 940, String(found.maxRate));
    assert.ok(found.points.length < 8, 'stops once the bracket is within 5%');
  });

  it('does not count a rate the target answers only in part, nor one with errors', async () => {
    const slow = async (rate: number): Promise<StepMeasure> => ({ ...(await knee(Math.min(rate, 1000))), rps: Math.min(rate, 1000) * 0.9 });
    assert.equal((await searchRate({ slo, capacityRps: 1500, maxSteps: 4, measure: slow })).maxRate, 0);
    const failing = async (rate: number): Promise<StepMeasure> => ({ ...(await knee(rate)), errors: rate });
    assert.equal((await searchRate({ slo, capacityRps: 1500, maxSteps: 3, measure: failing })).maxRate, 0);
  });

  it('reads PERCENTILE=DURATION and refuses anything else', () => {
    assert.deepEqual(parseSlo('p999=250us'), { percentile: 'p999', limitUs: 250, text: 'p999=250us' });
    assert.throws(() => parseSlo('p98=5ms'), /bad --slo "p98=5ms": expected PERCENTILE=DURATION/);
    assert.throws(() => parseSlo('p99=0s'), /must be above 0/);
  });

  it('the report of a --param sweep keeps the workers column beside the swept one', () => {
    const html = renderHtml({ title: 't', sweptLabel: 'ringside.offload.threads', results: [{ workers: 2, rps: 1, p50_us: 1, p99_us: 1, cpu_cores: 0, requests: 1, errors: 0, value: '1' }], recommendedIndex: 0, reason: 'r', load: 'l', generatedAt: 'g' });
    assert.match(html, /<th>ringside\.offload\.threads<\/th><th>workers<\/th>/);
  });
});
