/**
 * One dRPC call on a downstream session: at once the StreamInfo its filters and handler see, the
 * ResponseSender, and the filters' callbacks object (as the X-protocol server stream is). A call is
 * one head with endOfStream (its body inside the frame); the answer is one head too, sent as the
 * Response under the sequence the downstream gave its call.
 */
import { CloseMode, FilterStatus, type Connection } from '../../types/network.js';
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
import { EventKind, FilterChain, type ChainEvent } from '../filter-chain.js';
import { FilterChainEnds } from '../filter-chain-ends.js';
import { DRPC_PROTOCOL, isReplyFrame, replyFrame, type DrpcCallFrame, type DrpcReplyFrame } from '../../protocol/drpc/frames.js';
import { replyOfHttp } from '../../protocol/drpc/codec.js';
import { Status } from '../../drpc/status.js';

/** What a stream needs from its session. */
export interface DrpcStreamOwner {
  readonly connection: Connection;
  readonly handlerFactory: StreamHandlerFactory;
  readonly filters: readonly StreamFilterChainFactory[];
  /** Sends the answer of the call in flight. */
  answer(reply: DrpcReplyFrame): void;
  /** The stream is answered or abandoned. */
  streamDone(stream: DrpcServerStream): void;
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

const EMPTY = Buffer.alloc(0);

export class DrpcServerStream extends FilterChainEnds implements StreamInfo, ResponseSender, StreamReceiverFilterCallbacks, StreamSenderFilterCallbacks {
  readonly id: number;
  readonly request: DrpcCallFrame;
  /** The sequence the downstream gave its call: the Response carries it back. */
  readonly downstreamSequence: number;
  readonly #owner: DrpcStreamOwner;
  #context: Map<string, unknown> | null = null;
  #handler: StreamHandler | null = null;
  #filters: (StreamReceiverFilter | StreamSenderFilter)[] | null = null;
  /** A head sent without endOfStream (a filter answering in pieces): its body is gathered here. */
  #heldHead: ResponseFrame | null = null;
  #heldBody: Buffer[] | null = null;
  #started = false;
  #headersSent = false;
  #done = false;

  constructor(owner: DrpcStreamOwner, id: number, request: DrpcCallFrame) {
    super();
    this.#owner = owner;
    this.id = id;
    this.request = request;
    this.downstreamSequence = request.requestId;
  }

  get protocol(): string {
    return DRPC_PROTOCOL;
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
      this.recvChain = new FilterChain(recv, callReceiver, { headers: (h) => this.#deliver(h), data: () => {}, trailers: () => {} });
    }
    if (send.length > 0) {
      this.sendChain = new FilterChain(send, callSender, {
        headers: (h, e) => this.#out(h, e),
        data: (c, e) => this.#outData(c, e),
        trailers: () => this.#outData(EMPTY, true),
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

  /** A filter answers itself (fault abort …): its HTTP status becomes SUCCESS or FAILURE with a google.rpc.Status. */
  sendLocalReply(status: number, _headers?: Record<string, string>, body?: string | Buffer): void {
    if (this.#done || this.#started) return;
    this.recvChain?.destroy();
    const handler = this.#handler;
    this.#handler = null;
    handler?.onReset(StreamResetReason.LocalReply);
    const text = body === undefined ? '' : typeof body === 'string' ? body : body.toString();
    this.sendHeaders(replyOfHttp(this.downstreamSequence, status, text), true);
  }

  // ── ResponseSender ──
  newResponse(status: number): ResponseFrame {
    return replyFrame(this.downstreamSequence, status as Status);
  }

  sendHeaders(head: ResponseFrame, endOfStream: boolean): void {
    if (this.#done || this.#started) return;
    this.#started = true;
    if (this.sendChain !== null) this.sendChain.headers(head, endOfStream);
    else this.#out(head, endOfStream);
  }

  sendData(chunk: Buffer, endOfStream: boolean): void {
    if (this.#done) return;
    if (this.sendChain !== null) this.sendChain.data(chunk, endOfStream);
    else this.#outData(chunk, endOfStream);
  }

  sendTrailers(_trailers: HeaderMap): void {
    this.sendData(EMPTY, true);
  }

  send(head: ResponseFrame, body: Buffer | null): void {
    if (body !== null && body.length > 0 && isReplyFrame(head)) head.body = body;
    this.sendHeaders(head, true);
  }

  /**
   * Abandons the call (a timeout after the answer started, an upstream reset mid-answer). A dRPC
   * session is synchronous: the caller waits for this answer before anything else, so the session
   * is closed — the caller learns at once instead of waiting for its own timeout.
   */
  reset(reason: StreamResetReason): void {
    if (this.#done) return;
    this.#handler = null;
    this.#finish();
    this.#owner.connection.close(CloseMode.NoFlush, `dRPC call abandoned: ${reason}`);
  }

  // ── output ──
  #out(head: ResponseFrame, endOfStream: boolean): void {
    this.#headersSent = true;
    if (!endOfStream) {
      this.#heldHead = head;
      this.#heldBody = [];
      return;
    }
    this.#emit(head, null);
  }

  #outData(chunk: Buffer, endOfStream: boolean): void {
    const head = this.#heldHead;
    if (head === null) return;
    if (chunk.length > 0) this.#heldBody!.push(Buffer.from(chunk));
    if (!endOfStream) return;
    const parts = this.#heldBody!;
    this.#heldHead = null;
    this.#heldBody = null;
    this.#emit(head, parts.length === 0 ? null : parts.length === 1 ? parts[0]! : Buffer.concat(parts));
  }

  #emit(head: ResponseFrame, body: Buffer | null): void {
    // Only a dRPC upstream answers a dRPC call (the config refuses any other upstream protocol).
    const reply = isReplyFrame(head) ? head : replyFrame(this.downstreamSequence, Status.FAILURE);
    if (body !== null) reply.body = body;
    reply.requestId = this.downstreamSequence;
    this.#owner.answer(reply);
    this.#finish();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#owner.streamDone(this);
    this.#destroyChains();
  }

  /** The session is gone or closing: the handler hears why, unless its answer went out. */
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
