/**
 * The HTTP/2 ServerStreamConnection (h2c with prior knowledge): one per downstream connection, fed
 * by the `proxy` read filter. Ringside's HTTP/2 engine (src/protocol/http2) speaks the protocol;
 * this class maps its streams to Ringside streams by id, each handed to a StreamHandler (the proxy's
 * phase machine) once its head passed the receiver filters. Many streams run at once; a drain sends
 * GOAWAY and the connection closes when the streams it took are answered.
 *
 *   connection.read ─(proxy filter: bytes)─▶ downstream.codec ─ engine ─▶ streams ─▶ proxy.downstream
 *   engine timers, drain, the connection's close ─(tell)─▶ downstream.codec
 *
 * The engine and the stream map belong to the connection's `downstream.codec` actor: every input
 * that is not a stream's own response reaches it as a message (DownstreamCodecMsg), so a deadline
 * that fires while the actor is busy waits its turn behind the bytes read before it, and one that
 * fires after the actor stopped is a dead letter. A read is dispatched on the read loop's stack when
 * the actor is idle (the read buffer is decoded without a copy); a read that had to queue is copied
 * and the connection stops reading until it was handled.
 */
import type { RingsideError } from '../../common/errors.js';
import { threadRunLoop } from '../../actor/run-loop.js';
import { Http2Connection } from '../../protocol/http2/connection.js';
import { encodeGoaway } from '../../protocol/http2/frames.js';
import { HTTP2, requestFromFields } from '../../protocol/http2/heads.js';
import type { ActorRef, DownstreamCodecMsg } from '../../types/actor.js';
import { CloseMode, ConnectionEvent, type Connection } from '../../types/network.js';
import { Http2ErrorCode, type Http2ConnectionHandler, type Http2Deadline, type Http2Settings } from '../../types/http2.js';
import {
  StreamResetReason,
  type PendingBudget,
  type ServerStreamConnection,
  type ServerStreamConnectionOptions,
  type StreamFilterChainFactory,
  type StreamHandlerFactory,
} from '../../types/stream.js';
import { Http2ServerStream, type Http2StreamOwner } from './server-stream.js';

/** The engine settings of a listener: ringside.http2, with the header limit from ringside.limits when unset. */
export function serverSettings(options: ServerStreamConnectionOptions): Partial<Http2Settings> {
  const headerBytes = options.limits?.maxHeaderBytes;
  return { ...(headerBytes !== undefined ? { maxHeaderListSize: headerBytes } : {}), ...options.http2 };
}

class Http2ServerConnection implements ServerStreamConnection, Http2StreamOwner, Http2ConnectionHandler {
  readonly protocol = HTTP2;
  readonly connection: Connection;
  readonly engine: Http2Connection;
  readonly handlerFactory: StreamHandlerFactory;
  readonly filters: readonly StreamFilterChainFactory[];
  readonly #streams = new Map<number, Http2ServerStream>();
  readonly #budget: PendingBudget | undefined;
  readonly #drain: ServerStreamConnectionOptions['drain'];
  readonly #ref: ActorRef<DownstreamCodecMsg>;
  #closed = false;
  /** A read waits in the actor's mailbox: the connection does not read until it was handled. */
  #readPaused = false;

