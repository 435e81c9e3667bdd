/**
 * Handlers of spec.proto.runtime.v1.Runtime: SayHello and InvokeService (Layotto's default API).
 */
import type { ServerUnaryCall } from '@grpc/grpc-js';
import { RingsideError } from '../../common/errors.js';
import type { Invoker } from '../../types/runtime.js';
import type { InvokeServiceRequestMessage, SayHelloRequestMessage, SayHelloResponseMessage } from '../proto.js';
import { UpstreamStatusError } from '../channel/http-channel.js';
import { sendResponseHeaders, toInvokeResponse, toRpcRequest } from './call.js';

export type InvokeResponseOut = ReturnType<typeof toInvokeResponse>;

export function sayHello(call: ServerUnaryCall<SayHelloRequestMessage, SayHelloResponseMessage>): Promise<SayHelloResponseMessage> {
  const name = call.request.name ?? '';
  const out: SayHelloResponseMessage = { hello: name === '' ? 'greetings from Ringside' : `hello, ${name}` };
  if (call.request.data) out.data = call.request.data as SayHelloResponseMessage['data'] & object;
  return Promise.resolve(out);
}

/** InvokeService: id and message → the invoker → InvokeResponse{data, content_type}. */
export async function invokeService(
  invoker: () => Invoker | undefined,
  call: ServerUnaryCall<InvokeServiceRequestMessage, InvokeResponseOut>,
): Promise<InvokeResponseOut> {
  const id = call.request.id ?? '';
  if (id === '') throw new RingsideError('BAD_REQUEST', 'downstream', 'InvokeServiceRequest.id is required');
  const inv = invoker();
  if (inv === undefined) throw new RingsideError('UNAVAILABLE', 'internal', 'no rpc invoker is configured on this runtime server (grpc_config.rpcs.mosn)');
  const resp = await inv.invoke(toRpcRequest(call, id, call.request.message));
  sendResponseHeaders(call, resp.headers);
  // Layotto's http channel: any status but 200 is UNAVAILABLE "http response code N, body: …".
  if (resp.status !== 200) throw new UpstreamStatusError(resp);
  return toInvokeResponse(resp);
}
