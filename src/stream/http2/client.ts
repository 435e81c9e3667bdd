/**
 * The HTTP/2 upstream client (h2c with prior knowledge): one TCP connection to a host carrying many
 * requests at once, one HTTP/2 stream each, on Ringside's own HTTP/2 engine. The host's pool hands
 * it out up to the peer's SETTINGS_MAX_CONCURRENT_STREAMS at once (its `capacity`), and dials another
 * connection when every stream slot is taken.
 *
 * A stream the server refused (REFUSED_STREAM, or above the last stream id of its GOAWAY) was never
 * processed, so its error is retryable; a connection that goes away fails its streams as
 * UPSTREAM_RESET. The socket reads into one static buffer per worker (`onread`), which the engine
 * consumes synchronously; writes of one tick leave in one syscall (cork until the next tick).
 */
import { RingsideError } from '../../common/errors.js';
import { counter } from '../../common/counters.js';
import { dialClient } from '../../network/connection/dialer.js';
import type { ConnectionImpl } from '../../network/connection/connection.js';
import { threadRunLoop } from '../../actor/run-loop.js';
import { CloseMode, ConnectionEvent, FilterStatus } from '../../types/network.js';
import type { RunLoop } from '../../types/actor.js';
import type { ClientTlsOptions, ReadFilter } from '../../types/network.js';
import { Headers } from '../../protocol/headers.js';
import { CONNECTION_GONE, Http2Connection } from '../../protocol/http2/connection.js';
import { errorCodeName } from '../../protocol/http2/errors.js';
import { HTTP2, requestFields, responseFromFields, trailerFields } from '../../protocol/http2/heads.js';
import { Http2ErrorCode, type Http2ConnectionHandler, type Http2Settings } from '../../types/http2.js';
import type { CodecLimits, HeaderMap, RequestFrame } from '../../types/protocol.js';
import type { ConnectCallback, Host, UpstreamClientEvents } from '../../types/upstream.js';
import type { StreamClient, StreamClientFactory, UpstreamResponseReceiver, UpstreamStream } from '../../types/proxy.js';
import type { StreamFlowControl } from '../../types/stream.js';

const connectFailures = counter('upstream.cx_connect_fail');
const connects = counter('upstream.cx_total');
const refused = counter('upstream.http2.refused_streams');
const H2_ALPN: readonly string[] = ['h2'];

