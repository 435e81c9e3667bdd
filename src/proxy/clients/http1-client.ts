/**
 * The HTTP/1.1 upstream client: one connection to a host carrying one request at a time, with the
 * HTTP/1.1 codec on top. Pools hand these out (src/upstream/pool.ts); the proxy opens one stream per
 * request.
 *
 *   dialer ─▶ ConnectionImpl ─ connection.read ─(bytes)─▶ upstream.phase ─ decoder ─▶ receiver (proxy)
 *   proxy ─(send-head/data/trailers, reset)─▶ upstream.phase ─ encoder ─▶ connection.write ─▶ socket
 *
 * The connection is the dialer's, the same abstraction accepted connections use, with its read-loop
 * and write-loop actors; the write loop sends what one turn queued as one write (a request's head and
 * the body right after it leave in one syscall). The upstream side of the phase machine is the
 * `upstream.phase` actor: it owns the response decoder and the stream in flight, and every event
 * reaches it as a message (UpstreamPhaseMsg) — from the read loop, the proxy, the connection's events
 * and the pool. A read is dispatched to it on the read loop's stack when it is idle, so the static
 * read buffer is decoded without a copy; a read that had to queue is copied first.
 *
 * Why our own client rather than undici: on the proxy path the request head was already decoded and
 * mutated by us, and the response must be re-encoded toward the downstream; going through undici's
 * objects and promises costs several µs per request (an undici forwarder measured 47 µs CPU/request
 * here against nginx's ~9).
 */
import { RingsideError } from '../../common/errors.js';
import { counter } from '../../common/counters.js';
import { threadRunLoop } from '../../actor/run-loop.js';
import { dialClient, hostTarget } from '../../network/connection/dialer.js';
import type { ConnectionImpl } from '../../network/connection/connection.js';
import { CloseMode, ConnectionEvent, FilterStatus } from '../../types/network.js';
import type { ClientTlsOptions, ReadFilter } from '../../types/network.js';
import type { ActorRef, RunLoop, UpstreamPhaseMsg } from '../../types/actor.js';
import { createHttp1RequestEncoder, createHttp1ResponseDecoder } from '../../protocol/http1/index.js';
import type { CodecLimits, HeaderMap, Http1ResponseHead, RequestFrame, ResponseDecoder } from '../../types/protocol.js';
import type { ConnectCallback, Host, UpstreamClientEvents } from '../../types/upstream.js';
import { ActorUpstreamStream, tellUpstreamRead } from './actor-upstream-stream.js';
import type { StreamClient, StreamClientFactory, UpstreamResponseReceiver, UpstreamStream } from '../../types/proxy.js';

const EMPTY = Buffer.alloc(0);
const connectFailures = counter('upstream.cx_connect_fail');
const connects = counter('upstream.cx_total');
const HTTP1_ALPN: readonly string[] = ['http/1.1'];

export interface Http1ClientFactoryOptions {
  /** Connect timeout for a host, in ms (the cluster's connect_timeout); 0 for the OS's. */
  connectTimeoutMs(host: Host): number;
  limits?: Partial<CodecLimits>;
  /** TLS toward a host (its cluster's tls_context), offering these ALPN ids unless it names its own; undefined: plain TCP. */
  tls?(host: Host, alpn?: readonly string[]): ClientTlsOptions | undefined;
  /** Defaults to this thread's run loop. */
  runLoop?: RunLoop;
}

export class Http1ClientFactory implements StreamClientFactory {
  readonly protocol = 'Http1';
  readonly #opts: Http1ClientFactoryOptions;

  constructor(opts: Http1ClientFactoryOptions) {
    this.#opts = opts;
  }

  connect(host: Host, events: UpstreamClientEvents, done: ConnectCallback): void {
    const runLoop = this.#opts.runLoop ?? threadRunLoop();
    const client = new Http1Client(events, this.#opts.limits, runLoop);
    dialClient(
      {
        target: hostTarget(host),
        name: host.clusterName,
        runLoop,
        connectTimeoutMs: this.#opts.connectTimeoutMs(host),
        tls: this.#opts.tls?.(host, HTTP1_ALPN),
        init: (conn, chain) => client.bind(conn, chain),
      },
      (err, conn) => {
        if (err !== undefined || conn === undefined) {
          connectFailures.inc();
          client.discard();
          done(err ?? new RingsideError('CONNECT_FAILED', 'upstream', `connect to ${host.address} failed`, { retryable: true }), undefined);
          return;
        }
        connects.inc();
        done(undefined, client);
      },
    );
  }
}

export class Http1Client implements StreamClient, ReadFilter {
  readonly capacity = 1;
  readonly #events: UpstreamClientEvents;
  readonly #runLoop: RunLoop;
  readonly #ref: ActorRef<UpstreamPhaseMsg>;
  #conn: ConnectionImpl | null = null;
  // Actor state (changed only in #receive), except #active: the pool's lease (newStream) must make
  // the client unavailable at once, before any message could be handled.
  readonly #decoder: ResponseDecoder;
  #active: Http1UpstreamStream | null = null;
  #streams = 0;
  #reusable = true;
  #closed = false;

