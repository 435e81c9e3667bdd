/**
 * One HTTP/2 stream on a downstream connection, mapped to one Ringside stream with the same id. It
 * is at once the StreamInfo its filters and handler see, the ResponseSender the handler answers
 * through, the callbacks its filters resume with, and its own StreamFlowControl: one object per
 * stream. Unlike HTTP/1.x nothing waits for other streams: output goes to the engine at once, which
 * frames it under the peer's flow-control windows.
 */
import type { RingsideError } from '../../common/errors.js';
import { Headers } from '../../protocol/headers.js';
import { H2Response, HTTP2, isGrpc, responseFields, trailerFields, type H2Request } from '../../protocol/http2/heads.js';
import { encodeGrpcMessage, grpcStatusOfError } from '../../protocol/http2/proxy-hooks.js';
import type { Http2Connection } from '../../protocol/http2/connection.js';
import { FilterStatus, type Connection } from '../../types/network.js';
import type { HeaderMap, RequestFrame, ResponseFrame } from '../../types/protocol.js';
import { Http2ErrorCode } from '../../types/http2.js';
import {
  StreamResetReason,
  type ResponseSender,
  type StreamFilterChainFactory,
  type StreamFlowControl,
  type StreamHandler,
  type StreamHandlerFactory,
  type StreamInfo,
  type StreamReceiverFilter,
  type StreamReceiverFilterCallbacks,
  type StreamSenderFilter,
  type StreamSenderFilterCallbacks,
} from '../../types/stream.js';
import { EventKind, FilterChain, type ChainEvent } from '../filter-chain.js';
import { FilterChainEnds } from '../filter-chain-ends.js';

/** What a stream needs from the connection that owns it. */
export interface Http2StreamOwner {
  readonly connection: Connection;
  readonly engine: Http2Connection;
  readonly handlerFactory: StreamHandlerFactory;
  readonly filters: readonly StreamFilterChainFactory[];
  /** The stream is finished on Ringside's side (answered, or reset): forget it. */
  streamDone(stream: Http2ServerStream): void;
}

function callReceiver(f: StreamReceiverFilter, ev: ChainEvent<RequestFrame>): FilterStatus {
  switch (ev.kind) {
    case EventKind.Headers:
      return f.onReceiveHeaders?.(ev.head!, ev.endOfStream) ?? FilterStatus.Continue;
    case EventKind.Data:
      return f.onReceiveData?.(ev.chunk!, ev.endOfStream) ?? FilterStatus.Continue;
    default:
      return f.onReceiveTrailers?.(ev.trailers!) ?? FilterStatus.Continue;
  }
}

function callSender(f: StreamSenderFilter, ev: ChainEvent<ResponseFrame>): FilterStatus {
  switch (ev.kind) {
    case EventKind.Headers:
      return f.onSendHeaders?.(ev.head!, ev.endOfStream) ?? FilterStatus.Continue;
    case EventKind.Data:
      return f.onSendData?.(ev.chunk!, ev.endOfStream) ?? FilterStatus.Continue;
    default:
      return f.onSendTrailers?.(ev.trailers!) ?? FilterStatus.Continue;
  }
}

