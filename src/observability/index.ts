/**
 * Ringside's metrics. Each thread records into its own tables through `metrics` (a MetricsRecorder,
 * see src/types/observability.ts); the supervisor pulls every worker's families over comlink
 * (WorkerControl.metrics) and serves the aggregate on the admin listener's GET /metrics.
 *
 *   hot path ── metrics.requestCompleted(…) ──▶ WorkerRecorder tables (this thread)
 *   scrape: admin GET /metrics ─▶ supervisor ─comlink─▶ each worker: collectWorkerMetrics()
 *           ◀── MetricFamily[] ── ─▶ prom-client AggregatorRegistry.aggregate ─▶ text format
 */
import type { MetricsRecorder } from '../types/observability.js';
import { WorkerRecorder } from './recorder.js';

/** This thread's recorder (module state is per thread, like the counters table). */
export const recorder = new WorkerRecorder();
export const metrics: MetricsRecorder = recorder;
