/**
 * NET/IO layer — the bottom of MOSN's four layers.
 *
 *   PROXY    phase machine, router, clusters, pools
 *   STREAM   stream ids, stream filters
 *   PROTOCOL codecs: bytes <-> headers/body/trailers
 * ▶ NET/IO   listeners, connections (read loop, write loop), network filter chains
 *
 * A Listener accepts transports (TCP or Unix sockets, or RingPipe ends for in-process listeners) and
 * wraps each in a Connection. The Connection's read loop hands bytes to the read-filter chain; writes go
 * through the write-filter chain to the write loop, which issues one write per batch.
 */
import type { Socket } from 'node:net';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { RingEndpoint } from './ring.js';

/** What a filter answers: go on to the next filter, or stop iterating until it resumes the chain. */
export enum FilterStatus {
  Continue = 0,
  Stop = 1,
}

export enum ConnectionEvent {
  /** The connection is established (accepted, or dialed and connected). */
  Connected = 'Connected',
  /** The peer closed or reset it. */
  RemoteClose = 'RemoteClose',
  /** Ringside closed it. */
  LocalClose = 'LocalClose',
  /** No bytes were read or written for the idle timeout; the connection is then closed. */
  OnReadTimeout = 'OnReadTimeout',
  ConnectFailed = 'ConnectFailed',
}

export enum CloseMode {
  /** Write out what is queued, then close. */
  FlushWrite = 'FlushWrite',
  /** Close at once, dropping queued bytes. */
  NoFlush = 'NoFlush',
}

/**
 * Where a client connection goes (src/network/connection/dialer.ts): a TCP host and port, a Unix
 * socket path, or an in-process listener reached over a RingPipe.
 */
export type DialTarget =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'pipe'; readonly listener: string };

/**
 * TLS for a dialed TCP or Unix connection: node:tls client options (servername, ca, cert, key,
 * rejectUnauthorized, ALPNProtocols, minVersion …) without the target, which the dialer sets.
 */
export type ClientTlsOptions = Omit<TlsConnectionOptions, 'host' | 'port' | 'path' | 'socket' | 'onread'>;

/** The byte transport under a connection: a socket, or one end of a RingPipe. */
export type Transport = { kind: 'socket'; socket: Socket } | { kind: 'ring'; endpoint: RingEndpoint };

export interface Connection {
  readonly id: number;
  /** Name of the listener that accepted it (or the cluster name for upstream connections). */
  readonly listenerName: string;
  readonly remoteAddress: string;
  readonly localAddress: string;
  readonly closed: boolean;
  /**
   * Queues bytes through the write-filter chain onto the write loop; the write loop sends everything
   * queued in one event-loop turn as a single write at the end of the turn, so small writes never
   * meet Nagle. The bytes are copied before write() returns: a borrowed view (a read buffer) or a
   * scratch buffer the caller reuses is fine to pass.
   */
  write(data: Buffer): void;
  /** Half-close: what is queued goes out, then the peer sees end of stream; reading goes on. */
  endWrite?(): void;
  /**
   * With half-close enabled a peer's FIN reaches the read filters (endOfStream) and the connection
   * stays open for writes; disabled (the default) the connection closes after the filters saw it.
   */
  enableHalfClose?(enabled: boolean): void;
  /** Sets the idle timeout in ms (0 disables): no byte read or written for that long → OnReadTimeout, close. */
  setIdleTimeout?(ms: number): void;
  /** The idle timeout in force (0: none); a filter applies its default only where the listener set none. */
  readonly idleTimeoutMs?: number;
  /**
   * Called with true when the bytes queued toward the peer pass the high watermark and with false once
   * they drained; a proxy stops / restarts reading the other side (backpressure).
   */
  addWatermarkListener?(listener: (above: boolean) => void): void;
  /** Closes the connection; the reason is logged and passed to event listeners. */
  close(mode: CloseMode, reason?: string): void;
  /** Stops or restarts reading (backpressure: e.g. an upstream is slower than the downstream). */
  setReadEnabled(enabled: boolean): void;
  /** Subscribes to lifecycle events. Listeners never change the flow (MOSN ConnectionEventListener). */
  addEventListener(listener: (event: ConnectionEvent, reason?: string) => void): void;
  /**
   * Hands the raw transport to a filter that drives it itself (the grpc filter feeds sockets to a
   * grpc-js server). Only valid in onNewConnection, before any byte was read; the Connection stops
   * reading and writing but keeps counting the connection until the transport closes.
   */
  takeTransport(): Transport;
  /** Per-connection state a filter chain shares (e.g. the codec picked by protocol detection). */
  readonly context: Map<string, unknown>;
  /** The protocol ALPN settled on for a TLS connection ('h2', 'http/1.1'); undefined without TLS or ALPN. */
  readonly alpnProtocol?: string | undefined;
}