export interface Http2ClientFactoryOptions {
  connectTimeoutMs(host: Host): number;
  limits?: Partial<CodecLimits>;
  /** The worker's run loop (the connection's read and write loops run there); default the thread's. */
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
    // The connection is the dialer's: its read loop hands each read to the engine (borrowed, decoded
    // at once), its write loop sends what one tick queued as one write.
    let client: Http2Client | null = null;
    const timeoutMs = this.#opts.connectTimeoutMs(host);
    const init = (conn: ConnectionImpl, chain: { addReadFilter(f: ReadFilter): void }): void => {
      chain.addReadFilter({
        initializeReadFilterCallbacks() {},
        onNewConnection: () => FilterStatus.Continue,
        onData: (data, endOfStream) => {
          if (data.length > 0) client?.engine.execute(data);
          if (endOfStream) client?.engine.transportClosed('upstream closed the connection');
          return FilterStatus.Stop;
        },
      });
      conn.addEventListener((event, reason) => {
        if (event === ConnectionEvent.LocalClose || event === ConnectionEvent.RemoteClose) client?.engine.transportClosed(`upstream connection closed${reason !== undefined ? `: ${reason}` : ''}`);
      });
    };
    dialClient({ target: { kind: 'tcp', host: host.host, port: host.port }, name: host.clusterName, runLoop: this.#opts.runLoop ?? threadRunLoop(), connectTimeoutMs: timeoutMs, tls: this.#opts.tls?.(host, H2_ALPN), init }, (err, socket) => {
      if (err !== undefined || socket === undefined) {
        connectFailures.inc();
        done(err ?? new RingsideError('CONNECT_FAILED', 'upstream', `connect to ${host.address} failed`), undefined);
        return;
      }
      const headerBytes = this.#opts.limits?.maxHeaderBytes;
      const settings: Partial<Http2Settings> = { ...(headerBytes !== undefined ? { maxHeaderListSize: headerBytes } : {}), ...this.#opts.http2, ...this.#opts.http2Of?.(host) };
      // The client is handed out once the server's SETTINGS arrived: its stream limit is the capacity.
      client = new Http2Client(socket, host, events, settings, timeoutMs, (e) => {
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
  readonly #streams = new Map<number, Http2UpstreamStream>();
  #ready: ((err: RingsideError | undefined) => void) | null;
  #readyTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    socket: ConnectionImpl,
    host: Host,
    events: UpstreamClientEvents,
    settings: Partial<Http2Settings>,
    timeoutMs: number,
    ready: (err: RingsideError | undefined) => void,
  ) {
    this.#socket = socket;
    this.#host = host;
    this.#events = events;
    this.#ready = ready;
    this.engine = new Http2Connection({
      role: 'client',
      settings,
      handler: this,
      transport: { write: (b) => this.#write(b), close: () => this.#socket.close(CloseMode.FlushWrite, 'HTTP/2 connection closed') },
    });
    this.#readyTimer = setTimeout(
      () => this.#settle(new RingsideError('CONNECT_FAILED', 'upstream', `no HTTP/2 SETTINGS from ${host.address} within ${timeoutMs || 5000} ms`, { retryable: true })),
      timeoutMs > 0 ? timeoutMs : 5000,
    );
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
    return new Http2UpstreamStream(this, receiver);
  }

  close(reason: string): void {
    if (this.#closed) return;
    this.engine.close(Http2ErrorCode.NoError, reason);
  }

  /** @internal the stream's head goes out: it gets its id. */
  open(stream: Http2UpstreamStream, fields: string[], endStream: boolean): number {
    const id = this.engine.openStream(fields, endStream);
    this.#streams.set(id, stream);
    return id;
  }

  /** @internal the stream is finished (answered, failed or abandoned): its pool lease ends. */
  streamDone(id: number): void {
    if (this.#streams.delete(id) && !this.#closed) this.#events.onIdle();
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
      this.#socket.close(CloseMode.NoFlush, err.message);
    }
    ready(err);
  }

  // ── Http2ConnectionHandler ──

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
    this.streamDone(id);
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
    this.#streams.clear();
    this.#socket.close(CloseMode.FlushWrite, reason);
    this.#events.onClose(reason);
  }
}

class Http2UpstreamStream implements UpstreamStream, StreamFlowControl {
  readonly #client: Http2Client;
  readonly #receiver: UpstreamResponseReceiver;
  #id = 0;
  #headSeen = false;
  #requestEnded = false;
  #done = false;
  #watermark: ((above: boolean) => void) | null = null;
  #above = false;

  constructor(client: Http2Client, receiver: UpstreamResponseReceiver) {
    this.#client = client;
    this.#receiver = receiver;
  }

  get flow(): StreamFlowControl {
    return this;
  }

  sendHead(head: RequestFrame, body: Buffer | null, endOfStream: boolean): void {
    const empty = body === null || body.length === 0;
    if (endOfStream) this.#requestEnded = true;
    this.#id = this.#client.open(this, requestFields(head), endOfStream && empty);
    if (!empty) this.sendData(body, endOfStream);
  }

  sendData(chunk: Buffer, endOfStream: boolean): void {
    if (this.#done) return;
    if (endOfStream) this.#requestEnded = true;
    const engine = this.#client.engine;
    engine.sendData(this.#id, chunk, endOfStream);
    if (!this.#above && engine.isBlocked(this.#id)) {
      this.#above = true;
      this.#watermark?.(true);
    }
  }

  sendTrailers(trailers: HeaderMap): void {
    if (this.#done) return;
    this.#requestEnded = true;
    this.#client.engine.sendHeaders(this.#id, trailerFields(trailers), true);
  }

  reset(_reason: string): void {
    if (this.#done) return;
    this.#done = true;
    this.#client.engine.resetStream(this.#id, Http2ErrorCode.Cancel);
    this.#client.streamDone(this.#id);
  }

  setReceiving(enabled: boolean): void {
    if (!this.#done) this.#client.engine.setStreamReceiving(this.#id, enabled);
  }

  onWatermark(listener: (above: boolean) => void): void {
    this.#watermark = listener;
  }

  // ── from the client ──

  headers(fields: string[], endStream: boolean): void {
    if (this.#done) return;
    if (!this.#headSeen) {
      const head = responseFromFields(this.#id, fields);
      if (head.status >= 100 && head.status < 200) return; // informational: nothing to pass on
      this.#headSeen = true;
      if (endStream) this.#end();
      this.#receiver.onUpstreamHead(head, endStream);
      return;
    }
    this.#end();
    this.#receiver.onUpstreamTrailers(new Headers(fields));
  }

  data(chunk: Buffer, endStream: boolean): void {
    if (this.#done) return;
    if (endStream) this.#end();
    this.#receiver.onUpstreamData(chunk, endStream);
  }

  fail(err: RingsideError): void {
    if (this.#done) return;
    this.#done = true;
    this.#receiver.onUpstreamError(err, this.#headSeen);
  }

  writable(): void {
    if (!this.#above) return;
    this.#above = false;
    this.#watermark?.(false);
  }

  /** The response is complete: the stream's lease ends; a request half still open is not wanted any more. */
  #end(): void {
    this.#done = true;
    if (!this.#requestEnded) this.#client.engine.resetStream(this.#id, Http2ErrorCode.NoError);
    this.#client.streamDone(this.#id);
  }
}
