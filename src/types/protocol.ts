/**
 * PROTOCOL layer — codecs turn bytes into frames (head, body chunks, trailers) and back.
 *
 *   PROXY    phase machine, router, clusters, pools
 *   STREAM   stream ids, stream filters
 * ▶ PROTOCOL codecs: bytes <-> headers/body/trailers
 *   NET/IO   listeners, connections (read loop, write loop), network filter chains
 *
 * The generic part (RequestFrame, ResponseFrame, HeaderMap, MessageDecoder, MessageEncoder,
 * ProtocolCodec) is what the stream and proxy layers program against, so bolt, dubbo and HTTP/2 plug in
 * by registering one more ProtocolCodec under their name. The Http1* types add what only HTTP/1.x has
 * (version, framing facts) for code that wants them.
 *
 * Bytes handed to a decoder are valid only during the call (read loops reuse one buffer): decoders
 * copy what they keep across calls, and hand body chunks on as views valid only during the callback.
 */
import type { RingsideError } from './errors.js';

/** Registry key of a codec: 'Http1', 'bolt', 'boltv2', 'dubbo', 'Http2'. */
export type ProtocolName = string;

/**
 * A case-insensitive view over a flat [name, value, name, value, …] list. Names keep the case they
 * were received with so a forwarded message looks like the original; lookups ignore case.
 */
export interface HeaderMap {
  /** First value under the name, or undefined. */
  get(name: string): string | undefined;
  has(name: string): boolean;
  /** Replaces every value under the name with one value (appends when absent). */
  set(name: string, value: string): void;
  /** Appends a value, keeping earlier ones (repeatable fields such as Set-Cookie). */
  add(name: string, value: string): void;
  /** Removes every value under the name; answers whether one was present. */
  remove(name: string): boolean;
  forEach(fn: (name: string, value: string) => void): void;
  /** Number of name/value pairs. */
  readonly size: number;
  /** The flat list itself (not a copy); encoders walk it without allocating. */
  readonly raw: string[];
}

/** The protocol-agnostic view of a request head that routers and stream filters read. */
export interface RequestFrame {
  readonly protocol: ProtocolName;
  /**
   * Identifies the message on its connection: the protocol's own request id for multiplexed protocols
   * (bolt, dubbo, HTTP/2), the message's sequence number (1, 2, …) for HTTP/1.x.
   */
  readonly requestId: number;
  /** HTTP method; the called method or command for RPC protocols. */
  method: string;
  /** HTTP request target (path and query); the service name for RPC protocols. */
  path: string;
  readonly headers: HeaderMap;
}

/** The protocol-agnostic view of a response head. */
export interface ResponseFrame {
  readonly protocol: ProtocolName;
  readonly requestId: number;
  /** HTTP status, or the protocol's own response status for RPC protocols. */
  status: number;
  /** Reason phrase when the protocol has one; encoders fill a standard one when empty. */
  reason: string;
  readonly headers: HeaderMap;
}

/** HTTP/1.x request head as decoded; framing fields are derived once by the decoder. */
export interface Http1RequestHead extends RequestFrame {
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly versionMinor: 0 | 1;
  /** Content-Length, or -1 when absent. */
  readonly contentLength: number;
  readonly chunked: boolean;
  /** Whether the peer wants the connection kept after this exchange (version default + Connection). */
  readonly keepAlive: boolean;
  /** `Expect: 100-continue` on an HTTP/1.1 request. */
  readonly expectContinue: boolean;
}

/** HTTP/1.x response head as decoded. */
export interface Http1ResponseHead extends ResponseFrame {
  readonly versionMinor: 0 | 1;
  readonly contentLength: number;
  readonly chunked: boolean;
  readonly keepAlive: boolean;
  /** No CL/TE and a body is allowed: the body runs until the upstream closes. */
  readonly untilClose: boolean;
}

/**
 * Configurable decoder limits. Passing one ends the message with a LIMIT_EXCEEDED error whose
 * `status` carries the HTTP meaning (414 request line, 431 header bytes/count, 413 body).
 */
