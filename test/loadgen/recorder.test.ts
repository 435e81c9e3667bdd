import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHistogram, mergeRecorded } from '../../src/loadgen/histogram.js';
import { LatencyRecorder } from '../../src/loadgen/recorder.js';

/** Latencies across every bucket: sub-µs, bucket 0, each power of two and its neighbours, past 2^32 µs. */
function spread(): number[] {
  const xs = [0, 0.2, 0.5, 0.7, 1, 1.4, 2, 999.5, 1023, 1024, 1025, 2047, 2048, 2049, 4095, 4096, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 12_345, 2 ** 41 + 7];
  for (let k = 1; k < 40; k++) for (const d of [-1, 0, 1, 0.5]) xs.push(2 ** k + d);
  let seed = 7;
  for (let i = 0; i < 20_000; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    // Log-uniform from 1 µs to about 17 min, the range a load test sees.
    xs.push(Math.exp((seed / 2147483648) * Math.log(1e9)));
  }
  return xs;
}

const PERCENTILES = [0, 0.1, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100];

describe('the load thread latency recorder', () => {
  it('counts every value in the slot hdr-histogram-js would, so the merged percentiles are identical', () => {
    const values = spread();
    const direct = createHistogram();
    const rec = new LatencyRecorder();
    for (const v of values) {
      direct.recordValue(Math.max(1, Math.round(v)));
      rec.record(v);
    }
    assert.equal(rec.totalCount, values.length);
    const merged = mergeRecorded([rec.export()]);
    assert.equal(merged.totalCount, direct.totalCount);
    assert.equal(merged.minNonZeroValue, direct.minNonZeroValue);
    assert.equal(merged.maxValue, direct.maxValue);
    for (const p of PERCENTILES) assert.equal(merged.getValueAtPercentile(p), direct.getValueAtPercentile(p), `p${p}`);
  });

  it('merges threads as one histogram of all their values, and reset forgets the warm-up', () => {
    const values = spread();
    const a = new LatencyRecorder();
    const b = new LatencyRecorder();
    const all = new LatencyRecorder();
    a.record(123_456); // recorded during a warm-up, then dropped
    a.reset();
    values.forEach((v, i) => {
      (i % 3 === 0 ? a : b).record(v);
      all.record(v);
    });
    const merged = mergeRecorded([a.export(), b.export()]);
    const one = mergeRecorded([all.export()]);
    assert.equal(merged.totalCount, values.length);
    for (const p of PERCENTILES) assert.equal(merged.getValueAtPercentile(p), one.getValueAtPercentile(p), `p${p}`);
    // Only occupied slots cross to the main thread.
    const exported = a.export();
    assert.equal(exported.values.length, exported.counts.length);
    assert.ok(exported.values.length < values.length / 3 + 1);
    assert.ok(exported.counts.every((n) => n > 0));
  });
});
