/**
 * The load generator's protocol contract. Every protocol `ringside bench` speaks is one driver:
 *
 *   main thread                              load thread (one per --threads)
 *   ───────────                              ───────────────────────────────
 *   driver.prepare(target, opts)  ──spec──▶  driver.connect(spec, events) ─▶ LoadConnection
 *   (parse, load protos, pre-encode once)    engine: send(intendedAt, sentAt) ◀─▶ events.response(...)
 *
 * The engine owns scheduling (closed/open loop), timing and histograms; a driver owns only bytes on
 * the wire, so bolt, dubbo and dRPC join by adding a driver and a spec variant, nothing else.
 */

/** What `prepare` hands to the load threads; it must survive structured cloning. */
export type PreparedRequest = Http1Prepared | GrpcPrepared | DrpcPrepared | DubboPrepared | BoltPrepared | Http2Prepared;

export interface Http1Prepared {
  readonly protocol: 'http1';
  readonly host: string;
  readonly port: number;
  /** One complete request (head + body), encoded once. */
  readonly request: Uint8Array;
  /** HEAD responses carry no body whatever their Content-Length says. */
  readonly head: boolean;
}

export interface GrpcPrepared {
  readonly protocol: 'grpc';
  readonly host: string;
  readonly port: number;
  /** `http://host:port` for http2.connect. */
  readonly authority: string;
  /** `/package.Service/Method` */
  readonly path: string;
  /** The length-prefixed request message, encoded once. */
  readonly frame: Uint8Array;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface Http2Prepared {
  readonly protocol: 'h2';
  readonly host: string;
  readonly port: number;
  /** `http://host:port` for http2.connect. */
  readonly authority: string;
  readonly method: string;
  readonly path: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array | null;
}

export interface DrpcPrepared {
  readonly protocol: 'drpc';
  /** Unused (no TCP); kept so every spec has them. */
  readonly host: string;
  readonly port: number;
  /** The server's SOCK_SEQPACKET socket path. */
  readonly path: string;
  readonly module: number;
  readonly method: number;
  /** The Call body, encoded once; each call wraps it with its own sequence number. */
  readonly body: Uint8Array;
}

export interface DubboPrepared {
  readonly protocol: 'dubbo';
  readonly host: string;
  readonly port: number;
  /** The hessian2 invocation body, encoded once; each call puts its own 16-byte header in front. */
  readonly body: Uint8Array;
}

export interface BoltPrepared {
  readonly protocol: 'bolt';
  readonly host: string;
  readonly port: number;
  /** One v1 request frame, its id (bytes 5..8) patched per call. */
  readonly frame: Uint8Array;
}

/** How a request ended without a response; these become keys of `errors_by_status`. */
export type FailureKind = 'connect_error' | 'timeout' | 'reset' | 'protocol_error';

/** Calls a driver makes into the engine. All run on the load thread, synchronously. */
export interface ConnectionEvents {
  /** Called once the connection can carry requests. */
  ready(conn: LoadConnection): void;
  /**
   * Called for every request that got a complete response, with the times the engine passed to
   * send(); `error` is undefined for success, else the status key ("500", "UNAVAILABLE").
   */
  response(conn: LoadConnection, intendedAt: number, sentAt: number, error: string | undefined): void;
  /** Called when `count` requests end without a response (or the connect attempt itself failed). */
  failed(conn: LoadConnection, kind: FailureKind, count: number, detail: string): void;
  /** Called exactly once when the connection is gone; the engine decides whether to reopen. */
  closed(conn: LoadConnection): void;
}

export interface LoadConnection {
  /** Requests sent and not yet answered. */
  readonly inFlight: number;
  /** False once the peer asked to close (e.g. `Connection: close`): send no more on it. */
  readonly accepting: boolean;
  /**
   * Called by the engine to send one request. Times are the load thread's performance.now() in ms;
   * the driver hands them back untouched in events.response(). Calls made while the driver is
   * delivering responses are batched into one write.
   */
  send(intendedAt: number, sentAt: number): void;
  /** Called by the engine's timeout sweep: the send time of the oldest unanswered request, or +Infinity. */
  oldestSentAt(): number;
  /** Called by the engine to fail everything in flight as `kind` and close (timeouts, shutdown). */
  abort(kind: FailureKind | null): void;
}

export interface RequestOptions {
  method: string;
  headers: ReadonlyArray<readonly [string, string]>;
  body: Uint8Array | undefined;
  grpc: GrpcOptions;
}

export interface GrpcOptions {
  /** Built-in runtime API preset; mutually exclusive with `proto`/`call`. */
  api: 'layotto' | 'dapr' | undefined;
  /** InvokeService fields for the presets. */
  id: string;
  method: string;
  data: string;
  contentType: string;
  verb: string;
  /** Any unary method: a .proto file, `pkg.Service/Method` and the request as JSON. */
  proto: string | undefined;
  call: string | undefined;
  message: string | undefined;
  importPaths: string[];
}

export interface ProtocolDriver {
  readonly name: string;
  /** Default port when the target URL has none. */
  readonly defaultPort: number;
  /**
   * Called once on the main thread before any load starts: validates options, loads what the
   * protocol needs and pre-encodes the request. Throws an Error with a one-line message on bad input.
   */
  prepare(target: URL, opts: RequestOptions): Promise<PreparedRequest>;
  /** One connection attempt before the load threads start; absent: a TCP connect to host:port. */
  probe?(spec: PreparedRequest, timeoutMs: number): Promise<void>;
  /** Called in a load thread for every connection it opens, and again to replace a failed one. */
  connect(spec: PreparedRequest, events: ConnectionEvents): LoadConnection;
}
