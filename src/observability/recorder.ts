/**
 * The per-thread MetricsRecorder: the tables the hot paths write into, and their export as metric
 * families when the supervisor scrapes this worker.
 *
 * Why not prom-client's Counter/Histogram here: their observe()/inc() hash the label object into a
 * string on every call, which on the request path is the per-request string building this layer
 * must avoid. Here a request costs three Map lookups on names the config already holds (V8 caches a
 * string's hash) plus a few increments; prom-client still does the aggregation and the text format in
 * the supervisor (src/observability/supervisor-metrics.ts).
 */
import type { MetricFamily, MetricSample, MetricsRecorder, ResiliencyPolicyKind } from '../types/observability.js';
import { LATENCY_BOUNDS_S, LATENCY_BOUNDS_US, bucketIndex } from './buckets.js';

class RequestSeries {
  /** Non-cumulative counts per bucket; the last one is +Inf. */
  readonly buckets = new Float64Array(LATENCY_BOUNDS_US.length + 1);
  sumUs = 0;
  count = 0;
  readonly byStatus = new Map<number, number>();
  readonly listener: string;
  readonly route: string;
  readonly cluster: string;

  constructor(listener: string, route: string, cluster: string) {
    this.listener = listener;
    this.route = route;
    this.cluster = cluster;
  }
}

/** Three-level table keyed by names that already exist; a missing level is made once. */
function child<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    map.set(key, v);
  }
  return v;
}

function bump<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

export class WorkerRecorder implements MetricsRecorder {
  readonly #requests = new Map<string, Map<string, Map<string, RequestSeries>>>();
  readonly #upstreamErrors = new Map<string, Map<string, number>>();
  readonly #resiliency = new Map<string, Map<ResiliencyPolicyKind, Map<string, number>>>();
  #ringOpenedLocal = 0;
  #ringOpenedRemote = 0;
  #ringClosedLocal = 0;
  #ringClosedRemote = 0;
  #ringParks = 0;

  requestCompleted(listener: string, route: string, cluster: string, status: number, durationUs: number): void {
    let byRoute = this.#requests.get(listener);
    if (byRoute === undefined) this.#requests.set(listener, (byRoute = new Map()));
    let byCluster = byRoute.get(route);
    if (byCluster === undefined) byRoute.set(route, (byCluster = new Map()));
    let s = byCluster.get(cluster);
    if (s === undefined) byCluster.set(cluster, (s = new RequestSeries(listener, route, cluster)));
    const d = durationUs > 0 ? durationUs : 0;
    s.buckets[bucketIndex(d)]!++;
    s.sumUs += d;
    s.count++;
    s.byStatus.set(status, (s.byStatus.get(status) ?? 0) + 1);
  }

  upstreamError(cluster: string, code: string): void {
    bump(child(this.#upstreamErrors, cluster, () => new Map<string, number>()), code);
  }

  resiliencyActivated(name: string, policy: ResiliencyPolicyKind, target: string): void {
    const byPolicy = child(this.#resiliency, name, () => new Map<ResiliencyPolicyKind, Map<string, number>>());
    bump(child(byPolicy, policy, () => new Map<string, number>()), target);
  }

  ringOpened(remote: boolean): void {
    if (remote) this.#ringOpenedRemote++;
    else this.#ringOpenedLocal++;
  }

  ringClosed(remote: boolean): void {
    if (remote) this.#ringClosedRemote++;
    else this.#ringClosedLocal++;
  }

  ringParked(): void {
    this.#ringParks++;
  }

  /** Everything recorded so far on this thread, as cumulative metric families. */
  families(): MetricFamily[] {
    const requests: MetricSample[] = [];
    const durations: MetricSample[] = [];
    for (const byRoute of this.#requests.values()) {
      for (const byCluster of byRoute.values()) {
        for (const s of byCluster.values()) {
          const labels = { listener: s.listener, route: s.route, cluster: s.cluster };
          for (const [status, n] of s.byStatus) requests.push({ value: n, labels: { ...labels, status: String(status) } });
          let cumulative = 0;
          for (let i = 0; i < s.buckets.length; i++) {
            cumulative += s.buckets[i]!;
            const le = i < LATENCY_BOUNDS_S.length ? LATENCY_BOUNDS_S[i]! : '+Inf';
            durations.push({ value: cumulative, labels: { ...labels, le }, metricName: 'ringside_request_duration_seconds_bucket' });
          }
          durations.push({ value: s.sumUs / 1e6, labels, metricName: 'ringside_request_duration_seconds_sum' });
          durations.push({ value: s.count, labels, metricName: 'ringside_request_duration_seconds_count' });
        }
      }
    }
    const errors: MetricSample[] = [];
    for (const [cluster, byCode] of this.#upstreamErrors) for (const [code, n] of byCode) errors.push({ value: n, labels: { cluster, code } });
    const resiliency: MetricSample[] = [];
    for (const [name, byPolicy] of this.#resiliency) {
      for (const [policy, byTarget] of byPolicy) for (const [target, n] of byTarget) resiliency.push({ value: n, labels: { name, policy, target } });
    }
    const sum = 'sum' as const;
    return [
      { name: 'ringside_requests_total', help: 'Downstream requests that ended, by listener, route, cluster and response status (0: reset before a response head).', type: 'counter', aggregator: sum, values: requests },
      { name: 'ringside_request_duration_seconds', help: 'Time from the request head to the end of the response, by listener, route and cluster.', type: 'histogram', aggregator: sum, values: durations },
      { name: 'ringside_upstream_errors_total', help: 'Failed upstream tries by cluster and error code.', type: 'counter', aggregator: sum, values: errors },
      { name: 'ringside_resiliency_activations_total', help: 'Resiliency policies that acted, by policy name, kind and target.', type: 'counter', aggregator: sum, values: resiliency },
      {
        name: 'ringside_ring_pipes_opened_total',
        help: 'RingPipe endpoints opened, by mode (local: both ends on one thread; remote: across threads).',
        type: 'counter',
        aggregator: sum,
        values: [
          { value: this.#ringOpenedLocal, labels: { mode: 'local' } },
          { value: this.#ringOpenedRemote, labels: { mode: 'remote' } },
        ],
      },
      {
        name: 'ringside_ring_pipes_active',
        help: 'RingPipe endpoints open now, by mode.',
        type: 'gauge',
        aggregator: sum,
        values: [
          { value: this.#ringOpenedLocal - this.#ringClosedLocal, labels: { mode: 'local' } },
          { value: this.#ringOpenedRemote - this.#ringClosedRemote, labels: { mode: 'remote' } },
        ],
      },
      { name: 'ringside_ring_parks_total', help: 'Times a remote RingPipe endpoint parked on its doorbell after spinning found nothing.', type: 'counter', aggregator: sum, values: [{ value: this.#ringParks, labels: {} }] },
    ];
  }
}
