/**
 * CI fuzzing of every codec in test/fuzz/targets/index.ts: each kept fixture (an input that once made
 * a codec disagree with its reference) is replayed, then ciCases fresh seeded mutations are checked.
 * The seed changes every run so CI keeps exploring; a failure prints it, and
 * `npm run fuzz -- --codec NAME --seed S --save` reproduces it and keeps the inputs as fixtures.
 * RINGSIDE_FUZZ_SEED pins the seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkOne, loadFixtures, runCases } from './engine/target.js';
import { Rng } from './engine/rng.js';
import { fuzzTargets } from './targets/index.js';

const seed = process.env.RINGSIDE_FUZZ_SEED !== undefined ? Number(process.env.RINGSIDE_FUZZ_SEED) : Date.now() % 1_000_000_007;

for (const target of fuzzTargets) {
  test(`${target.name}: every kept fixture agrees with the reference`, () => {
    const fixtures = loadFixtures(target.name);
    const rng = new Rng(1);
    for (const f of fixtures) {
      const r = checkOne(target, f.input, rng);
      assert.equal(r.failure, null, `${target.name} fixture ${f.file} (${f.note}): ${r.failure}`);
    }
  });

  test(`${target.name}: ${target.ciCases} seeded mutations agree with the reference, without a crash or hang`, (t) => {
    const report = runCases(target, { cases: target.ciCases, seed, maxFailures: 5 });
    t.diagnostic(`seed ${seed}: ${report.cases} cases in ${report.ms.toFixed(0)} ms, slowest ${report.maxCaseMs.toFixed(1)} ms; ${JSON.stringify(report.outcomes)}`);
    const shown = report.failures.map((f) => `case ${f.caseIndex}: ${f.reason}\n  input ${JSON.stringify(f.input.toString('latin1'))}`);
    assert.deepEqual(shown, [], `seed ${seed} (rerun: npm run fuzz -- --codec ${target.name} --seed ${seed} --cases ${target.ciCases} --save)`);
    // The mix must reach valid messages, errors and unfinished input alike, or the run proves little.
    const kinds = Object.keys(report.outcomes).join(' ');
    for (const k of target.requiredOutcomes ?? []) assert.match(kinds, k, `no case reached ${k}`);
  });
}
