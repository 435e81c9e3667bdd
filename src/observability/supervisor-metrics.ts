/**
 * The supervisor's half of /metrics: every worker's families aggregated with prom-client's
 * AggregatorRegistry.aggregate (sum, or the family's own aggregator such as max), merged with the
 * main thread's registry (process metrics from prom-client's default collectors — CPU and memory of
 * the whole process, all threads — and the supervisor's own gauges), in Prometheus' text format.
 */
import { AggregatorRegistry, Counter, Gauge, Registry, collectDefaultMetrics, type PrometheusContentType } from 'prom-client';
import type { MetricFamily } from '../types/observability.js';

export interface SupervisorMetricsSources {
  /** ringside.workers: the worker slots the supervisor keeps. */
  configuredWorkers(): number;
  /** Cross-worker RingPipes the supervisor relayed that are still open. */
  crossWorkerPipes(): number;
  /** Respawns since start, per worker index. */
  respawns(): readonly number[];
  /** Config reloads since start, by result (applied, unchanged, invalid, failed). */
  configReloads?(): Readonly<Record<string, number>>;
  /** The config version in force (1 at start, +1 per applied reload). */
  configVersion?(): number;
  /** The ADS stream, or null without a control plane. */
  xds?(): { connected: boolean; accepted: Record<string, number>; rejected: Record<string, number>; versions: Record<string, string> } | null;
}

export interface Exposition {
  contentType: string;
  body: string;
}

export class SupervisorMetrics {
  readonly #registry = new Registry();
  #up = 0;

  constructor(src: SupervisorMetricsSources) {
    const r = this.#registry;
    collectDefaultMetrics({ register: r });
    const self = this;
    new Gauge({
      name: 'ringside_workers',
      help: 'Data-plane workers, by state (up: answered this scrape; configured: ringside.workers).',
      labelNames: ['state'],
      registers: [r],
      collect() {
        this.set({ state: 'configured' }, src.configuredWorkers());
        this.set({ state: 'up' }, self.#up);
      },
    });
    new Gauge({
      name: 'ringside_ring_pipes_cross_worker',
      help: 'RingPipes between two workers that the supervisor relayed and that are still open.',
      registers: [r],
      collect() {
        this.set(src.crossWorkerPipes());
      },
    });
    new Gauge({
      name: 'ringside_worker_respawns',
      help: 'Times each worker slot was respawned after its thread died (its counters restart from zero).',
      labelNames: ['worker'],
      registers: [r],
      collect() {
        src.respawns().forEach((n, i) => this.set({ worker: String(i) }, n));
      },
    });
    const reloads = src.configReloads;
    if (reloads !== undefined) {
      new Counter({
        name: 'ringside_config_reloads_total',
        help: 'Config reloads (SIGHUP, admin POST /reload) by result: applied, unchanged, invalid (nothing changed), failed (a worker could not apply it).',
        labelNames: ['result'],
        registers: [r],
        collect() {
          this.reset();
          for (const [result, n] of Object.entries(reloads())) this.inc({ result }, n);
        },
      });
    }
    const xds = src.xds;
    if (xds !== undefined) {
      new Gauge({
        name: 'ringside_xds_stream_connected',
        help: 'Whether the ADS stream to the control plane is up (1) or down (0); absent without one.',
        registers: [r],
        collect() {
          this.reset();
          const x = xds();
          if (x !== null) this.set(x.connected ? 1 : 0);
        },
      });
      new Counter({
        name: 'ringside_xds_updates_total',
        help: 'xDS responses by resource type and result: accepted (ACK) or rejected (NACK, the last good config kept).',
        labelNames: ['type', 'result'],
        registers: [r],
        collect() {
          this.reset();
          const x = xds();
          if (x === null) return;
          for (const [type, n] of Object.entries(x.accepted)) this.inc({ type, result: 'accepted' }, n);
          for (const [type, n] of Object.entries(x.rejected)) this.inc({ type, result: 'rejected' }, n);
        },
      });
      new Gauge({
        name: 'ringside_xds_version_info',
        help: 'The version_info accepted last, per resource type (value 1).',
        labelNames: ['type', 'version'],
        registers: [r],
        collect() {
          this.reset();
          const x = xds();
          if (x === null) return;
          for (const [type, version] of Object.entries(x.versions)) this.set({ type, version }, 1);
        },
      });
    }
    const version = src.configVersion;
    if (version !== undefined) {
      new Gauge({
        name: 'ringside_config_version',
        help: 'The config version in force on every worker (1 at start, +1 per applied reload).',
        registers: [r],
        collect() {
          this.set(version());
        },
      });
    }
  }

  /** The text exposition of `perWorker` (the families of each worker that answered) and main's own. */
  async exposition(perWorker: MetricFamily[][]): Promise<Exposition> {
    this.#up = perWorker.length;
    const aggregated = AggregatorRegistry.aggregate<PrometheusContentType>(perWorker);
    const merged = Registry.merge([aggregated, this.#registry]);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }
}
