/**
 * STREAM layer — one stream per request/response exchange, with stream filters on both directions.
 *
 *   PROXY    phase machine, router, clusters, pools         (implements StreamHandler)
 * ▶ STREAM   stream ids, stream filters                     (ServerStreamConnection per connection)
 *   PROTOCOL codecs: bytes <-> headers/body/trailers
 *   NET/IO   listeners, connections (read loop, write loop), network filter chains
 *
 * Per downstream connection the `proxy` network filter creates one ServerStreamConnection and feeds
 * it every byte read. It decodes requests, gives each an id (HTTP/1.x: in pipelining order), runs the
 * receiver filters, then hands the request to a StreamHandler made for that stream. The handler
 * answers through a ResponseSender; the answer runs the sender filters, is encoded, and is written in
 * request order (an answer that is ready early waits for the ones before it).
 *
 *   bytes ─▶ decoder ─▶ receiver filters ─▶ StreamHandler.onHeaders/onData/onTrailers
 *   bytes ◀─ encoder ◀─ sender filters   ◀─ ResponseSender.sendHeaders/sendData/sendTrailers
 *
 * Buffers passed to filters and handlers are valid only during the call; keep a copy to hold one.
 */
import type { Connection, FilterStatus } from './network.js';
import type { CodecLimits, HeaderMap, ProtocolName, RequestFrame, ResponseFrame } from './protocol.js';
import type { RingsideError } from './errors.js';
import type { OffloadRunner } from './offload.js';
import type { Http2Settings } from './http2.js';

/** Why a stream ended before its response was complete. */
export enum StreamResetReason {
  /** The downstream connection closed or reset while the stream was active. */
  ConnectionClosed = 'ConnectionClosed',
  /** The request's remaining bytes could not be decoded; the connection is closing. */
  ProtocolError = 'ProtocolError',
  /** A filter answered the request itself after the handler had started on it. */
  LocalReply = 'LocalReply',
  /** Ringside abandoned the stream (ResponseSender.reset: timeout, overflow, shutdown). */
  LocalReset = 'LocalReset',
  /** The peer reset this stream alone (HTTP/2 RST_STREAM, e.g. a cancelled gRPC call). */
  RemoteReset = 'RemoteReset',
}

/** What every filter and the handler of one stream can see about it. */
export interface StreamInfo {
  /** Unique on its connection, increasing in request order. */
  readonly id: number;
  readonly protocol: ProtocolName;
  readonly connection: Connection;
  /** Per-request state shared by the stream's filters and its handler (route picked, timings…). */
  readonly context: Map<string, unknown>;
}

/**
 * Per-stream flow control of multiplexed protocols (HTTP/2), which cannot stop reading one stream by
 * stopping the connection. The proxy wires a downstream stream and its upstream stream together: when
 * one side's queued output passes its high watermark it stops the other side receiving (HTTP/2:
 * WINDOW_UPDATE is withheld, so the sender runs out of window), and restarts it once drained.
 */
export interface StreamFlowControl {
  /** Stops / restarts taking this stream's body from its peer. */
  setReceiving(enabled: boolean): void;
  /**
   * Sets the listener (replacing an earlier one) called with true when this stream's queued output
   * passes its high watermark, and with false once it drained.
   */
  onWatermark(listener: (above: boolean) => void): void;
}

/** How a stream's owner sends the response back. Each method is called at most in this order. */
export interface ResponseSender {
  /** Starts the response; endOfStream true means no body or trailers follow. */
  sendHeaders(head: ResponseFrame, endOfStream: boolean): void;
  /** Sends a body piece; the buffer may be reused by the caller once the call returns. */
  sendData(chunk: Buffer, endOfStream: boolean): void;
  /** Ends the response with trailers. */
  sendTrailers(trailers: HeaderMap): void;
  /** Sends a whole response; head and body leave in one write when no sender filter holds them. */
  send(head: ResponseFrame, body: Buffer | null): void;
  /** A fresh response head of this stream's protocol, for the handler to fill. */
  newResponse(status: number): ResponseFrame;
  /**
   * Abandons the stream (timeouts, an upstream reset after headers went out). A protocol that cannot
   * cancel one message (HTTP/1.x) closes the connection once the earlier responses are written.
   * `error` is why, when Ringside knows (a protocol that can end a started answer with a status —
   * gRPC trailers — uses it).
   */
  reset(reason: StreamResetReason, error?: RingsideError): void;
  /** True once the response head left the sender filters: a local reply or retry is then too late. */
  readonly headersSent: boolean;
  /** Present on multiplexed protocols: this stream's own flow control (see StreamFlowControl). */
  readonly flow?: StreamFlowControl;
}

