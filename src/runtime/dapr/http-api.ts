/**
 * Dapr's HTTP API subset, on a per-worker node:http server that is never bound: the `dapr_http`
 * network filter hands it the sockets its listener accepted. (node:http is the first step; the
 * HTTP/1.1 codec of the data plane can replace it behind the same filter.)
 *
 *   ANY /v1.0/invoke/{appId}/method/{method...}   → the runtime server's invoker (id = appId)
 *   GET /v1.0/healthz, /v1.0/healthz/outbound      → 204
 *   GET /v1.0/metadata                             → the sidecar's metadata as JSON
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { RingsideError, asRingsideError, httpStatusOf } from '../../common/errors.js';
import { logger } from '../../common/log.js';
import type { DaprSettings, Invoker, RpcCancel, RpcHeaders, RpcRequest } from '../../types/runtime.js';
import { UpstreamStatusError } from '../channel/http-channel.js';
import { daprMetadata } from './grpc-api.js';

const log = logger('runtime.dapr.http');
const INVOKE = /^\/v1\.0\/invoke\/([^/]+)\/method\/(.+)$/;
/** Hop-by-hop and framing fields of the incoming request; the channel sets its own. */
const SKIPPED_REQUEST_HEADERS = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'dapr-api-token', 'expect']);
const SKIPPED_RESPONSE_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date']);

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

export class DaprHttpApi {
  readonly #server: Server;
  readonly #settings: DaprSettings;
  readonly #workerIndex: number;
  readonly #invoker: () => Invoker | undefined;
  readonly #maxBodyBytes: number;

  constructor(
    settings: DaprSettings,
    workerIndex: number,
    invoker: () => Invoker | undefined,
    maxBodyBytes: number,
    timeouts: DaprHttpTimeouts = DEFAULT_TIMEOUTS,
  ) {
    this.#settings = settings;
    this.#workerIndex = workerIndex;
    this.#invoker = invoker;
    this.#maxBodyBytes = maxBodyBytes;
    const headersTimeout = timeouts.headersMs;
    this.#server = createServer(
      {
        keepAliveTimeout: timeouts.idleMs,
        headersTimeout,
        requestTimeout: headersTimeout === 0 ? 0 : Math.max(NODE_REQUEST_TIMEOUT_MS, headersTimeout),
        // The check runs this often; a quarter of the bound keeps a late cut-off within 25 %.
        connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor((headersTimeout || 4000) / 4))),
      },
      (req, res) => this.#handleSafely(req, res),
    );
    this.#server.on('clientError', (_err, socket) => socket.destroy());
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
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path === '/v1.0/healthz' || path === '/v1.0/healthz/outbound') {
      res.writeHead(204).end();
      return;
    }
    const token = this.#settings.apiToken;
    if (token !== undefined && token !== '' && req.headers['dapr-api-token'] !== token) {
      return this.#json(res, 401, { errorCode: 'ERR_API_UNAUTHORIZED', message: 'missing or wrong dapr-api-token' });
    }
    if (path === '/v1.0/metadata') {
      if (req.method !== 'GET') return this.#json(res, 405, { errorCode: 'ERR_METHOD_NOT_ALLOWED', message: 'GET only' });
      const md = daprMetadata(this.#settings, this.#workerIndex);
      return this.#json(res, 200, {
        id: md.id,
        runtimeVersion: md.runtime_version,
        enabledFeatures: md.enabled_features,
        components: md.registered_components,
        extended: md.extended_metadata,
      });
    }
    const m = INVOKE.exec(path);
    if (m === null) return this.#json(res, 404, { errorCode: 'ERR_NOT_FOUND', message: `no Dapr API at ${path}` });
    let appId: string;
    try {
      appId = decodeURIComponent(m[1]!);
    } catch {
      return this.#json(res, 400, { errorCode: 'ERR_MALFORMED_REQUEST', message: 'the app id in the invoke path is not valid percent-encoding' });
    }
    this.#invoke(req, res, appId, m[2]!, q < 0 ? '' : url.slice(q + 1));
  }

  #invoke(req: IncomingMessage, res: ServerResponse, appId: string, method: string, query: string): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > this.#maxBodyBytes) tooBig = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      if (tooBig) return this.#json(res, 413, { errorCode: 'ERR_BODY_TOO_LARGE', message: `body larger than ${this.#maxBodyBytes} bytes` });
      const invoker = this.#invoker();
      if (invoker === undefined) return this.#fail(res, new RingsideError('UNAVAILABLE', 'internal', 'no rpc invoker is configured'));
      const headers: RpcHeaders = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === 'string' && !SKIPPED_REQUEST_HEADERS.has(k)) headers[k] = v;
      }
      headers['verb'] = req.method ?? 'GET';
      headers['query_string'] = query;
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
        data: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
        headers,
        timeoutMs: 0,
        deadline: Infinity,
        cancel,
      };
      invoker.invoke(rpc).then(
        (out) => {
          for (const name in out.headers) {
            if (!SKIPPED_RESPONSE_HEADERS.has(name)) res.setHeader(name, out.headers[name]!);
          }
          res.writeHead(200, { 'content-length': out.data.length }).end(out.data);
        },
        (err: unknown) => this.#fail(res, asRingsideError(err)),
      );
    });
  }

  #fail(res: ServerResponse, err: RingsideError): void {
    if (res.headersSent || res.destroyed) return;
    // Dapr passes an app's own non-2xx answer through unchanged; Ringside does the same.
    if (err instanceof UpstreamStatusError) {
      const ct = err.headers.get('content-type');
      res.writeHead(err.status ?? 502, ct === undefined ? {} : { 'content-type': ct }).end(err.body);
      return;
    }
    log.debug(`invoke failed: ${err.code} ${err.message}`);
    this.#json(res, httpStatusOf(err), { errorCode: 'ERR_DIRECT_INVOKE', message: err.message });
  }

  #json(res: ServerResponse, status: number, body: unknown): void {
    const bytes = Buffer.from(JSON.stringify(body));
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': bytes.length }).end(bytes);
  }
}
