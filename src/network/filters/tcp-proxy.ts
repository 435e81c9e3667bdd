/**
 * tcp_proxy — MOSN's L4 proxy: each downstream connection gets one upstream connection to a host of
 * the configured cluster, and bytes are piped both ways.
 *
 *   downstream ─read loop─▶ onData ─(send-data)─▶ upstream.phase ─copy─▶ upstream.write ─write loop─▶ host
 *   downstream ◀─write loop─ downstream.write ◀─copy─ upstream.phase ◀─(bytes)─ UpstreamReader ◀─read loop─ host
 *
 * Reading the downstream waits for the upstream connect (onNewConnection answers Stop, then
 * continueReading), so nothing is buffered here. Backpressure: when one side's write queue passes its
 * high watermark the other side stops reading until it drains. Half-close travels across (a FIN on one
 * side ends writing on the other); the pair closes when both directions ended or either side closed.
 * A refused or failed upstream connect closes the downstream.
 *
 * The session's upstream side is an `upstream.phase` actor: it owns the connect attempts, the
 * upstream connection and the half-close state, and every event reaches it as a message
 * (UpstreamPhaseMsg) — the upstream's connect, connect failure or timeout, bytes, end, close and idle
 * timeout; the downstream's bytes (`send-data`), its backpressure (`receiving`), idle timeout and close.
 * I/O callbacks only tell; a read dispatched to the idle actor on the read loop's stack is copied once
 * into the other side's write loop. An actor that throws is stopped by the run loop (the crash is
 * logged once and counted under upstream.phase) and both connections of its session are closed.
 */
import { CloseMode, ConnectionEvent, FilterStatus } from '../../types/network.js';
import type { ClientTlsOptions } from '../../types/network.js';
import type {
  Connection,
  FactoryContext,
  FilterChainBuilder,
  NetworkFilterFactory,
  ReadFilter,
  ReadFilterCallbacks,
} from '../../types/network.js';
import type { ActorRef, RunLoop, UpstreamPhaseMsg } from '../../types/actor.js';
import { counter } from '../../common/counters.js';
import { logger } from '../../common/log.js';
import { metrics } from '../../observability/index.js';
import { dial } from '../connection/dialer.js';
import type { ConnectionImpl } from '../connection/connection.js';
import { matchRoute, parseTcpProxyConfig } from './tcp-proxy-config.js';
import type { TcpProxyConfig } from './tcp-proxy-config.js';
import { tellUpstreamRead } from '../../proxy/clients/actor-upstream-stream.js';

const log = logger('tcp_proxy');
const crashes = counter('tcp_proxy.session_crashes');
/** The one byte stream of a session, as `send-data` numbers it. */
const STREAM = 1;

/** A host as tcp_proxy dials it. */
export interface TcpProxyHost {
  readonly address: string;
  readonly host: string;
  readonly port: number;
}

/** The slice of the cluster manager tcp_proxy needs (src/upstream implements it). */
export interface TcpProxyClusterManager {
  /** `excludeHost`: the host a failed attempt used, avoided when another healthy one exists. */
  chooseHost(cluster: string, ctx?: { readonly excludeHost?: TcpProxyHost | undefined }): TcpProxyHost | undefined;
  /** The cluster's connect_timeout in ms; absent or undefined: 3 s. */
  connectTimeoutMs?(cluster: string): number | undefined;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 3000;

/** What tcp_proxy needs from the worker (the composition root provides it). */
export interface TcpProxyDeps {
  readonly clusterManager: TcpProxyClusterManager;
  readonly runLoop: RunLoop;
  /** TLS toward a cluster's hosts (its tls_context); absent or undefined: plain TCP. */
  readonly upstreamTls?: { options(cluster: string): ClientTlsOptions | undefined };
}

export const tcpProxyFactory: NetworkFilterFactory<TcpProxyDeps> = {
  create(config: unknown, path: string, ctx: FactoryContext<TcpProxyDeps>) {
    const cfg = parseTcpProxyConfig(config, path);
    for (const w of cfg.warnings) log.warn(w);
    const { clusterManager, runLoop, upstreamTls } = ctx.services;
    return (connection: Connection, chain: FilterChainBuilder) => {
      chain.addReadFilter(new TcpProxyFilter(cfg, clusterManager, runLoop, connection, upstreamTls));
    };
  },
};

export class TcpProxyFilter implements ReadFilter {
  readonly #cfg: TcpProxyConfig;
  readonly #clusters: TcpProxyClusterManager;
  readonly #runLoop: RunLoop;
  readonly #downstream: Connection;
  readonly #tls: TcpProxyDeps['upstreamTls'];
  #callbacks: ReadFilterCallbacks | null = null;
  #ref: ActorRef<UpstreamPhaseMsg> | null = null;
  // Actor state (changed only in the actor's turns, and in onNewConnection before any message).
  #upstream: ConnectionImpl | null = null;
  #downEnded = false;
  #upEnded = false;
  #closing = false;
  #attempts = 0;
  #cluster = '';
  #host: TcpProxyHost | undefined;

