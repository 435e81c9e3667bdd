/**
 * The multiplexed upstream client of the X-protocol family (MOSN pkg/stream/xprotocol, client side):
 * one TCP connection to a host carrying up to `maxInFlight` requests at once. The upstream side of
 * the phase machine is the connection's `upstream.phase` actor: it owns the frame reader, the request
 * ids and the calls in flight, and every event reaches it as a message (UpstreamPhaseMsg) — the read
 * loop's bytes, the proxy's sends and resets, the connection's close, the pool's close and the
 * keepalive sweeper. A read is dispatched to it on the read loop's stack when it is idle (decoded
 * without a copy); a read that had to queue is copied first.
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
import type { RequestFrame } from '../../types/protocol.js';
import { ActorUpstreamStream, tellUpstreamRead } from '../../proxy/clients/actor-upstream-stream.js';
import type { StreamClient, UpstreamResponseReceiver, UpstreamStream } from '../../types/proxy.js';
import type { UpstreamClientEvents } from '../../types/upstream.js';
import type { ActorRef, RunLoop, UpstreamPhaseMsg } from '../../types/actor.js';
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
    c.keepaliveDue(this.now);
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
  /** The worker's run loop (the client's actor runs there). */
  readonly runLoop: RunLoop;
}

export class XClientConnection implements StreamClient {
  readonly capacity: number;
  readonly #socket: XTransport;
  readonly #codec: XProtocolCodec;
  readonly #events: UpstreamClientEvents;
  readonly #reader: FrameReader;
  readonly #runLoop: RunLoop;
  readonly #ref: ActorRef<UpstreamPhaseMsg>;
  /**
   * Streams by their number on this client, from the pool's lease (newStream) until they end — the
   * one piece of state set outside the actor: a lease must count before any message of it.
   */
  readonly #leased = new Map<number, XClientStream>();
  #seq = 0;
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
    this.#runLoop = opts.runLoop;
    this.#ref = opts.runLoop.spawn<UpstreamPhaseMsg>('upstream.phase', {
      receive: (m) => this.#receive(m),
      crashed: (err) => this.#crashed(err),
    });
    if (this.keepaliveCheckMs > 0) keepalives.add(this);
  }

  get available(): boolean {
    return !this.#closed && !this.#goneAway && this.#leased.size < this.capacity;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  newStream(receiver: UpstreamResponseReceiver): UpstreamStream {
    const stream = new XClientStream(this.#ref, ++this.#seq, receiver);
    this.#leased.set(stream.seq, stream);
    return stream;
  }

  /** The pool closes the connection. */
  close(reason: string): void {
    if (!this.#closed) this.#ref.tell({ k: 'close', reason });
  }

  // ── from the connection (read loop, events) and the keepalive sweeper: tells ──

  /** @internal a read; the bytes are valid only during the call (copied when the message queues). */
  onRead(data: Buffer, endOfStream: boolean): void {
    if (this.#closed) return;
    tellUpstreamRead(this.#ref, data, endOfStream);
  }

  /** @internal */
  onTransportClosed(reason: string): void {
    if (!this.#closed) this.#ref.tell({ k: 'closed', reason });
  }

  /** @internal the sweeper found the connection silent for a keepalive interval. */
  keepaliveDue(now: number): void {
    if (!this.#closed) this.#ref.tell({ k: 'keepalive-due', now });
  }

  // ── the upstream.phase actor ──

  #receive(msg: UpstreamPhaseMsg): void {
    switch (msg.k) {
      case 'bytes':
        msg.taken = true;
        if (this.#closed) return;
        this.#lastRead = keepalives.now;
        this.#reader.feed(msg.data);
        return;
      case 'eof':
        this.#close('upstream closed the connection');
        return;
      case 'closed':
      case 'close':
        this.#close(msg.reason);
        return;
      case 'keepalive-due':
        this.#onKeepaliveDue(msg.now);
        return;
      case 'send-head':
        msg.taken = true;
        this.#leased.get(msg.stream)?.head(msg.head, msg.body, msg.eos, this);
        return;
      case 'send-data':
        msg.taken = true;
        this.#leased.get(msg.stream)?.data(msg.chunk, msg.eos, this);
        return;
      case 'send-trailers':
        this.#leased.get(msg.stream)?.data(EMPTY, true, this);
        return;
      case 'reset': {
        const s = this.#leased.get(msg.stream);
        if (s !== undefined) this.#forget(s);
        return;
      }
      case 'receiving':
      case 'ready-timeout':
        return; // an X-protocol call is one frame each way: no per-stream flow control, no start-up deadline
    }
  }

  #close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    keepalives.remove(this);
    this.#reader.destroy();
    this.#socket.destroy(reason);
    // Every request waiting on this connection fails now, not at its timeout.
    const pending = [...this.#leased.values()];
    this.#leased.clear();
    this.#inFlight.clear();
    const err = new RingsideError('UPSTREAM_RESET', 'upstream', reason);
    try {
      for (const s of pending) s.cut(err);
    } finally {
      // Even when a receiver throws on the cut, the actor stops and the pool forgets the connection.
      this.#runLoop.stop(this.#ref);
      this.#events.onClose(reason);
    }
  }

  /** Supervision: the actor threw (the codec, a receiver); every call on the connection is cut and it is reset. */
  #crashed(err: unknown): void {
    this.#close(`upstream client crashed: ${err instanceof Error ? err.message : String(err)}`);
  }

  /** A stream ended (answered, cut, abandoned): its lease ends. */
  #done(stream: XClientStream): void {
    if (!this.#leased.delete(stream.seq)) return;
    if (!this.#closed) this.#events.onIdle();
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

  /** @internal (in the actor) a whole request is ready: id, register, one write. */
  send(stream: XClientStream, frame: XRequest): void {
    if (this.#closed) {
      stream.cut(new RingsideError('UPSTREAM_RESET', 'upstream', 'upstream connection closed before the request went out'));
      this.#done(stream);
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
      this.#done(stream);
    }
  }

  /** @internal (in the actor) the stream cannot be sent (not a frame of this protocol): its lease ends. */
  refuse(stream: XClientStream, err: RingsideError): void {
    stream.cut(err);
    this.#done(stream);
  }

  /** The stream was abandoned (timeout, downstream gone): its id is freed, a late answer dropped. */
  #forget(stream: XClientStream): void {
    stream.end();
    if (stream.id !== 0 && this.#inFlight.get(stream.id) === stream) this.#inFlight.delete(stream.id);
    this.#done(stream);
    this.#closeIfGoneAway();
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
    this.#done(stream);
    this.#closeIfGoneAway();
  }

  #onDecodeError(r: FrameErrorResult): void {
    const pending = [...this.#inFlight.values()];
    this.#inFlight.clear();
    const err = new RingsideError('UPSTREAM_BAD_RESPONSE', 'upstream', r.error.message, { cause: r.error, retryable: false });
    for (const s of pending) s.cut(err);
    this.#close(`upstream sent bytes ${this.#codec.name} cannot decode: ${r.error.message}`);
  }

  #closeIfGoneAway(): void {
    if (this.#goneAway && this.#inFlight.size === 0) this.#close('upstream sent goaway');
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

  /** Nothing read for a keepalive interval: probe, or close when silent past deadAfterMs. */
  #onKeepaliveDue(now: number): void {
    if (this.#closed) return;
    const k = this.#keepalive;
    if (k.deadAfterMs > 0 && now - this.#lastRead >= k.deadAfterMs) {
      deadConnections.inc();
      this.#close(`no answer from the upstream for ${k.deadAfterMs} ms`);
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

/**
 * One request on an XClientConnection. The proxy's calls become messages to the client's actor; the
 * actor calls back here to gather the request and to deliver the answer to the receiver.
 */
class XClientStream extends ActorUpstreamStream {
  /** The id on the upstream connection; 0 until sent. */
  id = 0;
  #head: XRequest | null = null;
  #parts: Buffer[] | null = null;
  #ended = false;

  // ── called by the client's actor ──

  head(head: RequestFrame, body: Buffer | null, endOfStream: boolean, client: XClientConnection): void {
    if (this.#ended) return;
    const frame = head as XRequest;
    if (frame.kind !== 'request') {
      client.refuse(this, new RingsideError('BAD_REQUEST', 'internal', `a ${head.protocol} request cannot travel on this upstream connection`, { retryable: false }));
      return;
    }
    if (body !== null && body.length > 0) frame.content = body;
    if (endOfStream) client.send(this, frame);
    else {
      this.#head = frame;
      this.#parts = [];
    }
  }

  data(chunk: Buffer, endOfStream: boolean, client: XClientConnection): void {
    const head = this.#head;
    if (head === null || this.#ended) return;
    if (chunk.length > 0) this.#parts!.push(Buffer.from(chunk));
    if (!endOfStream) return;
    const parts = this.#parts!;
    this.#head = null;
    this.#parts = null;
    if (parts.length > 0) head.content = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    client.send(this, head);
  }

  /** Abandoned: nothing more happens on it. */
  end(): void {
    this.#ended = true;
  }

  /** The answer (a oneway call's made-up success is not `received`). */
  answer(response: XResponse, _received: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    if (!this.abandoned) this.receiver.onUpstreamHead(response, true);
  }

  /** The request fails without an answer. */
  cut(err: RingsideError): void {
    if (this.#ended) return;
    this.#ended = true;
    if (!this.abandoned) this.receiver.onUpstreamError(err, false);
  }
}
