/**
 * A worker's prom-client registry: gauges and counters that read the worker's live state when the
 * supervisor scrapes it (connections per listener, actors, scheduler, offload pool, event loop,
 * heap, the named event counters), plus the request-path families of this thread's recorder.
 * Nothing here runs between scrapes.
 */
import { threadCpuSeconds } from './proc-cpu.js';
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Registry } from 'prom-client';
import type { MetricFamily, UpstreamClusterSample, WorkerMetricsSources } from '../types/observability.js';
import type { RunLoopStats } from '../types/actor.js';
import { recorder } from './index.js';
import { handshakeSamples } from '../network/tls/stats.js';

/**
 * A prom-client Counter whose value is read from a cumulative source at scrape time: the source
 * already counts (listener totals, actor turns), so collect() restates it instead of adding to it.
 */
function pulledCounter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[], read: () => Iterable<[Partial<Record<L, string>>, number]>): void {
  new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) if (value > 0) this.inc(labels, value);
    },
  });
}

function pulledGauge<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[], read: () => Iterable<[Partial<Record<L, string>>, number]>, aggregator: 'sum' | 'max' = 'sum'): void {
  new Gauge<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    aggregator,
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.set(labels, value);
    },
  });
}

export class WorkerMetrics {
  readonly #registry = new Registry();