export class Http2ServerStream extends FilterChainEnds
  implements StreamInfo, ResponseSender, StreamReceiverFilterCallbacks, StreamSenderFilterCallbacks, StreamFlowControl
{
  readonly id: number;
  readonly protocol = HTTP2;
  readonly request: H2Request;
  /** Counted in the listener's pending budget until the stream is done. */
  holdsSlot = false;
  readonly #owner: Http2StreamOwner;
  #context: Map<string, unknown> | null = null;
  #handler: StreamHandler | null = null;
  #recvFilters: StreamReceiverFilter[] | null = null;
  #sendFilters: StreamSenderFilter[] | null = null;
  #watermark: ((above: boolean) => void) | null = null;
  #aboveWatermark = false;
  #requestEnded = false;
  #recvClosed = false;
  #responseStarted = false;
  #headersSent = false;
  #responseDone = false;
  #destroyed = false;

  constructor(owner: Http2StreamOwner, request: H2Request) {
    super();
    this.#owner = owner;
    this.id = request.requestId;
    this.request = request;
  }

  get stream(): StreamInfo {
    return this;
  }
  get connection(): Connection {
    return this.#owner.connection;
  }
  get context(): Map<string, unknown> {
    return (this.#context ??= new Map());
  }
  get headersSent(): boolean {
    return this.#headersSent;
  }
  get flow(): StreamFlowControl {
    return this;
  }

  // ── request side, driven by the connection ──

  start(endOfStream: boolean): void {
    if (endOfStream) this.#requestEnded = true;
    const filters = this.#owner.filters;
    if (filters.length > 0) this.#buildChains(filters);
    if (this.recvChain !== null) this.recvChain.headers(this.request, endOfStream);
    else this.#deliverHeaders(this.request, endOfStream);
  }

  data(chunk: Buffer, endOfStream: boolean): void {
    if (endOfStream) this.#requestEnded = true;
    if (this.#recvClosed) return;
    if (this.recvChain !== null) this.recvChain.data(chunk, endOfStream);
    else this.#handler?.onData(chunk, endOfStream);
    if (endOfStream) this.#maybeDone();
  }

  trailers(fields: string[]): void {
    this.#requestEnded = true;
    if (this.#recvClosed) return;
    const trailers = new Headers(fields);
    if (this.recvChain !== null) this.recvChain.trailers(trailers);
    else this.#handler?.onTrailers(trailers);
    this.#maybeDone();
  }

  #buildChains(factories: readonly StreamFilterChainFactory[]): void {
    const recv: StreamReceiverFilter[] = [];
    const send: StreamSenderFilter[] = [];
    const builder = {
      addReceiverFilter: (f: StreamReceiverFilter) => recv.push(f),
      addSenderFilter: (f: StreamSenderFilter) => send.push(f),
    };
    for (const factory of factories) factory(this, builder);
    for (const f of recv) f.setReceiverCallbacks(this);
    for (const f of send) f.setSenderCallbacks(this);
    if (recv.length > 0) {
      this.#recvFilters = recv;
      this.recvChain = new FilterChain(recv, callReceiver, {
        headers: (h, e) => this.#deliverHeaders(h, e),
        data: (c, e) => this.#handler?.onData(c, e),
        trailers: (t) => this.#handler?.onTrailers(t),
      });
    }
    if (send.length > 0) {
      this.#sendFilters = send;
      this.sendChain = new FilterChain(send, callSender, {
        headers: (h, e) => this.#outHeaders(h, e),
        data: (c, e) => this.#outData(c, e),
        trailers: (t) => this.#outTrailers(t),
      });
    }
  }

  #deliverHeaders(head: RequestFrame, endOfStream: boolean): void {
    if (this.#recvClosed) return;
    const handler = this.#owner.handlerFactory(this, this);
    this.#handler = handler;
    handler.onHeaders(head, endOfStream);
  }

  // ── filter callbacks ──

  sendLocalReply(status: number, headers?: Record<string, string>, body?: string | Buffer): void {
    if (this.#destroyed || this.#responseDone) return;
    if (this.#responseStarted) {
      this.reset(StreamResetReason.LocalReset);
      return;
    }
    this.#recvClosed = true;
    this.recvChain?.destroy();
    const handler = this.#handler;
    this.#handler = null;
    handler?.onReset(StreamResetReason.LocalReply);
    const h = headers === undefined ? new Headers() : Headers.from(headers);
    const bytes = body === undefined ? null : typeof body === 'string' ? Buffer.from(body) : body;
    if (bytes !== null && bytes.length > 0 && !h.has('content-type')) h.add('content-type', 'text/plain; charset=utf-8');
    this.send(new H2Response(this.id, status, h), bytes);
  }

  // ── ResponseSender ──

  newResponse(status: number): ResponseFrame {
    return new H2Response(this.id, status, new Headers());
  }

  sendHeaders(head: ResponseFrame, endOfStream: boolean): void {
    if (this.#destroyed || this.#responseStarted) return;
    this.#responseStarted = true;
    if (this.sendChain !== null) this.sendChain.headers(head, endOfStream);
    else this.#outHeaders(head, endOfStream);
  }

  sendData(chunk: Buffer, endOfStream: boolean): void {
    if (this.#destroyed || this.#responseDone) return;
    if (this.sendChain !== null) this.sendChain.data(chunk, endOfStream);
    else this.#outData(chunk, endOfStream);
  }

  sendTrailers(trailers: HeaderMap): void {
    if (this.#destroyed || this.#responseDone) return;
    if (this.sendChain !== null) this.sendChain.trailers(trailers);
    else this.#outTrailers(trailers);
  }

  send(head: ResponseFrame, body: Buffer | null): void {
    if (body === null || body.length === 0) {
      this.sendHeaders(head, true);
      return;
    }
    this.sendHeaders(head, false);
    this.sendData(body, true);
  }

  /**
   * Abandons the stream. A gRPC call whose head already went out ends with trailers carrying the
   * error's status (a client then sees UNAVAILABLE or DEADLINE_EXCEEDED, not a bare reset); anything
   * else is RST_STREAM.
   */
  reset(_reason: StreamResetReason, error?: RingsideError): void {
    if (this.#destroyed || this.#responseDone) return;
    this.#recvClosed = true;
    this.#handler = null;
    const engine = this.#owner.engine;
    if (error !== undefined && this.#headersSent && isGrpc(this.request.headers)) {
      engine.sendHeaders(this.id, ['grpc-status', String(grpcStatusOfError(error)), 'grpc-message', encodeGrpcMessage(error.message)], true);
      this.#responseDone = true;
      if (!this.#requestEnded) engine.resetStream(this.id, Http2ErrorCode.NoError);
    } else {
      engine.resetStream(this.id, Http2ErrorCode.InternalError);
      this.#responseDone = true;
    }
    this.#done();
  }

  // ── StreamFlowControl ──

  setReceiving(enabled: boolean): void {
    if (!this.#destroyed) this.#owner.engine.setStreamReceiving(this.id, enabled);
  }

  onWatermark(listener: (above: boolean) => void): void {
    this.#watermark = listener;
  }

  // ── output, after the sender filters ──

  #outHeaders(head: ResponseFrame, endOfStream: boolean): void {
    this.#headersSent = true;
    this.#owner.engine.sendHeaders(this.id, responseFields(head), endOfStream);
    if (endOfStream) this.#finishResponse();
  }

  #outData(chunk: Buffer, endOfStream: boolean): void {
    const engine = this.#owner.engine;
    engine.sendData(this.id, chunk, endOfStream);
    if (!this.#aboveWatermark && engine.isBlocked(this.id)) {
      this.#aboveWatermark = true;
      this.#watermark?.(true);
    }
    if (endOfStream) this.#finishResponse();
  }

  #outTrailers(trailers: HeaderMap): void {
    this.#owner.engine.sendHeaders(this.id, trailerFields(trailers), true);
    this.#finishResponse();
  }

  #finishResponse(): void {
    if (this.#responseDone) return;
    this.#responseDone = true;
    if (!this.#requestEnded) {
      // RFC 9113 §8.1: a complete response before the whole request; the rest of it is not wanted.
      this.#recvClosed = true;
      this.#handler = null;
      this.#owner.engine.resetStream(this.id, Http2ErrorCode.NoError);
    }
    this.#maybeDone();
  }

  #maybeDone(): void {
    if (this.#responseDone && (this.#requestEnded || this.#recvClosed)) this.#done();
  }

  #done(): void {
    if (this.#destroyed) return;
    this.destroy();
    this.#owner.streamDone(this);
  }

  // ── driven by the connection ──

  /** The engine drained this stream's output below the low watermark. */
  writable(): void {
    if (!this.#aboveWatermark) return;
    this.#aboveWatermark = false;
    this.#watermark?.(false);
  }

  /** The peer reset the stream, or the connection went away under it. */
  resetByPeer(reason: StreamResetReason): void {
    if (this.#destroyed) return;
    const handler = this.#handler;
    this.#handler = null;
    this.#recvClosed = true;
    if (handler !== null && !this.#responseDone) handler.onReset(reason);
    this.#done();
  }

  /** Ends the stream's life: chains stop, filters are told. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#recvClosed = true;
    this.recvChain?.destroy();
    this.sendChain?.destroy();
    if (this.#recvFilters !== null) for (const f of this.#recvFilters) f.onDestroy?.();
    if (this.#sendFilters !== null) for (const f of this.#sendFilters) f.onDestroy?.();
  }
}