  constructor(events: UpstreamClientEvents, limits: Partial<CodecLimits> | undefined, runLoop: RunLoop) {
    this.#events = events;
    this.#runLoop = runLoop;
    this.#decoder = createHttp1ResponseDecoder(
      {
        onHead: (head, end) => this.#active?.head(head, end),
        onBody: (_id, chunk, last) => this.#active?.data(chunk, last),
        onComplete: (_id, trailers) => this.#complete(trailers),
        onError: (err) => this.#fail(new RingsideError('UPSTREAM_BAD_RESPONSE', 'upstream', err.message, { cause: err })),
      },
      limits === undefined ? undefined : { limits },
    );
    this.#ref = runLoop.spawn<UpstreamPhaseMsg>('upstream.phase', {
      receive: (m) => this.#receive(m),
      crashed: (err) => this.#crashed(err),
    });
  }

  /** @internal the dialer's init: this client is the connection's read filter and hears its close. */
  bind(conn: ConnectionImpl, chain: { addReadFilter(f: ReadFilter): void }): void {
    this.#conn = conn;
    chain.addReadFilter(this);
    conn.addEventListener((event, reason) => {
      if ((event === ConnectionEvent.LocalClose || event === ConnectionEvent.RemoteClose) && !this.#closed) {
        this.#ref.tell({ k: 'closed', reason: reason ?? 'upstream connection closed' });
      }
    });
  }

  /** @internal the dial failed: the actor has nothing to serve. */
  discard(): void {
    this.#closed = true;
    this.#runLoop.stop(this.#ref);
  }

  get available(): boolean {
    return !this.#closed && this.#active === null && this.#reusable;
  }

  get closed(): boolean {
    return this.#closed;
  }

  newStream(receiver: UpstreamResponseReceiver): UpstreamStream {
    const stream = new Http1UpstreamStream(this.#ref, ++this.#streams, receiver);
    this.#active = stream;
    return stream;
  }

  close(reason: string): void {
    this.#ref.tell({ k: 'close', reason });
  }

  // ── ReadFilter (runs in the connection's read loop): bytes go to the upstream.phase actor ──

  initializeReadFilterCallbacks(): void {}

  onNewConnection(): FilterStatus {
    return FilterStatus.Continue;
  }

  onData(data: Buffer, endOfStream: boolean): FilterStatus {
    // At the upstream's half-close a body that runs until close ends; anything else in flight is cut.
    tellUpstreamRead(this.#ref, data, endOfStream);
    return FilterStatus.Stop;
  }

  // ── the upstream.phase actor ──

  #receive(msg: UpstreamPhaseMsg): void {
    switch (msg.k) {
      case 'bytes':
        msg.taken = true;
        if (this.#closed) return;
        if (this.#active === null) {
          // Bytes with no request outstanding: the upstream is out of step; never reuse this connection.
          this.#close('upstream sent bytes with no request outstanding');
          return;
        }
        this.#decoder.execute(msg.data);
        return;
      case 'eof':
        if (this.#closed) return;
        this.#decoder.finish();
        this.#close('upstream closed the connection');
        return;
      case 'send-head': {
        msg.taken = true;
        const s = this.#streamOf(msg.stream);
        if (s === null) return;
        this.#decoder.expect(msg.head);
        this.#write(s.encodeHead(msg.head, msg.body, msg.eos));
        return;
      }
      case 'send-data': {
        msg.taken = true;
        const s = this.#streamOf(msg.stream);
        if (s !== null) this.#write(s.encodeData(msg.chunk, msg.eos));
        return;
      }
      case 'send-trailers': {
        const s = this.#streamOf(msg.stream);
        if (s !== null) this.#write(s.encodeTrailers(msg.trailers));
        return;
      }
      case 'reset':
        // The proxy gave up on its stream (timeout, downstream gone): a half-read response makes the
        // connection unusable for another request.
        if (this.#streamOf(msg.stream) !== null) {
          this.#active = null;
          this.#close(msg.reason);
        }
        return;
      case 'closed':
      case 'close':
        this.#close(msg.reason);
        return;
      case 'receiving':
      case 'ready-timeout':
      case 'keepalive-due':
        return; // other clients' messages: an HTTP/1.1 stream has no flow control, start-up or keepalive of its own
    }
  }

  /** The active stream when `seq` is it; a late message of a stream that ended or was cut is dropped. */
  #streamOf(seq: number): Http1UpstreamStream | null {
    const s = this.#active;
    return s !== null && s.seq === seq && !this.#closed ? s : null;
  }

  #write(bytes: Buffer): void {
    if (bytes.length > 0) this.#conn?.write(bytes);
  }

  #close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#decoder.destroy();
    this.#conn?.close(CloseMode.NoFlush, reason);
    const active = this.#active;
    this.#active = null;
    try {
      active?.cut(new RingsideError('UPSTREAM_RESET', 'upstream', reason));
    } finally {
      // Even when the receiver throws on the cut (the crash that closed us, again), the actor stops
      // and the pool forgets this connection: a lease it still counted would hold a drain forever.
      this.#runLoop.stop(this.#ref);
      this.#events.onClose(reason);
    }
  }

  #complete(trailers: HeaderMap | null): void {
    const stream = this.#active;
    if (stream === null) return;
    this.#active = null;
    if (!stream.finish(trailers)) this.#reusable = false;
    if (!this.#reusable) this.#close('connection not reusable after this response');
    else this.#events.onIdle();
  }

  #fail(err: RingsideError): void {
    const stream = this.#active;
    this.#active = null;
    stream?.cut(err);
    this.#close(err.message);
  }

  /** Supervision: the actor threw (a receiver, the codec); the stream in flight is cut and the connection reset. */
  #crashed(err: unknown): void {
    const reason = `upstream client crashed: ${err instanceof Error ? err.message : String(err)}`;
    this.#close(reason);
  }
}