  constructor(src: WorkerMetricsSources) {
    const r = this.#registry;
    const worker = String(src.workerIndex);
    const byListener = (pick: (l: ReturnType<WorkerMetricsSources['listeners']>[number]) => number) => (): [Record<'listener', string>, number][] =>
      src.listeners().map((l) => [{ listener: l.name }, pick(l)]);

    pulledGauge(r, 'ringside_connections_active', 'Downstream connections open now, by listener.', ['listener'], byListener((l) => l.activeConnections));
    pulledCounter(r, 'ringside_connections_total', 'Downstream connections accepted, by listener.', ['listener'], byListener((l) => l.totalConnections));
    pulledCounter(r, 'ringside_connections_rejected_total', 'Downstream connections refused at a limit, by listener.', ['listener'], byListener((l) => l.rejectedConnections ?? 0));

    const byKind = (pick: (k: RunLoopStats['kinds'][string]) => number) => (): [Record<'kind', string>, number][] =>
      Object.entries(src.actors().kinds).map(([kind, k]) => [{ kind }, pick(k)]);
    pulledGauge(r, 'ringside_actors', 'Actors alive now, by kind (connection.read, connection.write, …).', ['kind'], byKind((k) => k.live));
    pulledCounter(r, 'ringside_actors_spawned_total', 'Actors spawned, by kind.', ['kind'], byKind((k) => k.spawned));
    pulledCounter(r, 'ringside_actor_messages_total', 'Messages told to live actors, by kind.', ['kind'], byKind((k) => k.messages));
    pulledCounter(r, 'ringside_actor_queued_total', 'Deliveries that went through a mailbox because the actor was busy, by kind.', ['kind'], byKind((k) => k.queued));
    pulledCounter(r, 'ringside_actor_turns_total', 'Mailbox drains by the run loop, by kind.', ['kind'], byKind((k) => k.turns));
    pulledCounter(r, 'ringside_actor_crashes_total', 'Actors stopped because receive() threw, by kind.', ['kind'], byKind((k) => k.crashes));
    pulledCounter(r, 'ringside_actor_dead_letters_total', 'Messages told to an actor after it stopped, by kind.', ['kind'], byKind((k) => k.deadLetters));
    pulledCounter(r, 'ringside_actor_yields_total', 'Run-loop turns that hit the batch bound and yielded to I/O with work left.', [], () => [[{}, src.actors().yields]]);
    pulledGauge(r, 'ringside_actor_max_queue_depth', 'Deepest actor mailbox seen on any worker.', [], () => [[{}, src.actors().maxQueueDepth]], 'max');

    pulledCounter(r, 'ringside_scheduler_placements_total', 'In-process connections placed by the scheduler: kept on the dialing worker or moved to another.', ['decision'], () => {
      const s = src.scheduler();
      return [
        [{ decision: 'local' }, s.kept],
        [{ decision: 'moved' }, s.moved],
      ];
    });
    pulledCounter(
      r,
      'ringside_tls_handshakes_total',
      'TLS handshakes by side (downstream: a listener accepting; upstream: dialing a cluster), listener or cluster name, and result: ok, or why it failed (an OpenSSL / Node error code, NO_CLIENT_CERTIFICATE, a certificate verification code such as CERT_HAS_EXPIRED).',
      ['side', 'name', 'result'],
      () => handshakeSamples().map((s) => [{ side: s.side, name: s.name, result: s.result }, s.count]),
    );
    pulledGauge(r, 'ringside_offload_threads', 'piscina offload threads.', [], () => [[{}, src.offload().threads]]);
    pulledGauge(r, 'ringside_offload_queued', 'Offload tasks waiting for a thread.', [], () => [[{}, src.offload().queued]]);
    pulledCounter(r, 'ringside_offload_completed_total', 'Offload tasks completed.', [], () => [[{}, src.offload().completed]]);

    pulledGauge(r, 'ringside_worker_event_loop_utilization', 'Event-loop utilization of each worker thread, 0..1, smoothed over a few hundred ms.', ['worker'], () => [[{ worker }, src.eventLoopUtilization()]]);
    pulledCounter(r, 'ringside_worker_event_loop_active_seconds_total', 'Time each worker thread\'s event loop spent active (rate() of it is the utilization).', ['worker'], () => [[{ worker }, performance.eventLoopUtilization().active / 1000]]);
    // Read on this thread at scrape time: /proc/thread-self is the worker's own thread.
    pulledCounter(r, 'ringside_worker_cpu_seconds_total', 'User + system CPU seconds used by each worker thread (/proc; a respawned worker starts again from 0).', ['worker'], () => {
      const s = threadCpuSeconds();
      return s === undefined ? [] : [[{ worker }, s]];
    });
    pulledGauge(r, 'ringside_worker_heap_used_bytes', 'V8 heap in use, per worker thread.', ['worker'], () => [[{ worker }, process.memoryUsage().heapUsed]]);

    // Each worker runs its own pools and health checks: counts add up, host health is the largest count any worker sees.
    const byCluster = (pick: (c: UpstreamClusterSample) => number) => (): [Record<'cluster', string>, number][] => src.clusters().map((c) => [{ cluster: c.name }, pick(c)]);
    const hostSum = (pick: (h: UpstreamClusterSample['hosts'][number]) => number) => byCluster((c) => c.hosts.reduce((n, h) => n + pick(h), 0));
    pulledGauge(r, 'ringside_upstream_hosts', 'Hosts of each cluster by health-check state (the largest count any worker sees).', ['cluster', 'health'], () =>
      src.clusters().flatMap((c): [Record<'cluster' | 'health', string>, number][] => {
        const healthy = c.hosts.filter((h) => h.healthy).length;
        return [
          [{ cluster: c.name, health: 'healthy' }, healthy],
          [{ cluster: c.name, health: 'unhealthy' }, c.hosts.length - healthy],
        ];
      }),
      'max',
    );
    pulledGauge(r, 'ringside_upstream_connections_active', 'Upstream connections open, by cluster.', ['cluster'], hostSum((h) => h.activeConnections));
    pulledGauge(r, 'ringside_upstream_requests_active', 'Requests in flight to each cluster.', ['cluster'], hostSum((h) => h.activeRequests));
    pulledGauge(r, 'ringside_upstream_requests_pending', 'Requests waiting for an upstream connection, by cluster.', ['cluster'], byCluster((c) => c.circuitBreaker.pendingRequests));
    pulledCounter(r, 'ringside_upstream_requests_total', 'Requests sent to each cluster (every try).', ['cluster'], hostSum((h) => h.totalRequests));
    pulledCounter(r, 'ringside_upstream_connect_failures_total', 'Failed upstream connects, by cluster.', ['cluster'], hostSum((h) => h.connectFailures));
    pulledCounter(r, 'ringside_upstream_circuit_breaker_overflows_total', 'Acquires a cluster\'s circuit breaker refused, by resource.', ['cluster', 'resource'], () =>
      src.clusters().flatMap((c) => Object.entries(c.circuitBreaker.overflows).map(([resource, n]): [Record<'cluster' | 'resource', string>, number] => [{ cluster: c.name, resource }, n])),
    );

    pulledCounter(r, 'ringside_events_total', 'Named per-worker event counters (proxy phases, retries, local replies, upstream connects, mesh pipe dials).', ['name'], () =>
      Object.entries(src.counters()).map(([name, v]): [Record<'name', string>, number] => [{ name }, v]),
    );
  }

  /** The families the supervisor aggregates: this registry's, then the recorder's. */
  async collect(): Promise<MetricFamily[]> {
    const own = (await this.#registry.getMetricsAsJSON()) as unknown as MetricFamily[];
    return [...own, ...recorder.families()];
  }
}
