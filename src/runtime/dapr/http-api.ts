/**
 * Dapr's HTTP API subset, on a per-worker node:http server that is never bound: the `dapr_http`
 * network filter hands it the sockets its listener accepted.
 *
 *   ANY /v1.0/invoke/{appId}/method/{method...}   → the runtime server's invoker (id = appId)
 *   ANY /v1.0/invoke/{http(s)://host:port}/method/{method...} → that URL directly (a non-Dapr endpoint)
 *   ANY /{method...} with header `dapr-app-id: X`  → the same as /v1.0/invoke/X/method/{method...}
 *   GET /v1.0/healthz, /v1.0/healthz/outbound      → 204
 *   GET /v1.0/metadata, PUT /v1.0/metadata/{key}   → the sidecar's metadata / set an attribute
 *   POST /v1.0/shutdown                            → 204, then a graceful shutdown
 *
 * An app's answer is passed through as it is (status, every header, body); a failure of the sidecar
 * itself answers Dapr's `{"errorCode":"ERR_DIRECT_INVOKE","message":…}` (HTTP 500, 400 for bad input).
 * A request the parser refuses answers 400 (431 for an oversized head) before the socket closes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { RingsideError, asRingsideError } from '../../common/errors.js';
import { logger } from '../../common/log.js';
import type { Invoker, RpcCancel, RpcHeaders, RpcRequest, RpcResponse } from '../../types/runtime.js';
import type { DaprApiContext } from './grpc-api.js';
import { addDaprHeaders, daprHttpErrorOf, directInvokeMessage } from './invoke.js';
import { invokeExternal, isExternalTarget } from './external.js';

const log = logger('runtime.dapr.http');
const INVOKE_PREFIX = '/v1.0/invoke/';
const METHOD_SEPARATOR = '/method/';
const METADATA_KEY = /^\/v1\.0\/metadata\/([^/]+)$/;
/** Hop-by-hop and framing fields of the incoming request; the channel sets its own. */
const SKIPPED_REQUEST_HEADERS = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'dapr-api-token', 'expect', 'dapr-app-id', 'te', 'trailer', 'proxy-connection']);
/** Hop-by-hop and framing fields of the app's response; node:http writes its own. */
const SKIPPED_RESPONSE_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date', 'te', 'trailer', 'upgrade', 'proxy-connection']);

/** Slowloris bounds of the Dapr HTTP port (ringside.limits.request_header_timeout and idle_timeout). */
export interface DaprHttpTimeouts {
  /** A request head must be complete this long after the connection or the previous request (ms); 0 = none. */
  readonly headersMs: number;
  /** A keep-alive connection with no request for this long is closed (ms); 0 = none. */
  readonly idleMs: number;
}
const DEFAULT_TIMEOUTS: DaprHttpTimeouts = { headersMs: 10_000, idleMs: 60_000 };
/** node:http's own default for a whole request; it must not be below the head's bound. */
const NODE_REQUEST_TIMEOUT_MS = 300_000;

export interface DaprHttpLimits {
  readonly maxBodyBytes: number;
  /** The whole request head; more answers 431. */
  readonly maxHeaderBytes: number;
  /** The request line; longer answers 414, as the data plane's HTTP/1.1 codec does. */
  readonly maxRequestLineBytes: number;
}

function errorBody(errorCode: string, message: string): Buffer {
  return Buffer.from(JSON.stringify({ errorCode, message }));
}

