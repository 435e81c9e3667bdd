/**
 * One HTTP/2 connection of a gRPC subchannel: Ringside's HTTP/2 engine (client role) over a channel
 * transport — a RingPipe into an in-process listener, a TCP socket or a Unix socket — so a call to an
 * app costs the engine's per-stream record, not node:http2's Duplex per stream.
 *
 * The session is usable once the peer's SETTINGS arrived (its stream limit is known); until then, or
 * when the connect timeout passes first, it is connecting. A stream the peer refused (REFUSED_STREAM,
 * or above the last id of its GOAWAY) was never processed: its error is retryable.
 */
import { RingsideError } from '../../common/errors.js';
import { CONNECTION_GONE, Http2Connection } from '../../protocol/http2/connection.js';
import { errorCodeName } from '../../protocol/http2/errors.js';
import { Http2ErrorCode, type Http2ConnectionHandler, type Http2Settings } from '../../types/http2.js';
import type { GrpcStream, GrpcStreamSink } from '../../types/grpc.js';
import type { ChannelTransport } from '../../runtime/channel/transport.js';

export interface SessionEvents {
  /** The peer's first SETTINGS arrived. */
  onReady(session: GrpcSession): void;
  /** The connection is gone (`wasReady` false: the connect failed). */
  onClosed(session: GrpcSession, reason: string, wasReady: boolean): void;
  /** A stream ended: a slot is free again. */
  onStreamDone(session: GrpcSession): void;
}

export class GrpcSession implements Http2ConnectionHandler {
  readonly engine: Http2Connection;
  readonly target: string;
  readonly #transport: ChannelTransport;
  readonly #events: SessionEvents;
  readonly #streams = new Map<number, SessionStream>();
  #ready = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(target: string, transport: ChannelTransport, settings: Partial<Http2Settings>, connectTimeoutMs: number, events: SessionEvents) {
    this.target = target;
    this.#transport = transport;
    this.#events = events;
    this.engine = new Http2Connection({
      role: 'client',
      settings,
      handler: this,
      transport: { write: (b) => transport.write(b), close: (reason) => transport.destroy(reason) },
    });
    transport.onData = (chunk) => this.engine.execute(chunk);
    transport.onClose = (reason) => this.engine.transportClosed(reason);
    this.#timer = setTimeout(() => {
      if (!this.#ready) this.engine.close(Http2ErrorCode.SettingsTimeout, `no HTTP/2 SETTINGS from ${target} within ${connectTimeoutMs} ms`);
    }, connectTimeoutMs);
    this.engine.start();
  }

  get ready(): boolean {
    return this.#ready && !this.#closed;
  }
  get closed(): boolean {
    return this.#closed;
  }
  /** Streams in flight on this connection. */
  get load(): number {
    return this.#streams.size;
  }
  /** Whether one more stream fits now (the peer's limit, no GOAWAY). */
  get canOpen(): boolean {
    return this.ready && this.engine.canOpenStream;
  }

  /** Opens a stream with its request head; body bytes follow through the returned stream. */
  open(fields: string[], endStream: boolean, sink: GrpcStreamSink): GrpcStream {
    const s = new SessionStream(this, sink);
    s.id = this.engine.openStream(fields, endStream);
    if (endStream) s.requestEnded = true;
    this.#streams.set(s.id, s);
    return s;
  }

  /** Sends GOAWAY; streams in flight finish first. */
  shutdown(): void {
    if (!this.#closed) this.engine.shutdown('channel closing');
  }

  /** @internal */
  streamDone(id: number): void {
    if (this.#streams.delete(id) && !this.#closed) this.#events.onStreamDone(this);
  }

  // ── Http2ConnectionHandler ──

  onRemoteSettings(): void {
    if (this.#ready) return;
    this.#ready = true;
    clearTimeout(this.#timer);
    this.#events.onReady(this);
  }

  onStreamHeaders(id: number, fields: string[], endStream: boolean): void {
    this.#streams.get(id)?.headers(fields, endStream);
  }

  onStreamData(id: number, data: Buffer, endStream: boolean): void {
    this.#streams.get(id)?.data(data, endStream);
  }

  onStreamReset(id: number, code: number, byPeer: boolean): void {
    const s = this.#streams.get(id);
    if (s === undefined) return;
    let err: RingsideError;
    if (code === Http2ErrorCode.RefusedStream) {
      err = new RingsideError('UPSTREAM_RESET', 'upstream', `${this.target} refused the stream (not processed)`, { retryable: true });
    } else if (code === CONNECTION_GONE) {
      err = new RingsideError('UPSTREAM_RESET', 'upstream', `connection to ${this.target} went away`, { retryable: !s.headSeen });
    } else {
      err = new RingsideError('UPSTREAM_RESET', 'upstream', `${this.target} ${byPeer ? 'reset' : 'had to reset'} the stream: ${errorCodeName(code)}`, { retryable: false });
    }
    this.#streams.delete(id);
    s.fail(err);
    if (!this.#closed) this.#events.onStreamDone(this);
  }

  onStreamWritable(id: number): void {
    this.#streams.get(id)?.writable();
  }

  onConnectionClosed(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#streams.clear();
    this.#transport.destroy(reason);
    this.#events.onClosed(this, reason, this.#ready);
  }
}

class SessionStream implements GrpcStream {
  id = 0;
  headSeen = false;
  requestEnded = false;
  readonly #session: GrpcSession;
  readonly #sink: GrpcStreamSink;
  #done = false;

  constructor(session: GrpcSession, sink: GrpcStreamSink) {
    this.#session = session;
    this.#sink = sink;
  }

  get blocked(): boolean {
    return this.#session.engine.isBlocked(this.id);
  }

  write(data: Buffer, endStream: boolean): void {
    if (this.#done || this.requestEnded) return;
    if (endStream) this.requestEnded = true;
    this.#session.engine.sendData(this.id, data, endStream);
  }

  end(): void {
    this.write(Buffer.alloc(0), true);
  }

  cancel(): void {
    if (this.#done) return;
    this.#done = true;
    this.#session.engine.resetStream(this.id, Http2ErrorCode.Cancel);
    this.#session.streamDone(this.id);
  }

  setReceiving(enabled: boolean): void {
    if (!this.#done) this.#session.engine.setStreamReceiving(this.id, enabled);
  }

  headers(fields: string[], endStream: boolean): void {
    if (this.#done) return;
    if (!this.headSeen) {
      const status = fields[0] === ':status' ? Number(fields[1]) : 200;
      if (status >= 100 && status < 200) return; // informational: nothing to pass on
      this.headSeen = true;
      if (endStream) this.#end();
      this.#sink.onHeaders(fields, endStream);
      return;
    }
    this.#end();
    this.#sink.onTrailers(fields);
  }

  data(chunk: Buffer, endStream: boolean): void {
    if (this.#done) return;
    if (endStream) this.#end();
    this.#sink.onData(chunk, endStream);
  }

  fail(err: RingsideError): void {
    if (this.#done) return;
    this.#done = true;
    this.#sink.onError(err, this.headSeen);
  }

  writable(): void {
    if (!this.#done) this.#sink.onWritable?.();
  }

  /** The response is complete; a request half still open is not wanted any more. */
  #end(): void {
    this.#done = true;
    if (!this.requestEnded) this.#session.engine.resetStream(this.id, Http2ErrorCode.NoError);
    this.#session.streamDone(this.id);
  }
}
