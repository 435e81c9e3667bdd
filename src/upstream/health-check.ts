/**
 * Active health checks of one cluster: every host is probed on its own timer (TCP connect, or an
 * HTTP request whose status must be in the expected set). Consecutive results are counted: after
 * `unhealthy_threshold` failures a healthy host is ejected, after `healthy_threshold` successes an
 * ejected host is restored. Hosts start healthy, as in MOSN, so traffic flows before the first probe.
 *
 * Probes use plain node:net / node:http: they run a few times per interval, off the request path.
 * Timers and probe sockets are unref'd so health checking never keeps a worker alive on its own.
 */
import http from 'node:http';
import net from 'node:net';
import type { Host } from '../types/upstream.js';
import type { HealthCheckConfig } from '../config/types.js';

export type ProbeResult = { ok: true } | { ok: false; reason: string };
type Probe = (host: Host, timeoutMs: number, done: (r: ProbeResult) => void) => () => void;

const tcpProbe: Probe = (host, timeoutMs, done) => {
  let finished = false;
  const socket = net.connect({ host: host.host, port: host.port });
  socket.unref();
  const finish = (r: ProbeResult): void => {
    if (finished) return;
    finished = true;
    socket.destroy();
    done(r);
  };
  socket.setTimeout(timeoutMs, () => finish({ ok: false, reason: `tcp connect timeout after ${timeoutMs} ms` }));
  socket.once('connect', () => finish({ ok: true }));
  socket.once('error', (err: NodeJS.ErrnoException) => finish({ ok: false, reason: `tcp connect: ${err.code ?? err.message}` }));
  return () => {
    finished = true;
    socket.destroy();
  };
};

function httpProbe(path: string, method: string, expected: ReadonlySet<number>, port: number | undefined, timeoutOverride: number | undefined): Probe {
  return (host, checkTimeoutMs, done) => {
    let finished = false;
    const timeoutMs = timeoutOverride ?? checkTimeoutMs;
    const req = http.request({
      host: host.host,
      port: port ?? host.port,
      path,
      method,
      agent: false,
      headers: { host: host.hostname, 'user-agent': 'ringside-health-check', connection: 'close' },
    });
    const finish = (r: ProbeResult): void => {
      if (finished) return;
      finished = true;
      req.destroy();
      done(r);
    };
    req.on('socket', (s: net.Socket) => s.unref());
    req.setTimeout(timeoutMs, () => finish({ ok: false, reason: `http check timeout after ${timeoutMs} ms` }));
    req.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, reason: `http check: ${err.code ?? err.message}` }));
    req.on('response', (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      finish(expected.has(status) ? { ok: true } : { ok: false, reason: `http check: status ${status}` });
    });
    req.end();
    return () => {
      finished = true;
      req.destroy();
    };
  };
}

function positiveInt(v: number, path: string): number {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${path}: must be a positive integer, got ${v}`);
  return v;
}

function positiveMs(v: number, path: string): number {
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${path}: must be a positive number of ms, got ${v}`);
  return v;
}

interface HostState {
  readonly host: Host;
  successes: number;
  failures: number;
  timer: NodeJS.Timeout | undefined;
  abort: (() => void) | undefined;
}

/** Receives verdicts; the cluster flips the host's flag and refreshes its host set. */
export type HealthVerdict = (host: Host, healthy: boolean, reason: string) => void;

export class HealthChecker {
  readonly #probe: Probe;
  readonly #timeoutMs: number;
  readonly #intervalMs: number;
  /** Up to this many ms are added to each interval at random (interval_jitter), so checks of many hosts and workers spread out. */
  readonly #jitterMs: number;
  readonly #random: () => number;
  readonly #healthyThreshold: number;
  readonly #unhealthyThreshold: number;
  #states: HostState[];
  readonly #verdict: HealthVerdict;
  #running = false;