/**
 * The owner of one stream: the proxy's downstream phase machine. Created when the request head has
 * passed the receiver filters; never created for a request a filter answered itself.
 */
export interface StreamHandler {
  /** Called once with the request head; endOfStream is true when no body or trailers follow. */
  onHeaders(request: RequestFrame, endOfStream: boolean): void;
  /** Called for each body piece, in order; the last one (possibly empty) has endOfStream true. */
  onData(chunk: Buffer, endOfStream: boolean): void;
  /** Called when the request ends with trailers (instead of a final onData). */
  onTrailers(trailers: HeaderMap): void;
  /** Called at most once when the stream ends before its response was complete; nothing follows. */
  onReset(reason: StreamResetReason): void;
}

/** Makes the handler of a stream; `sender` answers it. */
export type StreamHandlerFactory = (stream: StreamInfo, sender: ResponseSender) => StreamHandler;

/** Lets a receiver filter resume the chain or answer the request itself. */
export interface StreamReceiverFilterCallbacks {
  readonly stream: StreamInfo;
  /** Resumes after the filter answered Stop: the held event goes on to the next filter. */
  continueDecoding(): void;
  /**
   * Answers the request without the handler (fault abort, auth failure). The reply passes the sender
   * filters; the rest of the request is discarded.
   */
  sendLocalReply(status: number, headers?: Record<string, string>, body?: string | Buffer): void;
  /** Body transformation: see FilterChain.replaceData (request direction). */
  replaceDecodingData(chunk: Buffer): boolean;
  /** Body transformation: see FilterChain.swallowData (request direction). */
  swallowDecodingData(): boolean;
  /** Body transformation: see FilterChain.addData (request direction; a body ending in trailers). */
  addDecodingData(chunk: Buffer): boolean;
}

/** Lets a sender filter resume the chain. */
export interface StreamSenderFilterCallbacks {
  readonly stream: StreamInfo;
  /** Resumes after the filter answered Stop: the held event goes on to the next filter. */
  continueEncoding(): void;
  /** The request being answered (null when it could not be decoded). */
  readonly request: RequestFrame | null;
  /** Body transformation: see FilterChain.replaceData (response direction). */
  replaceEncodingData(chunk: Buffer): boolean;
  /** Body transformation: see FilterChain.swallowData (response direction). */
  swallowEncodingData(): boolean;
  /** Body transformation: see FilterChain.addData (response direction; a body ending in trailers). */
  addEncodingData(chunk: Buffer): boolean;
  /**
   * Abandons the stream once its head has left, when the filter cannot deliver the rest truthfully
   * (a body that does not decompress); the same as ResponseSender.reset.
   */
  reset(reason: StreamResetReason): void;
}

/**
 * Sees the request on its way to the handler (MOSN StreamReceiverFilter). Each hook answers Continue
 * or Stop; after Stop later events of the stream wait until continueDecoding().
 */
export interface StreamReceiverFilter {
  /** Called once before any hook. */
  setReceiverCallbacks(callbacks: StreamReceiverFilterCallbacks): void;
  /** Called with the request head; the filter may change its headers, method and path. */
  onReceiveHeaders?(request: RequestFrame, endOfStream: boolean): FilterStatus;
  /** Called for each body piece; a filter that stops on data must copy the chunk to keep it. */
  onReceiveData?(chunk: Buffer, endOfStream: boolean): FilterStatus;
  onReceiveTrailers?(trailers: HeaderMap): FilterStatus;
  /** Called once when the stream ends, however it ends (timers are cleared here). */
  onDestroy?(): void;
}

