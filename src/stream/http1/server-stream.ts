/**
 * One HTTP/1.x request/response exchange on a downstream connection. It is at once the StreamInfo its
 * filters and handler see, the ResponseSender the handler answers through, and the callbacks object
 * its filters resume with — one allocation per request instead of four.
 *
 * Output is written straight to the connection while the stream is the oldest unanswered one, and
 * buffered (copied) otherwise, so pipelined responses leave in request order.
 */
import type { RingsideError } from '../../common/errors.js';
import { createHttp1ResponseEncoder, type Http1Encoder } from '../../protocol/http1/encoder.js';
import { CONTINUE_100 } from '../../protocol/http1/encoder.js';
import { H1Response, HTTP1, reasonPhrase } from '../../protocol/http1/heads.js';
import { encodeErrorResponse } from '../../protocol/http1/replies.js';
import { Headers } from '../../protocol/headers.js';
import { FilterStatus, type Connection } from '../../types/network.js';
import type { HeaderMap, Http1RequestHead, RequestFrame, ResponseFrame } from '../../types/protocol.js';
import {
  StreamResetReason,
  type ResponseSender,
  type StreamFilterChainFactory,
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

const EMPTY = Buffer.alloc(0);

/** What a stream needs from the connection that owns it. */
export interface StreamOwner {
  readonly connection: Connection;
  readonly handlerFactory: StreamHandlerFactory;
  readonly filters: readonly StreamFilterChainFactory[];
  /** Draining, and this stream is the last one the connection answers: its response closes it. */
  isLastExchange(stream: Http1ServerStream): boolean;
  isHeadOfLine(stream: Http1ServerStream): boolean;
  /** The response is completely encoded (or abandoned). */
  responseDone(stream: Http1ServerStream): void;
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

export class Http1ServerStream extends FilterChainEnds
  implements StreamInfo, ResponseSender, StreamReceiverFilterCallbacks, StreamSenderFilterCallbacks
{
  readonly id: number;
  readonly protocol = HTTP1;
  readonly request: Http1RequestHead | null;
  /** Counted in the listener's pending budget until the connection retires it. */
  holdsSlot = false;
  readonly #owner: StreamOwner;
  readonly #encoder: Http1Encoder<ResponseFrame>;
  #context: Map<string, unknown> | null = null;
  #handler: StreamHandler | null = null;
  #recvFilters: StreamReceiverFilter[] | null = null;
  #sendFilters: StreamSenderFilter[] | null = null;
  /** Output waiting for the streams before this one to finish. */
  #out: Buffer[] | null = null;

  /** The decoder delivered the whole request. */
  #requestEnded = false;
  /** The receiver side has seen endOfStream (head without body, last piece, or trailers). */
  #recvEndSignalled = false;
  /** Request events are dropped from now on (local reply, reset). */
  #recvClosed = false;
  #responseStarted = false;
  #headersSent = false;
  #responseDone = false;
  #continueSent = false;
  #closeAfter = false;
  #destroyed = false;
  /** Inside send(): a head without endOfStream waits for the body to share its buffer. */
  #combining = false;
  #heldHead: ResponseFrame | null = null;

  constructor(owner: StreamOwner, id: number, request: Http1RequestHead | null) {
    super();
    this.#owner = owner;
    this.id = id;
    this.request = request;
    this.#encoder = createHttp1ResponseEncoder(request);
  }

  /** The filters' view of the stream is the stream itself. */
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

  get responseDone(): boolean {
    return this.#responseDone;
  }

  /** The connection must close after this response (Connection: close, reset, decode error). */
  get closesConnection(): boolean {
    return this.#closeAfter || !this.#encoder.keepAlive;
  }

  // ── request side, driven by the connection's decoder ──────────────────────────────────────────

  start(endOfStream: boolean): void {
    const filters = this.#owner.filters;
    if (filters.length > 0) this.#buildChains(filters);
    this.#recvEndSignalled = endOfStream;
    if (endOfStream) this.#requestEnded = true;
    const head = this.request!;
    if (this.recvChain !== null) this.recvChain.headers(head, endOfStream);
    else this.#deliverHeaders(head, endOfStream);
  }

  body(chunk: Buffer, last: boolean): void {
    if (this.#recvClosed) return;
    if (last) this.#recvEndSignalled = true;
    if (this.recvChain !== null) this.recvChain.data(chunk, last);
    else this.#deliverData(chunk, last);
  }

  complete(trailers: HeaderMap | null): void {
    this.#requestEnded = true;
    if (this.#recvClosed) return;
    if (trailers !== null) {
      this.#recvEndSignalled = true;
      if (this.recvChain !== null) this.recvChain.trailers(trailers);
      else this.#deliverTrailers(trailers);
    } else if (!this.#recvEndSignalled) {
      this.body(EMPTY, true);
    }
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
        data: (c, e) => this.#deliverData(c, e),
        trailers: (t) => this.#deliverTrailers(t),
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
    const req = this.request!;
    // The client waits for this before sending the body; it goes out in order like any output.
    if (req.expectContinue && !endOfStream && !this.#responseStarted) {
      this.#continueSent = true;
      this.#write(CONTINUE_100, true);
    }
    const handler = this.#owner.handlerFactory(this, this);
    this.#handler = handler;
    handler.onHeaders(head, endOfStream);
  }

  #deliverData(chunk: Buffer, endOfStream: boolean): void {
    if (!this.#recvClosed) this.#handler?.onData(chunk, endOfStream);
  }

  #deliverTrailers(trailers: HeaderMap): void {
    if (!this.#recvClosed) this.#handler?.onTrailers(trailers);
  }

  // ── filter callbacks ──────────────────────────────────────────────────────────────────────────

  sendLocalReply(status: number, headers?: Record<string, string>, body?: string | Buffer): void {
    if (this.#destroyed || this.#responseDone) return;
    if (this.#responseStarted) {
      // Part of another response may already be out; the only honest answer left is to close.
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
    if (bytes !== null && bytes.length > 0 && !h.has('content-type')) h.add('Content-Type', 'text/plain; charset=utf-8');
    this.send(new H1Response(this.id, status, reasonPhrase(status), h), bytes);
  }

  // ── ResponseSender ────────────────────────────────────────────────────────────────────────────

  newResponse(status: number): ResponseFrame {
    return new H1Response(this.id, status, reasonPhrase(status), new Headers());
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
    this.#combining = true;
    try {
      this.sendHeaders(head, false);
      this.sendData(body, true);
    } finally {
      this.#combining = false;
    }
    this.#flushHeldHead();
  }

  /**
   * Abandons the response and closes the connection after it. When nothing of it was written yet (a
   * sender filter held or threw on the head) and the handler says why, the error is answered past the
   * sender filters, whose chain can no longer be trusted, instead of a bare close.
   */
  reset(_reason: StreamResetReason, error?: RingsideError): void {
    if (this.#destroyed || this.#responseDone) return;
    this.#recvClosed = true;
    this.#handler = null; // it asked for the reset; it hears nothing more
    this.#heldHead = null;
    this.#closeAfter = true;
    if (error !== undefined && !this.#headersSent) {
      this.sendChain?.destroy();
      this.#headersSent = true;
      this.#write(encodeErrorResponse(error), true);
    }
    this.#finishResponse();
  }

  // ── output, after the sender filters ──────────────────────────────────────────────────────────

  #outHeaders(head: ResponseFrame, endOfStream: boolean): void {
    this.#headersSent = true;
    const req = this.request;
    // A client that was never told to continue may still be holding its body back: we cannot know
    // where the next request starts, so this exchange is the connection's last.
    const unreadBody = req !== null && !this.#requestEnded && req.expectContinue && !this.#continueSent;
    if (unreadBody || this.#closeAfter || this.#owner.isLastExchange(this)) this.#encoder.closeConnection();
    if (this.#combining && !endOfStream) {
      this.#heldHead = head;
      return;
    }
    this.#write(this.#encoder.encodeHead(head, null, endOfStream), true);
    if (endOfStream) this.#finishResponse();
  }

  #outData(chunk: Buffer, endOfStream: boolean): void {
    const held = this.#heldHead;
    if (held !== null) {
      this.#heldHead = null;
      this.#write(this.#encoder.encodeHead(held, chunk, endOfStream), true);
    } else {
      const out = this.#encoder.encodeData(chunk, endOfStream);
      if (out.length > 0) this.#write(out, out !== chunk);
    }
    if (endOfStream) this.#finishResponse();
  }

  #outTrailers(trailers: HeaderMap): void {
    this.#flushHeldHead();
    this.#write(this.#encoder.encodeTrailers(trailers), true);
    this.#finishResponse();
  }

  #flushHeldHead(): void {
    const held = this.#heldHead;
    if (held === null) return;
    this.#heldHead = null;
    this.#write(this.#encoder.encodeHead(held, null, false), true);
  }

  #finishResponse(): void {
    if (this.#responseDone) return;
    this.#responseDone = true;
    this.#owner.responseDone(this);
  }

  #write(buf: Buffer, owned: boolean): void {
    if (this.#destroyed) return;
    if (this.#owner.isHeadOfLine(this)) {
      this.#owner.connection.write(buf);
    } else {
      (this.#out ??= []).push(owned ? buf : Buffer.from(buf));
    }
  }

  // ── driven by the connection ──────────────────────────────────────────────────────────────────

  /** The streams before this one are answered: what was buffered goes out now. */
  flushBuffered(): void {
    const out = this.#out;
    if (out === null) return;
    this.#out = null;
    for (const buf of out) this.#owner.connection.write(buf);
  }

  /** Answers a request whose bytes broke mid-way, or a request that never decoded (no head). */
  failRequest(err: RingsideError): void {
    if (this.#destroyed) return;
    this.#recvClosed = true;
    this.recvChain?.destroy();
    this.sendChain?.destroy();
    const handler = this.#handler;
    this.#handler = null;
    handler?.onReset(StreamResetReason.ProtocolError);
    this.#closeAfter = true;
    // After a head went out, an error page would land inside the body; the close says enough.
    if (!this.#headersSent) this.#write(encodeErrorResponse(err), true);
    this.#headersSent = true;
    this.#finishResponse();
  }

  /** This exchange is the connection's last, whatever its response said (the request's framing broke). */
  endConnectionAfter(): void {
    this.#closeAfter = true;
  }

  /** The connection is gone or closing: the owner hears why, unless the response was complete. */
  resetByConnection(reason: StreamResetReason): void {
    if (this.#destroyed) return;
    const handler = this.#handler;
    this.#handler = null;
    this.#recvClosed = true;
    if (handler !== null && !this.#responseDone) handler.onReset(reason);
    this.destroy();
  }

  /** Ends the stream's life: chains stop, filters are told, buffered output is dropped. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#recvClosed = true; // an answered stream may still be receiving its body: it goes nowhere
    this.#out = null;
    this.recvChain?.destroy();
    this.sendChain?.destroy();
    if (this.#recvFilters !== null) for (const f of this.#recvFilters) f.onDestroy?.();
    if (this.#sendFilters !== null) for (const f of this.#sendFilters) f.onDestroy?.();
  }
}
