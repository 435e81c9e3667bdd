/**
 * The HTTP/1.x ServerStreamConnection: one per downstream connection, driven by the `proxy` read
 * filter. It decodes requests, opens a stream per request (ids in pipelining order), keeps the streams
 * in a queue whose head is the only one allowed to write, and closes the connection when a response
 * says so, when a request cannot be decoded, or when the peer is done and nothing is left to answer.
 */
import { bump } from '../../common/counters.js';
import { RingsideError } from '../../common/errors.js';
import { createHttp1RequestDecoder } from '../../protocol/http1/decoder.js';
import { HTTP1 } from '../../protocol/http1/heads.js';
import { CloseMode, ConnectionEvent, type Connection } from '../../types/network.js';
import type { HeaderMap, Http1RequestHead, MessageDecoder } from '../../types/protocol.js';
import {
  StreamResetReason,
  type PendingBudget,
  type ServerStreamConnection,
  type ServerStreamConnectionOptions,
  type StreamFilterChainFactory,
  type StreamHandlerFactory,
} from '../../types/stream.js';
import { Http1ServerStream, type StreamOwner } from './server-stream.js';
import { headerClock, type HeaderTimed } from './header-clock.js';

/** ringside.limits.max_pipelined_requests' default. */
const DEFAULT_MAX_PIPELINED = 16;

class Http1ServerConnection implements ServerStreamConnection, StreamOwner, HeaderTimed {
  readonly protocol = HTTP1;
  readonly connection: Connection;
  readonly handlerFactory: StreamHandlerFactory;
  readonly filters: readonly StreamFilterChainFactory[];
  readonly #decoder: MessageDecoder;
  readonly #maxPipelined: number;
  /** Streams not yet fully answered, in request order; [0] is the one writing. */
  readonly #streams: Http1ServerStream[] = [];
  /** The stream whose request is still being decoded. */
  #decoding: Http1ServerStream | null = null;
  #nextId = 1;
  #draining = false;
  #peerEnded = false;
  #decoderDead = false;
  #closed = false;
  #advancing = false;
  #advanceAgain = false;
  readonly #budget: PendingBudget | undefined;
  readonly #drain: ServerStreamConnectionOptions['drain'];
  /** Between a request's end (or the connection's start) and the next head: the head deadline applies. */
  #awaitingHead = true;

  // HeaderTimed
  headSince = Infinity;
  readonly headerTimeoutMs: number;