  constructor(connection: Connection, options: ServerStreamConnectionOptions) {
    this.connection = connection;
    this.handlerFactory = options.handlerFactory;
    this.filters = options.filters ?? [];
    this.#budget = options.pendingBudget;
    this.#drain = options.drain;
    this.#ref = threadRunLoop().spawn<DownstreamCodecMsg>('downstream.codec', {
      receive: (m) => this.#receive(m),
      crashed: (err) => this.#crashed(err),
    });
    this.engine = new Http2Connection({
      role: 'server',
      settings: serverSettings(options),
      handler: this,
      transport: {
        write: (data) => connection.write(data),
        close: (reason) => connection.close(CloseMode.FlushWrite, reason),
      },
    });
    connection.addEventListener((event, reason) => {
      if ((event === ConnectionEvent.RemoteClose || event === ConnectionEvent.LocalClose) && !this.#closed) this.#ref.tell({ k: 'closed', reason: reason ?? 'connection closed' });
    });
    this.#drain?.add(this);
    this.engine.start();
  }

  get activeStreams(): number {
    return this.#streams.size;
  }

  // ── inputs: tells to the downstream.codec actor ──

  onData(data: Buffer, endOfStream: boolean): void {
    if (this.#closed) return;
    const msg: DownstreamCodecMsg = { k: 'bytes', data, eos: endOfStream, taken: false };
    this.#ref.tell(msg);
    if (!msg.taken && this.#ref.alive) {
      // Queued: the read buffer is the read loop's and will be reused.
      msg.data = Buffer.from(data);
      if (!this.#readPaused) {
        this.#readPaused = true;
        this.connection.setReadEnabled(false);
      }
    }
  }

  goAway(): void {
    if (!this.#closed) this.#ref.tell({ k: 'go-away' });
  }

  abort(error: RingsideError): void {
    if (!this.#closed) this.#ref.tell({ k: 'abort', reason: `internal error: ${error.message}` });
  }

  /** Http2ConnectionHandler: the engine's timers only tell; after the actor stopped this is a dead letter. */
  onDeadline(deadline: Http2Deadline, armed: number): void {
    this.#ref.tell({ k: 'engine-deadline', deadline, armed });
  }

  // ── the downstream.codec actor ──

  #receive(msg: DownstreamCodecMsg): void {
    switch (msg.k) {
      case 'bytes':
        msg.taken = true;
        if (this.#readPaused) {
          this.#readPaused = false;
          this.connection.setReadEnabled(true);
        }
        if (this.#closed) return;
        if (msg.data.length > 0) this.engine.execute(msg.data);
        // An HTTP/2 client that half-closes sends nothing more: answer what it asked, then close.
        if (msg.eos) this.engine.shutdown('peer closed its side');
        return;
      case 'engine-deadline':
        this.engine.expire(msg.deadline, msg.armed);
        return;
      case 'go-away':
        this.engine.shutdown('draining');
        return;
      case 'abort':
        this.engine.close(Http2ErrorCode.InternalError, msg.reason);
        return;
      case 'closed':
        this.engine.transportClosed(msg.reason);
        return;
    }
  }

  /**
   * Supervision: the actor threw (the engine, a receiver filter, a handler on its stack) and was
   * stopped. Its engine is not called again — its state cannot be trusted, and a deadline it had
   * armed becomes a dead letter when it fires. The peer gets GOAWAY(INTERNAL_ERROR) naming the last
   * stream it opened, every Ringside stream is reset (their phase machines cancel upstream), and
   * the connection closes once the GOAWAY is written.
   */
  #crashed(err: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    const reason = `internal error: ${err instanceof Error ? err.message : String(err)}`;
    this.connection.write(encodeGoaway(this.engine.lastPeerStreamId, Http2ErrorCode.InternalError, 'internal error'));
    this.connection.close(CloseMode.FlushWrite, reason);
    this.#connectionGone();
  }

  // ── Http2ConnectionHandler ──

  onStreamHeaders(id: number, fields: string[], endStream: boolean): void {
    const existing = this.#streams.get(id);
    if (existing !== undefined) {
      existing.trailers(fields);
      return;
    }
    const stream = new Http2ServerStream(this, requestFromFields(id, fields));
    this.#streams.set(id, stream);
    const budget = this.#budget;
    if (budget !== undefined && budget.held >= budget.max) {
      budget.refused++;
      stream.sendLocalReply(503, undefined, `Service Unavailable: listener ${budget.listenerName} holds its max_pending_requests (${budget.max}) requests\n`);
      return;
    }
    if (budget !== undefined) {
      budget.held++;
      stream.holdsSlot = true;
    }
    stream.start(endStream);
  }

  onStreamData(id: number, data: Buffer, endStream: boolean): void {
    this.#streams.get(id)?.data(data, endStream);
  }

  onStreamReset(id: number, _code: number, byPeer: boolean): void {
    this.#streams.get(id)?.resetByPeer(byPeer && !this.engine.closed ? StreamResetReason.RemoteReset : StreamResetReason.ConnectionClosed);
  }

  onStreamWritable(id: number): void {
    this.#streams.get(id)?.writable();
  }

  onConnectionClosed(): void {
    if (this.#closed) return;
    threadRunLoop().stop(this.#ref);
    this.#connectionGone();
  }

  #connectionGone(): void {
    this.#closed = true;
    this.#drain?.delete(this);
    for (const s of [...this.#streams.values()]) s.resetByPeer(StreamResetReason.ConnectionClosed);
  }

  // ── Http2StreamOwner ──

  streamDone(stream: Http2ServerStream): void {
    if (this.#streams.get(stream.id) !== stream) return;
    this.#streams.delete(stream.id);
    if (stream.holdsSlot) {
      stream.holdsSlot = false;
      this.#budget!.held--;
    }
  }
}

/** Builds the HTTP/2 stream side of a downstream connection; the `proxy` filter feeds it bytes. */
export function createHttp2ServerStreamConnection(connection: Connection, options: ServerStreamConnectionOptions): ServerStreamConnection {
  return new Http2ServerConnection(connection, options);
}
