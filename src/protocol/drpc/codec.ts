/**
 * The `drpc` ProtocolCodec: what the protocol-neutral proxy asks of dRPC (src/types/protocol.ts).
 * dRPC does not fit XProtocolCodec: its messages are framed by SOCK_SEQPACKET packets rather than
 * bytes, a message does not say whether it is a Call or a Response (both are bare protobuf), a
 * connection carries one call at a time (the server reads the next call only after answering), and
 * an undecodable call is answered (sequence −1) while the session goes on. So it has its own stream
 * connection (src/stream/drpc/) on a packet listener, and only the proxy hooks live here:
 *
 *   errorReply   no route → UNKNOWN_MODULE (nothing here serves the module/method pair); any other
 *                error of Ringside's own (no healthy host, connect refused, timeout, overflow, a bad
 *                upstream answer) → FAILURE with a google.rpc.Status body (code, message), as the
 *                runtime's dRPC listener answers an invoker error
 *   directReply  2xx → SUCCESS with the body; otherwise FAILURE with a google.rpc.Status body
 *   retryStatus  FAILURE / FAILED_MARSHAL as 500, UNKNOWN_MODULE / UNKNOWN_METHOD as 501 (a
 *                retry_policy on 5xx may send those to another host); the rest is passed on
 *   unprocessed  UNKNOWN_MODULE, UNKNOWN_METHOD and the unmarshal failures: the method never ran
 *   safeToRetry  never (a call is not known to be idempotent); no forwarded-for field, no timeout
 *                field, no authority (virtual hosts match with "*")
 *
 * detect() never matches: a byte-stream connection is never dRPC, so Auto never picks it.
 */
import { RingsideError, grpcCodeOf } from '../../common/errors.js';
import type { DetectResult, HeaderMap, LocalReply, ProtocolCodec, ProxyHooks, RequestFrame, ResponseFrame } from '../../types/protocol.js';
import { Status, encodeRpcStatus } from '../../drpc/status.js';
import { DRPC_PROTOCOL, MODULE_HEADER, callFrame, isReplyFrame, replyFrame, type DrpcCallFrame, type DrpcReplyFrame } from './frames.js';

/** The HTTP class of a dRPC status (metrics, retry policies). */
export function httpStatusOf(status: Status): number {
  switch (status) {
    case Status.SUCCESS:
    case Status.SUBMITTED:
      return 200;
    case Status.UNKNOWN_MODULE:
    case Status.UNKNOWN_METHOD:
      return 501;
    case Status.FAILED_UNMARSHAL_CALL:
    case Status.FAILED_UNMARSHAL_PAYLOAD:
      return 400;
    default:
      return 500;
  }
}

/** gRPC code of an HTTP status, for the google.rpc.Status of a direct response or a filter's reply. */
function grpcCodeOfHttp(status: number): number {
  if (status === 400) return 3;
  if (status === 401) return 16;
  if (status === 403) return 7;
  if (status === 404) return 5;
  if (status === 408 || status === 504) return 4;
  if (status === 429) return 8;
  if (status === 501) return 12;
  if (status === 503) return 14;
  return 2;
}

/** The reply a stream filter's local reply (an HTTP status and a text) becomes. */
export function replyOfHttp(sequence: number, status: number, text: string): DrpcReplyFrame {
  if (status >= 200 && status < 300) return replyFrame(sequence, Status.SUCCESS, Buffer.from(text));
  return replyFrame(sequence, Status.FAILURE, encodeRpcStatus(grpcCodeOfHttp(status), text === '' ? `HTTP status ${status}` : text));
}

/** The reply to an error of Ringside's own. */
export function replyOfError(sequence: number, err: RingsideError): DrpcReplyFrame {
  if (err.code === 'NO_ROUTE' && err.source === 'downstream') return replyFrame(sequence, Status.UNKNOWN_MODULE);
  return replyFrame(sequence, Status.FAILURE, encodeRpcStatus(grpcCodeOf(err), err.message));
}

const hooks: ProxyHooks = {
  errorReply(request: RequestFrame, err: RingsideError): LocalReply {
    return { head: replyOfError(request.requestId, err), body: null };
  },
  directReply(request: RequestFrame, status: number, body: string): LocalReply {
    return { head: replyOfHttp(request.requestId, status, body), body: null };
  },
  retryStatus(response: ResponseFrame): number | undefined {
    const http = isReplyFrame(response) ? httpStatusOf(response.status) : response.status;
    return http >= 500 ? http : undefined;
  },
  unprocessed(response: ResponseFrame): boolean {
    const s = response.status;
    return s === Status.UNKNOWN_MODULE || s === Status.UNKNOWN_METHOD || s === Status.FAILED_UNMARSHAL_CALL || s === Status.FAILED_UNMARSHAL_PAYLOAD;
  },
  safeToRetry(): boolean {
    return false;
  },
  addForwarded(): void {},
  requestTimeoutMs(): number {
    return 0;
  },
  authority(): string {
    return '';
  },
};

export const drpcCodec: ProtocolCodec = {
  name: DRPC_PROTOCOL,
  detect(): DetectResult {
    return 'no';
  },
  newResponse(request: RequestFrame | null, status: number): DrpcReplyFrame {
    return replyFrame(request?.requestId ?? 0, status as Status);
  },
  /** `method` is the method id; the module id comes from the `module` header, else from path /module. */
  newRequest(method: string, path: string, headers?: HeaderMap): DrpcCallFrame {
    const moduleText = headers?.get(MODULE_HEADER) ?? path.split('/').filter((s) => s !== '')[0] ?? '';
    const moduleId = Number(moduleText);
    const methodId = Number(method);
    if (!Number.isInteger(moduleId) || !Number.isInteger(methodId)) {
      throw new RingsideError('BAD_REQUEST', 'internal', `a dRPC call needs integer module and method ids (got module "${moduleText}", method "${method}")`);
    }
    return callFrame(moduleId, methodId, 0, Buffer.alloc(0));
  },
  proxy: hooks,
};
