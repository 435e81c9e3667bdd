/**
 * Dapr gRPC proxying: a call on the Dapr gRPC port to a method the port does not serve itself, with
 * `dapr-callee-app-id` or `dapr-app-id` metadata, is proxied as a stream to that app's gRPC server —
 * unary, client-, server-streaming and bidi alike, since on the wire they are all one HTTP/2 stream of
 * length-prefixed messages. The app's response metadata, messages, status and trailers come back
 * as the app sent them (a Trailers-Only answer stays Trailers-Only). Without either key the call
 * fails as Dapr's does: UNKNOWN "failed to proxy request: required metadata dapr-callee-app-id or
 * dapr-app-id not found".
 *
 * Where the app is: the call goes out on an upstream gRPC channel (src/upstream/grpc) to
 * `ringside.dapr.grpc_proxy.listener` — normally an in-process `proxy` listener (Http2 or Auto
 * downstream) whose router picks the app's cluster by the `dapr-app-id` header, so app-id → address
 * is the router's and cluster manager's job as for every other invoke; a `host:port` or Unix path
 * reaches one app directly.
 *
 * Why here, as grpc-js's fallback handler, and not by terminating the port on Ringside's own HTTP/2
 * engine: the port's own services (Dapr, Layotto, health, reflection) and the API-token interceptor
 * live in grpc-js. Terminating the port on the engine would put every one of those calls through a
 * second, in-process HTTP/2 hop into grpc-js; as a fallback only proxied calls pay anything extra —
 * grpc-js's message (de)framing on the caller's side — and every call keeps its one grpc-js server.
 * The upstream half runs on Ringside's engine. grpc-js has no public "unknown service" hook
 * (grpc-go's UnknownServiceHandler, which Dapr uses), so the server's handler lookup is wrapped;
 * installProxyFallback checks the lookup exists and fails loudly at startup if grpc-js changed.
 */
import { Metadata, status as GrpcStatus, type Server, type ServerDuplexStream } from '@grpc/grpc-js';
import { gunzipSync } from 'node:zlib';
import { GrpcCode, grpcCodeOf, RingsideError } from '../../common/errors.js';
import { logger } from '../../common/log.js';
import type { GrpcChannel } from '../../upstream/grpc/channel.js';
import { MessageDeframer, frameMessage } from '../../upstream/grpc/framing.js';
import { decodeGrpcMessage, fieldValue } from '../../upstream/grpc/status.js';
import { CALLEE_APP_ID_HEADER, CALLER_APP_ID_HEADER, propagateTraceContext } from './invoke.js';

const log = logger('runtime.dapr.grpc-proxy');

export const DAPR_APP_ID_METADATA = 'dapr-app-id';
const API_TOKEN_METADATA = 'dapr-api-token';

