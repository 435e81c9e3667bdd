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
import { dialTcp } from '../connection/dial.js';
import type { ConnectionImpl } from '../connection/connection.js';
import { matchRoute, parseTcpProxyConfig } from './tcp-proxy-config.js';
import type { TcpProxyConfig } from './tcp-proxy-config.js';

const log = logger('tcp_proxy');

/** The slice of the cluster manager tcp_proxy needs (src/upstream implements it). */
export interface TcpProxyClusterManager {
  chooseHost(cluster: string, ctx?: unknown): { address: string; host: string; port: number } | undefined;
}

function isClusterManager(v: unknown): v is TcpProxyClusterManager {
  return typeof v === 'object' && v !== null && typeof (v as { chooseHost?: unknown }).chooseHost === 'function';
}

function isRunLoop(v: unknown): v is RunLoop {
  return typeof v === 'object' && v !== null && typeof (v as { spawn?: unknown }).spawn === 'function';
}

export const tcpProxyFactory: NetworkFilterFactory = {
  create(config: unknown, path: string, ctx: FactoryContext) {
    const cfg = parseTcpProxyConfig(config, path);
    return (connection: Connection, chain: FilterChainBuilder) => {
      const services = ctx.services;
      const clusters = services['clusterManager'];
      const runLoop = services['runLoop'];
      if (!isClusterManager(clusters) || !isRunLoop(runLoop)) {
        throw new Error(`tcp_proxy on ${ctx.listenerName}: worker services lack clusterManager.chooseHost or runLoop`);
      }
      chain.addReadFilter(new TcpProxyFilter(cfg, clusters, runLoop, connection));
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

  constructor(cfg: TcpProxyConfig, clusters: TcpProxyClusterManager, runLoop: RunLoop, downstream: Connection) {
    this.#cfg = cfg;
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
    const host = this.#clusters.chooseHost(cluster, { downstream: down });
    if (host === undefined) {
      log.debug(`connection ${down.id}: no host in cluster ${cluster}`);
      down.close(CloseMode.NoFlush, `tcp_proxy: no healthy host in cluster ${cluster}`);
      return FilterStatus.Stop;
    }
    this.#upstream = dialTcp({
      host: host.host,
      port: host.port,
      name: cluster,
      runLoop: this.#runLoop,
      connectTimeoutMs: this.#cfg.connectTimeoutMs,
      init: (up, chain) => {
        up.enableHalfClose(true);
        chain.addReadFilter(new UpstreamReader(this));
        up.addEventListener((event, reason) => this.#onUpstreamEvent(event, reason));
        up.addWatermarkListener((above) => down.setReadEnabled(!above));
      },
    });
    down.addWatermarkListener?.((above) => this.#upstream?.setReadEnabled(!above));
    // Read nothing until the upstream is connected: then nothing needs buffering here.
    return FilterStatus.Stop;
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

  #onUpstreamEvent(event: ConnectionEvent, reason: string | undefined): void {
    const down = this.#downstream;
    switch (event) {
      case ConnectionEvent.Connected:
        this.#callbacks?.continueReading();
        return;
      case ConnectionEvent.ConnectFailed:
        log.debug(`connection ${down.id}: upstream connect failed: ${reason ?? ''}`);
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
