/**
 * X-PROTOCOL — the request-id protocol family (bolt, boltv2, dubbo; MOSN `pkg/protocol/xprotocol`
 * and `pkg/stream/xprotocol`). A protocol of this family is one XProtocolCodec: it turns bytes into
 * whole frames and back and answers the questions the multiplexed stream layer and the proxy ask
 * (request ids, heartbeats, goaway, status mapping). Everything else is shared:
 *
 *   src/stream/xprotocol/   server side: many requests in flight per connection, each answered under
 *                           its downstream id; heartbeats answered here, never reaching the proxy;
 *                           client side: a fresh id per upstream connection, replies matched by id,
 *                           keepalive heartbeats, goaway, an in-flight limit
 *   src/protocol/xprotocol/ the ProtocolCodec (and its ProxyHooks) every XProtocolCodec gets
 *   src/extensions.ts       registerXProtocol(ext, codec): codec, server stream connection and
 *                           upstream client under the codec's name, in one line
 *
 * A frame carries its whole payload (`content`: bolt's content, dubbo's body) as opaque bytes, so the
 * proxy sees an X-protocol message as a head with nothing after it (endOfStream on the head).
 */
import type { RingsideError } from './errors.js';
import type { DetectResult, ProtocolName, RequestFrame, ResponseFrame } from './protocol.js';

/** What a request frame asks for. */
export enum XCommand {
  /** A call that is answered. */
  Request = 'request',
  /** A call nobody answers (bolt oneway, dubbo two-way flag clear). */
  Oneway = 'oneway',
  /** A keepalive probe; answered by the stream layer with the codec's heartbeat reply. */
  Heartbeat = 'heartbeat',
  /** The peer will take no new request on this connection (bolt cmd code 100). */
  GoAway = 'goaway',
}

/** A decoded or to-be-encoded request. The stream layer rewrites requestId on the way upstream. */
export interface XRequest extends RequestFrame {
  readonly kind: 'request';
  requestId: number;
  readonly command: XCommand;
  /** The timeout the caller set in the frame, in ms; 0 for none. */
  readonly timeoutMs: number;
  /** The opaque payload, owned by the frame (never a view into a read buffer). */
  content: Buffer;
}

/** A decoded or to-be-encoded response. */
export interface XResponse extends ResponseFrame {
  readonly kind: 'response';
  requestId: number;
  /** Answers a heartbeat. */
  readonly heartbeat: boolean;
  content: Buffer;
}

export type XFrame = XRequest | XResponse;

/** Limits a decoder enforces before it allocates anything for a frame. */
export interface XDecodeLimits {
  /** Largest class name + header map section (ringside.limits.max_header_bytes). */
  readonly maxHeaderBytes: number;
  /** Largest content (ringside.limits.max_body_bytes). */
  readonly maxContentBytes: number;
}

/** What decode() found at the start of a buffer. */
export type XDecodeResult =
  /** One whole frame, `bytes` long. */
  | { readonly kind: 'frame'; readonly frame: XFrame; readonly bytes: number }
  /** Not enough bytes yet; `bytes` is the frame's whole length when the fixed part told it, else 0. */
  | { readonly kind: 'need'; readonly bytes: number }
  /**
   * The bytes cannot be decoded (bad magic, unknown type, a length past the limit, a header map that
   * overruns its frame, a bad checksum). `requestId` is the id of the request the bad frame carried,
   * when the fixed part was readable, so the peer can be answered with the codec-error status first.
   * The connection closes after it.
   */
  | { readonly kind: 'error'; readonly error: RingsideError; readonly requestId: number | undefined; readonly request: boolean };

/** One request-id protocol. Every method runs on the data path: no I/O, no promise. */
export interface XProtocolCodec {
  readonly name: ProtocolName;
  /** Whether the first bytes of a connection are this protocol's; never consumes them. */
  detect(first: Buffer): DetectResult;
  /** Decodes the frame at the start of `buf`; `buf` is valid only during the call. */
  decode(buf: Buffer, limits: XDecodeLimits): XDecodeResult;
  /** Encodes a frame (header edits included) into one buffer. */
  encode(frame: XFrame): Buffer;
  /** Ids run 1 … maxRequestId on each connection, then wrap to 1 (bolt: 2^32 − 1). */
  readonly maxRequestId: number;
  /** A keepalive request under `requestId` (MOSN Trigger). */
  heartbeat(requestId: number): XRequest;
  /** The answer to a peer's heartbeat (MOSN Reply). */
  heartbeatReply(request: XRequest): XResponse;
  /** The frame that tells a peer to stop sending on this connection; null when the protocol has none. */
  goAway(): XRequest | null;
  /** A response to `request` with `status` and no content (MOSN Hijack); request null: id 0. */
  reply(request: XRequest | null, status: number): XResponse;
  /** The status that answers an error of Ringside's own (no route → no processor, …). */
  statusOfError(err: RingsideError): number;
  /**
   * The whole answer to an error of Ringside's own, when the protocol says more than a status (dubbo:
   * the status byte and a `code|text` message body, as MOSN writes it; geerpc: the text in
   * Header.Error). Absent: reply(request,
   * statusOfError(err)) with no content.
   */
  errorReply?(request: XRequest | null, err: RingsideError): XResponse;
  /**
   * A route's direct_response in the protocol's own form, when it is more than a status with the body
   * as opaque content (dubbo: an OK result holding the body as a string, or an error message).
   */
  directReply?(request: XRequest, httpStatus: number, body: string): XResponse;
  /** A route's direct_response HTTP status as this protocol's status. */
  statusOfHttp(httpStatus: number): number;
  /** A response status as the HTTP class retry policies and metrics read (MOSN's status mapping). */
  httpStatusOf(response: XResponse): number;
  /**
   * Whether the response says the upstream did not run the request (bolt: threadpool busy, no
   * processor), so sending it again elsewhere is safe whatever the request.
   */
  unprocessed(response: XResponse): boolean;
  /** A request the runtime's channels and tests build: service, method, headers, content, timeout (ms, 0 none). */
  newRequest(service: string, method: string, headers: Record<string, string>, content: Buffer, timeoutMs: number): XRequest;
  /**
   * For a protocol whose bytes depend on what went before on the same connection (geerpc: the
   * Option handshake first, gob type definitions sent once per stream and type ids numbered per
   * stream): a fresh codec holding that connection's state, asked for once per connection and
   * side ('server': the stream layer's downstream side, 'client': an upstream connection). Absent
   * on stateless codecs (bolt, dubbo), which every connection shares.
   */
  session?(side: 'server' | 'client'): XProtocolCodec;
  /** The protocol's keepalive for upstream connections when the factory sets none (absent: bolt's). */
  readonly keepalive?: XKeepalive;
}

/** Limits of the multiplexed stream layer, per connection. */
export interface XStreamLimits extends XDecodeLimits {
  /** Requests one connection carries at once; more are answered with the busy status (server) or wait for the pool (client). */
  readonly maxInFlight: number;
}

/** Keepalive of an upstream connection (MOSN: bolt heartbeats every 15 s, dead after 90 s without an answer). */
export interface XKeepalive {
  /** A connection that read nothing for this long sends a heartbeat; 0: never. */
  readonly intervalMs: number;
  /** A connection that read nothing for this long is closed; 0: never. */
  readonly deadAfterMs: number;
}
