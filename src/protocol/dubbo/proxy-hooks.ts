/**
 * What the protocol-neutral proxy asks dubbo. Ringside's own errors are answered as MOSN's dubbo
 * codec answers them (status byte + `code|text` hessian2 message, see status.ts); a failed response
 * counts as the HTTP class MOSN maps its status to; THREADPOOL_EXHAUSTED and SERVICE_NOT_FOUND say the
 * provider did not run the call. Dubbo calls are not known to be idempotent, so none is resent after
 * its bytes reached a provider otherwise. A dubbo frame has no forwarded-for field and no authority.
 * The request timeout a Dubbo consumer sends sits in the attachments behind the arguments; the proxy
 * does not decode them for it, so the route's timeout applies.
 */
import type { RingsideError } from '../../common/errors.js';
import type { LocalReply, ProxyHooks, RequestFrame, ResponseFrame, ResponseHeadFactory } from '../../types/protocol.js';
import { DubboStatus, ResultFlag } from './constants.js';
import { hessianEncoder } from './hessian.js';
import { dubboReplyOf, httpClassOfDubboStatus } from './status.js';

function message(text: string): Buffer {
  return hessianEncoder().writeString(text).get();
}

export const dubboProxyHooks: ProxyHooks = {
  errorReply(_request: RequestFrame, err: RingsideError, factory: ResponseHeadFactory): LocalReply {
    const reply = dubboReplyOf(err);
    return { head: factory.newResponse(reply.status), body: message(reply.message) };
  },
  directReply(_request: RequestFrame, status: number, body: string, factory: ResponseHeadFactory): LocalReply {
    if (status >= 200 && status < 300) {
      // An OK response whose result is the configured body, as a string.
      const enc = hessianEncoder().writeInt(ResultFlag.VALUE).writeString(body);
      return { head: factory.newResponse(DubboStatus.OK), body: enc.get() };
    }
    return { head: factory.newResponse(status === 404 ? DubboStatus.SERVICE_NOT_FOUND : DubboStatus.SERVICE_ERROR), body: message(body) };
  },
  retryStatus(response: ResponseFrame): number | undefined {
    return response.status === DubboStatus.OK ? undefined : httpClassOfDubboStatus(response.status);
  },
  unprocessed(response: ResponseFrame): boolean {
    return response.status === DubboStatus.SERVER_THREADPOOL_EXHAUSTED_ERROR || response.status === DubboStatus.SERVICE_NOT_FOUND;
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
