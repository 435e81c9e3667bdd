/**
 * The HTTP/1.1 upstream client: one TCP connection to a host carrying one request at a time, with
 * the HTTP/1.1 codec on top. Pools hand these out (src/upstream/pool.ts); the proxy opens one stream
 * per request.
 *
 * Why our own client rather than undici: on the proxy path the request head was already decoded and
 * mutated by us, and the response must be re-encoded toward the downstream; going through undici's
 * objects and promises costs several µs per request (an undici forwarder measured 47 µs CPU/request
 * here against nginx's ~9). The socket reads into one static buffer per worker (`onread`), which
 * the decoder consumes synchronously.
 */
import type net from 'node:net';
import { RingsideError } from '../../common/errors.js';
import { counter } from '../../common/counters.js';
import { dialTcp } from '../../upstream/dial.js';
import { createHttp1RequestEncoder, createHttp1ResponseDecoder } from '../../protocol/http1/index.js';
import type { CodecLimits, HeaderMap, Http1ResponseHead, RequestFrame, ResponseDecoder } from '../../types/protocol.js';
import type { ConnectCallback, Host, UpstreamClientEvents } from '../../types/upstream.js';
import type { StreamClient, StreamClientFactory, UpstreamResponseReceiver, UpstreamStream } from '../../types/proxy.js';

const EMPTY = Buffer.alloc(0);
const connectFailures = counter('upstream.cx_connect_fail');
const connects = counter('upstream.cx_total');

/** One read buffer per worker thread for every upstream socket: reads are consumed synchronously. */
let sharedReadBuffer: Buffer | null = null;
function readBuffer(): Buffer {
  if (sharedReadBuffer === null) sharedReadBuffer = Buffer.allocUnsafe(64 * 1024);
  return sharedReadBuffer;
}

export interface Http1ClientFactoryOptions {
  /** Connect timeout for a host, in ms (the cluster's connect_timeout); 0 for the OS's. */
  connectTimeoutMs(host: Host): number;
  limits?: Partial<CodecLimits>;
}

export class Http1ClientFactory implements StreamClientFactory {
  readonly protocol = 'Http1';
  readonly #opts: Http1ClientFactoryOptions;

  constructor(opts: Http1ClientFactoryOptions) {
    this.#opts = opts;
  }

  connect(host: Host, events: UpstreamClientEvents, done: ConnectCallback): void {
    let client: Http1Client | null = null;
    const onread = {
      buffer: readBuffer(),
      callback: (n: number, buf: Uint8Array): boolean => {
        client?.onBytes(buf as Buffer, n);
        return true;
      },
    };
    dialTcp(host, { connectTimeoutMs: this.#opts.connectTimeoutMs(host), onread }, (err, socket) => {
      if (err !== undefined || socket === undefined) {
        connectFailures.inc();
        done(err ?? new RingsideError('CONNECT_FAILED', 'upstream', `connect to ${host.address} failed`), undefined);
        return;
      }
      connects.inc();
      client = new Http1Client(socket, events, this.#opts.limits);
      done(undefined, client);
    });
  }
}

export class Http1Client implements StreamClient {
  readonly capacity = 1;
  readonly #socket: net.Socket;
  readonly #events: UpstreamClientEvents;
  readonly #decoder: ResponseDecoder;
  #active: Http1UpstreamStream | null = null;
  #reusable = true;
  #closed = false;
  #corked = false;

  constructor(socket: net.Socket, events: UpstreamClientEvents, limits: Partial<CodecLimits> | undefined) {
    this.#socket = socket;
    this.#events = events;
    this.#decoder = createHttp1ResponseDecoder(
      {
        onHead: (head, end) => this.#active?.head(head, end),
        onBody: (_id, chunk, last) => this.#active?.data(chunk, last),
        onComplete: (_id, trailers) => this.#complete(trailers),
        onError: (err) => this.#fail(new RingsideError('UPSTREAM_BAD_RESPONSE', 'upstream', err.message, { cause: err })),
      },
      limits === undefined ? undefined : { limits },
    );
    socket.on('error', (err: NodeJS.ErrnoException) => this.#onSocketGone(`upstream socket error: ${err.code ?? err.message}`));
    socket.on('end', () => {
      // The upstream half-closed: a body that runs until close ends here; anything else in flight is cut.
      this.#decoder.finish();
      this.#onSocketGone('upstream closed the connection');
    });
    socket.on('close', () => this.#onSocketGone('upstream connection closed'));
  }

  get available(): boolean {
    return !this.#closed && this.#active === null && this.#reusable;
  }

  get closed(): boolean {
    return this.#closed;
  }

  newStream(receiver: UpstreamResponseReceiver): UpstreamStream {
    const stream = new Http1UpstreamStream(this, receiver);
    this.#active = stream;
    return stream;
  }

  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#decoder.destroy();
    this.#socket.destroy();
    const active = this.#active;
    this.#active = null;
    active?.cut(new RingsideError('UPSTREAM_RESET', 'upstream', reason));
    this.#events.onClose(reason);
  }