/** Sees the response on its way to the downstream (MOSN StreamSenderFilter). */
export interface StreamSenderFilter {
  setSenderCallbacks(callbacks: StreamSenderFilterCallbacks): void;
  /** Called with the response head; the filter may change its status and headers. */
  onSendHeaders?(response: ResponseFrame, endOfStream: boolean): FilterStatus;
  onSendData?(chunk: Buffer, endOfStream: boolean): FilterStatus;
  onSendTrailers?(trailers: HeaderMap): FilterStatus;
  onDestroy?(): void;
}

/** What a stream filter factory fills for each new stream, in configuration order. */
export interface StreamFilterChainBuilder {
  addReceiverFilter(filter: StreamReceiverFilter): void;
  addSenderFilter(filter: StreamSenderFilter): void;
}

/** Per-stream constructor returned by a factory; adds the filter(s) of one configured entry. */
export type StreamFilterChainFactory = (stream: StreamInfo, chain: StreamFilterChainBuilder) => void;

/**
 * Registered by name ("fault", "header_mutation", …) together with the ConfigSpec of its config,
 * which the main thread's loader validates before any worker starts. create() parses the raw config
 * with that same spec (a ConfigError naming JSON paths if it is bad) and returns the per-stream
 * constructor.
 */
export interface StreamFilterFactory {
  create(config: unknown, path: string, ctx?: StreamFilterContext): StreamFilterChainFactory;
}

/** What the worker offers a stream filter factory (absent in tests that build a filter alone). */
export interface StreamFilterContext {
  /** The worker's piscina pool for CPU-heavy work (ringside.offload.threads). */
  readonly offload?: OffloadRunner;
  /** ringside.limits.max_body_bytes: the most body bytes a filter may hold or produce. */
  readonly maxBodyBytes?: number;
}

/** Options a server stream connection is built with. */
export interface ServerStreamConnectionOptions {
  readonly handlerFactory: StreamHandlerFactory;
  /** Stream filters of the listener, in order, already validated. */
  readonly filters?: readonly StreamFilterChainFactory[];
  readonly limits?: Partial<CodecLimits>;
  /**
   * HTTP/1.x: requests a connection may have unanswered (pipelining depth); the next one is answered
   * 503 and ends the connection. Default 16 (ringside.limits.max_pipelined_requests).
   */
  readonly maxPipelined?: number;
  /** A request head must be complete this long after its first byte; 0 or absent: no limit. */
  readonly requestHeaderTimeoutMs?: number;
  /** The worker's registry a drain walks to tell every connection to go away (src/stream/drain.ts). */
  readonly drain?: { add(c: ServerStreamConnection): void; delete(c: ServerStreamConnection): void };
  /** Shared by every connection of one listener on one worker: requests held at once, and the bound. */
  readonly pendingBudget?: PendingBudget;
  /** HTTP/2 limits and windows (ringside.http2); absent ones take the engine's defaults. */
  readonly http2?: Partial<Http2Settings>;
}

/** The bound on requests a listener holds at once (decoded, not yet answered) on one worker. */
export interface PendingBudget {
  held: number;
  readonly max: number;
  /** Requests answered 503 because the bound was reached. */
  refused: number;
  /** Listener name, for the 503's reason. */
  readonly listenerName: string;
}

/** The stream side of one downstream connection (MOSN ServerStreamConnection). */
export interface ServerStreamConnection {
  readonly protocol: ProtocolName;
  /** Bytes read from the downstream; called by the `proxy` read filter. endOfStream: peer half-closed. */
  onData(data: Buffer, endOfStream: boolean): void;
  /** Streams whose response is not yet completely written. */
  readonly activeStreams: number;
  /** Drain: accept no new request; close the connection once the active streams are answered. */
  goAway(): void;
  /**
   * Supervision: code serving this connection threw, so its state cannot be trusted. The request in
   * progress is answered with the protocol's internal error when its response has not started (else
   * cut), every other stream is reset, and the connection closes.
   */
  abort(error: RingsideError): void;
}

/** Builds the stream connection of one protocol for a connection; registered by protocol name. */
export type ServerStreamConnectionFactory = (
  connection: Connection,
  options: ServerStreamConnectionOptions,
) => ServerStreamConnection;