export interface ReadFilterCallbacks {
  readonly connection: Connection;
  /** Resumes the chain after a filter answered Stop: the next filter's onNewConnection / onData runs. */
  continueReading(): void;
}

/** A read filter sees bytes from the peer in order (MOSN ReadFilter). */
export interface ReadFilter {
  /** Called once, before onData, after the callbacks are set. */
  onNewConnection(): FilterStatus;
  /**
   * Called for each batch of bytes read. The buffer is valid only during the call (read loops use
   * static buffers): a filter that keeps bytes must copy them. endOfStream is true when the peer
   * half-closed (data is then empty).
   */
  onData(data: Buffer, endOfStream: boolean): FilterStatus;
  initializeReadFilterCallbacks(callbacks: ReadFilterCallbacks): void;
  /**
   * Supervision: an actor serving this connection crashed (a filter, codec or handler threw in its
   * read loop). The filter that speaks the connection's protocol answers with that protocol's error
   * here (HTTP/1.1: a 500 with Connection: close for the request in progress) and closes; when no
   * filter closes the connection, it is reset right after.
   */
  onActorCrash?(error: unknown): void;
}

/** A write filter sees bytes on their way to the peer (MOSN WriteFilter). */
export interface WriteFilter {
  /** Called for each write; Stop drops the bytes (the filter owns them then). */
  onWrite(data: Buffer): FilterStatus;
}

/** What a network filter factory fills for each new connection. */
export interface FilterChainBuilder {
  addReadFilter(filter: ReadFilter): void;
  addWriteFilter(filter: WriteFilter): void;
}

/**
 * What a network filter factory gets from the worker it runs on. `services` is the typed object the
 * composition root (src/assembly.ts) builds once per worker; each factory names the slice it needs as
 * `Deps`, and registering it at the root type-checks that slice against what the root provides.
 */
export interface FactoryContext<Deps = unknown> {
  readonly workerIndex: number;
  readonly listenerName: string;
  readonly services: Deps;
}

/**
 * Registered by name ("tcp_proxy", "proxy", "grpc", ...). The factory validates its config once
 * (throwing a ConfigError with the JSON path) and returns the per-connection constructor. `create` is
 * a function-typed property (not a method) so its `Deps` are checked where the factory is registered.
 */
export interface NetworkFilterFactory<Deps = unknown> {
  readonly create: (config: unknown, path: string, ctx: FactoryContext<Deps>) => (connection: Connection, chain: FilterChainBuilder) => void;
}

/** Runs on an accepted transport before a Connection is made (MOSN ListenerFilter). */
export interface ListenerFilter {
  /** Stop closes the transport (e.g. an IP allow-list refusing it). */
  onAccept(info: { remoteAddress: string; localAddress: string; listenerName: string }): FilterStatus;
}

/** Observes listener events; never changes the flow (MOSN ListenerEventListener). */
export interface ListenerEventListener {
  onAccept?(connection: Connection): void;
  onClose?(listenerName: string): void;
}

export interface ListenerStats {
  name: string;
  address: string;
  activeConnections: number;
  totalConnections: number;
  rejectedConnections: number;
}

export interface Listener {
  readonly name: string;
  /** host:port, a Unix socket path, or the in-process name. */
  readonly address: string;
  /** Starts accepting; resolves once the listening fd (or in-process name) is live on this worker. */
  start(): Promise<void>;
  /** Stops accepting new connections; existing ones carry on (drain). */
  stopAccepting(): Promise<void>;
  /** Closes every connection this listener accepted. */
  closeConnections(reason: string): void;
  stats(): ListenerStats;
}
