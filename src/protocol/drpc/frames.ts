/**
 * dRPC calls and responses as the proxy sees them: a call is a request head whose `module` and
 * `method` headers (decimal ids) are what routes match on, with the call's body inside the frame; a
 * response is a head whose status is the dRPC Status, its body inside the frame too. A dRPC message
 * is whole when it is decoded, so a frame always reaches the proxy as a head with endOfStream.
 *
 * `requestId` is the sequence number the peer gave the call; the upstream client numbers its own
 * calls per connection and the server stream answers under the downstream's sequence.
 */
import { Headers } from '../headers.js';
import type { RequestFrame, ResponseFrame } from '../../types/protocol.js';
import type { Status } from '../../drpc/status.js';

export const DRPC_PROTOCOL = 'drpc';
/** Header names the router reads (route `match.headers`). */
export const MODULE_HEADER = 'module';
export const METHOD_HEADER = 'method';

export interface DrpcCallFrame extends RequestFrame {
  readonly kind: 'drpc-call';
  requestId: number;
  /** The ids the call goes upstream with (the headers are their routing view). */
  readonly moduleId: number;
  readonly methodId: number;
  body: Buffer;
}

export interface DrpcReplyFrame extends ResponseFrame {
  readonly kind: 'drpc-reply';
  requestId: number;
  /** A drpc.Status value. */
  status: Status;
  body: Buffer;
}

const EMPTY = Buffer.alloc(0);

export function callFrame(moduleId: number, methodId: number, sequence: number, body: Buffer): DrpcCallFrame {
  const m = String(moduleId);
  const n = String(methodId);
  return {
    kind: 'drpc-call',
    protocol: DRPC_PROTOCOL,
    requestId: sequence,
    moduleId,
    methodId,
    // `path` /module/method lets prefix and path matches work as well as header matches.
    method: n,
    path: `/${m}/${n}`,
    headers: new Headers([MODULE_HEADER, m, METHOD_HEADER, n]),
    body,
  };
}

export function replyFrame(sequence: number, status: Status, body: Buffer = EMPTY): DrpcReplyFrame {
  return { kind: 'drpc-reply', protocol: DRPC_PROTOCOL, requestId: sequence, status, reason: '', headers: new Headers(), body };
}

export function isCallFrame(f: RequestFrame): f is DrpcCallFrame {
  return (f as Partial<DrpcCallFrame>).kind === 'drpc-call';
}

export function isReplyFrame(f: ResponseFrame): f is DrpcReplyFrame {
  return (f as Partial<DrpcReplyFrame>).kind === 'drpc-reply';
}
