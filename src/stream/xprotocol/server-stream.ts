/**
 * One request on a multiplexed downstream connection. Like the HTTP/1 stream it is at once the
 * StreamInfo its filters and handler see, the ResponseSender, and the filters' callbacks object.
 * Unlike it, answers leave as soon as they are ready (ids pair them up, not order), under the id the
 * downstream gave the request; a oneway request's answer is dropped.
 *
 * An X-protocol message is one frame: the request reaches filters and handler as a head with
 * endOfStream, its content travelling inside the frame; a response is a head with endOfStream too.
 */
import { FilterStatus, type Connection } from '../../types/network.js';
import type { HeaderMap, RequestFrame, ResponseFrame } from '../../types/protocol.js';
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
import { XCommand, type XProtocolCodec, type XRequest, type XResponse } from '../../types/xprotocol.js';
import { EventKind, FilterChain, type ChainEvent } from '../filter-chain.js';
import { FilterChainEnds } from '../filter-chain-ends.js';
import { xDirectReply } from '../../protocol/xprotocol/codec.js';

/** What a stream needs from its connection. */
export interface XStreamOwner {
  readonly connection: Connection;
  readonly codec: XProtocolCodec;
  readonly handlerFactory: StreamHandlerFactory;
  readonly filters: readonly StreamFilterChainFactory[];
  /** Writes an encoded frame (never for a stream the connection already retired). */
  write(frame: XResponse): void;
  /** The stream is answered or abandoned: the connection forgets it. */
  streamDone(stream: XServerStream): void;
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

export class XServerStream extends FilterChainEnds implements StreamInfo, ResponseSender, StreamReceiverFilterCallbacks, StreamSenderFilterCallbacks {
  readonly id: number;
  readonly request: XRequest;
  /** The id the downstream gave the request: its answer goes back under it. */
  readonly downstreamId: number;
  /** Counted in the listener's pending budget until the connection retires it. */
  holdsSlot = false;
  readonly #owner: XStreamOwner;
  #context: Map<string, unknown> | null = null;
  #handler: StreamHandler | null = null;
  #filters: (StreamReceiverFilter | StreamSenderFilter)[] | null = null;
  /** A head sent without endOfStream (a non-X upstream answering in pieces) waits for its content here. */
  #heldHead: XResponse | null = null;
  #heldBody: Buffer[] | null = null;
  #started = false;
  #headersSent = false;
  #done = false;

  constructor(owner: XStreamOwner, id: number, request: XRequest) {
    super();
    this.#owner = owner;
    this.id = id;
    this.request = request;
    this.downstreamId = request.requestId;
  }

  get protocol(): string {
    return this.#owner.codec.name;
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

  get done(): boolean {
    return this.#done;
  }

  start(): void {
    const factories = this.#owner.filters;
    if (factories.length > 0) this.#buildChains(factories);
    if (this.recvChain !== null) this.recvChain.headers(this.request, true);
    else this.#deliver(this.request);
  }

  #buildChains(factories: readonly StreamFilterChainFactory[]): void {
    const recv: StreamReceiverFilter[] = [];
    const send: StreamSenderFilter[] = [];
    for (const factory of factories) factory(this, { addReceiverFilter: (f) => recv.push(f), addSenderFilter: (f) => send.push(f) });
    for (const f of recv) f.setReceiverCallbacks(this);
    for (const f of send) f.setSenderCallbacks(this);
    this.#filters = [...recv, ...send];
    if (recv.length > 0) {
      this.recvChain = new FilterChain(recv, callReceiver, {
        headers: (h) => this.#deliver(h),
        data: () => {},
        trailers: () => {},
      });
    }
    if (send.length > 0) {
      this.sendChain = new FilterChain(send, callSender, {
        headers: (h, e) => this.#out(h as XResponse, e),
        data: (c, e) => this.#outData(c, e),
        trailers: () => this.#outData(Buffer.alloc(0), true),
      });
    }
  }

  #deliver(request: RequestFrame): void {
    if (this.#done) return;
    const handler = this.#owner.handlerFactory(this, this);
    this.#handler = handler;
    handler.onHeaders(request, true);
  }

  // ── filter callbacks ──

  sendLocalReply(status: number, headers?: Record<string, string>, body?: string | Buffer): void {
    if (this.#done || this.#started) return;
    this.recvChain?.destroy();
    const handler = this.#handler;
    this.#handler = null;
    handler?.onReset(StreamResetReason.LocalReply);
    const head = xDirectReply(this.#owner.codec, this.request, status, body ?? '');
    if (headers !== undefined) for (const [k, v] of Object.entries(headers)) head.headers.set(k, v);
    this.sendHeaders(head, true);
  }

  // ── ResponseSender ──
  newResponse(status: number): ResponseFrame {
    return this.#owner.codec.reply(this.request, status);
  }

  sendHeaders(head: ResponseFrame, endOfStream: boolean): void {
    if (this.#done || this.#started) return;
    this.#started = true;
    if (this.sendChain !== null) this.sendChain.headers(head, endOfStream);
    else this.#out(head as XResponse, endOfStream);
  }

  sendData(chunk: Buffer, endOfStream: boolean): void {
    if (this.#done) return;
    if (this.sendChain !== null) this.sendChain.data(chunk, endOfStream);
    else this.#outData(chunk, endOfStream);
  }

  sendTrailers(_trailers: HeaderMap): void {
    this.sendData(Buffer.alloc(0), true);
  }

  send(head: ResponseFrame, body: Buffer | null): void {
    if (body !== null && body.length > 0) (head as XResponse).content = body;
    this.sendHeaders(head, true);
  }

  /**
   * Abandons the stream. An X-protocol connection carries other requests, so nothing is cut: the
   * downstream hears nothing for this id (its own timeout ends the call).
   */
  reset(_reason: StreamResetReason): void {
    if (this.#done) return;
    this.#handler = null;
    this.#finish();
  }

  // ── output ──
  #out(head: XResponse, endOfStream: boolean): void {
    this.#headersSent = true;
    if (!endOfStream) {
      this.#heldHead = head;
      this.#heldBody = [];
      return;
    }
    this.#emit(head);
  }

  #outData(chunk: Buffer, endOfStream: boolean): void {
    const head = this.#heldHead;
    if (head === null) return;
    if (chunk.length > 0) this.#heldBody!.push(Buffer.from(chunk));
    if (!endOfStream) return;
    const parts = this.#heldBody!;
    this.#heldHead = null;
    this.#heldBody = null;
    if (parts.length > 0) head.content = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    this.#emit(head);
  }

  #emit(head: XResponse): void {
    if (this.request.command !== XCommand.Oneway) {
      head.requestId = this.downstreamId;
      this.#owner.write(head);
    }
    this.#finish();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#owner.streamDone(this);
    this.#destroyChains();
  }

  /** The connection is gone or closing: the handler hears why, unless its answer went out. */
  resetByConnection(reason: StreamResetReason): void {
    if (this.#done) return;
    this.#done = true;
    const handler = this.#handler;
    this.#handler = null;
    handler?.onReset(reason);
    this.#destroyChains();
  }

  #destroyChains(): void {
    this.recvChain?.destroy();
    this.sendChain?.destroy();
    if (this.#filters !== null) for (const f of this.#filters) f.onDestroy?.();
    this.#filters = null;
  }
}
