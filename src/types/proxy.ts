/**
 * PROXY layer — the downstream phase machine and the upstream request it drives.
 *
 * ▶ PROXY    phase machine, router, clusters, pools
 *   STREAM   stream ids, stream filters
 *   PROTOCOL codecs: bytes <-> headers/body/trailers
 *   NET/IO   listeners, connections, network filter chains
 *
 *   stream layer ─▶ DownstreamRequest (phases, src/proxy/downstream.ts)
 *                     └─ UpstreamRequest ─ pool.acquire ─▶ StreamClient.newStream ─▶ UpstreamStream
 *                                            ◀─ UpstreamResponseReceiver ◀─ response decoder
 *
 * A StreamClient is the protocol's upstream connection (HTTP/1.1 now; HTTP/2, bolt and dubbo later):
 * the pool hands clients out, the proxy opens streams on them, and never branches on protocol.
 */
import type { RingsideError } from './errors.js';
import type { HeaderMap, RequestFrame, ResponseFrame } from './protocol.js';
import type { ClientFactory, UpstreamClient } from './upstream.js';
import type { StreamFlowControl } from './stream.js';

/**
 * Response field on the replies the proxy makes itself for an error (no route, no healthy host,
 * connect refused, timeout …), holding the RingsideError code, so a runtime channel behind the proxy
 * tells the sidecar's own failure from the app's answer with the same status.
 */
export const SIDECAR_ERROR_HEADER = 'x-ringside-error';

/** Receives one upstream response. Buffers are valid only during the call. */
export interface UpstreamResponseReceiver {
  /** The response head arrived; endOfStream when no body follows. */
  onUpstreamHead(head: ResponseFrame, endOfStream: boolean): void;
  onUpstreamData(chunk: Buffer, endOfStream: boolean): void;
  onUpstreamTrailers(trailers: HeaderMap): void;
  /**
   * The stream failed: UPSTREAM_RESET (the connection went away), UPSTREAM_BAD_RESPONSE (bytes the
   * codec refused). `headSent` says whether any response byte already reached the receiver.
   */
  onUpstreamError(err: RingsideError, headSent: boolean): void;
}

/** One request on a StreamClient. */
export interface UpstreamStream {
  /** Sends the head; a body known up front goes in the same write. */
  sendHead(head: RequestFrame, body: Buffer | null, endOfStream: boolean): void;
  sendData(chunk: Buffer, endOfStream: boolean): void;
  sendTrailers(trailers: HeaderMap): void;
  /**
   * Abandons the stream (timeout, downstream gone). On HTTP/1.1 the connection cannot be reused for
   * another request while a response is half read, so it is closed.
   */
  reset(reason: string): void;
  /** Present on multiplexed protocols: this stream's own flow control (see StreamFlowControl). */
  readonly flow?: StreamFlowControl;
}

export interface StreamClient extends UpstreamClient {
  /** Opens a stream; only called when `available` is true (the pool guarantees it). */
  newStream(receiver: UpstreamResponseReceiver): UpstreamStream;
}

/** A ClientFactory whose clients are StreamClients; one per upstream protocol per worker. */
export interface StreamClientFactory extends ClientFactory {
  readonly protocol: string;
}

/** The `proxy` network filter's config (MOSN keys). */
export interface ProxyFilterConfig {
  readonly downstream_protocol: string;
  readonly upstream_protocol: string;
  readonly router_config_name: string;
}
