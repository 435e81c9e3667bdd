/**
 * What every unary handler of the runtime API shares: turning a grpc-js call into an RpcRequest,
 * running the stream filters around the handler (MOSN's UnaryInterceptorFilter) and answering with
 * a gRPC status derived from the error's code.
 */
import { Metadata, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { GrpcCode, RingsideError, asRingsideError, grpcCodeOf, type ErrorCode, type ErrorSource } from '../../common/errors.js';
import { logger } from '../../common/log.js';
import type { GrpcCallInfo, GrpcStreamFilter, RpcCancel, RpcHeaders, RpcRequest, RpcResponse, RpcResponseHeaders } from '../../types/runtime.js';
import { VERB_NAMES, type InvokeRequestMessage } from '../proto.js';

const log = logger('runtime.grpc');

/**
 * gRPC transport fields that mean nothing to an HTTP upstream (or would mislead it: a gzip
 * accept-encoding the channel cannot decode, the gRPC content type). Everything else is forwarded,
 * as Layotto forwards the incoming metadata.
 */
function isTransportHeader(name: string): boolean {
  return (
    name === 'content-type' ||
    name === 'te' ||
    name === 'accept-encoding' ||
    name === 'content-length' ||
    name === 'host' ||
    name.startsWith('grpc-') ||
    name.startsWith(':') ||
    name.endsWith('-bin') ||
    // The sidecar's credential authorises the call to Ringside; it never travels to the app.
    name === 'dapr-api-token'
  );
}

/** Incoming metadata as channel headers (first value of each name). */
export function metadataToHeaders(md: Metadata): RpcHeaders {
  const out: RpcHeaders = {};
  const map = md.getMap();
  for (const name in map) {
    const v = map[name];
    if (typeof v === 'string' && !isTransportHeader(name)) out[name] = v;
  }
  return out;
}

/**
 * Response headers an HTTP/2 response may not carry (connection-specific fields make Node's http2 throw)
 * or that gRPC sets itself.
 */
const DROPPED_RESPONSE_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'content-type',
  'te',
  'trailer',
  'host',
  'date',
]);

/**
 * The upstream's response headers as gRPC response metadata, as Layotto's grpc.SetHeader does; a
 * repeated field keeps every value (two Set-Cookie stay two). `extra` is added after them.
 */
export function responseMetadata(headers: RpcResponseHeaders, extra?: Record<string, string>): Metadata | undefined {
  let md: Metadata | undefined;
  for (const name in headers) {
    if (DROPPED_RESPONSE_HEADERS.has(name) || name.startsWith('grpc-') || name.startsWith(':')) continue;
    md ??= new Metadata();
    for (const value of headers[name]!) {
      try {
        md.add(name, value);
      } catch {
        // A header name grpc-js refuses as metadata is skipped rather than failing the call.
      }
    }
  }
  for (const name in extra) {
    md ??= new Metadata();
    md.set(name, extra[name]!);
  }
  return md;
}

export function sendResponseHeaders(call: ServerUnaryCall<unknown, unknown>, headers: RpcResponseHeaders, extra?: Record<string, string>): void {
  const md = responseMetadata(headers, extra);
  if (md !== undefined) call.sendMetadata(md);
}

/** Caller deadline on the Date.now() scale, Infinity when none. */
function deadlineOf(call: ServerUnaryCall<unknown, unknown>): number {
  const d = call.getDeadline();
  if (d instanceof Date) return d.getTime();
  return typeof d === 'number' ? d : Infinity;
}

/**
 * The bytes of a google.protobuf.Any value. protobufjs leaves the field's default, a plain empty array,
 * when `data` is present without `value` (what protobuf-es, Go and Java clients send for an empty body).
 */
export function anyValue(value: Uint8Array | number[] | undefined): Buffer {
  if (value === undefined || value.length === 0) return Buffer.alloc(0);
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return Buffer.from(value);
}

/**
 * Builds the invoker request from an InvokeService call (Layotto's and Dapr's share the shape).
 * `timeoutMs`: 0 for the invoker's default (Layotto), Infinity for none but the caller's deadline (Dapr).
 */
