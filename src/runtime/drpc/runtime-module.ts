/**
 * The runtime API as dRPC module 10 (`ringside.runtime`): method 1001 InvokeService (body: Layotto's
 * InvokeServiceRequest, answer: InvokeResponse) and 1002 SayHello (SayHelloRequest → SayHelloResponse).
 *
 * A call takes the path of a gRPC call to the same runtime server: the server's stream filters
 * (onReceive before, onSend after, as the unary interceptor runs them), then its invoker — the same
 * before/after-invoke filters, channels and default timeout. dRPC carries no metadata, so the request
 * has no headers beyond the HTTP extension's verb and query, and upstream response headers are not
 * returned. An error answers FAILURE with a google.rpc.Status body (code, message) so the app learns
 * why, where DAOS would send an empty body.
 */
import { RingsideError, asRingsideError, grpcCodeOf } from '../../common/errors.js';
import { logger } from '../../common/log.js';
import { DrpcFailure, Module, Status, encodeRpcStatus, type CallContext } from '../../drpc/index.js';
import type { GrpcCallInfo, GrpcStreamFilter, Invoker, RpcCancel, RpcRequest } from '../../types/runtime.js';
import { LAYOTTO_SERVICE, VERB_NAMES, messageType, type InvokeServiceRequestMessage, type SayHelloRequestMessage, type SayHelloResponseMessage } from '../proto.js';
import { UpstreamStatusError } from '../channel/http-channel.js';
import { anyValue } from '../grpc/call.js';

const log = logger('runtime.drpc');

export const RUNTIME_MODULE_ID = 10;
export const METHOD_INVOKE_SERVICE = 1001;
export const METHOD_SAY_HELLO = 1002;

export { RpcStatusType } from '../../drpc/messages.js';

export interface RuntimeModuleDeps {
  serverName: string;
  /** The runtime server's invoker, looked up per call (the grpc listener may be built after this one). */
  invoker: () => Invoker | undefined;
  streamFilters: () => readonly GrpcStreamFilter[];
  /** For GrpcCallInfo.peer. */
  socketPath: string;
}

function failure(err: RingsideError): DrpcFailure {
  return new DrpcFailure(Status.FAILURE, err.message, encodeRpcStatus(grpcCodeOf(err), err.message));
}

/** Runs the stream filters around `handler` as the gRPC API's unary interceptor does. */
async function intercepted<T>(deps: RuntimeModuleDeps, method: string, ctx: CallContext, handler: () => Promise<T>): Promise<T> {
  const chain = deps.streamFilters();
  const info: GrpcCallInfo = { fullMethod: `/${LAYOTTO_SERVICE}/${method}`, headers: {}, peer: `drpc:${deps.socketPath}#${ctx.session.id}`, serverName: deps.serverName };
  let error: RingsideError | undefined;
  try {
    for (const f of chain) {
      const stop = f.onReceive(info);
      if (stop !== undefined) throw stop;
    }
    return await handler();
  } catch (err) {
    error = asRingsideError(err);
    throw failure(error);
  } finally {
    for (const f of chain) {
      try {
        f.onSend?.(info, error);
      } catch (e) {
        log.error('stream filter onSend threw', e);
      }
    }
  }
}

function toRpcRequest(req: InvokeServiceRequestMessage, cancel: RpcCancel): RpcRequest {
  const msg = req.message;
  const headers: Record<string, string> = {};
  const ext = msg?.http_extension;
  if (ext !== undefined && ext !== null) {
    headers['verb'] = VERB_NAMES[ext.verb ?? 0] ?? 'NONE';
    headers['query_string'] = ext.querystring ?? '';
  }
  const value = msg?.data?.value;
  return {
    id: req.id ?? '',
    method: msg?.method ?? '',
    contentType: msg?.content_type ?? '',
    data: anyValue(value),
    headers,
    timeoutMs: 0,
    deadline: Infinity,
    cancel,
  };
}

export function runtimeModule(deps: RuntimeModuleDeps): Module {
  const InvokeServiceRequest = messageType('spec.proto.runtime.v1.InvokeServiceRequest');
  const InvokeResponse = messageType('spec.proto.runtime.v1.InvokeResponse');
  const SayHelloRequest = messageType('spec.proto.runtime.v1.SayHelloRequest');
  const SayHelloResponse = messageType('spec.proto.runtime.v1.SayHelloResponse');
  return new Module(RUNTIME_MODULE_ID)
    .typedMethod<InvokeServiceRequestMessage, object>(METHOD_INVOKE_SERVICE, InvokeServiceRequest, InvokeResponse, (req, ctx) =>
      intercepted(deps, 'InvokeService', ctx, async () => {
        if ((req.id ?? '') === '') throw new RingsideError('BAD_REQUEST', 'downstream', 'InvokeServiceRequest.id is required');
        const inv = deps.invoker();
        if (inv === undefined) {
          throw new RingsideError('UNAVAILABLE', 'internal', `no rpc invoker is configured on runtime server "${deps.serverName}" (a grpc filter's grpc_config.rpcs.mosn)`);
        }
        // The session's cancel is the invoker's: a peer that hangs up mid-call frees the channel.
        const resp = await inv.invoke(toRpcRequest(req, ctx.cancel));
        // Layotto's rule, as on the gRPC port: any status but 200 is UNAVAILABLE with status and body.
        if (resp.status !== 200) throw new UpstreamStatusError(resp);
        return { data: { type_url: '', value: resp.data }, content_type: resp.contentType };
      }),
    )
    .typedMethod<SayHelloRequestMessage, SayHelloResponseMessage>(METHOD_SAY_HELLO, SayHelloRequest, SayHelloResponse, (req, ctx) =>
      intercepted(deps, 'SayHello', ctx, () => {
        const name = req.name ?? '';
        const out: SayHelloResponseMessage = { hello: name === '' ? 'greetings from Ringside' : `hello, ${name}` };
        if (req.data) out.data = req.data as SayHelloResponseMessage['data'] & object;
        return Promise.resolve(out);
      }),
    );
}
