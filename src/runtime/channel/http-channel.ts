/**
 * Layotto's httpChannel: each RPC becomes one HTTP/1.1 request on a pooled connection, and the
 * response comes back through the connection's read loop (the transport's onData → the codec's
 * response decoder). Request shape, as Layotto builds it: method from the `verb` header (GET when
 * absent), URI = the RPC method, query from `query_string`, the remaining headers, `id` = the RPC id,
 * Host `localhost`, body = data.
 */
import { RingsideError, asRingsideError, type ErrorCode } from '../../common/errors.js';
import { Headers } from '../../protocol/headers.js';
import { SIDECAR_ERROR_HEADER } from '../../types/proxy.js';
import type { HeaderMap, ProtocolCodec, RequestFrame, ResponseDecoder, ResponseFrame } from '../../types/protocol.js';
import type { Channel, ChannelEnv, ChannelStats, RpcRequest, RpcResponse, RpcResponseHeaders } from '../../types/runtime.js';
import type { ChannelConfig, ChannelFactory } from './factory.js';
import { ConnPool, type Ticket } from './pool.js';
import { dialTransport, type ChannelTransport } from './transport.js';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Bytes that may not appear raw in a request target: controls, space, DEL and non-ASCII.
const UNSAFE_TARGET = /[^\x21-\x7e]/;
// RFC 9110 §5.5 field-value: HTAB, SP, VCHAR and obs-text. Anything else (CR and LF above all)
// would let a caller's RPC id or metadata end the header line and inject fields or a whole second
// request onto a pooled connection, whose answer would then reach the next caller.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Refuses a header the caller supplied that could not be written as one HTTP/1.1 field line. */
function checkField(name: string, value: string): void {
  if (!TOKEN.test(name)) throw new RingsideError('BAD_REQUEST', 'downstream', `metadata key ${JSON.stringify(name)} is not a valid HTTP header name`);
  if (!FIELD_VALUE.test(value)) {
    throw new RingsideError('BAD_REQUEST', 'downstream', `metadata ${JSON.stringify(name)} holds a control character or a character outside Latin-1`);
  }
}

/** encodeURI throws on lone surrogates; that is the caller's bad input, not an internal error. */
function encodeTargetPart(part: string, what: string): string {
  if (!UNSAFE_TARGET.test(part)) return part;
  try {
    return encodeURI(part);
  } catch {
    throw new RingsideError('BAD_REQUEST', 'downstream', `the ${what} is not valid Unicode`);
  }
}

/** One pooled connection: a transport, its response decoder and the RPC it serves right now. */
class HttpConn {
  readonly transport: ChannelTransport;
  readonly decoder: ResponseDecoder;
  /** The RPC waiting on this connection, or null when idle. */
  call: HttpCall | null = null;
  #status = 0;
  #headers: HeaderMap | null = null;
  #keepAlive = true;
  #chunks: Buffer[] = [];

  constructor(transport: ChannelTransport, codec: ProtocolCodec, maxBodyBytes: number) {
    this.transport = transport;
    this.decoder = codec.createResponseDecoder!(
      {
        onHead: (head: ResponseFrame) => {
          this.#status = head.status;
          this.#headers = head.headers;
          // Http1ResponseHead says whether the upstream keeps the connection; other frames do.
          this.#keepAlive = (head as { keepAlive?: boolean }).keepAlive !== false;
          this.#chunks = [];
        },
        onBody: (_id: number, chunk: Buffer) => {
          // Decoder views are valid only during the callback (ring reads reuse their buffer).
          this.#chunks.push(Buffer.from(chunk));
        },
        onComplete: () => {
          const chunks = this.#chunks;
          this.#chunks = [];
          const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
          const call = this.call;
          this.call = null;
          call?.onResponse(this.#status, this.#headers ?? new Headers(), body, this.#keepAlive);
        },
        onError: (err: RingsideError) => {
          const call = this.call;
          this.call = null;
          const mapped = err.code === 'LIMIT_EXCEEDED' ? err : new RingsideError('UPSTREAM_BAD_RESPONSE', 'upstream', err.message, { cause: err });
          call?.onFailure(mapped);
          this.transport.destroy('bad response bytes');
        },
      },
      { limits: { maxBodyBytes } },
    );
    transport.onData = (chunk) => this.decoder.execute(chunk);
    transport.onClose = (reason, connected) => {
      // An until-close body ends here; finish() completes it (or reports it truncated).
      if (this.call !== null) this.decoder.finish();
      this.decoder.destroy();
      const call = this.call;
      this.call = null;
      if (call === null) return;
      call.onFailure(
        connected
          ? new RingsideError('UPSTREAM_RESET', 'upstream', `channel connection closed before the response: ${reason}`)
          : new RingsideError('CONNECT_FAILED', 'upstream', `channel connect failed: ${reason}`),
      );
    };
  }

  get closed(): boolean {
    return this.transport.closed;
  }

  get misplaced(): boolean {
    return this.transport.misplaced;
  }

  destroy(reason: string): void {
    this.transport.destroy(reason);
  }
}

/** The state of one RPC on the channel: waiting for a turn, in flight, or settled. */
class HttpCall {
  readonly #channel: HttpChannel;
  readonly #req: RpcRequest;
  readonly #resolve: (r: RpcResponse) => void;
  readonly #reject: (e: RingsideError) => void;
  #settled = false;
  #timer: NodeJS.Timeout | undefined;
  #ticket: Ticket | undefined;
  #conn: HttpConn | undefined;

