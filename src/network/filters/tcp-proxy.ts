/**
 * tcp_proxy — MOSN's L4 proxy: each downstream connection gets one upstream connection to a host of
 * the configured cluster, and bytes are piped both ways.
 *
 *   downstream ─read loop─▶ TcpProxyFilter.onData ─copy─▶ upstream.write ─write loop─▶ host
 *   downstream ◀─write loop─ downstream.write ◀─copy─ UpstreamReader.onData ◀─read loop─ host
 *
 * Reading the downstream waits for the upstream connect (onNewConnection answers Stop, then
 * continueReading), so nothing is buffered here. Backpressure: when one side's write queue passes its
 * high watermark the other side stops reading until it drains. Half-close travels across (a FIN on one
 * side ends writing on the other); the pair closes when both directions ended or either side closed.
 * A refused or failed upstream connect closes the downstream.
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
import type { RunLoop } from '../../types/actor.js';
import { logger } from '../../common/log.js';
import { metrics } from '../../observability/index.js';
import { dial } from '../connection/dialer.js';
import type { ConnectionImpl } from '../connection/connection.js';
import { matchRoute, parseTcpProxyConfig } from './tcp-proxy-config.js';
import type { TcpProxyConfig } from './tcp-proxy-config.js';

const log = logger('tcp_proxy');

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
  #callbacks: ReadFilterCallbacks | null = null;
  #upstream: ConnectionImpl | null = null;
  #downEnded = false;
  #upEnded = false;
  #closing = false;
  #attempts = 0;
  #cluster = '';
  #host: TcpProxyHost | undefined;
  readonly #tls: TcpProxyDeps['upstreamTls'];

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
    down.enableHalfClose?.(true);
    if (this.#cfg.idleTimeoutMs > 0) down.setIdleTimeout?.(this.#cfg.idleTimeoutMs);
    down.addEventListener((event) => {
      if (event === ConnectionEvent.LocalClose || event === ConnectionEvent.RemoteClose) this.#closeUpstream();
    });

    const cluster = matchRoute(this.#cfg, down.remoteAddress, down.localAddress);
    if (cluster === undefined) {
      log.debug(`connection ${down.id}: no tcp_proxy route matches ${down.remoteAddress} → ${down.localAddress}`);
      down.close(CloseMode.NoFlush, 'tcp_proxy: no route matches and no default cluster');
      return FilterStatus.Stop;
    }
    this.#cluster = cluster;
    if (!this.#dial()) return FilterStatus.Stop;
    down.addWatermarkListener?.((above) => this.#upstream?.setReadEnabled(!above));
    // Read nothing until the upstream is connected: then nothing needs buffering here.
    return FilterStatus.Stop;
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
    this.#attempts++;
    this.#upstream = dial({
      target: { kind: 'tcp', host: host.host, port: host.port },
      name: cluster,
      runLoop: this.#runLoop,
      connectTimeoutMs: this.#clusters.connectTimeoutMs?.(cluster) ?? DEFAULT_CONNECT_TIMEOUT_MS,
      tls: this.#tls?.options(cluster),
      init: (up, chain) => {
        up.enableHalfClose(true);
        chain.addReadFilter(new UpstreamReader(this));
        up.addEventListener((event, reason) => this.#onUpstreamEvent(up, event, reason));
        up.addWatermarkListener((above) => down.setReadEnabled(!above));
      },
    });
    return true;
  }

  onData(data: Buffer, endOfStream: boolean): FilterStatus {
    const up = this.#upstream;
    if (up === null) return FilterStatus.Stop;
    // The read buffer is borrowed and the write loop keeps bytes until its batch goes out: copy.
    if (data.length > 0) up.write(Buffer.from(data));
    if (endOfStream) {
      this.#downEnded = true;
      up.endWrite();
      this.#closeIfBothEnded();
    }
    return FilterStatus.Stop;
  }

  /** Bytes from the upstream host (UpstreamReader). */
  onUpstreamData(data: Buffer, endOfStream: boolean): void {
    const down = this.#downstream;
    if (data.length > 0) down.write(Buffer.from(data));
    if (endOfStream) {
      this.#upEnded = true;
      down.endWrite?.();
      this.#closeIfBothEnded();
    }
  }

  #onUpstreamEvent(up: ConnectionImpl, event: ConnectionEvent, reason: string | undefined): void {
    const down = this.#downstream;
    // Events of an attempt that was given up on no longer concern this session.
    if (up !== this.#upstream) return;
    switch (event) {
      case ConnectionEvent.Connected:
        this.#callbacks?.continueReading();
        return;
      case ConnectionEvent.ConnectFailed:
        log.debug(`connection ${down.id}: upstream connect failed (attempt ${this.#attempts}): ${reason ?? ''}`);
        metrics.upstreamError(this.#cluster, 'CONNECT_FAILED');
        if (this.#attempts < this.#cfg.maxConnectAttempts && !down.closed) {
          this.#dial();
          return;
        }
        this.#closing = true;
        down.close(CloseMode.NoFlush, `tcp_proxy: upstream connect failed (${reason ?? 'unknown'})`);
        return;
      case ConnectionEvent.RemoteClose:
      case ConnectionEvent.LocalClose:
        // Whatever the upstream sent is queued on the downstream already: flush it, then close.
        if (!this.#closing) {
          this.#closing = true;
          down.close(CloseMode.FlushWrite, `tcp_proxy: upstream closed (${reason ?? ''})`);
        }
        return;
      case ConnectionEvent.OnReadTimeout:
        return;
    }
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
