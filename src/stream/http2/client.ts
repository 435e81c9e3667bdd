/**
 * The HTTP/2 upstream client (h2c with prior knowledge, or h2 over TLS): one connection to a host
 * carrying many requests at once, one HTTP/2 stream each, on Ringside's own HTTP/2 engine. The
 * host's pool hands it out up to the peer's SETTINGS_MAX_CONCURRENT_STREAMS at once (its
 * `capacity`), and dials another connection when every stream slot is taken.
 *
 *   dialer ─▶ ConnectionImpl ─ connection.read ─(bytes)─▶ upstream.phase ─ engine ─▶ streams ─▶ receivers (proxy)
 *   proxy ─(send-head/data/trailers, reset, receiving)─▶ upstream.phase ─ engine ─▶ connection.write
 *
 * The upstream side of the phase machine is the connection's `upstream.phase` actor: it owns the
 * engine and every stream on it, and every event reaches it as a message (UpstreamPhaseMsg) — the
 * read loop's bytes, the proxy's sends and resets, the connection's close, the pool's close and the
 * SETTINGS deadline. A read is dispatched to it on the read loop's stack when it is idle, so the
 * static read buffer is decoded without a copy; a read that had to queue is copied first.
 *
 * A stream the server refused (REFUSED_STREAM, or above the last stream id of its GOAWAY) was never
 * processed, so its error is retryable; a connection that goes away fails its streams as
 * UPSTREAM_RESET.
 */
import { RingsideError } from '../../common/errors.js';
import { counter } from '../../common/counters.js';
import { dialClient, hostTarget } from '../../network/connection/dialer.js';
import type { ConnectionImpl } from '../../network/connection/connection.js';
import { threadRunLoop } from '../../actor/run-loop.js';
import { CloseMode, ConnectionEvent, FilterStatus } from '../../types/network.js';
import type { ActorRef, RunLoop, UpstreamPhaseMsg } from '../../types/actor.js';
import type { ClientTlsOptions, ReadFilter } from '../../types/network.js';
import { Headers } from '../../protocol/headers.js';
import { CONNECTION_GONE, Http2Connection } from '../../protocol/http2/connection.js';
import { errorCodeName } from '../../protocol/http2/errors.js';
import { HTTP2, requestFields, responseFromFields, trailerFields } from '../../protocol/http2/heads.js';
import { Http2ErrorCode, type Http2ConnectionHandler, type Http2Deadline, type Http2Settings } from '../../types/http2.js';
import type { CodecLimits, HeaderMap } from '../../types/protocol.js';
import type { ConnectCallback, Host, UpstreamClientEvents } from '../../types/upstream.js';
import { ActorUpstreamStream, tellUpstreamRead } from '../../proxy/clients/actor-upstream-stream.js';
import type { StreamClient, StreamClientFactory, UpstreamResponseReceiver, UpstreamStream } from '../../types/proxy.js';
import type { StreamFlowControl } from '../../types/stream.js';

const connectFailures = counter('upstream.cx_connect_fail');
const connects = counter('upstream.cx_total');
const refused = counter('upstream.http2.refused_streams');
const H2_ALPN: readonly string[] = ['h2'];
const READY_TIMEOUT: UpstreamPhaseMsg = { k: 'ready-timeout' };

export interface Http2ClientFactoryOptions {
  connectTimeoutMs(host: Host): number;
  limits?: Partial<CodecLimits>;
  /** The worker's run loop (the connection's actors and the client's run there); default the thread's. */
  runLoop?: RunLoop;
  /** ringside.http2 (our side's limits and windows toward upstreams). */
  http2?: Partial<Http2Settings>;
  /** TLS toward a host (its cluster's tls_context), offering ALPN h2 unless it names its own. */
  tls?(host: Host, alpn?: readonly string[]): ClientTlsOptions | undefined;
  /** The host's cluster's `http2` overrides, if any. */
  http2Of?(host: Host): Partial<Http2Settings> | undefined;
}

