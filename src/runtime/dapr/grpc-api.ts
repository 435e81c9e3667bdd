/**
 * Handlers of dapr.proto.runtime.v1.Dapr that Ringside serves: InvokeService (through the same invoker
 * as Layotto's API, id = app id, method = method), GetMetadata, SetMetadata and Shutdown.
 *
 * InvokeService answers as Dapr does for an HTTP app: any 2xx is OK, another status becomes the gRPC
 * code of Dapr's mapping with the status text as message and a google.rpc.ErrorInfo (domain dapr.io,
 * metadata http.code and http.error_message) in grpc-status-details-bin; the app's headers come back
 * as response metadata with `dapr-http-status`. A failure of the sidecar itself (no route, app
 * unreachable, timeout, open circuit breaker) is ERR_DIRECT_INVOKE's "failed to invoke, id: …, err: …".
 */
import { Metadata, type ServerUnaryCall } from '@grpc/grpc-js';
import { STATUS_CODES } from 'node:http';
import { GrpcCode, RingsideError, asRingsideError } from '../../common/errors.js';
import type { Invoker, RpcRequest, RpcResponse } from '../../types/runtime.js';
import type { DaprSettings } from '../../config/types.js';
import { GrpcStatusError, checkApiToken, sendResponseHeaders, toInvokeResponse, toRpcRequest } from '../grpc/call.js';
import type { InvokeResponseOut } from '../grpc/layotto-api.js';
import { messageType, type GetMetadataResponseMessage, type InvokeServiceRequestMessage, type SetMetadataRequestMessage } from '../proto.js';
import { HTTP_STATUS_METADATA, addDaprHeaders, daprGrpcCodeOf, directInvokeMessage, grpcCodeFromHttpStatus } from './invoke.js';
import type { DaprMetadataStore } from './metadata.js';

/** What the Dapr API handlers of one worker share. */
export interface DaprApiContext {
  readonly settings: DaprSettings;
  readonly metadata: DaprMetadataStore;
  readonly invoker: () => Invoker | undefined;
  /** Runs one invoke of app `appId`, under the resiliency policy for that app when there is one. */
  readonly run: (appId: string, req: RpcRequest, invoke: (req: RpcRequest) => Promise<RpcResponse>) => Promise<RpcResponse>;
  /** Starts the sidecar's graceful shutdown (Dapr's Shutdown API). */
  readonly requestShutdown: () => void;
}

/** Dapr truncates http.error_message to 63 characters (an ErrorInfo metadata value limit). */
const MAX_ERROR_MESSAGE = 63;

/** google.rpc.Status with one ErrorInfo, as Dapr's ErrorFromHTTPResponseCode builds it. */
function statusDetails(code: number, statusText: string, httpStatus: number, body: Buffer): Buffer {
  const errorInfo = messageType('google.rpc.ErrorInfo');
  const status = messageType('google.rpc.Status');
  const info = errorInfo
    .encode({
      reason: statusText,
      domain: 'dapr.io',
      metadata: { 'http.code': String(httpStatus), 'http.error_message': body.toString('utf8', 0, Math.min(body.length, 256)).slice(0, MAX_ERROR_MESSAGE) },
    })
    .finish();
  return Buffer.from(
    status.encode({ code, message: statusText, details: [{ type_url: 'type.googleapis.com/google.rpc.ErrorInfo', value: info }] }).finish(),
  );
}

/** The gRPC answer for an app's HTTP response: OK for 2xx, else Dapr's mapped status. */
export function daprGrpcAnswer(call: ServerUnaryCall<unknown, unknown>, resp: RpcResponse): InvokeResponseOut {
  if (resp.grpcStatus !== undefined) return grpcAppAnswer(call, resp, resp.grpcStatus);
  sendResponseHeaders(call, resp.headers, { [HTTP_STATUS_METADATA]: String(resp.status) });
  const code = grpcCodeFromHttpStatus(resp.status);
  if (code === GrpcCode.OK) return toInvokeResponse(resp);
  const text = STATUS_CODES[resp.status] ?? `HTTP ${resp.status}`;
  const trailers = new Metadata();
  trailers.set('grpc-status-details-bin', statusDetails(code, text, resp.status, resp.data));
  throw new GrpcStatusError(code, text, { status: resp.status, trailers });
}