/** A raw answer for a request node:http could not parse (no ServerResponse exists for it). */
function rawReply(status: number, reason: string, errorCode: string, message: string): string {
  const body = errorBody(errorCode, message);
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.toString()}`;
}

function parserError(code: string | undefined): { status: number; reason: string; message: string } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, reason: 'Request Header Fields Too Large', message: 'the request head is larger than the limit' };
    case 'HPE_INVALID_METHOD':
      return { status: 400, reason: 'Bad Request', message: 'invalid request method' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, reason: 'Request Timeout', message: 'the request took too long to arrive' };
    default:
      return { status: 400, reason: 'Bad Request', message: 'malformed HTTP request' };
  }
}

export class DaprHttpApi {
  readonly #server: Server;
  readonly #ctx: DaprApiContext;
  readonly #limits: DaprHttpLimits;

  constructor(ctx: DaprApiContext, limits: DaprHttpLimits, timeouts: DaprHttpTimeouts = DEFAULT_TIMEOUTS) {
    this.#ctx = ctx;
    this.#limits = limits;
    const headersTimeout = timeouts.headersMs;
    this.#server = createServer(
      {
        maxHeaderSize: limits.maxHeaderBytes,
        keepAliveTimeout: timeouts.idleMs,
        headersTimeout,
        requestTimeout: headersTimeout === 0 ? 0 : Math.max(NODE_REQUEST_TIMEOUT_MS, headersTimeout),
        // The check runs this often; a quarter of the bound keeps a late cut-off within 25 %.
        connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor((headersTimeout || 4000) / 4))),
      },
      (req, res) => this.#handleSafely(req, res),
    );
    this.#server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      // A peer that reset, or a socket already written to, gets nothing more.
      if (err.code === 'ECONNRESET' || !socket.writable || (socket as { _httpMessage?: unknown })._httpMessage) {
        socket.destroy();
        return;
      }
      const e = parserError(err.code);
      socket.end(rawReply(e.status, e.reason, 'ERR_MALFORMED_REQUEST', e.message));
    });
    // node:http arms its headersTimeout/requestTimeout checks when a server starts listening; this one
    // is never bound (sockets are handed to it), so it is told it listens, or a Slowloris is unbounded.
    this.#server.emit('listening');
  }

  /** Serves an accepted transport (socket, or a RingPipe end as a Duplex). */
  inject(transport: Duplex): void {
    this.#server.emit('connection', transport);
  }

  close(): void {
    this.#server.closeAllConnections();
  }

  /** No request may take the worker down: a throw answers 500 on that request and is logged. */
  #handleSafely(req: IncomingMessage, res: ServerResponse): void {
    try {
      this.#handle(req, res);
    } catch (err) {
      log.error(`dapr http request ${req.method ?? '?'} failed: ${asRingsideError(err).message}`);
      if (!res.headersSent) this.#json(res, 500, { errorCode: 'ERR_INTERNAL', message: 'the sidecar failed to handle the request' });
      else res.destroy();
    }
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const requestLine = (req.method ?? '').length + url.length + 10;
    if (requestLine > this.#limits.maxRequestLineBytes) {
      res.shouldKeepAlive = false;
      return this.#json(res, 414, { errorCode: 'ERR_MALFORMED_REQUEST', message: `the request line is longer than ${this.#limits.maxRequestLineBytes} bytes` });
    }
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    if (path === '/v1.0/healthz' || path === '/v1.0/healthz/outbound') {
      res.writeHead(204).end();
      return;
    }
    const token = this.#ctx.settings.api_token;
    if (token !== undefined && token !== '' && req.headers['dapr-api-token'] !== token) {
      return this.#json(res, 401, { errorCode: 'ERR_API_UNAUTHORIZED', message: 'missing or wrong dapr-api-token' });
    }
    if (path.startsWith(INVOKE_PREFIX)) return this.#invokePath(req, res, path.slice(INVOKE_PREFIX.length), query);
    if (path === '/v1.0/metadata') {
      if (req.method !== 'GET') return this.#json(res, 405, { errorCode: 'ERR_METHOD_NOT_ALLOWED', message: 'GET only' });
      return this.#json(res, 200, this.#ctx.metadata.json());
    }
    const key = METADATA_KEY.exec(path);
    if (key !== null) return this.#setMetadata(req, res, key[1]!);
    if (path === '/v1.0/shutdown') {
      if (req.method !== 'POST') return this.#json(res, 405, { errorCode: 'ERR_METHOD_NOT_ALLOWED', message: 'POST only' });
      res.writeHead(204).end();
      setImmediate(this.#ctx.requestShutdown);
      return;
    }
    const headerAppId = req.headers['dapr-app-id'];
    if (typeof headerAppId === 'string' && headerAppId !== '') {
      // Dapr's header form: the whole path is the method.
      return this.#invoke(req, res, headerAppId, path.slice(1), query);
    }
    this.#json(res, 404, { errorCode: 'ERR_NOT_FOUND', message: `no Dapr API at ${path}` });
  }

  /** `{appId}/method/{method…}` after /v1.0/invoke/; the app id may be a percent-encoded or plain URL. */
  #invokePath(req: IncomingMessage, res: ServerResponse, rest: string, query: string): void {
    let cut = rest.indexOf(METHOD_SEPARATOR);
    // A plain URL target (http://host:port) has slashes of its own: search after its scheme.
    if (/^https?:\/\//i.test(rest)) cut = rest.indexOf(METHOD_SEPARATOR, rest.indexOf('//') + 2);
    if (cut <= 0 || cut + METHOD_SEPARATOR.length >= rest.length) {
      return this.#json(res, 400, { errorCode: 'ERR_DIRECT_INVOKE', message: 'the invoke path must be /v1.0/invoke/{appId}/method/{method}' });
    }
    let appId: string;
    try {
      appId = decodeURIComponent(rest.slice(0, cut));
    } catch {
      return this.#json(res, 400, { errorCode: 'ERR_MALFORMED_REQUEST', message: 'the app id in the invoke path is not valid percent-encoding' });
    }
    this.#invoke(req, res, appId, rest.slice(cut + METHOD_SEPARATOR.length), query);
  }

  #readBody(req: IncomingMessage, res: ServerResponse, then: (body: Buffer) => void): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > this.#limits.maxBodyBytes) tooBig = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      if (tooBig) return this.#json(res, 413, { errorCode: 'ERR_BODY_TOO_LARGE', message: `body larger than ${this.#limits.maxBodyBytes} bytes` });
      then(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
  }

  #setMetadata(req: IncomingMessage, res: ServerResponse, rawKey: string): void {
    if (req.method !== 'PUT') return this.#json(res, 405, { errorCode: 'ERR_METHOD_NOT_ALLOWED', message: 'PUT only' });
    let key: string;
    try {
      key = decodeURIComponent(rawKey);
    } catch {
      return this.#json(res, 400, { errorCode: 'ERR_MALFORMED_REQUEST', message: 'the metadata key is not valid percent-encoding' });
    }
    this.#readBody(req, res, (body) => {
      this.#ctx.metadata.set(key, body.toString('utf8'));
      res.writeHead(204).end();
    });
  }

  #invoke(req: IncomingMessage, res: ServerResponse, appId: string, method: string, query: string): void {
    this.#readBody(req, res, (body) => {
      const external = isExternalTarget(appId);
      const invoker: Invoker | undefined = external ? undefined : this.#ctx.invoker();
      if (!external && invoker === undefined) return this.#fail(res, appId, new RingsideError('UNAVAILABLE', 'internal', 'no rpc invoker is configured'));
      const headers: RpcHeaders = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (SKIPPED_REQUEST_HEADERS.has(k) || v === undefined) continue;
        headers[k] = typeof v === 'string' ? v : v.join(k === 'cookie' ? '; ' : ', ');
      }
      headers['verb'] = req.method ?? 'GET';
      headers['query_string'] = query;
      addDaprHeaders(headers, this.#ctx.settings.app_id, appId);
      addForwardedHeaders(headers, req);
      const cancel: RpcCancel = { cancelled: false, onCancel: null };
      // 'close' on the response before it finished means the client went away.
      res.once('close', () => {
        if (res.writableFinished) return;
        cancel.cancelled = true;
        cancel.onCancel?.();
      });
      const rpc: RpcRequest = {
        id: appId,
        method,
        contentType: req.headers['content-type'] ?? '',
        data: body,
        headers,
        // Dapr has no default invoke timeout; a resiliency policy may set one.
        timeoutMs: Infinity,
        deadline: Infinity,
        cancel,
      };
      const send = external ? (r: RpcRequest) => invokeExternal(appId, r) : (r: RpcRequest) => invoker!.invoke(r);
      this.#ctx.run(appId, rpc, send).then(
        (out) => this.#answer(res, out),
        (err: unknown) => this.#fail(res, appId, asRingsideError(err)),
      );
    });
  }

  /** The app's answer as it is: status, every header (repeated ones too), body. */
  #answer(res: ServerResponse, out: RpcResponse): void {
    if (res.headersSent || res.destroyed) return;
    for (const name in out.headers) {
      if (SKIPPED_RESPONSE_HEADERS.has(name)) continue;
      const values = out.headers[name]!;
      try {
        res.setHeader(name, values.length === 1 ? values[0]! : values);
      } catch {
        // A field node:http refuses to write is left out rather than failing the answer.
      }
    }
    const noBody = out.status === 204 || out.status === 304 || (out.status >= 100 && out.status < 200);
    if (noBody) res.writeHead(out.status).end();
    else res.writeHead(out.status, { 'content-length': out.data.length }).end(out.data);
  }

  #fail(res: ServerResponse, appId: string, err: RingsideError): void {
    if (res.headersSent || res.destroyed) return;
    log.debug(`invoke failed: ${err.code} ${err.message}`);
    const { status, errorCode } = daprHttpErrorOf(err);
    this.#json(res, status, { errorCode, message: directInvokeMessage(appId, err) });
  }

  #json(res: ServerResponse, status: number, body: unknown): void {
    const bytes = Buffer.from(JSON.stringify(body));
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': bytes.length }).end(bytes);
  }
}

/** X-Forwarded-For, X-Forwarded-Host and Forwarded (RFC 7239), added to what earlier hops wrote. */
function addForwardedHeaders(headers: RpcHeaders, req: IncomingMessage): void {
  const forIp = req.socket.remoteAddress;
  const byIp = req.socket.localAddress;
  const host = req.headers.host;
  const append = (name: string, value: string): void => {
    headers[name] = headers[name] === undefined || headers[name] === '' ? value : `${headers[name]}, ${value}`;
  };
  const quote = (ip: string): string => (ip.includes(':') ? `"[${ip}]"` : ip);
  const parts: string[] = [];
  if (forIp !== undefined) {
    append('x-forwarded-for', forIp);
    parts.push(`for=${quote(forIp)}`);
  }
  if (byIp !== undefined) parts.push(`by=${quote(byIp)}`);
  if (host !== undefined && host !== '') {
    headers['x-forwarded-host'] = host;
    parts.push(`host=${/^[!#$%&'*+\-.^_`|~0-9A-Za-z:[\]]+$/.test(host) ? host : JSON.stringify(host)}`);
  }
  if (parts.length > 0) append('forwarded', parts.join(';'));
}