  constructor(channel: HttpChannel, req: RpcRequest, resolve: (r: RpcResponse) => void, reject: (e: RingsideError) => void) {
    this.#channel = channel;
    this.#req = req;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  start(timeoutMs: number): void {
    if (this.#req.cancel.cancelled) return this.#fail(new RingsideError('CANCELLED', 'downstream', 'the caller cancelled'));
    if (timeoutMs !== Infinity) {
      this.#timer = setTimeout(() => this.#fail(new RingsideError('TIMEOUT', 'upstream', `no response within ${timeoutMs} ms`)), timeoutMs);
    }
    this.#req.cancel.onCancel = () => this.#fail(new RingsideError('CANCELLED', 'downstream', 'the caller cancelled'));
    this.#ticket = this.#channel.pool.take((conn) => this.#onTurn(conn));
  }

  #onTurn(conn: HttpConn | RingsideError): void {
    this.#ticket = undefined;
    if (conn instanceof RingsideError) return this.#fail(conn);
    if (this.#settled) {
      this.#channel.pool.release(conn, false);
      return;
    }
    let bytes: Buffer;
    try {
      bytes = this.#channel.encode(this.#req, conn.decoder);
    } catch (err) {
      // encode refuses bad input before it tells the decoder anything: the connection is clean.
      this.#channel.pool.release(conn, false);
      return this.#fail(asRingsideError(err));
    }
    this.#conn = conn;
    conn.call = this;
    conn.transport.write(bytes);
  }

  onResponse(status: number, headers: HeaderMap, body: Buffer, keepAlive: boolean): void {
    const conn = this.#conn;
    this.#conn = undefined;
    if (conn !== undefined) this.#channel.pool.release(conn, !keepAlive);
    // Only Ringside's own proxy, reached in-process, marks its replies; the proxy strips the marker
    // from what upstreams send. A peer dialed over a socket may be the app itself: its status is its answer.
    const sidecarError = conn?.transport.kind === 'ring' ? sidecarErrorOf(status, headers, body) : undefined;
    if (sidecarError !== undefined) return this.#fail(sidecarError);
    const out: RpcResponseHeaders = {};
    headers.forEach((k, v) => {
      const name = k.toLowerCase();
      (out[name] ??= []).push(v);
    });
    this.#settle();
    this.#resolve({ status, contentType: headers.get('content-type') ?? '', data: body, headers: out });
  }

  onFailure(err: RingsideError): void {
    this.#fail(err);
  }

  #fail(err: RingsideError): void {
    if (this.#settled) return;
    this.#settle();
    if (this.#ticket !== undefined) {
      this.#channel.pool.cancel(this.#ticket);
      this.#ticket = undefined;
    }
    const conn = this.#conn;
    this.#conn = undefined;
    if (conn !== undefined) {
      // A response may still be on its way: this connection cannot carry another request.
      conn.call = null;
      this.#channel.pool.release(conn, true);
    }
    this.#reject(err);
  }

  #settle(): void {
    this.#settled = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#req.cancel.onCancel = null;
  }
}

const SIDECAR_CODES = new Set<string>([
  'BAD_REQUEST',
  'LIMIT_EXCEEDED',
  'NO_ROUTE',
  'NO_HEALTHY_HOST',
  'CONNECT_FAILED',
  'UPSTREAM_RESET',
  'UPSTREAM_BAD_RESPONSE',
  'TIMEOUT',
  'OVERFLOW',
  'UNAVAILABLE',
  'INTERNAL',
]);