/**
 * One request on an Http1Client. The proxy's calls become messages to the client's actor; the actor
 * calls back here to encode and to deliver the response to the receiver.
 */
class Http1UpstreamStream extends ActorUpstreamStream {
  #encoder = createHttp1RequestEncoder();
  #headSeen = false;
  #endSignalled = false;
  #requestDone = false;
  #keepAlive = true;

  constructor(ref: ActorRef<UpstreamPhaseMsg>, seq: number, receiver: UpstreamResponseReceiver) {
    super(ref, seq, receiver);
  }

  // ── called by the client's actor ──

  encodeHead(head: RequestFrame, body: Buffer | null, endOfStream: boolean): Buffer {
    this.#requestDone = endOfStream;
    return this.#encoder.encodeHead(head, body, endOfStream);
  }

  encodeData(chunk: Buffer, endOfStream: boolean): Buffer {
    if (endOfStream) this.#requestDone = true;
    return this.#encoder.encodeData(chunk, endOfStream);
  }

  encodeTrailers(trailers: HeaderMap): Buffer {
    this.#requestDone = true;
    return this.#encoder.encodeTrailers(trailers);
  }

  head(head: Http1ResponseHead, endOfStream: boolean): void {
    this.#headSeen = true;
    this.#keepAlive = head.keepAlive && this.#encoder.keepAlive;
    if (endOfStream) this.#endSignalled = true;
    if (!this.abandoned) this.receiver.onUpstreamHead(head, endOfStream);
  }

  data(chunk: Buffer, last: boolean): void {
    if (last) this.#endSignalled = true;
    if (!this.abandoned) this.receiver.onUpstreamData(chunk, last);
  }

  /** Ends the response; answers whether the connection may carry another request. */
  finish(trailers: HeaderMap | null): boolean {
    if (this.abandoned) return false;
    if (trailers !== null && trailers.size > 0) this.receiver.onUpstreamTrailers(trailers);
    else if (!this.#endSignalled) this.receiver.onUpstreamData(EMPTY, true);
    // A response that ended before its request was fully sent leaves the connection mid-request.
    return this.#keepAlive && this.#requestDone;
  }

  cut(err: RingsideError): void {
    if (!this.abandoned) this.receiver.onUpstreamError(err, this.#headSeen);
  }
}
