/**
 * The upstream gRPC channel (src/upstream/grpc): a virtual connection to a set of targets backed by
 * several HTTP/2 connections per target (subchannels), one HTTP/2 stream per call attempt. These are
 * the interfaces the runtime (Dapr gRPC proxying, the `grpc` app channel) programs against; nothing
 * here imports an implementation.
 */
import type { RingsideError } from './errors.js';
import type { Http2Settings } from './http2.js';
import type { Cluster, LoadBalancerFactory } from './upstream.js';

/** gRPC's connectivity states of one subchannel (grpc/doc/connectivity-semantics-and-api.md). */
export enum SubchannelState {
  /** No connection and none being made; the next call starts one. */
  Idle = 'IDLE',
  Connecting = 'CONNECTING',
  /** At least one HTTP/2 connection has the peer's SETTINGS: calls can go out. */
  Ready = 'READY',
  /** The last connect failed; a new one starts when the backoff has passed. */
  TransientFailure = 'TRANSIENT_FAILURE',
}

/** gRPC's connection backoff (grpc/doc/connection-backoff.md); times in ms. */
export interface ConnectBackoff {
  readonly initialMs: number;
  readonly multiplier: number;
  /** Each delay is randomised by ± this fraction. */
  readonly jitter: number;
  readonly maxMs: number;
  /** A connect attempt (TCP + the peer's SETTINGS) may take at least this long before it fails. */
  readonly minConnectTimeoutMs: number;
}

/** gRPC's retry policy (gRFC A6), as a service config's `retryPolicy` holds it; times in ms. */
export interface GrpcRetryPolicy {
  /** Attempts in all, the first included (2–5 in gRFC A6; more are capped at 5). */
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly backoffMultiplier: number;
  /** Status codes that make an attempt retryable (numeric gRPC codes). */
  readonly retryableStatusCodes: ReadonlySet<number>;
}

export interface GrpcChannelOptions {
  /** HTTP/2 connections per target at most; a new one is dialed when every open one is at the peer's stream limit. */
  readonly maxConnectionsPerTarget: number;
  readonly backoff: ConnectBackoff;
  /** Our side's HTTP/2 limits and windows. */
  readonly http2?: Partial<Http2Settings>;
  /** Largest message (after decompression) a call accepts. */
  readonly maxMessageBytes: number;
  /** Unary calls: the retry policy; absent, one attempt. */
  readonly retry?: GrpcRetryPolicy;
  /** Unary calls: messages at least this large go out gzip-compressed (`grpc-encoding: gzip`); absent, never. */
  readonly gzipMinBytes?: number;
}

/** What the layer above hears of one raw call (a stream on one HTTP/2 connection). */
export interface GrpcStreamSink {
  /** The response head (or a Trailers-Only answer: endStream set, no data or trailers follow). */
  onHeaders(fields: string[], endStream: boolean): void;
  /** Body bytes (length-prefixed messages, as the wire carries them); valid only during the call. */
  onData(chunk: Buffer, endStream: boolean): void;
  /** The trailers: the call is over. */
  onTrailers(fields: string[]): void;
  /** The call failed (no connection, reset, connection lost); `headersSeen` tells whether the head had come. */
  onError(err: RingsideError, headersSeen: boolean): void;
  /** Output that was blocked drained: the producer may write again. */
  onWritable?(): void;
}

/** One raw call as the layer above drives it. */
export interface GrpcStream {
  /** Body bytes toward the server (length-prefixed messages); queued until the stream is open. */
  write(data: Buffer, endStream: boolean): void;
  /** Ends the request half. */
  end(): void;
  /** Abandons the call (RST_STREAM CANCEL); no sink callback follows. */
  cancel(): void;
  /** Stops / resumes crediting the server for response bytes (backpressure toward it). */
  setReceiving(enabled: boolean): void;
  /** Output is past the high watermark: stop writing until onWritable. */
  readonly blocked: boolean;
}

/** A unary call's answer: the head's and the trailers' fields, the status and the (decompressed) message. */
export interface GrpcUnaryResult {
  readonly code: number;
  readonly message: string;
  /** Response metadata (head fields without pseudo-headers), then trailer metadata. */
  readonly headers: readonly string[];
  readonly trailers: readonly string[];
  readonly body: Buffer | undefined;
  /** Attempts made (1 without a retry). */
  readonly attempts: number;
}

/** The worker's clusters and load balancers, for channels whose targets are a cluster's hosts. */
export interface GrpcClusterSource {
  /** The cluster as it is now (a reload or EDS may replace it or its hosts). */
  cluster(name: string): Cluster | undefined;
  /** The balancer registered under a cluster's lb_type. */
  loadBalancer(lbType: string): LoadBalancerFactory | undefined;
}

/** A channel over the hosts of one cluster, each call picked by the cluster's lb_type. */
export interface GrpcClusterTargets {
  readonly cluster: string;
  readonly source: GrpcClusterSource;
  /** Metadata names whose first present value is the hash key of a consistent-hash lb_type. */
  readonly hashHeaders: readonly string[];
}
