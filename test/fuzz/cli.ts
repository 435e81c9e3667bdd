/**
 * `npm run fuzz -- [--cases N] [--codec NAME] [--seed S] [--save]`: a longer local run of the codec
 * fuzzer. Prints one JSON line per codec; with --save, every failing input is written to
 * test/fuzz/fixtures/<codec>/ so the CI test replays it from then on. Exit 1 when anything failed.
 * `--proxy N` runs N cases end to end through a real `ringside start` instead (HTTP/1.1).
 */
import { parseArgs } from 'node:util';
import { runCases, saveFixture } from './engine/target.js';
import { runProxyBatch } from './proxy-batch.js';
import { fuzzTargets } from './targets/index.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string' },
    codec: { type: 'string' },
    seed: { type: 'string' },
    save: { type: 'boolean', default: false },
    proxy: { type: 'string' },
  },
});
const names = fuzzTargets.map((t) => t.name);
if (values.codec !== undefined && !names.includes(values.codec)) {
  console.error(`--codec: unknown codec "${values.codec}" (known: ${names.join(', ')})`);
  process.exit(2);
}
const cases = values.cases === undefined ? undefined : Number(values.cases);
if (cases !== undefined && !(Number.isInteger(cases) && cases > 0)) {
  console.error(`--cases: a positive integer, got "${values.cases}"`);
  process.exit(2);
}
const seed = values.seed === undefined ? (Date.now() & 0x7fffffff) : Number(values.seed);
if (!Number.isInteger(seed)) {
  console.error(`--seed: an integer, got "${values.seed}"`);
  process.exit(2);
}
let failed = false;
if (values.proxy !== undefined) {
  // The end-to-end batch through a real sidecar (HTTP/1.1 only).
  const n = Number(values.proxy);
  if (!(Number.isInteger(n) && n > 0)) {
    console.error(`--proxy: a positive number of cases, got "${values.proxy}"`);
    process.exit(2);
  }
  const r = await runProxyBatch({ cases: n, seed, maxFailures: 50 });
  const saved = values.save ? r.failures.filter((f) => f.input !== '').map((f) => saveFixture('http1', Buffer.from(f.input, 'latin1'), `proxy: ${f.reason}`)) : [];
  console.log(JSON.stringify({ codec: 'http1', path: 'proxy', seed, cases: r.cases, ms: Math.round(r.ms), forwarded: r.forwarded, answers: r.answers, crashed: r.sidecarCrashed, failures: r.failures, ...(values.save ? { saved } : {}) }));
  process.exit(r.failures.length > 0 || r.sidecarCrashed ? 1 : 0);
}
for (const target of fuzzTargets.filter((t) => values.codec === undefined || t.name === values.codec)) {
  const report = runCases(target, { cases: cases ?? target.ciCases, seed, maxFailures: 50 });
  const saved = values.save ? report.failures.map((f) => saveFixture(target.name, f.input, f.reason)) : [];
  failed ||= report.failures.length > 0;
  console.log(
    JSON.stringify({
      codec: report.codec,
      seed: report.seed,
      cases: report.cases,
      ms: Math.round(report.ms),
      casesPerSecond: Math.round((report.cases / report.ms) * 1000),
      maxCaseMs: Number(report.maxCaseMs.toFixed(2)),
      outcomes: report.outcomes,
      failures: report.failures.map((f) => ({ case: f.caseIndex, reason: f.reason, input: f.input.toString('latin1') })),
      ...(values.save ? { saved } : {}),
    }),
  );
}
process.exit(failed ? 1 : 0);
