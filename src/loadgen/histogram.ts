/**
 * Latency histograms for the load generator: one HDR histogram per load thread (values in µs),
 * shipped to the main thread in HDR's compressed encoding and merged there, so percentiles are
 * exact over all threads rather than an average of per-thread percentiles.
 */
import hdr from 'hdr-histogram-js';

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
  // The pure-JS build: the WASM one must be initialised asynchronously per thread and is no faster
  // for single-value records.
  return hdr.build({ useWebAssembly: false, lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

/** Merges encoded per-thread histograms into one. */
export function mergeHistograms(encoded: readonly string[]): Histogram {
  const merged = createHistogram();
  for (const e of encoded) merged.add(hdr.decodeFromCompressedBase64(e, 32, false));
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