export class Http2ClientFactory implements StreamClientFactory {
  readonly protocol = HTTP2;
  readonly #opts: Http2ClientFactoryOptions;

  constructor(opts: Http2ClientFactoryOptions) {
    this.#opts = opts;
  }

  connect(host: Host, events: UpstreamClientEvents, done: ConnectCallback): void {
    // The connection is the dialer's: its read loop tells each read to the client's actor, its
    // write loop sends what one tick queued as one write.
    let client: Http2Client | null = null;
    const timeoutMs = this.#opts.connectTimeoutMs(host);
    const runLoop = this.#opts.runLoop ?? threadRunLoop();
    const init = (conn: ConnectionImpl, chain: { addReadFilter(f: ReadFilter): void }): void => {
      chain.addReadFilter({
        initializeReadFilterCallbacks() {},
        onNewConnection: () => FilterStatus.Continue,
        onData: (data, endOfStream) => {
          client?.onRead(data, endOfStream);
          return FilterStatus.Stop;
        },
      });
      conn.addEventListener((event, reason) => {
        if (event === ConnectionEvent.LocalClose || event === ConnectionEvent.RemoteClose) client?.onTransportClosed(`upstream connection closed${reason !== undefined ? `: ${reason}` : ''}`);
      });
    };
    dialClient({ target: hostTarget(host), name: host.clusterName, runLoop, connectTimeoutMs: timeoutMs, tls: this.#opts.tls?.(host, H2_ALPN), init }, (err, socket) => {
      if (err !== undefined || socket === undefined) {
        connectFailures.inc();
        done(err ?? new RingsideError('CONNECT_FAILED', 'upstream', `connect to ${host.address} failed`), undefined);
        return;
      }
      const headerBytes = this.#opts.limits?.maxHeaderBytes;
      const settings: Partial<Http2Settings> = { ...(headerBytes !== undefined ? { maxHeaderListSize: headerBytes } : {}), ...this.#opts.http2, ...this.#opts.http2Of?.(host) };
      // The client is handed out once the server's SETTINGS arrived: its stream limit is the capacity.
      client = new Http2Client(socket, host, events, settings, timeoutMs, runLoop, (e) => {
        if (e !== undefined) {
          connectFailures.inc();
          done(e, undefined);
        } else {
          connects.inc();
          done(undefined, client!);
        }
      });
    });
  }
}

export class Http2Client implements StreamClient, Http2ConnectionHandler {
  readonly engine: Http2Connection;
  readonly #socket: ConnectionImpl;
  readonly #host: Host;
  readonly #events: UpstreamClientEvents;
  readonly #runLoop: RunLoop;
  readonly #ref: ActorRef<UpstreamPhaseMsg>;
  /**
   * Streams by their number on this client, from the pool's lease (newStream) until done — the one
   * piece of state set outside the actor: a lease must be recorded before any message of it.
   */
  readonly #leased = new Map<number, Http2UpstreamStream>();
  /** Opened streams by HTTP/2 stream id. */
  readonly #streams = new Map<number, Http2UpstreamStream>();
  #seq = 0;
  #ready: ((err: RingsideError | undefined) => void) | null;
  #readyTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    socket: ConnectionImpl,
    host: Host,
    events: UpstreamClientEvents,
    settings: Partial<Http2Settings>,
    timeoutMs: number,
    runLoop: RunLoop,
    ready: (err: RingsideError | undefined) => void,
  ) {
    this.#socket = socket;
    this.#host = host;
    this.#events = events;
    this.#runLoop = runLoop;
    this.#ready = ready;
    this.engine = new Http2Connection({
      role: 'client',
      settings,
      handler: this,
      transport: { write: (b) => this.#write(b), close: () => this.#socket.close(CloseMode.FlushWrite, 'HTTP/2 connection closed') },
    });
    this.#ref = runLoop.spawn<UpstreamPhaseMsg>('upstream.phase', {
      receive: (m) => this.#receive(m),
      crashed: (err) => this.#crashed(err),
    });
    this.#readyTimer = setTimeout(() => this.#ref.tell(READY_TIMEOUT), timeoutMs > 0 ? timeoutMs : 5000);
    this.engine.start();
  }

  get available(): boolean {
    return !this.#closed && this.#ready === null && this.engine.canOpenStream;
  }
  get capacity(): number {
    return Math.max(1, Math.min(this.engine.peerMaxConcurrentStreams, 1 << 20));
  }
  get closed(): boolean {
    return this.#closed;
  }

  newStream(receiver: UpstreamResponseReceiver): UpstreamStream {
    const stream = new Http2UpstreamStream(this, this.#ref, ++this.#seq, receiver);
    this.#leased.set(stream.seq, stream);
    return stream;
  }

  close(reason: string): void {
    if (!this.#closed) this.#ref.tell({ k: 'close', reason });
  }

  // ── from the connection (read loop, events): tells ──

  /** @internal */
  onRead(data: Buffer, endOfStream: boolean): void {
    if (this.#closed) return;
    tellUpstreamRead(this.#ref, data, endOfStream);
  }

  /**
   * Http2ConnectionHandler: the engine's timers tell the actor, which applies the deadline. Told
   * whatever state the client is in: after the actor stopped (a crash, a failed start) it is a dead
   * letter, counted under upstream.phase.
   */
  onDeadline(deadline: Http2Deadline, armed: number): void {
    this.#ref.tell({ k: 'engine-deadline', deadline, armed });
  }

  /** @internal */
  onTransportClosed(reason: string): void {
    if (!this.#closed) this.#ref.tell({ k: 'closed', reason });
  }

  // ── the upstream.phase actor ──

  #receive(msg: UpstreamPhaseMsg): void {
    switch (msg.k) {
      case 'bytes':
        msg.taken = true;
        if (!this.#closed) this.engine.execute(msg.data);
        return;
      case 'eof':
        this.engine.transportClosed('upstream closed the connection');
        return;
      case 'closed':
        this.engine.transportClosed(msg.reason);
        return;
      case 'close':
        this.engine.close(Http2ErrorCode.NoError, msg.reason);
        return;
      case 'ready-timeout':
        this.#settle(new RingsideError('CONNECT_FAILED', 'upstream', `no HTTP/2 SETTINGS from ${this.#host.address} in time`, { retryable: true }));
        return;
      case 'send-head': {
        msg.taken = true;
        const s = this.#leased.get(msg.stream);
        if (s === undefined) return;
        if (this.#closed || !this.engine.canOpenStream) {
          // The connection went away (GOAWAY, close) between the lease and the head: nothing was sent.
          s.fail(new RingsideError('UPSTREAM_RESET', 'upstream', `connection to ${this.#host.address} can take no new stream`, { retryable: true }));
          this.streamDone(s);
          return;
        }
        const body = msg.body;
        const empty = body === null || body.length === 0;
        const id = this.engine.openStream(requestFields(msg.head), msg.eos && empty);
        this.#streams.set(id, s);
        s.opened(id, msg.eos);
        if (!empty) s.write(body, msg.eos);
        return;
      }
      case 'send-data':
        msg.taken = true;
        this.#leased.get(msg.stream)?.write(msg.chunk, msg.eos);
        return;
      case 'send-trailers':
        this.#leased.get(msg.stream)?.trailers(msg.trailers);
        return;
      case 'receiving':
        this.#leased.get(msg.stream)?.receiving(msg.enabled);
        return;
      case 'reset':
        this.#leased.get(msg.stream)?.cancel();
        return;
      case 'keepalive-due':
        return; // HTTP/2 keepalive is the engine's PING, not the sweeper's
      case 'engine-deadline':
        this.engine.expire(msg.deadline, msg.armed);
        return;
    }
  }

  /** @internal the stream is finished (answered, failed or abandoned): its pool lease ends. */
  streamDone(s: Http2UpstreamStream): void {
    if (!this.#leased.delete(s.seq)) return;
    if (s.id !== 0) this.#streams.delete(s.id);
    if (!this.#closed) this.#events.onIdle();
  }

  #write(data: Buffer): void {
    // The connection's write loop batches what one tick writes into one transport write.
    if (!this.#socket.closed) this.#socket.write(data);
  }

  #settle(err: RingsideError | undefined): void {
    const ready = this.#ready;
    if (ready === null) return;
    this.#ready = null;
    clearTimeout(this.#readyTimer);
    if (err !== undefined) {
      this.#closed = true;
      this.#runLoop.stop(this.#ref);
      this.#socket.close(CloseMode.NoFlush, err.message);
    }
    ready(err);
  }

  /**
   * Supervision: the actor threw (the engine, a receiver) and is stopped. Every stream on the
   * connection fails as an upstream reset (retryable only when it was never sent), the connection
   * is reset, and the pool forgets it.
   */
  #crashed(err: unknown): void {
    const reason = `upstream client crashed: ${err instanceof Error ? err.message : String(err)}`;
    if (this.#ready !== null) {
      this.#settle(new RingsideError('CONNECT_FAILED', 'upstream', reason, { retryable: true }));
      return;
    }
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#readyTimer);
    this.#socket.close(CloseMode.NoFlush, reason);
    const streams = [...this.#leased.values()];
    this.#leased.clear();
    this.#streams.clear();
    try {
      for (const s of streams) s.fail(new RingsideError('UPSTREAM_RESET', 'upstream', reason, { retryable: s.id === 0 }));
    } finally {
      this.#events.onClose(reason);
    }
  }

  // ── Http2ConnectionHandler (the engine, inside the actor) ──

  onRemoteSettings(): void {
    this.#settle(undefined);
  }

  onStreamHeaders(id: number, fields: string[], endStream: boolean): void {
    this.#streams.get(id)?.headers(fields, endStream);
  }

  onStreamData(id: number, data: Buffer, endStream: boolean): void {
    this.#streams.get(id)?.data(data, endStream);
  }

  onStreamReset(id: number, code: number, byPeer: boolean): void {
    const stream = this.#streams.get(id);
    if (stream === undefined) return;
    let err: RingsideError;
    if (code === Http2ErrorCode.RefusedStream) {
      refused.inc();
      err = new RingsideError('UPSTREAM_RESET', 'upstream', `${this.#host.address} refused the stream (not processed)`, { retryable: true });
    } else if (code === CONNECTION_GONE) {
      err = new RingsideError('UPSTREAM_RESET', 'upstream', `connection to ${this.#host.address} went away`, { retryable: true });
    } else {
      err = new RingsideError('UPSTREAM_RESET', 'upstream', `${this.#host.address} ${byPeer ? 'reset' : 'had to reset'} the stream: ${errorCodeName(code)}`, {
        retryable: code !== Http2ErrorCode.Cancel,
      });
    }
    stream.fail(err);
    this.streamDone(stream);
  }

  onStreamWritable(id: number): void {
    this.#streams.get(id)?.writable();
  }

  onConnectionClosed(reason: string): void {
    if (this.#ready !== null) {
      this.#settle(new RingsideError('CONNECT_FAILED', 'upstream', `${this.#host.address}: ${reason}`, { retryable: true }));
      return;
    }
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#readyTimer);
    // Opened streams heard their reset from the engine; leased ones whose head had not gone out fail here.
    const unsent = [...this.#leased.values()];
    this.#leased.clear();
    this.#streams.clear();
    this.#runLoop.stop(this.#ref);
    this.#socket.close(CloseMode.FlushWrite, reason);
    try {
      for (const s of unsent) s.fail(new RingsideError('UPSTREAM_RESET', 'upstream', `connection to ${this.#host.address} went away`, { retryable: true }));
    } finally {
      this.#events.onClose(reason);
    }
  }
}

/**
 * One request on an Http2Client. The proxy's calls become messages to the client's actor; the actor
 * calls back here to send on the engine and to deliver the response to the receiver.
 */
class Http2UpstreamStream extends ActorUpstreamStream implements StreamFlowControl {
  readonly #client: Http2Client;
  /** The HTTP/2 stream id, once the head went out (0 before). */
  id = 0;
  #headSeen = false;
  #requestEnded = false;
  #done = false;
  #watermark: ((above: boolean) => void) | null = null;
  #above = false;

  constructor(client: Http2Client, ref: ActorRef<UpstreamPhaseMsg>, seq: number, receiver: UpstreamResponseReceiver) {
    super(ref, seq, receiver);
    this.#client = client;
  }

  get flow(): StreamFlowControl {
    return this;
  }

  // ── StreamFlowControl (the proxy's side): tells; UpstreamStream's are ActorUpstreamStream's ──

  setReceiving(enabled: boolean): void {
    this.ref.tell({ k: 'receiving', stream: this.seq, enabled });
  }

  onWatermark(listener: (above: boolean) => void): void {
    this.#watermark = listener;
  }

  // ── called by the client's actor ──

  opened(id: number, endOfStream: boolean): void {
    this.id = id;
    if (endOfStream) this.#requestEnded = true;
  }

  write(chunk: Buffer, endOfStream: boolean): void {
    if (this.#done || this.id === 0) return;
    if (endOfStream) this.#requestEnded = true;
    const engine = this.#client.engine;
    engine.sendData(this.id, chunk, endOfStream);
    if (!this.#above && engine.isBlocked(this.id)) {
      this.#above = true;
      this.#watermark?.(true);
    }
  }

  trailers(trailers: HeaderMap): void {
    if (this.#done || this.id === 0) return;
    this.#requestEnded = true;
    this.#client.engine.sendHeaders(this.id, trailerFields(trailers), true);
  }

  receiving(enabled: boolean): void {
    if (!this.#done && this.id !== 0) this.#client.engine.setStreamReceiving(this.id, enabled);
  }

  cancel(): void {
    if (this.#done) return;
    this.#done = true;
    if (this.id !== 0) this.#client.engine.resetStream(this.id, Http2ErrorCode.Cancel);
    this.#client.streamDone(this);
  }

  headers(fields: string[], endStream: boolean): void {
    if (this.#done) return;
    if (!this.#headSeen) {
      const head = responseFromFields(this.id, fields);
      if (head.status >= 100 && head.status < 200) return; // informational: nothing to pass on
      this.#headSeen = true;
      if (endStream) this.#end();
      if (!this.abandoned) this.receiver.onUpstreamHead(head, endStream);
      return;
    }
    this.#end();
    if (!this.abandoned) this.receiver.onUpstreamTrailers(new Headers(fields));
  }

  data(chunk: Buffer, endStream: boolean): void {
    if (this.#done) return;
    if (endStream) this.#end();
    if (!this.abandoned) this.receiver.onUpstreamData(chunk, endStream);
  }

  fail(err: RingsideError): void {
    if (this.#done) return;
    this.#done = true;
    if (!this.abandoned) this.receiver.onUpstreamError(err, this.#headSeen);
  }

  writable(): void {
    if (!this.#above) return;
    this.#above = false;
    this.#watermark?.(false);
  }

  /** The response is complete: the stream's lease ends; a request half still open is not wanted any more. */
  #end(): void {
    this.#done = true;
    if (!this.#requestEnded) this.#client.engine.resetStream(this.id, Http2ErrorCode.NoError);
    this.#client.streamDone(this);
  }
}