/** Metadata the transport owns on either side: never copied between the two calls. */
const TRANSPORT_FIELDS = new Set(['content-type', 'content-length', 'te', 'grpc-encoding', 'grpc-accept-encoding', 'accept-encoding', 'grpc-timeout', 'grpc-status', 'grpc-message', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host']);

export interface DaprGrpcProxyDeps {
  /** This sidecar's app id (`dapr-caller-app-id` on proxied calls). */
  readonly appId: string;
  /** The channel toward the apps, or the reason there is none (gRPC proxying not configured). */
  readonly channel: () => GrpcChannel | string;
  readonly maxMessageBytes: number;
}

const raw = (b: Buffer): Buffer => b;

/**
 * Makes every method `server` has no handler for a proxied call. Throws when this grpc-js build has
 * no handler lookup to wrap (an upgrade changed its internals): the sidecar must not start believing
 * it proxies.
 */
export function installProxyFallback(server: Server, deps: DaprGrpcProxyDeps): void {
  const internals = server as unknown as { _retrieveHandler?: (path: string) => unknown };
  const lookup = internals._retrieveHandler;
  if (typeof lookup !== 'function') throw new Error('@grpc/grpc-js has no Server._retrieveHandler to wrap: Dapr gRPC proxying cannot be installed');
  const own = lookup.bind(server);
  const handlers = new Map<string, unknown>();
  internals._retrieveHandler = (path: string): unknown => {
    const registered = own(path);
    if (registered !== null && registered !== undefined) return registered;
    let h = handlers.get(path);
    if (h === undefined) {
      h = { type: 'bidi', path, serialize: raw, deserialize: raw, func: (call: ServerDuplexStream<Buffer, Buffer>) => proxyCall(call, path, deps) };
      // One record per method path, bounded: a flood of made-up paths must not grow memory.
      if (handlers.size < 4096) handlers.set(path, h);
    }
    return h;
  };
}

/** The app id the call names (Dapr reads dapr-callee-app-id first). */
function targetAppId(md: Metadata): string | undefined {
  for (const key of [CALLEE_APP_ID_HEADER, DAPR_APP_ID_METADATA]) {
    const v = md.get(key)[0];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}

/** The caller's metadata as request fields for the app, with the headers Dapr sets on the hop. */
function requestMetadata(md: Metadata, callerAppId: string, calleeAppId: string): string[] {
  const fields: string[] = [];
  const trace: Record<string, string> = {};
  for (const [name, value] of Object.entries(md.toHttp2Headers())) {
    if (TRANSPORT_FIELDS.has(name) || name === API_TOKEN_METADATA || name === CALLER_APP_ID_HEADER || name === CALLEE_APP_ID_HEADER) continue;
    const values = Array.isArray(value) ? value : [value];
    if (name === 'traceparent' || name === 'tracestate') {
      trace[name] = String(values[0]);
      continue;
    }
    for (const v of values) fields.push(name, String(v));
  }
  propagateTraceContext(trace);
  for (const [name, value] of Object.entries(trace)) fields.push(name, value);
  fields.push(CALLER_APP_ID_HEADER, callerAppId, CALLEE_APP_ID_HEADER, calleeAppId);
  return fields;
}

/** Response fields as grpc-js Metadata (pseudo-headers, status and transport fields left out). */
function metadataOf(fields: readonly string[]): Metadata {
  const md = new Metadata();
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name.charCodeAt(0) === 58 || TRANSPORT_FIELDS.has(name)) continue;
    const value = fields[i + 1]!;
    try {
      if (name.endsWith('-bin')) md.add(name, Buffer.from(value, 'base64'));
      else md.add(name, value);
    } catch (err) {
      // grpc-js refuses names/values gRPC does not allow; the rest of the answer still goes back.
      log.debug(`metadata ${JSON.stringify(name)} from the app dropped: ${(err as Error).message}`);
    }
  }
  return md;
}

function proxyCall(call: ServerDuplexStream<Buffer, Buffer>, path: string, deps: DaprGrpcProxyDeps): void {
  const appId = targetAppId(call.metadata);
  if (appId === undefined) {
    call.emit('error', { code: GrpcStatus.UNKNOWN, details: `failed to proxy request: required metadata ${CALLEE_APP_ID_HEADER} or ${DAPR_APP_ID_METADATA} not found` });
    return;
  }
  const channel = deps.channel();
  if (typeof channel === 'string') {
    call.emit('error', { code: GrpcStatus.UNAVAILABLE, details: `failed to proxy request to ${appId}: ${channel}` });
    return;
  }
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline === Infinity ? Infinity : Number(deadline);
  const deframer = new MessageDeframer(deps.maxMessageBytes);
  let encoding: string | undefined;
  let done = false;
  let paused = false;

  const finish = (code: number, details: string, trailers: Metadata): void => {
    if (done) return;
    done = true;
    if (code === GrpcCode.OK) call.end(trailers);
    else call.emit('error', { code, details, metadata: trailers });
  };
  const finishFromFields = (fields: readonly string[]): void => {
    const rawStatus = fieldValue(fields, 'grpc-status');
    const code = rawStatus !== undefined && /^\d+$/.test(rawStatus) ? Number(rawStatus) : GrpcCode.UNKNOWN;
    const details = rawStatus === undefined ? 'the app ended the call without a gRPC status' : decodeGrpcMessage(fieldValue(fields, 'grpc-message'));
    finish(code, details, metadataOf(fields));
  };
  const fail = (err: RingsideError): void => {
    upstream.cancel();
    finish(grpcCodeOf(err), `failed to proxy request to ${appId}: ${err.message}`, new Metadata());
  };

  const upstream = channel.stream(
    { path, authority: appId, metadata: requestMetadata(call.metadata, deps.appId, appId), deadline: deadlineMs },
    {
      onHeaders: (fields, endStream) => {
        if (done) return;
        if (endStream) {
          // Trailers-Only: nothing was sent yet, so grpc-js answers Trailers-Only too.
          finishFromFields(fields);
          return;
        }
        encoding = fieldValue(fields, 'grpc-encoding');
        call.sendMetadata(metadataOf(fields));
      },
      onData: (chunk, endStream) => {
        if (done) return;
        let messages;
        try {
          messages = deframer.push(chunk);
        } catch (err) {
          fail(err as RingsideError);
          return;
        }
        for (const m of messages) {
          let payload = m.payload;
          if (m.compressed) {
            if (encoding !== 'gzip') {
              fail(new RingsideError('UPSTREAM_BAD_RESPONSE', 'upstream', `compressed message with grpc-encoding "${encoding ?? ''}"`));
              return;
            }
            try {
              // Rare: the app is never told Ringside accepts compression on this hop.
              payload = gunzipSync(payload, { maxOutputLength: deps.maxMessageBytes });
            } catch (err) {
              fail(new RingsideError('UPSTREAM_BAD_RESPONSE', 'upstream', `cannot decompress a message: ${(err as Error).message}`));
              return;
            }
          }
          if (!call.write(payload) && !paused) {
            // The caller reads slower than the app writes: stop crediting the app until it drains.
            paused = true;
            upstream.setReceiving(false);
            call.once('drain', () => {
              paused = false;
              upstream.setReceiving(true);
            });
          }
        }
        if (endStream) finish(GrpcCode.UNKNOWN, 'the app ended the call without trailers', new Metadata());
      },
      onTrailers: (fields) => finishFromFields(fields),
      onError: (err) => {
        if (done) return;
        finish(grpcCodeOf(err), `failed to proxy request to ${appId}: ${err.message}`, new Metadata());
      },
      onWritable: () => {
        if (!done) call.resume();
      },
    },
  );

  call.on('data', (msg: Buffer) => {
    if (done) return;
    upstream.write(frameMessage(msg), false);
    if (upstream.blocked) call.pause();
  });
  call.on('end', () => {
    if (!done) upstream.end();
  });
  call.on('cancelled', () => {
    // The caller went away, or its deadline passed (grpc-js answered DEADLINE_EXCEEDED itself).
    if (done) return;
    done = true;
    upstream.cancel();
  });
}