  /** @internal from the socket's onread callback. */
  onBytes(buf: Buffer, n: number): void {
    if (this.#closed) return;
    if (this.#active === null) {
      // Bytes with no request outstanding: the upstream is out of step; never reuse this connection.
      this.close('upstream sent bytes with no request outstanding');
      return;
    }
    this.#decoder.execute(n === buf.length ? buf : buf.subarray(0, n));
  }

  /**
   * @internal Writes within one tick leave in one syscall: a request's head and the body that the
   * downstream decoder hands over right after it would otherwise be two writes (measured as the
   * largest single cost of the runtime path's egress hop).
   */
  write(data: Buffer): void {
    if (this.#closed || data.length === 0) return;
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      process.nextTick(this.#uncork);
    }
    this.#socket.write(data);
  }

  readonly #uncork = (): void => {
    this.#corked = false;
    if (!this.#closed) this.#socket.uncork();
  };

  /** @internal the stream's request head is going out: the decoder must know what it answers. */
  expect(head: RequestFrame): void {
    this.#decoder.expect(head);
  }

  /** @internal */
  abandon(stream: Http1UpstreamStream, reason: string): void {
    if (this.#active === stream) {
      this.#active = null;
      this.close(reason);
    }
  }

  #complete(trailers: HeaderMap | null): void {
    const stream = this.#active;
    if (stream === null) return;
    this.#active = null;
    if (!stream.finish(trailers)) this.#reusable = false;
    if (!this.#reusable) this.close('connection not reusable after this response');
    else this.#events.onIdle();
  }

  #fail(err: RingsideError): void {
    const stream = this.#active;
    this.#active = null;
    stream?.cut(err);
    this.close(err.message);
  }

  #onSocketGone(reason: string): void {
    if (!this.#closed) this.close(reason);
  }
}

class Http1UpstreamStream implements UpstreamStream {
  readonly #client: Http1Client;
  readonly #receiver: UpstreamResponseReceiver;
  #encoder = createHttp1RequestEncoder();
  #headSeen = false;
  #endSignalled = false;
  #requestDone = false;
  #keepAlive = true;

  constructor(client: Http1Client, receiver: UpstreamResponseReceiver) {
    this.#client = client;
    this.#receiver = receiver;
  }

  sendHead(head: RequestFrame, body: Buffer | null, endOfStream: boolean): void {
    this.#client.expect(head);
    this.#client.write(this.#encoder.encodeHead(head, body, endOfStream));
    this.#requestDone = endOfStream;
  }

  sendData(chunk: Buffer, endOfStream: boolean): void {
    this.#client.write(this.#encoder.encodeData(chunk, endOfStream));
    if (endOfStream) this.#requestDone = true;
  }

  sendTrailers(trailers: HeaderMap): void {
    this.#client.write(this.#encoder.encodeTrailers(trailers));
    this.#requestDone = true;
  }

  reset(reason: string): void {
    this.#client.abandon(this, reason);
  }

  head(head: Http1ResponseHead, endOfStream: boolean): void {
    this.#headSeen = true;
    this.#keepAlive = head.keepAlive && this.#encoder.keepAlive;
    if (endOfStream) this.#endSignalled = true;
    this.#receiver.onUpstreamHead(head, endOfStream);
  }

  data(chunk: Buffer, last: boolean): void {
    if (last) this.#endSignalled = true;
    this.#receiver.onUpstreamData(chunk, last);
  }

  /** Ends the response; answers whether the connection may carry another request. */
  finish(trailers: HeaderMap | null): boolean {
    if (trailers !== null && trailers.size > 0) this.#receiver.onUpstreamTrailers(trailers);
    else if (!this.#endSignalled) this.#receiver.onUpstreamData(EMPTY, true);
    // A response that ended before its request was fully sent leaves the connection mid-request.
    return this.#keepAlive && this.#requestDone;
  }

  cut(err: RingsideError): void {
    this.#receiver.onUpstreamError(err, this.#headSeen);
  }
}
