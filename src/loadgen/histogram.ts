/**
 * Latency histograms on the main thread: each load thread's recorded latencies (recorder.ts) go into
 * one HDR histogram, so percentiles are exact over all threads rather than an average of per-thread
 * percentiles.
 */
import hdr from 'hdr-histogram-js';
import type { RecordedLatencies } from './recorder.js';

export type Histogram = hdr.Histogram;

export interface LatencySummary {
  min: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export function createHistogram(): Histogram {
  // The pure-JS build: the WASM one must be initialised asynchronously.
  return hdr.build({ useWebAssembly: false, lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });
}

/** Merges the load threads' recorded latencies into one histogram. */
export function mergeRecorded(parts: readonly RecordedLatencies[]): Histogram {
  const merged = createHistogram();
  for (const p of parts) for (let i = 0; i < p.values.length; i++) merged.recordValueWithCount(p.values[i]!, p.counts[i]!);
  return merged;
}

export function summarize(h: Histogram): LatencySummary {
  if (h.totalCount === 0) return { min: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  return {
    min: h.minNonZeroValue,
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: h.maxValue,
  };
}
