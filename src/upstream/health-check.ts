/**
 * Active health checks of one cluster: every host is probed on its own timer (TCP connect, or an
 * HTTP request whose status must be in the expected set). Consecutive results are counted: after
 * `unhealthy_threshold` failures a healthy host is ejected, after `healthy_threshold` successes an
 * ejected host is restored. Hosts start healthy, as in MOSN, so traffic flows before the first probe.
 *
 * Probes go through the dialer the pools use (src/network/connection/dialer.ts), to the same target
 * and with the cluster's tls_context, so a host is probed the way it is dialed: a TLS host passes a
 * TCP check only when its handshake (and certificate verification) passes, and an HTTP check is an
 * HTTP/1.1 request over that TLS connection, decoded by Ringside's own response decoder. A probe's
 * connection is an ordinary client connection on the run loop (read and write actors), closed as
 * soon as the verdict is known.
 */
import { RingsideError } from '../common/errors.js';
import { threadRunLoop } from '../actor/run-loop.js';
import { dialClient, hostTarget } from '../network/connection/dialer.js';
import type { ConnectionImpl } from '../network/connection/connection.js';
import { createHttp1RequestEncoder, createHttp1ResponseDecoder } from '../protocol/http1/index.js';
import { H1Request } from '../protocol/http1/heads.js';
import { Headers } from '../protocol/headers.js';
import { CloseMode, ConnectionEvent, FilterStatus } from '../types/network.js';
import type { ClientTlsOptions } from '../types/network.js';
import type { RunLoop } from '../types/actor.js';
import type { Host } from '../types/upstream.js';
import type { HealthCheckConfig } from '../config/types.js';

export type ProbeResult = { ok: true } | { ok: false; reason: string };
type Probe = (host: Host, timeoutMs: number, done: (r: ProbeResult) => void) => () => void;

/** How probes dial: the worker's run loop and its clusters' TLS (what the pools' client factories get). */
export interface ProbeDialing {
  /** Absent: this thread's run loop. */
  readonly runLoop?: RunLoop | undefined;
  /** TLS toward a host (its cluster's tls_context), offering these ALPN ids; undefined: plaintext. */
  tls?(host: Host, alpn?: readonly string[]): ClientTlsOptions | undefined;
}

const HTTP1_ALPN: readonly string[] = ['http/1.1'];

/** A connect (TCP, then the TLS handshake when the cluster has one) within the timeout. */
function tcpProbe(dialing: () => ProbeDialing): Probe {
  return (host, timeoutMs, done) => {
    const d = dialing();
    let finished = false;
    let conn: ConnectionImpl | undefined;
    dialClient(
      {
        target: hostTarget(host),
        name: host.clusterName,
        runLoop: d.runLoop ?? threadRunLoop(),
        connectTimeoutMs: timeoutMs,
        tls: d.tls?.(host),
        init: (c) => (conn = c),
      },
      (err, c) => {
        c?.close(CloseMode.NoFlush, 'health check done');
        if (finished) return;
        finished = true;
        done(err === undefined ? { ok: true } : { ok: false, reason: `tcp check: ${err.message}` });
      },
    );
    return () => {
      finished = true;
      conn?.close(CloseMode.NoFlush, 'health check stopped');
    };
  };
}

/**
 * An HTTP/1.1 request on a fresh connection (Connection: close), passed when the response status
 * is one of `expected`; the whole exchange, connect included, must finish within the timeout.
 */
function httpProbe(dialing: () => ProbeDialing, path: string, method: string, expected: ReadonlySet<number>, port: number | undefined, timeoutOverride: number | undefined): Probe {
  return (host, checkTimeoutMs, done) => {
    const d = dialing();
    const timeoutMs = timeoutOverride ?? checkTimeoutMs;
    let finished = false;
    let conn: ConnectionImpl | undefined;
    const finish = (r: ProbeResult): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      decoder.destroy();
      conn?.close(CloseMode.NoFlush, 'health check done');
      done(r);
    };
    const timer = setTimeout(() => finish({ ok: false, reason: `http check timeout after ${timeoutMs} ms` }), timeoutMs);
    timer.unref();
    const decoder = createHttp1ResponseDecoder({
      onHead: (head) => finish(expected.has(head.status) ? { ok: true } : { ok: false, reason: `http check: status ${head.status}` }),
      onBody: () => {},
      onComplete: () => {},
      onError: (err) => finish({ ok: false, reason: `http check: ${err.message}` }),
    });
    const request = new H1Request(0, method, path, Headers.from({ host: host.hostname, 'user-agent': 'ringside-health-check', connection: 'close' }));
    dialClient(
      {
        target: port === undefined ? hostTarget(host) : { ...hostTarget(host), port },
        name: host.clusterName,
        runLoop: d.runLoop ?? threadRunLoop(),
        connectTimeoutMs: timeoutMs,
        tls: d.tls?.(host, HTTP1_ALPN),
        init: (c, chain) => {
          conn = c;
          chain.addReadFilter({
            initializeReadFilterCallbacks() {},
            onNewConnection: () => FilterStatus.Continue,
            onData(data, endOfStream) {
              decoder.execute(data);
              if (endOfStream) decoder.finish();
              return FilterStatus.Stop;
            },
          });
          c.addEventListener((event, reason) => {
            if (event === ConnectionEvent.RemoteClose || event === ConnectionEvent.LocalClose) {
              finish({ ok: false, reason: `http check: connection closed before the response (${reason ?? 'closed'})` });
            }
          });
        },
      },
      (err, c) => {
        if (err !== undefined || c === undefined) {
          finish({ ok: false, reason: `http check: ${(err ?? new RingsideError('CONNECT_FAILED', 'upstream', 'connect failed')).message}` });
          return;
        }
        if (finished) {
          c.close(CloseMode.NoFlush, 'health check done');
          return;
        }
        decoder.expect(request);
        c.write(createHttp1RequestEncoder().encodeHead(request, null, true));
      },
    );
    return () => {
      finished = true;
      clearTimeout(timer);
      decoder.destroy();
      conn?.close(CloseMode.NoFlush, 'health check stopped');
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
  /** `dialing` is read at each probe, so a worker can supply its run loop and TLS after the cluster is built. */
  constructor(
    cfg: HealthCheckConfig,
    hosts: readonly Host[],
    verdict: HealthVerdict,
    path = 'health_check',
    random: () => number = Math.random,
    dialing: () => ProbeDialing = () => ({}),
  ) {
    this.#jitterMs = Math.max(0, cfg.interval_jitter ?? 0);
    this.#random = random;
    this.#timeoutMs = positiveMs(cfg.timeout, `${path}.timeout`);
    this.#intervalMs = positiveMs(cfg.interval, `${path}.interval`);
    this.#healthyThreshold = positiveInt(cfg.healthy_threshold, `${path}.healthy_threshold`);
    this.#unhealthyThreshold = positiveInt(cfg.unhealthy_threshold, `${path}.unhealthy_threshold`);
    const protocol = cfg.kind;
    if (protocol === 'tcp') {
      this.#probe = tcpProbe(dialing);
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
      this.#probe = httpProbe(dialing, hpath, (hc?.method ?? 'GET').toUpperCase(), new Set(statuses), hc?.port, hc?.timeout);
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