  constructor(cfg: TcpProxyConfig, clusters: TcpProxyClusterManager, runLoop: RunLoop, downstream: Connection, tls?: TcpProxyDeps['upstreamTls']) {
    this.#cfg = cfg;
    this.#tls = tls;
    this.#clusters = clusters;
    this.#runLoop = runLoop;
    this.#downstream = downstream;
  }

  initializeReadFilterCallbacks(callbacks: ReadFilterCallbacks): void {
    this.#callbacks = callbacks;
  }

  onNewConnection(): FilterStatus {
    const down = this.#downstream;
    const ref = this.#runLoop.spawn<UpstreamPhaseMsg>('upstream.phase', {
      receive: (m) => this.#receive(m),
      crashed: (err) => this.#crashed(err),
    });
    this.#ref = ref;
    down.enableHalfClose?.(true);
    if (this.#cfg.idleTimeoutMs > 0) down.setIdleTimeout?.(this.#cfg.idleTimeoutMs);
    down.addEventListener((event, reason) => {
      if (!ref.alive) return;
      if (event === ConnectionEvent.LocalClose || event === ConnectionEvent.RemoteClose) ref.tell({ k: 'close', reason: reason ?? 'downstream closed' });
      else if (event === ConnectionEvent.OnReadTimeout) ref.tell({ k: 'idle-timeout', side: 'downstream', reason: reason ?? 'idle' });
    });

    const cluster = matchRoute(this.#cfg, down.remoteAddress, down.localAddress);
    if (cluster === undefined) {
      log.debug(`connection ${down.id}: no tcp_proxy route matches ${down.remoteAddress} → ${down.localAddress}`);
      down.close(CloseMode.NoFlush, 'tcp_proxy: no route matches and no default cluster');
      return FilterStatus.Stop;
    }
    this.#cluster = cluster;
    if (!this.#dial()) return FilterStatus.Stop;
    down.addWatermarkListener?.((above) => {
      if (ref.alive) ref.tell({ k: 'receiving', stream: STREAM, enabled: !above });
    });
    // Read nothing until the upstream is connected: then nothing needs buffering here.
    return FilterStatus.Stop;
  }

  /** Bytes from the downstream (its read loop): told to the session's actor. */
  onData(data: Buffer, endOfStream: boolean): FilterStatus {
    const ref = this.#ref;
    if (ref === null || !ref.alive) return FilterStatus.Stop;
    if (data.length > 0) {
      const msg: UpstreamPhaseMsg = { k: 'send-data', stream: STREAM, chunk: data, eos: endOfStream, taken: false };
      ref.tell(msg);
      if (!msg.taken) msg.chunk = Buffer.from(data);
    } else if (endOfStream) ref.tell({ k: 'send-data', stream: STREAM, chunk: data, eos: true, taken: false });
    return FilterStatus.Stop;
  }

  /** Bytes from the upstream host (UpstreamReader, on the upstream's read loop): told to the actor. */
  onUpstreamData(data: Buffer, endOfStream: boolean): void {
    const ref = this.#ref;
    if (ref === null || !ref.alive) return;
    tellUpstreamRead(ref, data, endOfStream);
  }

  // ── the upstream.phase actor ──

  #receive(msg: UpstreamPhaseMsg): void {
    switch (msg.k) {
      case 'connected':
        if (msg.attempt === this.#attempts && !this.#closing) this.#callbacks?.continueReading();
        return;
      case 'connect-failed':
        if (msg.attempt === this.#attempts) this.#onConnectFailed(msg.reason);
        return;
      case 'send-data': {
        msg.taken = true;
        const up = this.#upstream;
        if (up === null || this.#downEnded) return;
        // The read buffer is borrowed: write() copies it before it returns.
        if (msg.chunk.length > 0) up.write(msg.chunk);
        if (msg.eos) {
          this.#downEnded = true;
          up.endWrite();
          this.#closeIfBothEnded();
        }
        return;
      }
      case 'bytes':
        msg.taken = true;
        if (!this.#upEnded) this.#downstream.write(msg.data);
        return;
      case 'eof':
        if (this.#upEnded) return;
        this.#upEnded = true;
        this.#downstream.endWrite?.();
        this.#closeIfBothEnded();
        return;
      case 'receiving':
        this.#upstream?.setReadEnabled(msg.enabled);
        return;
      case 'closed':
        // The upstream closed. Whatever it sent is queued on the downstream already: flush it, then close.
        if (!this.#closing) {
          this.#closing = true;
          this.#downstream.close(CloseMode.FlushWrite, `tcp_proxy: upstream closed (${msg.reason})`);
        }
        return;
      case 'close':
        // The downstream closed: the upstream follows and the session is over.
        this.#closeUpstream();
        this.#runLoop.stop(this.#ref!);
        return;
      case 'idle-timeout':
        log.debug(`connection ${this.#downstream.id}: ${msg.side} idle (${msg.reason}); closing the session`);
        return; // the idle connection closes itself next; its close ends the session
      case 'send-head':
      case 'send-trailers':
      case 'reset':
      case 'ready-timeout':
      case 'keepalive-due':
        return; // an L4 session has no request heads, trailers, start-up deadline or keepalive
    }
  }

  /** One connect attempt to a host of the cluster (another one than the last when there is one). */
  #dial(): boolean {
    const down = this.#downstream;
    const cluster = this.#cluster;
    const host = this.#clusters.chooseHost(cluster, { excludeHost: this.#host });
    if (host === undefined) {
      log.debug(`connection ${down.id}: no host in cluster ${cluster}`);
      metrics.upstreamError(cluster, 'NO_HEALTHY_HOST');
      down.close(CloseMode.NoFlush, `tcp_proxy: no healthy host in cluster ${cluster}`);
      return false;
    }
    this.#host = host;
    const attempt = ++this.#attempts;
    const ref = this.#ref!;
    this.#upstream = dial({
      target: { kind: 'tcp', host: host.host, port: host.port },
      name: cluster,
      runLoop: this.#runLoop,
      connectTimeoutMs: this.#clusters.connectTimeoutMs?.(cluster) ?? DEFAULT_CONNECT_TIMEOUT_MS,
      tls: this.#tls?.options(cluster),
      init: (up, chain) => {
        up.enableHalfClose(true);
        chain.addReadFilter(new UpstreamReader(this));
        // A failed attempt's close that follows its ConnectFailed concerns nobody: it is not told.
        let failed = false;
        up.addEventListener((event, reason) => {
          if (!ref.alive || failed) return;
          switch (event) {
            case ConnectionEvent.Connected:
              ref.tell({ k: 'connected', attempt });
              return;
            case ConnectionEvent.ConnectFailed:
              failed = true;
              ref.tell({ k: 'connect-failed', attempt, reason: reason ?? 'unknown' });
              return;
            case ConnectionEvent.RemoteClose:
            case ConnectionEvent.LocalClose:
              ref.tell({ k: 'closed', reason: reason ?? '' });
              return;
            case ConnectionEvent.OnReadTimeout:
              ref.tell({ k: 'idle-timeout', side: 'upstream', reason: reason ?? 'idle' });
              return;
          }
        });
        up.addWatermarkListener((above) => down.setReadEnabled(!above));
      },
    });
    return true;
  }

  #onConnectFailed(reason: string): void {
    const down = this.#downstream;
    log.debug(`connection ${down.id}: upstream connect failed (attempt ${this.#attempts}): ${reason}`);
    metrics.upstreamError(this.#cluster, 'CONNECT_FAILED');
    if (this.#attempts < this.#cfg.maxConnectAttempts && !down.closed && !this.#closing) {
      this.#dial();
      return;
    }
    this.#closing = true;
    down.close(CloseMode.NoFlush, `tcp_proxy: upstream connect failed (${reason})`);
  }

  #closeUpstream(): void {
    const up = this.#upstream;
    if (up === null || up.closed) return;
    this.#closing = true;
    up.close(this.#downEnded ? CloseMode.FlushWrite : CloseMode.NoFlush, 'tcp_proxy: downstream closed');
  }

  #closeIfBothEnded(): void {
    if (!this.#downEnded || !this.#upEnded) return;
    this.#closing = true;
    this.#upstream?.close(CloseMode.FlushWrite, 'tcp_proxy: both directions ended');
    this.#downstream.close(CloseMode.FlushWrite, 'tcp_proxy: both directions ended');
  }

  /** Supervision: the session's actor threw; both of its connections are closed at once. */
  #crashed(err: unknown): void {
    crashes.inc();
    const reason = `tcp_proxy: session crashed: ${err instanceof Error ? err.message : String(err)}`;
    this.#closing = true;
    try {
      const up = this.#upstream;
      if (up !== null && !up.closed) up.close(CloseMode.NoFlush, reason);
    } finally {
      if (!this.#downstream.closed) this.#downstream.close(CloseMode.NoFlush, reason);
    }
  }
}

/** The read filter on the upstream connection: hands its bytes to the session. */
class UpstreamReader implements ReadFilter {
  readonly #session: TcpProxyFilter;

  constructor(session: TcpProxyFilter) {
    this.#session = session;
  }

  initializeReadFilterCallbacks(): void {}

  onNewConnection(): FilterStatus {
    return FilterStatus.Continue;
  }

  onData(data: Buffer, endOfStream: boolean): FilterStatus {
    this.#session.onUpstreamData(data, endOfStream);
    return FilterStatus.Stop;
  }
}
