/**
 * The multiplexed ServerStreamConnection of the X-protocol family (MOSN pkg/stream/xprotocol, server
 * side): one per downstream connection, for whichever XProtocolCodec the listener speaks.
 *
 *   bytes ─▶ FrameReader ─▶ request   ─▶ in-flight limit / listener budget? busy reply : XServerStream
 *                         ─▶ heartbeat ─▶ the codec's heartbeat reply, written here (never reaches the proxy)
 *                         ─▶ goaway    ─▶ counted; the peer is closing its side
 *                         ─▶ response  ─▶ dropped and counted (a server is not waiting for any)
 *                         ─▶ bad bytes ─▶ the codec-error status under the frame's id when it had
 *                                         one, then the connection closes; other connections carry on
 *
 * Many requests are in flight at once; each answer leaves when it is ready, under the id the
 * downstream gave its request.
 */
import { RingsideError } from '../../common/errors.js';
import { counter } from '../../common/counters.js';
import { CloseMode, ConnectionEvent, type Connection } from '../../types/network.js';
import {
  StreamResetReason,
  type PendingBudget,
  type ServerStreamConnection,
  type ServerStreamConnectionOptions,
  type StreamFilterChainFactory,
  type StreamHandlerFactory,
} from '../../types/stream.js';
import { XCommand, type XFrame, type XProtocolCodec, type XResponse } from '../../types/xprotocol.js';
import { FrameReader, type FrameErrorResult } from '../../protocol/xprotocol/frame-reader.js';
import { xErrorReply, xLimitsOf } from '../../protocol/xprotocol/codec.js';
import { XServerStream, type XStreamOwner } from './server-stream.js';

const heartbeatsAnswered = counter('xprotocol.downstream.heartbeats');
const busyReplies = counter('xprotocol.downstream.busy');
const codecErrors = counter('xprotocol.downstream.codec_errors');
const strayFrames = counter('xprotocol.downstream.stray_frames');

/** Requests one downstream connection carries at once unless configured otherwise. */
export const DEFAULT_MAX_IN_FLIGHT = 1024;

export interface XServerOptions extends ServerStreamConnectionOptions {
  /** Requests in flight on one connection; more are answered with the busy status. */
  readonly maxInFlight?: number;
}

class XServerConnection implements ServerStreamConnection, XStreamOwner {
  readonly connection: Connection;
  readonly codec: XProtocolCodec;
  readonly handlerFactory: StreamHandlerFactory;
  readonly filters: readonly StreamFilterChainFactory[];
  readonly #reader: FrameReader;
  readonly #streams = new Set<XServerStream>();
  readonly #maxInFlight: number;
  readonly #budget: PendingBudget | undefined;
  readonly #drain: ServerStreamConnectionOptions['drain'];
  #nextId = 1;
  #draining = false;
  #peerEnded = false;
  #closed = false;