export interface CodecLimits {
  /** Whole head: start line, headers and the blank line (also caps chunked trailers). */
  maxHeaderBytes: number;
  /** Number of header fields (also caps trailers). */
  maxHeaders: number;
  /** Decoded body bytes of one message; Infinity for no limit. */
  maxBodyBytes: number;
  /** Request line (or status line) including CRLF. */
  maxRequestLineBytes: number;
}

/**
 * What a decoder reports. Every method is called synchronously from inside execute()/finish()/resume();
 * the buffers passed are views valid only during the call.
 */
export interface DecoderCallbacks<H> {
  /** A complete head was decoded; endOfStream is true when no body or trailers follow. */
  onHead(head: H, endOfStream: boolean): void;
  /**
   * A piece of the decoded body (chunk framing removed). last is true when the decoder knows this
   * piece ends the body (Content-Length reached); chunked and until-close bodies learn it only at
   * onComplete.
   */
  onBody(requestId: number, chunk: Buffer, last: boolean): void;
  /** The message ended; trailers are the chunked trailer fields, or null when there were none. */
  onComplete(requestId: number, trailers: HeaderMap | null): void;
  /** Bad bytes or a passed limit; the decoder is dead afterwards and the connection must close. */
  onError(err: RingsideError): void;
  /** A 1xx informational response (never 101) was decoded; optional, skipped when absent. */
  onInformational?(head: H): void;
}

/** An incremental decoder for one connection direction. */
export interface MessageDecoder {
  /** Feeds bytes read from the peer; data is valid only during the call. */
  execute(data: Buffer): void;
  /** The peer half-closed: completes an until-close body, or reports a truncated message. */
  finish(): void;
  /**
   * Stops delivering after the current callback returns; unread bytes are copied and held until
   * resume(). The stream layer pauses while it has as many pipelined requests as it accepts.
   */
  pause(): void;
  /** Delivers held bytes (synchronously) and accepts execute() again. */
  resume(): void;
  /** Drops held bytes; no callback is made afterwards. */
  destroy(): void;
  readonly paused: boolean;
  /** True between messages with nothing held: closing the connection here loses nothing. */
  readonly idle: boolean;
}

/** Client-side decoder: each response belongs to the oldest request not yet answered. */
export interface ResponseDecoder extends MessageDecoder {
  /**
   * Called when a request is written, in write order: a response's framing can depend on its request
   * (HTTP/1.x responses to HEAD never have a body).
   */
  expect(request: RequestFrame): void;
}

/** Options a decoder is created with. */
export interface DecoderOptions {
  limits?: Partial<CodecLimits>;
  /** Pause after each complete message (pipelined requests handled one at a time). */
  pauseAfterMessage?: boolean;
}

/**
 * Encodes one message. Created per message because framing decisions (Content-Length, chunked,
 * until-close) depend on the head and, for responses, on the request being answered.
 */
export interface MessageEncoder<F> {
  /**
   * Encodes the head. When body is given it is appended in the same buffer so head and a small body
   * go out in one write; endOfStream says nothing follows (then a missing Content-Length is set from
   * the body length instead of chunking).
   */
  encodeHead(head: F, body: Buffer | null, endOfStream: boolean): Buffer;
  /** Encodes a body piece (chunk framing added when the message is chunked); may return an empty buffer. */
  encodeData(chunk: Buffer, endOfStream: boolean): Buffer;
  /** Ends the body with trailers (chunked only; other framings drop them). */
  encodeTrailers(trailers: HeaderMap): Buffer;
  /** Known after encodeHead: whether the connection can carry another message after this one. */
  readonly keepAlive: boolean;
}

/** What detect() answers about the first bytes of a connection. */
export type DetectResult = 'match' | 'no' | 'need-more';

/** Makes a fresh response head of the downstream's protocol (a ResponseSender is one). */
export interface ResponseHeadFactory {
  newResponse(status: number): ResponseFrame;
}

/** A reply the proxy makes itself, in the protocol's own form: the head and the whole body. */
export interface LocalReply {
  readonly head: ResponseFrame;
  readonly body: Buffer | null;
}

/** The proxy settings a protocol's forwarded-for hook reads. */
export interface ForwardingSettings {
  /** Append the downstream peer to the protocol's forwarded-for field (X-Forwarded-For for HTTP). */
  readonly xForwardedFor: boolean;
  /** This hop's Via value ("1.1 ringside"); empty for none. */
  readonly via: string;
}

