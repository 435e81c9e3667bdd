/**
 * RUNTIME API — Layotto's layer above MOSN's four: the gRPC/HTTP API an app calls, the invoker and its
 * channels, which re-enter the data plane through an in-process connection.
 *
 *   app ─gRPC─▶ listener ─▶ grpc network filter ─▶ per-worker grpc-js server ─▶ unary interceptors
 *       (stream filters) ─▶ Runtime / Dapr handler ─▶ Invoker: before filters → Channel → after filters
 *   Channel "http": pool of ≤ size connections ─▶ RingPipe into an in-process listener (or TCP)
 *       ─▶ NET/IO → PROTOCOL → STREAM → PROXY ─▶ service, and the answer back the same way.
 *
 * The config these are built from (the `grpc` filter's invoker and channels, `ringside.dapr`) is the
 * schema's output (src/config/types.ts: MosnInvokerConfig, ChannelConfig, DaprSettings); nothing here
 * restates it. Channel factories, which take a ChannelConfig, are typed in src/runtime/channel/factory.ts.
 */
import type { Http2Settings } from './http2.js';
import type { GrpcClusterSource } from './grpc.js';
import type { PlacementAdvisor } from './actor.js';
import type { ExtensionRegistry } from './extension.js';
import type { RingsideError } from './errors.js';
import type { RingEndpoint } from './ring.js';
import type { OffloadRunner } from './offload.js';

/** Request headers of an RPC, names in lower case (gRPC metadata and HTTP headers both are). */
export type RpcHeaders = Record<string, string>;

/** One RPC as the invoker sees it (Layotto's rpc.RPCRequest). */
export interface RpcRequest {
  /** The callee: a service id (Layotto) or an app id (Dapr). */
  id: string;
  method: string;
  contentType: string;
  data: Buffer;
  /**
   * Headers for the channel. The API layer puts the HTTP verb under `verb` and the query under
   * `query_string`, as Layotto does; the http channel consumes both.
   */
  headers: RpcHeaders;
  /**
   * Milliseconds: 0 means "the invoker's default" (`timeout` of the mosn invoker config, 3000 as
   * in Layotto), Infinity means none (Dapr: only the caller's deadline or a resiliency policy ends it).
   */
  timeoutMs: number;
  /** Absolute deadline (Date.now() scale) from the caller, Infinity when it set none. */
  deadline: number;
  /** Set when the caller goes away (gRPC cancel or deadline, HTTP client disconnect). */
  cancel: RpcCancel;
}

/**
 * Cancellation of one RPC. A plain object rather than an AbortSignal: measured, AbortController and
 * the DOMException of abort() cost ~6% of the InvokeService path's CPU.
 */
export interface RpcCancel {
  cancelled: boolean;
  /** The one callback run when the caller cancels (the channel's); null when nobody listens. */
  onCancel: (() => void) | null;
}

/**
 * Response headers of an RPC, names in lower case, every value of a repeated field in order (two
 * Set-Cookie lines stay two values).
 */
export type RpcResponseHeaders = Record<string, string[]>;

/**
 * The answer of an RPC (Layotto's rpc.RPCResponse) with the app's HTTP status: each API decides what
 * a status means (Layotto: anything but 200 is UNAVAILABLE; Dapr gRPC: any 2xx is OK and the others map
 * to gRPC codes; Dapr HTTP: passed through).
 */
export interface RpcResponse {
  status: number;
  contentType: string;
  data: Buffer;
  headers: RpcResponseHeaders;
  /**
   * The app's own gRPC status when it speaks gRPC (the `grpc` channel): the Dapr gRPC API answers
   * with it unchanged instead of mapping `status`; trailers are its trailer metadata ([name, value, …]).
   */
  grpcStatus?: { readonly code: number; readonly message: string; readonly trailers: readonly string[] };
}

/** Runs before the channel; returns the (possibly changed) request, or an error that ends the call. */
export type BeforeInvokeFilter = (req: RpcRequest) => RpcRequest | RingsideError;
/** Runs after the channel answered; returns the (possibly changed) response, or an error. */
export type AfterInvokeFilter = (resp: RpcResponse, req: RpcRequest) => RpcResponse | RingsideError;

/** Invoker callbacks are registered by name; the factory validates its config once. */
export interface BeforeInvokeFactory {
  create(config: unknown, path: string): BeforeInvokeFilter;
}
export interface AfterInvokeFactory {
  create(config: unknown, path: string): AfterInvokeFilter;
}
export interface InvokerFilterRegistries {
  readonly before: ExtensionRegistry<BeforeInvokeFactory>;
  readonly after: ExtensionRegistry<AfterInvokeFactory>;
}

export interface Invoker {
  /** Called once per RPC; rejects only with a RingsideError (never throws synchronously). */
  invoke(req: RpcRequest): Promise<RpcResponse>;
  /** Called when the server that owns it shuts down; closes the channel's connections. */
  close(): void;
}

export interface ChannelStats {
  size: number;
  /** Connections lent to an RPC right now. */
  busy: number;
  /** Connections open and idle in the pool. */
  idle: number;
  /** RPCs waiting for a turn. */
  waiting: number;
  /** Connections opened since start. */
  dialed: number;
}

export interface Channel {
  /** Sends one RPC on a pooled connection; rejects with a RingsideError. */
  invoke(req: RpcRequest, timeoutMs: number): Promise<RpcResponse>;
  stats(): ChannelStats;
  close(): void;
}

/** What a channel needs from the worker it runs on. */
export interface ChannelEnv {
  /** Dials the in-process listener `name` on this worker; throws when there is none. */
  readonly dialInProcess: ((name: string) => RingEndpoint) | undefined;
  /** The scheduler's advice on connections dialInProcess made; absent: they stay where they are. */
  readonly placement?: PlacementAdvisor | undefined;
  /** Largest response body a channel accepts. */
  readonly maxResponseBytes: number;
  /** The worker's offload pool (large JSON transcoding on the request-id channels); absent: inline. */
  readonly offload?: OffloadRunner | undefined;
  /** `ringside.http2`: our side's HTTP/2 limits on channels that speak HTTP/2 (`grpc`). */
  readonly http2?: Partial<Http2Settings> | undefined;
  /** The worker's clusters and balancers (`grpc` channels with ext.cluster pick the app's hosts there). */
  readonly clusters?: GrpcClusterSource | undefined;
}

/** What a gRPC stream filter sees of a unary call (MOSN runs its stream filters on these). */
export interface GrpcCallInfo {
  readonly fullMethod: string;
  readonly headers: RpcHeaders;
  readonly peer: string;
  /** The runtime server (server_name) the call reached; one grpc-js server serves all its listeners. */
  readonly serverName: string;
}

/**
 * A stream filter run by the unary interceptor, as MOSN's UnaryInterceptorFilter runs its stream filter
 * chain around the handler. Both hooks answer without throwing.
 */
export interface GrpcStreamFilter {
  /** Called before the handler; an error ends the call with that error's gRPC status. */
  onReceive(call: GrpcCallInfo): RingsideError | undefined;
  /** Called after the handler, with the error it ended with, if any. */
  onSend?(call: GrpcCallInfo, error: RingsideError | undefined): void;
}