/** An app that speaks gRPC (OnInvoke): its status, message, metadata and trailers, unchanged. */
function grpcAppAnswer(call: ServerUnaryCall<unknown, unknown>, resp: RpcResponse, st: NonNullable<RpcResponse['grpcStatus']>): InvokeResponseOut {
  sendResponseHeaders(call, resp.headers);
  if (st.code === GrpcCode.OK) return toInvokeResponse(resp);
  const trailers = new Metadata();
  for (let i = 0; i < st.trailers.length; i += 2) {
    const name = st.trailers[i]!;
    if (name === 'grpc-status' || name === 'grpc-message' || name === 'content-type') continue;
    try {
      trailers.add(name, name.endsWith('-bin') ? Buffer.from(st.trailers[i + 1]!, 'base64') : st.trailers[i + 1]!);
    } catch {
      // A name or value gRPC does not allow: left out, the status still goes back.
    }
  }
  throw new GrpcStatusError(st.code, st.message, { status: resp.status, trailers });
}

export async function daprInvokeService(ctx: DaprApiContext, call: ServerUnaryCall<InvokeServiceRequestMessage, InvokeResponseOut>): Promise<InvokeResponseOut> {
  const denied = checkApiToken(call.metadata, ctx.settings.api_token);
  if (denied !== undefined) throw denied;
  const id = call.request.id ?? '';
  if (id === '') throw new RingsideError('BAD_REQUEST', 'downstream', 'InvokeServiceRequest.id (the app id) is required');
  const inv = ctx.invoker();
  if (inv === undefined) throw new RingsideError('UNAVAILABLE', 'internal', 'no rpc invoker is configured on this runtime server (grpc_config.rpcs.mosn)');
  // Dapr has no default invoke timeout: the caller's deadline or a resiliency policy ends the call.
  const req = toRpcRequest(call, id, call.request.message, Infinity);
  addDaprHeaders(req.headers, ctx.settings.app_id, id);
  let resp: RpcResponse;
  try {
    resp = await ctx.run(id, req, (r) => inv.invoke(r));
  } catch (err) {
    const e = asRingsideError(err);
    throw new GrpcStatusError(daprGrpcCodeOf(e), directInvokeMessage(id, e), { code: e.code, source: e.source });
  }
  return daprGrpcAnswer(call, resp);
}

export function daprGetMetadata(ctx: DaprApiContext, call: ServerUnaryCall<unknown, GetMetadataResponseMessage>): Promise<GetMetadataResponseMessage> {
  const denied = checkApiToken(call.metadata, ctx.settings.api_token);
  if (denied !== undefined) return Promise.reject(denied);
  return Promise.resolve(ctx.metadata.snapshot());
}

export function daprSetMetadata(ctx: DaprApiContext, call: ServerUnaryCall<SetMetadataRequestMessage, object>): Promise<object> {
  const denied = checkApiToken(call.metadata, ctx.settings.api_token);
  if (denied !== undefined) return Promise.reject(denied);
  const key = call.request.key ?? '';
  if (key === '') return Promise.reject(new RingsideError('BAD_REQUEST', 'downstream', 'SetMetadataRequest.key is required'));
  ctx.metadata.set(key, call.request.value ?? '');
  return Promise.resolve({});
}

export function daprShutdown(ctx: DaprApiContext, call: ServerUnaryCall<unknown, object>): Promise<object> {
  const denied = checkApiToken(call.metadata, ctx.settings.api_token);
  if (denied !== undefined) return Promise.reject(denied);
  // Answer first: the drain that follows lets this call finish.
  setImmediate(ctx.requestShutdown);
  return Promise.resolve({});
}