/**
 * What the protocol-neutral proxy (src/proxy/downstream.ts) asks a protocol instead of knowing it.
 * Request hooks belong to the downstream protocol (the request frame's), response hooks to the
 * upstream protocol (the response frame's). Every hook runs on the request path: no allocation
 * beyond the reply it builds.
 */
export interface ProxyHooks {
  /**
   * The answer to an error of Ringside's own (no route, no healthy host, connect refused, overflow,
   * timeout, a codec error): HTTP a status with a text body and `x-ringside-error: <code>`; bolt a
   * response status (no processor, threadpool busy, timeout, codec exception) and no content.
   */
  errorReply(request: RequestFrame, err: RingsideError, factory: ResponseHeadFactory): LocalReply;
  /** A route's direct_response (an HTTP status and a body, as MOSN configures it) in this protocol. */
  directReply(request: RequestFrame, status: number, body: string, factory: ResponseHeadFactory): LocalReply;
  /**
   * undefined for a response the proxy passes on as is; for a failure a retry policy may retry, its
   * status as the HTTP class the route's `retry_policy` is matched against (HTTP: 5xx itself; bolt:
   * its status mapped as MOSN maps it).
   */
  retryStatus(response: ResponseFrame): number | undefined;
  /**
   * A gRPC answer that ended in its head (Trailers-Only): its grpc-status, which retry_on's gRPC
   * conditions (unavailable, resource-exhausted, …) are matched against; undefined otherwise.
   */
  retryGrpcStatus?(response: ResponseFrame): number | undefined;
  /**
   * Whether a failed response says the upstream did not act on the request (bolt: threadpool busy,
   * no processor), so a retry may resend it even when safeToRetry says no (HTTP: never).
   */
  unprocessed(response: ResponseFrame): boolean;
  /** Whether the request may be sent again after bytes of it reached an upstream (HTTP: idempotent methods). */
  safeToRetry(request: RequestFrame): boolean;
  /** Adds this hop's forwarded-for style fields (HTTP: X-Forwarded-For, Via); may add nothing. */
  addForwarded(request: RequestFrame, remoteAddress: string, settings: ForwardingSettings): void;
  /** The timeout the request itself carries in ms (bolt's timeout field); 0 when it carries none. */
  requestTimeoutMs(request: RequestFrame): number;
  /** The authority virtual hosts are matched against (HTTP: Host); '' when the protocol has none. */
  authority(request: RequestFrame): string;
}

/**
 * One protocol, as registered by name in the codec registry. The stream layer builds its per-protocol
 * stream connections from these pieces; an `Auto` listener asks detect() of each codec in turn.
 */
export interface ProtocolCodec<Req extends RequestFrame = RequestFrame, Res extends ResponseFrame = ResponseFrame> {
  readonly name: ProtocolName;
  /** Looks at the first bytes of a connection, without consuming them. */
  detect(firstBytes: Buffer): DetectResult;
  /*
   * Per-message decoders and encoders, for protocols whose messages frame themselves (HTTP/1.x).
   * Absent for HTTP/2, whose framing state (SETTINGS, windows, HPACK) belongs to the connection: its
   * stream layer runs a connection engine instead.
   */
  /** Server side: decodes requests from a downstream. */
  createRequestDecoder?(callbacks: DecoderCallbacks<Req>, options?: DecoderOptions): MessageDecoder;
  /** Client side: decodes responses from an upstream. */
  createResponseDecoder?(callbacks: DecoderCallbacks<Res>, options?: DecoderOptions): ResponseDecoder;
  /** Client side: encodes a request toward an upstream. */
  createRequestEncoder?(): MessageEncoder<RequestFrame>;
  /** Server side: encodes the response to `request`. */
  createResponseEncoder?(request: Req): MessageEncoder<ResponseFrame>;
  /** A fresh response head for `request` (local replies, errors), with an empty header map. */
  newResponse(request: Req | null, status: number): ResponseFrame;
  /** A fresh request head (the runtime's channels and tests build requests with it). */
  newRequest(method: string, path: string, headers?: HeaderMap): RequestFrame;
  /** What the protocol-neutral proxy asks this protocol. */
  readonly proxy: ProxyHooks;
}
