/**
 * The HTTP/1.x ServerStreamConnection: one per downstream connection, driven by the `proxy` read
 * filter. It decodes requests, opens a stream per request (ids in pipelining order), keeps the streams
 * in a queue whose head is the only one allowed to write, and closes the connection when a response
 * says so, when a request cannot be decoded, or when the peer is done and nothing is left to answer.
 */
import type { RingsideError } from '../../common/errors.js';
import { createHttp1RequestDecoder } from '../../protocol/http1/decoder.js';
import { HTTP1 } from '../../protocol/http1/heads.js';
import { CloseMode, ConnectionEvent, type Connection } from '../../types/network.js';
import type { HeaderMap, Http1RequestHead, MessageDecoder } from '../../types/protocol.js';
import {
  StreamResetReason,
  type ServerStreamConnection,
  type ServerStreamConnectionOptions,
  type StreamFilterChainFactory,
  type StreamHandlerFactory,
} from '../../types/stream.js';
import { Http1ServerStream, type StreamOwner } from './server-stream.js';

const DEFAULT_MAX_PIPELINED = 16;

class Http1ServerConnection implements ServerStreamConnection, StreamOwner {
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
  #readPaused = false;
  #closed = false;
  #advancing = false;
  #advanceAgain = false;

  constructor(connection: Connection, options: ServerStreamConnectionOptions) {
    this.connection = connection;
    this.handlerFactory = options.handlerFactory;
    this.filters = options.filters ?? [];
    this.#maxPipelined = Math.max(1, options.maxPipelined ?? DEFAULT_MAX_PIPELINED);
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
  }

  get activeStreams(): number {
    return this.#streams.length;
  }

  get draining(): boolean {
    return this.#draining;
  }

  onData(data: Buffer, endOfStream: boolean): void {
    if (this.#closed) return;
    if (data.length > 0) this.#decoder.execute(data);
    if (endOfStream && !this.#peerEnded) {
      this.#peerEnded = true;
      this.#decoder.finish();
      this.#closeIfIdle();
    }
  }

  goAway(): void {
    this.#draining = true;
    this.#closeIfIdle();
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
    if (this.#draining) {
      // Nothing new is taken while draining; the connection closes after the streams before it.
      this.#stopDecoding();
      return;
    }
    const stream = new Http1ServerStream(this, this.#nextId++, head);
    this.#streams.push(stream);
    this.#decoding = endOfStream ? null : stream;
    stream.start(endOfStream);
    if (endOfStream && !head.keepAlive) this.#stopDecoding();
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
    stream?.complete(trailers);
    if (stream !== null && stream.request?.keepAlive === false) {
      // RFC 9112 §9.6: after a request that closes the connection nothing more is read or executed;
      // whatever the client pipelined behind it is dropped with the connection.
      this.#stopDecoding();
      return;
    }
    // Pipelining depth reached: stop between messages (never mid-body, which could deadlock a handler
    // waiting for the body) until responses catch up.
    if (this.#streams.length >= this.#maxPipelined && !this.#closed && !this.#readPaused) {
      this.#readPaused = true;
      this.#decoder.pause();
      this.connection.setReadEnabled(false);
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
          done.destroy();
          if (done.closesConnection) {
            this.#close(`stream ${done.id} ends the connection`);
            return;
          }
          streams[0]?.flushBuffered();
        }
        if (this.#readPaused && streams.length < this.#maxPipelined && !this.#closed) {
          this.#readPaused = false;
          this.connection.setReadEnabled(true);
          this.#decoder.resume(); // may open streams and answer them synchronously: loop again
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
    this.#decoder.destroy();
    const pending = this.#streams.splice(0);
    const decoding = this.#decoding;
    this.#decoding = null;
    for (const s of pending) s.resetByConnection(StreamResetReason.ConnectionClosed);
    if (decoding !== null) decoding.resetByConnection(StreamResetReason.ConnectionClosed);
  }
}

/** Builds the HTTP/1.x stream side of a downstream connection; the `proxy` filter feeds it bytes. */
export function createHttp1ServerStreamConnection(
  connection: Connection,
  options: ServerStreamConnectionOptions,
): ServerStreamConnection {
  return new Http1ServerConnection(connection, options);
}