  constructor(codec: XProtocolCodec, connection: Connection, options: XServerOptions) {
    this.codec = codec.session?.('server') ?? codec;
    this.connection = connection;
    this.handlerFactory = options.handlerFactory;
    this.filters = options.filters ?? [];
    this.#maxInFlight = Math.max(1, options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
    this.#budget = options.pendingBudget;
    this.#drain = options.drain;
    this.#reader = new FrameReader(this.codec, xLimitsOf(options.limits), {
      onFrame: (f) => this.#onFrame(f),
      onDecodeError: (r) => this.#onDecodeError(r),
    });
    connection.addEventListener((event, reason) => {
      if (event === ConnectionEvent.RemoteClose || event === ConnectionEvent.LocalClose) this.#onClosed(reason);
    });
    this.#drain?.add(this);
  }

  get protocol(): string {
    return this.codec.name;
  }

  get activeStreams(): number {
    return this.#streams.size;
  }

  onData(data: Buffer, endOfStream: boolean): void {
    if (this.#closed) return;
    if (data.length > 0) this.#reader.feed(data);
    if (endOfStream && !this.#peerEnded) {
      // The peer sent all it will; what it asked for is still answered before the close.
      this.#peerEnded = true;
      this.#reader.destroy();
      this.#closeIfIdle();
    }
  }

  /**
   * Drain: no new request is taken (those that arrive are answered busy), the connection closes once
   * the ones in flight are answered. No goaway frame is sent: SOFARPC clients do not know MOSN's
   * cmd code 100 (MOSN sends it only when enable_bolt_goaway is set).
   */
  goAway(): void {
    if (this.#draining || this.#closed) return;
    this.#draining = true;
    this.#closeIfIdle();
  }

  abort(error: RingsideError): void {
    if (this.#closed) return;
    this.#reader.destroy();
    // Every request in flight gets the internal-error status; then the connection closes.
    for (const s of [...this.#streams]) {
      if (!s.headersSent) this.write(xErrorReply(this.codec, s.request, error), s.downstreamId);
    }
    this.#close(`aborted: ${error.message}`);
  }

  // ── XStreamOwner ──
  write(frame: XResponse, id?: number): void {
    if (this.#closed) return;
    if (id !== undefined) frame.requestId = id;
    this.connection.write(this.codec.encode(frame));
  }

  streamDone(stream: XServerStream): void {
    if (!this.#streams.delete(stream)) return;
    this.#release(stream);
    this.#closeIfIdle();
  }

  // ── frames ──
  #onFrame(frame: XFrame): void {
    if (this.#closed) return;
    if (frame.kind === 'response') {
      strayFrames.inc();
      return;
    }
    switch (frame.command) {
      case XCommand.Heartbeat:
        heartbeatsAnswered.inc();
        this.write(this.codec.heartbeatReply(frame));
        return;
      case XCommand.GoAway:
        strayFrames.inc();
        return;
      default:
        break;
    }
    const budget = this.#budget;
    if (this.#draining || this.#streams.size >= this.#maxInFlight || (budget !== undefined && budget.held >= budget.max)) {
      // Overload or shutdown: answered at once with the protocol's busy status, never held.
      busyReplies.inc();
      if (budget !== undefined && budget.held >= budget.max) budget.refused++;
      if (frame.command !== XCommand.Oneway) {
        const why = this.#draining ? 'the listener is draining' : `${this.#streams.size} requests in flight on this connection`;
        const reply = xErrorReply(this.codec, frame, new RingsideError('OVERFLOW', 'internal', why));
        this.write(reply);
      }
      return;
    }
    const stream = new XServerStream(this, this.#nextId++, frame);
    this.#streams.add(stream);
    if (budget !== undefined) {
      budget.held++;
      stream.holdsSlot = true;
    }
    stream.start();
  }

  #onDecodeError(r: FrameErrorResult): void {
    codecErrors.inc();
    if (r.requestId !== undefined && r.request) {
      const reply = xErrorReply(this.codec, null, r.error);
      this.write(reply, r.requestId);
    }
    this.#close(`${this.codec.name}: ${r.error.message}`);
  }

  #closeIfIdle(): void {
    if (this.#closed || this.#streams.size > 0) return;
    if (this.#peerEnded || this.#draining) this.#close(this.#draining ? 'drained' : 'downstream finished');
  }

  #close(reason: string): void {
    if (this.#closed) return;
    this.#resetAll();
    this.connection.close(CloseMode.FlushWrite, reason);
  }

  #onClosed(_reason: string | undefined): void {
    if (this.#closed) return;
    this.#resetAll();
  }

  #resetAll(): void {
    this.#closed = true;
    this.#drain?.delete(this);
    this.#reader.destroy();
    const streams = [...this.#streams];
    this.#streams.clear();
    for (const s of streams) {
      this.#release(s);
      s.resetByConnection(StreamResetReason.ConnectionClosed);
    }
  }

  #release(stream: XServerStream): void {
    if (!stream.holdsSlot) return;
    stream.holdsSlot = false;
    this.#budget!.held--;
  }
}

/** The server stream connection factory of one X-protocol codec (registered under its name). */
export function xprotocolServerFactory(codec: XProtocolCodec, maxInFlight?: number) {
  return (connection: Connection, options: ServerStreamConnectionOptions): ServerStreamConnection =>
    new XServerConnection(codec, connection, maxInFlight === undefined ? options : { ...options, maxInFlight });
}