  constructor(connection: Connection, options: ServerStreamConnectionOptions) {
    this.connection = connection;
    this.handlerFactory = options.handlerFactory;
    this.filters = options.filters ?? [];
    this.#maxPipelined = Math.max(1, options.maxPipelined ?? DEFAULT_MAX_PIPELINED);
    this.#budget = options.pendingBudget;
    this.#drain = options.drain;
    this.headerTimeoutMs = options.requestHeaderTimeoutMs ?? 0;
    if (this.headerTimeoutMs > 0) {
      // The first head's clock starts at accept: a client that connects and says nothing is a Slowloris too.
      headerClock.add(this);
      this.headSince = headerClock.now;
    }
    this.#decoder = createHttp1RequestDecoder(
      {
        onHead: (head, endOfStream) => this.#onHead(head, endOfStream),
        onBody: (_id, chunk, last) => this.#decoding?.body(chunk, last),
        onComplete: (_id, trailers) => this.#onComplete(trailers),
        onError: (err) => this.#onDecodeError(err),
      },
      options.limits === undefined ? {} : { limits: options.limits },
    );
    connection.addEventListener((event, reason) => {
      if (event === ConnectionEvent.RemoteClose || event === ConnectionEvent.LocalClose) this.#onClosed(reason);
    });
    this.#drain?.add(this);
  }

  get activeStreams(): number {
    return this.#streams.length;
  }

  get draining(): boolean {
    return this.#draining;
  }

  onData(data: Buffer, endOfStream: boolean): void {
    if (this.#closed) return;
    if (this.#awaitingHead && this.headSince === Infinity) this.headSince = headerClock.now;
    if (data.length > 0) this.#decoder.execute(data);
    if (endOfStream && !this.#peerEnded) {
      this.#peerEnded = true;
      this.#decoder.finish();
      this.#closeIfIdle();
    }
  }

  /** The head that started at headSince is still incomplete: 408 in its turn, then the connection closes. */
  onHeaderTimeout(): void {
    if (this.#closed || this.#decoderDead || !this.#awaitingHead) return;
    this.#decoder.destroy();
    this.#onDecodeError(
      new RingsideError('BAD_REQUEST', 'downstream', `request head not complete within ${this.headerTimeoutMs} ms`, { status: 408 }),
    );
    this.#closeIfIdle();
  }

  /**
   * Drain: no request after the current one is taken. A connection between requests closes at once; a
   * head or body in progress is still read, and the last response taken says Connection: close.
   */
  goAway(): void {
    if (this.#draining || this.#closed) return;
    this.#draining = true;
    if (this.#decoding === null && this.#decoder.idle) this.#stopDecoding();
    else this.#closeIfIdle();
  }

  /** Draining and `stream` is the last this connection will answer: its response closes the connection. */
  isLastExchange(stream: Http1ServerStream): boolean {
    return this.#draining && this.#decoderDead && this.#streams[this.#streams.length - 1] === stream;
  }

  abort(error: RingsideError): void {
    if (this.#closed) return;
    this.#decoderDead = true;
    this.#decoder.destroy();
    const first = this.#streams[0] ?? this.#decoding;
    this.#decoding = null;
    // The head of the queue is the only stream that may write: it answers 500 (or is cut when its
    // response started); its Connection: close ends the connection after it, resetting the rest.
    if (first !== null && first !== undefined && !first.responseDone) first.failRequest(error);
    this.#close(`aborted: ${error.message}`);
  }

  isHeadOfLine(stream: Http1ServerStream): boolean {
    return this.#streams[0] === stream;
  }

  responseDone(stream: Http1ServerStream): void {
    if (this.#streams[0] === stream) this.#advance();
  }

  #onHead(head: Http1RequestHead, endOfStream: boolean): void {
    this.#awaitingHead = false;
    this.headSince = Infinity;
    const stream = new Http1ServerStream(this, this.#nextId++, head);
    const depth = this.#streams.length;
    this.#streams.push(stream);
    this.#decoding = endOfStream ? null : stream;
    if (depth >= this.#maxPipelined) {
      // One client pipelining ahead of its answers: the request past the depth is answered 503 in its
      // turn and ends the connection, so what it holds stays bounded (no unread backlog is kept, and
      // nothing behind it is executed); the client retries the rest on a new connection.
      bump('downstream.pipelining_refused');
      stream.endConnectionAfter();
      stream.sendLocalReply(503, undefined, `Service Unavailable: more than ${this.#maxPipelined} pipelined requests (limits.max_pipelined_requests) on one connection\n`);
      this.#stopDecoding();
      return;
    }
    const budget = this.#budget;
    if (budget !== undefined && budget.held >= budget.max) {
      // Overload: answer at once instead of holding more work; the body, if any, is read and dropped.
      budget.refused++;
      stream.sendLocalReply(503, undefined, `Service Unavailable: listener ${budget.listenerName} holds its max_pending_requests (${budget.max}) requests\n`);
    } else {
      if (budget !== undefined) {
        budget.held++;
        stream.holdsSlot = true;
      }
      stream.start(endOfStream);
    }
    // The head that was arriving when the drain began is the last one taken.
    if (endOfStream && (!head.keepAlive || this.#draining)) this.#stopDecoding();
  }

  /** No further request is decoded on this connection; it closes once the streams taken are answered. */
  #stopDecoding(): void {
    if (this.#decoderDead) return;
    this.#decoder.destroy();
    this.#decoderDead = true;
    this.#closeIfIdle();
  }

  #onComplete(trailers: HeaderMap | null): void {
    const stream = this.#decoding;
    this.#decoding = null;
    this.#awaitingHead = true;
    stream?.complete(trailers);
    if (stream !== null && (stream.request?.keepAlive === false || this.#draining)) {
      // RFC 9112 §9.6: after a request that closes the connection nothing more is read or executed;
      // whatever the client pipelined behind it is dropped with the connection.
      this.#stopDecoding();
      return;
    }
  }

  #onDecodeError(err: RingsideError): void {
    this.#decoderDead = true;
    const broken = this.#decoding;
    this.#decoding = null;
    if (broken !== null) {
      if (!broken.responseDone) broken.failRequest(err);
      else {
        // Answered early (a local reply before the body was read): that answer stays the only one,
        // and the connection ends after it because the request's framing is lost.
        broken.endConnectionAfter();
        this.#closeIfIdle();
      }
      return;
    }
    // The bad bytes belong to a request that has no stream yet: answer it in its turn, then close.
    const stream = new Http1ServerStream(this, this.#nextId++, null);
    this.#streams.push(stream);
    stream.failRequest(err);
  }

  /** Retires answered streams from the head of the queue and lets the next one write. */
  #advance(): void {
    if (this.#advancing) {
      this.#advanceAgain = true;
      return;
    }
    this.#advancing = true;
    try {
      do {
        this.#advanceAgain = false;
        const streams = this.#streams;
        while (streams.length > 0 && streams[0]!.responseDone) {
          const done = streams.shift()!;
          this.#release(done);
          done.destroy();
          if (done.closesConnection) {
            this.#close(`stream ${done.id} ends the connection`);
            return;
          }
          streams[0]?.flushBuffered();
        }
      } while (this.#advanceAgain && !this.#closed);
    } finally {
      this.#advancing = false;
    }
    this.#closeIfIdle();
  }

  /** Closes once nothing is owed to a peer that finished sending, or to no one while draining. */
  #closeIfIdle(): void {
    if (this.#closed || this.#streams.length > 0) return;
    if (this.#peerEnded || this.#decoderDead || (this.#draining && this.#decoder.idle)) {
      this.#close(this.#draining ? 'drained' : 'downstream finished');
    }
  }

  #close(reason: string): void {
    if (this.#closed) return;
    this.#resetAll(reason);
    this.connection.close(CloseMode.FlushWrite, reason);
  }

  #onClosed(reason: string | undefined): void {
    if (this.#closed) return;
    this.#resetAll(reason ?? 'connection closed');
  }

  #resetAll(_reason: string): void {
    this.#closed = true;
    this.#drain?.delete(this);
    if (this.headerTimeoutMs > 0) headerClock.remove(this);
    this.#decoder.destroy();
    const pending = this.#streams.splice(0);
    const decoding = this.#decoding;
    this.#decoding = null;
    for (const s of pending) {
      this.#release(s);
      s.resetByConnection(StreamResetReason.ConnectionClosed);
    }
    if (decoding !== null) {
      this.#release(decoding);
      decoding.resetByConnection(StreamResetReason.ConnectionClosed);
    }
  }

  /** Gives the stream's place in the listener's pending budget back (once). */
  #release(stream: Http1ServerStream): void {
    if (!stream.holdsSlot) return;
    stream.holdsSlot = false;
    this.#budget!.held--;
  }
}

/** Builds the HTTP/1.x stream side of a downstream connection; the `proxy` filter feeds it bytes. */
export function createHttp1ServerStreamConnection(
  connection: Connection,
  options: ServerStreamConnectionOptions,
): ServerStreamConnection {
  return new Http1ServerConnection(connection, options);
}