export function toRpcRequest(call: ServerUnaryCall<unknown, unknown>, id: string, msg: InvokeRequestMessage | null | undefined, timeoutMs = 0): RpcRequest {
  const headers = metadataToHeaders(call.metadata);
  const ext = msg?.http_extension;
  if (ext !== undefined && ext !== null) {
    headers['verb'] = VERB_NAMES[ext.verb ?? 0] ?? 'NONE';
    headers['query_string'] = ext.querystring ?? '';
  }
  const value = msg?.data?.value;
  const cancel: RpcCancel = { cancelled: false, onCancel: null };
  // grpc-js emits 'cancelled' on client cancel, deadline and connection loss alike.
  call.once('cancelled', () => {
    cancel.cancelled = true;
    cancel.onCancel?.();
  });
  return {
    id,
    method: msg?.method ?? '',
    contentType: msg?.content_type ?? '',
    data: anyValue(value),
    headers,
    timeoutMs,
    deadline: deadlineOf(call),
    cancel,
  };
}

/** InvokeResponse for a channel answer. */
export function toInvokeResponse(resp: RpcResponse): { data: { type_url: string; value: Buffer }; content_type: string } {
  return { data: { type_url: '', value: resp.data }, content_type: resp.contentType };
}

export function replyError(callback: sendUnaryData<unknown>, err: RingsideError): void {
  if (err instanceof GrpcStatusError) {
    callback({ code: err.grpcCode, details: err.message, ...(err.trailers === undefined ? {} : { metadata: err.trailers }) });
    return;
  }
  callback({ code: grpcCodeOf(err), details: err.message });
}

export type UnaryHandler<Req, Res> = (call: ServerUnaryCall<Req, Res>) => Promise<Res>;

/**
 * Wraps a handler with the stream filters of its server: onReceive before (an error ends the call),
 * onSend after. Exceptions from filters or handler become INTERNAL; the worker never sees them.
 */
export function intercept<Req, Res>(
  serverName: string,
  filters: () => readonly GrpcStreamFilter[],
  handler: UnaryHandler<Req, Res>,
): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
  return (call, callback) => {
    let info: GrpcCallInfo | undefined;
    const chain = filters();
    const done = (err: RingsideError | undefined, value?: Res): void => {
      if (info !== undefined) {
        for (const f of chain) {
          try {
            f.onSend?.(info, err);
          } catch (e) {
            log.error('stream filter onSend threw', e);
          }
        }
      }
      if (err !== undefined) replyError(callback as sendUnaryData<unknown>, err);
      else callback(null, value);
    };
    try {
      // Only filters read the call's description; without them a call skips building it (the peer
      // address alone is a getpeername through the HTTP/2 session's socket proxy).
      if (chain.length > 0) {
        info = { fullMethod: call.getPath(), headers: metadataToHeaders(call.metadata), peer: call.getPeer(), serverName };
        for (const f of chain) {
          const stop = f.onReceive(info);
          if (stop !== undefined) return done(stop);
        }
      }
      handler(call).then(
        (res) => done(undefined, res),
        (err: unknown) => done(asRingsideError(err)),
      );
    } catch (err) {
      log.error('unary handler threw', err);
      done(new RingsideError('INTERNAL', 'internal', err instanceof Error ? err.message : String(err), { cause: err }));
    }
  };
}

/** The Dapr API token check (`dapr-api-token` metadata), when a token is configured. */
export function checkApiToken(headers: Metadata, token: string | undefined): RingsideError | undefined {
  if (token === undefined || token === '') return undefined;
  const got = headers.get('dapr-api-token')[0];
  if (got === token) return undefined;
  return new UnauthenticatedError();
}

/**
 * An error answered with a gRPC status chosen by the API rather than derived from the error code
 * (Dapr's mapping of an app's HTTP status, UNAUTHENTICATED), with optional trailers (status details).
 */
export class GrpcStatusError extends RingsideError {
  readonly grpcCode: number;
  readonly trailers: Metadata | undefined;
  constructor(grpcCode: number, message: string, opts: { code?: ErrorCode; source?: ErrorSource; status?: number; trailers?: Metadata } = {}) {
    super(opts.code ?? 'UPSTREAM_STATUS', opts.source ?? 'upstream', message, { retryable: false, ...(opts.status === undefined ? {} : { status: opts.status }) });
    this.grpcCode = grpcCode;
    this.trailers = opts.trailers;
  }
}

/** gRPC UNAUTHENTICATED / HTTP 401: no RingsideError code carries it. */
export class UnauthenticatedError extends GrpcStatusError {
  constructor() {
    super(GrpcCode.UNAUTHENTICATED, 'missing or wrong dapr-api-token', { code: 'BAD_REQUEST', source: 'downstream' });
  }
}