  /** Validates the config (errors carry `path`); start() begins probing. */
  constructor(cfg: HealthCheckConfig, hosts: readonly Host[], verdict: HealthVerdict, path = 'health_check', random: () => number = Math.random) {
    this.#jitterMs = Math.max(0, cfg.interval_jitter ?? 0);
    this.#random = random;
    this.#timeoutMs = positiveMs(cfg.timeout, `${path}.timeout`);
    this.#intervalMs = positiveMs(cfg.interval, `${path}.interval`);
    this.#healthyThreshold = positiveInt(cfg.healthy_threshold, `${path}.healthy_threshold`);
    this.#unhealthyThreshold = positiveInt(cfg.unhealthy_threshold, `${path}.unhealthy_threshold`);
    const protocol = cfg.kind;
    if (protocol === 'tcp') {
      this.#probe = tcpProbe;
    } else if (protocol === 'http') {
      const hc = cfg.check_config?.http_check_config;
      const hpath = hc?.path ?? '/';
      if (!hpath.startsWith('/')) throw new Error(`${path}.check_config.http_check_config.path: must start with "/"`);
      const statuses = hc?.codes ?? [200];
      statuses.forEach((s, i) => {
        if (!Number.isInteger(s) || s < 100 || s > 599) {
          throw new Error(`${path}.check_config.http_check_config.codes[${i}]: not an HTTP status: ${s}`);
        }
      });
      this.#probe = httpProbe(hpath, (hc?.method ?? 'GET').toUpperCase(), new Set(statuses), hc?.port, hc?.timeout);
    } else {
      throw new Error(`${path}.protocol: unsupported health check protocol "${cfg.protocol ?? cfg.kind}" (known: tcp, http)`);
    }
    this.#verdict = verdict;
    this.#states = hosts.map((host) => ({ host, successes: 0, failures: 0, timer: undefined, abort: undefined }));
  }

  /** Probes every host at once, then every interval. Idempotent. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    for (const s of this.#states) this.#run(s);
  }

  /**
   * The cluster's hosts changed (DNS): hosts that stay keep their counters and timers, new ones are
   * probed at once when running, removed ones stop being probed.
   */
  setHosts(hosts: readonly Host[]): void {
    const old = new Map(this.#states.map((s) => [s.host, s]));
    this.#states = hosts.map((host) => old.get(host) ?? { host, successes: 0, failures: 0, timer: undefined, abort: undefined });
    for (const [host, s] of old) {
      if (hosts.includes(host)) continue;
      if (s.timer !== undefined) clearTimeout(s.timer);
      s.abort?.();
    }
    if (!this.#running) return;
    for (const s of this.#states) if (!old.has(s.host)) this.#run(s);
  }

  /** Clears every timer and aborts probes in flight; the hosts keep their current flags. */
  stop(): void {
    this.#running = false;
    for (const s of this.#states) {
      if (s.timer !== undefined) clearTimeout(s.timer);
      s.timer = undefined;
      s.abort?.();
      s.abort = undefined;
    }
  }

  #run(s: HostState): void {
    s.timer = undefined;
    s.abort = this.#probe(s.host, this.#timeoutMs, (r) => {
      s.abort = undefined;
      if (!this.#running || !this.#states.includes(s)) return;
      this.#record(s, r);
      // Scheduled after the probe ends, never overlapping: a slow host is not probed twice at once.
      s.timer = setTimeout(() => this.#run(s), this.#intervalMs + this.#random() * this.#jitterMs);
      s.timer.unref();
    });
  }

  #record(s: HostState, r: ProbeResult): void {
    if (r.ok) {
      s.failures = 0;
      s.successes++;
      if (!s.host.healthy && s.successes >= this.#healthyThreshold) {
        this.#verdict(s.host, true, `${s.successes} consecutive checks passed`);
      }
    } else {
      s.successes = 0;
      s.failures++;
      if (s.host.healthy && s.failures >= this.#unhealthyThreshold) {
        this.#verdict(s.host, false, `${s.failures} consecutive checks failed, last: ${r.reason}`);
      }
    }
  }
}
