/**
 * Handlers of dapr.proto.runtime.v1.Dapr that Ringside serves: InvokeService (through the same invoker
 * as Layotto's API, id = app id, method = method) and GetMetadata.
 */
import type { ServerUnaryCall } from '@grpc/grpc-js';
import { RingsideError } from '../../common/errors.js';
import type { DaprSettings, Invoker } from '../../types/runtime.js';
import { checkApiToken, sendResponseHeaders, toInvokeResponse, toRpcRequest } from '../grpc/call.js';
import type { InvokeResponseOut } from '../grpc/layotto-api.js';
import type { GetMetadataResponseMessage, InvokeServiceRequestMessage } from '../proto.js';

export const RUNTIME_VERSION = 'ringside-0.1.0';

export async function daprInvokeService(
  settings: DaprSettings,
  invoker: () => Invoker | undefined,
  call: ServerUnaryCall<InvokeServiceRequestMessage, InvokeResponseOut>,
): Promise<InvokeResponseOut> {
  const denied = checkApiToken(call.metadata, settings.apiToken);
  if (denied !== undefined) throw denied;
  const id = call.request.id ?? '';
  if (id === '') throw new RingsideError('BAD_REQUEST', 'downstream', 'InvokeServiceRequest.id (the app id) is required');
  const inv = invoker();
  if (inv === undefined) throw new RingsideError('UNAVAILABLE', 'internal', 'no rpc invoker is configured on this runtime server (grpc_config.rpcs.mosn)');
  const req = toRpcRequest(call, id, call.request.message);
  // Dapr clients name the token in metadata; it authorises the call and must not travel on.
  delete req.headers['dapr-api-token'];
  const resp = await inv.invoke(req);
  sendResponseHeaders(call, resp.headers);
  return toInvokeResponse(resp);
}

/** The metadata Ringside reports, shared by the gRPC and HTTP APIs. */
export function daprMetadata(settings: DaprSettings, workerIndex: number): GetMetadataResponseMessage {
  return {
    id: settings.appId,
    registered_components: [],
    extended_metadata: { 'ringside.worker': String(workerIndex), 'ringside.runtime': 'layotto-compatible' },
    runtime_version: RUNTIME_VERSION,
    enabled_features: [],
  };
}

export function daprGetMetadata(
  settings: DaprSettings,
  workerIndex: number,
  call: ServerUnaryCall<unknown, GetMetadataResponseMessage>,
): Promise<GetMetadataResponseMessage> {
  const denied = checkApiToken(call.metadata, settings.apiToken);
  if (denied !== undefined) return Promise.reject(denied);
  return Promise.resolve(daprMetadata(settings, workerIndex));
}
