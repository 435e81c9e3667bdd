/**
 * The multiplexed upstream client of the X-protocol family (MOSN pkg/stream/xprotocol, client side):
 * one TCP connection to a host carrying up to `maxInFlight` requests at once.
 *
 *   newStream ─▶ sendHead: a fresh id from this connection's counter ─▶ in-flight map ─▶ one write
 *   bytes ─▶ FrameReader ─▶ response: matched by id ─▶ receiver (unknown ids dropped and counted)
 *                        ─▶ heartbeat from the upstream ─▶ answered here
 *                        ─▶ goaway ─▶ no new request; closes once the in-flight ones are answered
 *   connection lost ─▶ every request in flight fails at once with UPSTREAM_RESET
 *   keepalive: silent for intervalMs ─▶ a heartbeat; silent for deadAfterMs ─▶ closed as dead
 *
 * Request ids: 1, 2, … up to the codec's maxRequestId, then 1 again, skipping ids still in flight
 * (a counter that wrapped to an id still waiting for its answer would pair the wrong reply — the
 * overflow MOSN once had). A abandoned request's late reply is an unknown id, dropped.
 */
import { RingsideError } from '../../common/errors.js';
import { counter } from '../../common/counters.js';
import { CoarseSweeper } from '../../common/coarse-sweeper.js';
import type { HeaderMap, RequestFrame } from '../../types/protocol.js';
import type { StreamClient, UpstreamResponseReceiver, UpstreamStream } from '../../types/proxy.js';
import type { UpstreamClientEvents } from '../../types/upstream.js';
import { XCommand, type XFrame, type XKeepalive, type XProtocolCodec, type XRequest, type XResponse, type XStreamLimits } from '../../types/xprotocol.js';
import { FrameReader, type FrameErrorResult } from '../../protocol/xprotocol/frame-reader.js';

const unknownIds = counter('xprotocol.upstream.unknown_response_ids');
const heartbeatsSent = counter('xprotocol.upstream.heartbeats_sent');
const heartbeatsAnswered = counter('xprotocol.upstream.heartbeats_answered');
const deadConnections = counter('xprotocol.upstream.dead_connections');
const goAways = counter('xprotocol.upstream.goaways');

const EMPTY = Buffer.alloc(0);

/** One sweeper per worker walks every upstream X-protocol connection for keepalive. */
class KeepaliveSweeper extends CoarseSweeper<XClientConnection> {
  protected since(c: XClientConnection): number {
    return c.keepaliveSince;
  }
  protected timeoutMs(c: XClientConnection): number {
    return c.keepaliveCheckMs;
  }
  protected expire(c: XClientConnection): void {
    c.onKeepaliveDue(this.now);
  }
}
const keepalives = new KeepaliveSweeper();

/** The connection an XClientConnection writes to: the dialer's (its write loop batches a tick's writes). */
export interface XTransport {
  write(data: Buffer): void;
  /** Closes at once; no event of the transport reaches the client afterwards that matters. */
  destroy(reason: string): void;
}

export interface XClientOptions {
  readonly limits: XStreamLimits;
  readonly keepalive: XKeepalive;
  /** The id the first request takes (tests start near the top to see the counter wrap). */
  readonly firstRequestId?: number;
}

export class XClientConnection implements StreamClient {
  readonly capacity: number;
  readonly #socket: XTransport;
  readonly #codec: XProtocolCodec;
  readonly #events: UpstreamClientEvents;
  readonly #reader: FrameReader;
  readonly #inFlight = new Map<number, XClientStream>();
  /** Ids of heartbeats sent and not yet answered. */
  readonly #pings = new Set<number>();
  readonly #keepalive: XKeepalive;
  #lastId: number;
  #closed = false;
  #goneAway = false;
  /** Coarse time of the last byte read (keepalive). */
  #lastRead: number;
  #lastPing = 0;

