/**
 * Every message between the bench main thread and its load threads, as one discriminated union.
 *
 *   main ──init (workerData)──▶ load thread: opens its connections
 *   main ◀──connected────────── load thread: how many connected / failed
 *   main ──go─────────────────▶ load thread: start the clock, send load
 *   main ◀──progress (250 ms)── load thread: running counters for the live display
 *   main ◀──done─────────────── load thread: counters + recorded latencies (slot values, counts)
 *   main ──stop───────────────▶ load thread: end early (Ctrl-C)
 */
import type { PreparedRequest } from './driver.js';
import type { RecordedLatencies } from './recorder.js';

export interface LoadThreadInit {
  spec: PreparedRequest;
  connections: number;
  /** Requests in flight per connection. */
  concurrency: number;
  /** Open loop: this thread's share of --rate in req/s; undefined = closed loop. */
  rate: number | undefined;
  durationMs: number | undefined;
  /** This thread's share of -n. */
  requests: number | undefined;
  warmupMs: number;
  timeoutMs: number;
}

export interface ThreadCounters {
  requests: number;
  errors: number;
}

/** Running counters of the measured window, as the final report will count them. */
export interface ThreadProgress extends ThreadCounters {
  /** Time since measuring began (0 while warming up), ms. */
  measuredMs: number;
}

export interface ThreadResult extends ThreadCounters {
  /** Responses that came before the measured window (warm-up), not counted in `requests`. */
  warmupRequests: number;
  errorsByStatus: Record<string, number>;
  /** Measured window of this thread (after warmup), ms. */
  elapsedMs: number;
  /** Latency from the intended send time (open loop) or the send time (closed loop). */
  histogram: RecordedLatencies;
  /** Open loop only: latency from the moment the request actually left. */
  rawHistogram: RecordedLatencies | undefined;
  /** Open loop: requests the schedule called for that were never sent (the target fell behind). */
  unsent: number;
  /** First connect/reset detail seen, for error messages. */
  firstFailure: string | undefined;
}

export type ToLoadThread = { type: 'go' } | { type: 'stop' };

export type FromLoadThread =
  | { type: 'connected'; ok: number; failed: number; detail: string | undefined }
  | ({ type: 'progress' } & ThreadProgress)
  | { type: 'done'; result: ThreadResult }
  | { type: 'fatal'; message: string };
