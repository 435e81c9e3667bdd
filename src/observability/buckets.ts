/**
 * Latency buckets of ringside_request_duration_seconds: 50 µs to 10 s. A sidecar hop is tens to
 * hundreds of µs, so the low end is finer than prom-client's defaults (5 ms and up), which would put
 * every proxied request in the first bucket.
 */
export const LATENCY_BOUNDS_US: readonly number[] = [
  50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000,
];

/** The same bounds as Prometheus `le` label values, in seconds. */
export const LATENCY_BOUNDS_S: readonly number[] = LATENCY_BOUNDS_US.map((us) => us / 1e6);

/** Index of the first bucket whose bound is ≥ durationUs; LATENCY_BOUNDS_US.length for +Inf. */
export function bucketIndex(durationUs: number): number {
  const bounds = LATENCY_BOUNDS_US;
  let i = 0;
  while (i < bounds.length && durationUs > bounds[i]!) i++;
  return i;
}