  constructor(socket: XTransport, codec: XProtocolCodec, events: UpstreamClientEvents, opts: XClientOptions) {
    this.#socket = socket;
    this.#codec = codec.session?.('client') ?? codec;
    this.#events = events;
    this.capacity = Math.max(1, opts.limits.maxInFlight);
    this.#keepalive = opts.keepalive;
    this.#lastId = (opts.firstRequestId ?? 1) - 1;
    this.#reader = new FrameReader(this.#codec, opts.limits, {
      onFrame: (f) => this.#onFrame(f),
      onDecodeError: (r) => this.#onDecodeError(r),
    });
    this.#lastRead = keepalives.now;
    if (this.keepaliveCheckMs > 0) keepalives.add(this);
  }

  get available(): boolean {
    return !this.#closed && !this.#goneAway && this.#inFlight.size < this.capacity;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  newStream(receiver: UpstreamResponseReceiver): UpstreamStream {
    return new XClientStream(this, receiver);
  }

  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    keepalives.remove(this);
    this.#reader.destroy();
    this.#socket.destroy(reason);
    // Every request waiting on this connection fails now, not at its timeout.
    const pending = [...this.#inFlight.values()];
    this.#inFlight.clear();
    const err = new RingsideError('UPSTREAM_RESET', 'upstream', reason);
    for (const s of pending) s.cut(err);
    this.#events.onClose(reason);
  }

  /** @internal from the socket's onread callback; the bytes are valid only during the call. */
  onBytes(buf: Buffer): void {
    if (this.#closed) return;
    this.#lastRead = keepalives.now;
    this.#reader.feed(buf);
  }

  // ── request ids ──
  #allocateId(): number {
    const max = this.#codec.maxRequestId;
    let id = this.#lastId;
    // At most capacity + pings ids are taken, far fewer than max: the loop ends within that many steps.
    do id = id >= max ? 1 : id + 1;
    while (this.#inFlight.has(id) || this.#pings.has(id));
    this.#lastId = id;
    return id;
  }

  /** @internal a whole request is ready: id, register, one write. */
  send(stream: XClientStream, frame: XRequest): void {
    if (this.#closed) {
      stream.cut(new RingsideError('UPSTREAM_RESET', 'upstream', 'upstream connection closed before the request went out'));
      return;
    }
    const id = this.#allocateId();
    frame.requestId = id;
    const oneway = frame.command === XCommand.Oneway;
    if (!oneway) {
      stream.id = id;
      this.#inFlight.set(id, stream);
    }
    this.#write(this.#codec.encode(frame));
    if (oneway) {
      // Nobody answers a oneway call: it is done once written.
      stream.answer(this.#codec.reply(frame, this.#codec.statusOfHttp(200)), false);
      this.#events.onIdle();
    }
  }

  /** @internal the stream was abandoned (timeout, downstream gone): its id is freed, a late answer dropped. */
  forget(stream: XClientStream): void {
    if (stream.id !== 0 && this.#inFlight.get(stream.id) === stream) {
      this.#inFlight.delete(stream.id);
      this.#events.onIdle();
      this.#closeIfGoneAway();
    }
  }

  #write(data: Buffer): void {
    if (!this.#closed) this.#socket.write(data);
  }

  // ── frames ──
  #onFrame(frame: XFrame): void {
    if (frame.kind === 'request') {
      if (frame.command === XCommand.Heartbeat) this.#write(this.#codec.encode(this.#codec.heartbeatReply(frame)));
      else if (frame.command === XCommand.GoAway) {
        goAways.inc();
        this.#goneAway = true;
        this.#closeIfGoneAway();
      } else unknownIds.inc(); // a call from the upstream: not something a client serves
      return;
    }
    const id = frame.requestId;
    if (this.#pings.delete(id)) {
      heartbeatsAnswered.inc();
      return;
    }
    const stream = this.#inFlight.get(id);
    if (stream === undefined) {
      unknownIds.inc();
      return;
    }
    this.#inFlight.delete(id);
    stream.answer(frame, true);
    this.#events.onIdle();
    this.#closeIfGoneAway();
  }

  #onDecodeError(r: FrameErrorResult): void {
    const pending = [...this.#inFlight.values()];
    this.#inFlight.clear();
    const err = new RingsideError('UPSTREAM_BAD_RESPONSE', 'upstream', r.error.message, { cause: r.error, retryable: false });
    for (const s of pending) s.cut(err);
    this.close(`upstream sent bytes ${this.#codec.name} cannot decode: ${r.error.message}`);
  }

  #closeIfGoneAway(): void {
    if (this.#goneAway && this.#inFlight.size === 0) this.close('upstream sent goaway');
  }

  // ── keepalive (driven by the per-worker sweeper) ──
  get keepaliveSince(): number {
    return Math.max(this.#lastRead, this.#lastPing);
  }

  get keepaliveCheckMs(): number {
    const k = this.#keepalive;
    if (k.intervalMs > 0) return k.deadAfterMs > 0 ? Math.min(k.intervalMs, k.deadAfterMs) : k.intervalMs;
    return k.deadAfterMs;
  }

  /** @internal nothing read for a keepalive interval: probe, or close when silent past deadAfterMs. */
  onKeepaliveDue(now: number): void {
    if (this.#closed) return;
    const k = this.#keepalive;
    if (k.deadAfterMs > 0 && now - this.#lastRead >= k.deadAfterMs) {
      deadConnections.inc();
      this.close(`no answer from the upstream for ${k.deadAfterMs} ms`);
      return;
    }
    if (k.intervalMs > 0) {
      const id = this.#allocateId();
      this.#pings.add(id);
      // Only the latest probe matters: older unanswered ones free their ids.
      if (this.#pings.size > 8) this.#pings.delete(this.#pings.values().next().value!);
      heartbeatsSent.inc();
      this.#write(this.#codec.encode(this.#codec.heartbeat(id)));
    }
    this.#lastPing = now;
    keepalives.add(this);
  }
}

/** One request on an XClientConnection. */
class XClientStream implements UpstreamStream {
  readonly #client: XClientConnection;
  readonly #receiver: UpstreamResponseReceiver;
  /** The id on the upstream connection; 0 until sent. */
  id = 0;
  #head: XRequest | null = null;
  #parts: Buffer[] | null = null;
  #ended = false;

  constructor(client: XClientConnection, receiver: UpstreamResponseReceiver) {
    this.#client = client;
    this.#receiver = receiver;
  }

  sendHead(head: RequestFrame, body: Buffer | null, endOfStream: boolean): void {
    const frame = head as XRequest;
    if (frame.kind !== 'request') {
      this.cut(new RingsideError('BAD_REQUEST', 'internal', `a ${head.protocol} request cannot travel on this upstream connection`, { retryable: false }));
      return;
    }
    if (body !== null && body.length > 0) frame.content = body;
    if (endOfStream) this.#client.send(this, frame);
    else {
      this.#head = frame;
      this.#parts = [];
    }
  }

  sendData(chunk: Buffer, endOfStream: boolean): void {
    const head = this.#head;
    if (head === null) return;
    if (chunk.length > 0) this.#parts!.push(Buffer.from(chunk));
    if (!endOfStream) return;
    const parts = this.#parts!;
    this.#head = null;
    this.#parts = null;
    if (parts.length > 0) head.content = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    this.#client.send(this, head);
  }

  sendTrailers(_trailers: HeaderMap): void {
    this.sendData(EMPTY, true);
  }

  reset(_reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#client.forget(this);
  }

  /** @internal the answer (a oneway call's made-up success is not `received`). */
  answer(response: XResponse, _received: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#receiver.onUpstreamHead(response, true);
  }

  /** @internal the request fails without an answer. */
  cut(err: RingsideError): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#receiver.onUpstreamError(err, false);
  }
}
