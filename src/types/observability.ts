import type { RunLoopStats } from './actor.js';

/**
 * Observability interfaces: the log settings every thread shares and the metrics recorder the other
 * layers call. Implementations live in src/common/log.ts and src/observability/.
 */

/** pino's levels plus `silent`, as RINGSIDE_LOG accepts them. */
export type ThreadLogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** What a thread needs to log like every other thread of the process (handed to workers at boot). */
export interface LogSettings {
  readonly level: ThreadLogLevel;
  readonly format: 'json' | 'pretty';
  /** Where every thread writes its lines: "stderr" (default), "stdout" or a file path (appended to). */
  readonly destination: string;
  /** pino-pretty colours; only when the process' stderr is a terminal. */
  readonly colorize: boolean;
}

/** Dapr's resiliency policy kinds, the `policy` label of ringside_resiliency_activations_total. */
export type ResiliencyPolicyKind = 'timeout' | 'retry' | 'circuitbreaker';

/**
 * What the data-plane layers record, one call per event. Each worker thread has its own recorder
 * (src/observability/index.ts `metrics`); calls are plain increments into that thread's tables — no
 * locks, no label strings built per call — and the supervisor aggregates every worker at scrape time.
 * Label arguments are names the config already holds (listener, route, cluster names), not strings
 * made per request.
 */
export interface MetricsRecorder {
  /**
   * One downstream request ended: its response went out (`status`, a local reply included) or the
   * stream was reset before any response head (`status` 0). `route` and `cluster` are '' when no
   * route matched or the route answered directly. Feeds ringside_requests_total and
   * ringside_request_duration_seconds.
   */
  requestCompleted(listener: string, route: string, cluster: string, status: number, durationUs: number): void;
  /** An upstream try failed with a RingsideError code (CONNECT_FAILED, TIMEOUT, …). */
  upstreamError(cluster: string, code: string): void;
  /** A resiliency policy acted (Dapr's `dapr_resiliency_activations_total`): `name` is the policy's name. */
  resiliencyActivated(name: string, policy: ResiliencyPolicyKind, target: string): void;
  /** A RingPipe endpoint opened on this thread; `remote` when its peer is on another thread. */
  ringOpened(remote: boolean): void;
  /** A RingPipe endpoint on this thread finished (closed both ways or reset). */
  ringClosed(remote: boolean): void;
  /** A remote-mode RingPipe endpoint parked on its doorbell (nothing to read, spin over). */
  ringParked(): void;
}

/** prom-client's metric types, as Prometheus names them. */
export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';
/** How the supervisor combines one series across workers (prom-client's aggregators). */
export type MetricAggregator = 'sum' | 'first' | 'min' | 'max' | 'average' | 'omit';

/** One sample: for a histogram, `metricName` is its `_bucket` (with an `le` label), `_sum` or `_count`. */
export interface MetricSample {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/**
 * One metric family as a worker hands it to the supervisor over WorkerControl.metrics() — the shape of
 * prom-client's Registry.getMetricsAsJSON(), which its AggregatorRegistry.aggregate() combines.
 */
export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  aggregator: MetricAggregator;
  values: MetricSample[];
}

/** The part of a cluster manager's per-cluster stats the metrics read (src/upstream ClusterStats fits). */
export interface UpstreamClusterSample {
  readonly name: string;
  readonly hosts: readonly { readonly healthy: boolean; readonly activeRequests: number; readonly activeConnections: number; readonly totalRequests: number; readonly connectFailures: number }[];
  readonly circuitBreaker: { readonly pendingRequests: number; readonly overflows: Readonly<Record<string, number>> };
}

/** What a worker's registry reads when it is scraped (live state; none of it on the request path). */
export interface WorkerMetricsSources {
  readonly workerIndex: number;
  listeners(): readonly { name: string; activeConnections: number; totalConnections: number; rejectedConnections?: number }[];
  actors(): RunLoopStats;
  scheduler(): { kept: number; moved: number };
  offload(): { threads: number; completed: number; queued: number };
  /** Smoothed event-loop utilization, 0..1 (what the load board publishes). */
  eventLoopUtilization(): number;
  /** This worker's clusters (its own pools and health checks); empty without a data plane. */
  clusters(): readonly UpstreamClusterSample[];
  /** The thread's named event counters (src/common/counters.ts). */
  counters(): Record<string, number>;
}
