/**
 * The HTTP/1.1 fuzz batch through a real sidecar (two worker threads) and an upstream that logs the
 * exact bytes it receives: see proxy-batch.ts for what is asserted. The in-process run
 * (codecs.test.ts) gives the volume; this batch proves the same inputs are safe end to end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runProxyBatch } from './proxy-batch.js';

const seed = process.env.RINGSIDE_FUZZ_SEED !== undefined ? Number(process.env.RINGSIDE_FUZZ_SEED) : Date.now() % 1_000_000_007;
const CASES = 600;

test(`${CASES} mutated HTTP/1.1 inputs through ringside start: no crash, hang, smuggled request or answer below 400 to bad bytes`, async (t) => {
  const r = await runProxyBatch({ cases: CASES, seed, maxFailures: 5 });
  t.diagnostic(`seed ${seed}: ${r.cases} cases in ${r.ms.toFixed(0)} ms, ${r.forwarded} requests forwarded; answers ${JSON.stringify(r.answers)}`);
  assert.deepEqual(
    r.failures.map((f) => `${f.reason}\n  input ${JSON.stringify(f.input)}`),
    [],
    `seed ${seed} (rerun: npm run fuzz -- --proxy ${CASES} --seed ${seed})`,
  );
  assert.equal(r.sidecarCrashed, false, 'a worker crashed');
  assert.ok(r.forwarded > CASES / 10, `only ${r.forwarded} requests reached the upstream: the batch is not exercising the proxy`);
  assert.ok((r.answers['400'] ?? 0) > CASES / 10, 'the batch is not exercising bad input');
});