/**
 * A reply the data plane's proxy made itself (it carries SIDECAR_ERROR_HEADER, which the proxy removes
 * from every upstream response, so only Ringside sets it) is the sidecar's own failure, not the app's
 * answer: each API reports it as its error (Dapr: ERR_DIRECT_INVOKE).
 */
function sidecarErrorOf(status: number, headers: HeaderMap, body: Buffer): RingsideError | undefined {
  const code = headers.get(SIDECAR_ERROR_HEADER);
  if (code === undefined || status < 400 || !SIDECAR_CODES.has(code)) return undefined;
  const message = body.toString('utf8', 0, Math.min(body.length, 1024)).trim();
  return new RingsideError(code as ErrorCode, code === 'BAD_REQUEST' || code === 'LIMIT_EXCEEDED' ? 'downstream' : 'upstream', message || `${code} (${status})`, { status });
}

/** An app answered with a status its API treats as a failure (Layotto: UNAVAILABLE with status and body). */
export class UpstreamStatusError extends RingsideError {
  readonly response: RpcResponse;
  constructor(response: RpcResponse) {
    const body = response.data;
    super('UPSTREAM_STATUS', 'upstream', `http response code ${response.status}, body: ${body.toString('utf8', 0, Math.min(body.length, 1024))}`, {
      status: response.status,
      retryable: false,
    });
    this.response = response;
  }
}

export class HttpChannel implements Channel {
  readonly pool: ConnPool<HttpConn>;
  readonly #codec: ProtocolCodec;

  constructor(config: ChannelConfig, env: ChannelEnv, codec: ProtocolCodec) {
    this.#codec = codec;
    this.pool = new ConnPool(config.size, () => new HttpConn(dialTransport(config.listener, env.dialInProcess, env.placement), codec, env.maxResponseBytes));
  }

  invoke(req: RpcRequest, timeoutMs: number): Promise<RpcResponse> {
    return new Promise<RpcResponse>((resolve, reject) => new HttpCall(this, req, resolve, reject).start(timeoutMs));
  }

  /** Builds the request bytes as Layotto's constructReq does and tells the decoder what it answers. */
  encode(req: RpcRequest, decoder: ResponseDecoder): Buffer {
    let method = 'GET';
    let query = '';
    const headers = new Headers();
    let hasContentType = false;
    for (const name in req.headers) {
      const value = req.headers[name]!;
      if (name === 'verb') {
        if (value !== '' && value !== 'NONE') method = value;
      } else if (name === 'query_string') {
        query = value;
      } else if (name !== 'host' && name !== 'id' && name !== 'content-length') {
        checkField(name, value);
        if (name === 'content-type') hasContentType = true;
        headers.add(name, value);
      }
    }
    if (!TOKEN.test(method)) throw new RingsideError('BAD_REQUEST', 'downstream', `invalid HTTP verb "${method}"`);
    // Layotto leaves the content type to the headers; taking the request's own when none is set
    // lets a Dapr or Layotto client that names one reach the service with it.
    if (!hasContentType && req.contentType !== '') {
      checkField('content-type', req.contentType);
      headers.add('content-type', req.contentType);
    }
    headers.set('host', 'localhost');
    checkField('id', req.id);
    headers.set('id', req.id);
    let target = encodeTargetPart(req.method.startsWith('/') ? req.method : '/' + req.method, 'method');
    if (query !== '') target += '?' + encodeTargetPart(query, 'query string');
    const frame: RequestFrame = this.#codec.newRequest(method, target, headers);
    decoder.expect(frame);
    return this.#codec.createRequestEncoder!().encodeHead(frame, req.data, true);
  }

  stats(): ChannelStats {
    return { size: this.pool.size, busy: this.pool.busy, idle: this.pool.idle, waiting: this.pool.waiting, dialed: this.pool.dialed };
  }

  close(): void {
    this.pool.close();
  }
}

/** Registered as channel protocol "http"; the HTTP/1.1 codec comes from the codec registry. */
export class HttpChannelFactory implements ChannelFactory {
  readonly #codec: ProtocolCodec;
  constructor(codec: ProtocolCodec) {
    this.#codec = codec;
  }
  create(config: ChannelConfig, _path: string, env: ChannelEnv): Channel {
    return new HttpChannel(config, env, this.#codec);
  }
}
