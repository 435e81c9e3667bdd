/**
 * The dubbo codec (Apache Dubbo's ExchangeCodec + DubboCodec, MOSN's xprotocol/dubbo) as an
 * XProtocolCodec: the proxy, the multiplexed stream layer, the runtime's `dubbo` channel and the
 * load driver all cut and write dubbo frames through it.
 *
 * Why hand-written framing rather than a library (dubbo-remoting): on the proxy path a frame is read,
 * routed on its head and sent on with only its id changed. dubbo-remoting decodes the whole hessian2
 * body into objects (arguments included) and re-serializes it, which a proxy must not do and which
 * costs far more than the few byte reads a 16-byte header needs; it also throws on bytes it does not
 * like, where a proxy must answer with dubbo's own error status and close only that connection. So
 * the header is read by hand, the frame copied once, and hessian.js decodes only the five head
 * strings (head.ts) — the attachments only when a router asks for one.
 *
 * Requests: two-way (answered) or oneway (two-way flag clear); events are heartbeats (null data,
 * answered by the stream layer) or Dubbo's READONLY event (data "R": the provider takes no new
 * request on this connection, Ringside's goaway). Ids are u64 on the wire; Ringside handles 0 …
 * 2^53 − 1 and refuses a frame past that as bad bytes.
 *
 * Bad input never throws: decode() answers an 'error' result with the request id when the header
 * was readable (the stream layer answers BAD_REQUEST / SERVICE_ERROR under it before it closes).
 */
import { RingsideError } from '../../common/errors.js';
import type { DetectResult } from '../../types/protocol.js';
import { XCommand, type XDecodeLimits, type XDecodeResult, type XFrame, type XProtocolCodec, type XRequest, type XResponse } from '../../types/xprotocol.js';
import { XHeaders } from '../xprotocol/headers.js';
import { DubboHeader, DubboStatus, FLAG_AT, FLAG_EVENT, FLAG_REQUEST, FLAG_TWO_WAY, HEADER_BYTES, HESSIAN2, ID_AT, LENGTH_AT, MAGIC_HIGH, MAGIC_LOW, ResultFlag, STATUS_AT, SERIALIZATION_MASK, dubboStatusName } from './constants.js';
import { detectDubbo, frame, readId, writeId } from './framing.js';
import { DUBBO, DubboRequest, DubboRequestHeaders, DubboResponse } from './frames.js';
import { decodeRequestHead, type DubboRequestHead } from './head.js';
import { hessianEncoder } from './hessian.js';
import { dubboReplyOf, httpClassOfDubboStatus } from './status.js';

/** hessian2 `N`: the null data of a heartbeat and of its answer. */
const NULL_BODY = Buffer.from([0x4e]);
/** hessian2 "R": Dubbo's READONLY event data. */
const READONLY_BODY = Buffer.from([0x01, 0x52]);

function codecError(message: string, requestId: number | undefined, request: boolean, code: 'BAD_REQUEST' | 'LIMIT_EXCEEDED' = 'BAD_REQUEST'): XDecodeResult {
  return { kind: 'error', error: new RingsideError(code, 'downstream', `dubbo: ${message}`, { retryable: false }), requestId, request };
}

function hessianString(text: string): Buffer {
  return hessianEncoder().writeString(text).get();
}

/** An event request's command: null data is a heartbeat, "R" the READONLY event; others are answered as heartbeats. */
function eventCommand(body: Buffer): XCommand {
  return body.length === READONLY_BODY.length && body[0] === READONLY_BODY[0] && body[1] === READONLY_BODY[1] ? XCommand.GoAway : XCommand.Heartbeat;
}

class DubboCodec implements XProtocolCodec {
  readonly name = DUBBO;
  /** Upstream ids wrap at 2^32 − 1, as the runtime channel's: every Dubbo peer reads those. */
  readonly maxRequestId = 0xffffffff;

  detect(first: Buffer): DetectResult {
    return detectDubbo(first);
  }

  decode(buf: Buffer, limits: XDecodeLimits): XDecodeResult {
    const n = buf.length;
    if (n >= 1 && buf[0] !== MAGIC_HIGH) return codecError(`bad magic 0x${buf.subarray(0, 2).toString('hex')} (expected 0xdabb)`, undefined, false);
    if (n >= 2 && buf[1] !== MAGIC_LOW) return codecError(`bad magic 0x${buf.subarray(0, 2).toString('hex')} (expected 0xdabb)`, undefined, false);
    if (n < HEADER_BYTES) return { kind: 'need', bytes: 0 };
    const flag = buf[FLAG_AT]!;
    const isReq = (flag & FLAG_REQUEST) !== 0;
    const id = readId(buf, ID_AT);
    // Past a wrong magic nothing can be trusted; past 2^53 − 1 the id cannot be answered exactly.
    if (id < 0) return codecError(`request id 0x${buf.subarray(ID_AT, ID_AT + 8).toString('hex')} is past 2^53 - 1`, undefined, isReq);
    const bodyLength = buf.readUInt32BE(LENGTH_AT);
    if (bodyLength > limits.maxContentBytes) {
      return codecError(`body of ${bodyLength} bytes passes the limit of ${limits.maxContentBytes}`, id, isReq, 'LIMIT_EXCEEDED');
    }
    const total = HEADER_BYTES + bodyLength;
    if (n < total) return { kind: 'need', bytes: total };
    // One copy of the frame: the read buffer is reused after this call.
    const raw = Buffer.allocUnsafe(total);
    buf.copy(raw, 0, 0, total);
    const content = raw.subarray(HEADER_BYTES);
    const layout = { raw, content };
    if (!isReq) {
      return { kind: 'frame', frame: new DubboResponse(id, flag, raw[STATUS_AT]!, new XHeaders(), content, layout), bytes: total };
    }
    if ((flag & FLAG_EVENT) !== 0) {
      const req = new DubboRequest(id, eventCommand(content), flag, null, new DubboRequestHeaders(null, null), content, layout);
      return { kind: 'frame', frame: req, bytes: total };
    }
    if ((flag & SERIALIZATION_MASK) !== HESSIAN2) {
      return codecError(`serialization id ${flag & SERIALIZATION_MASK} is not supported (hessian2 = 2 only)`, id, true);
    }
    let head: DubboRequestHead;
    try {
      head = decodeRequestHead(content);
    } catch (err) {
      return codecError((err as Error).message.replace(/^dubbo /, ''), id, true);
    }
    const command = (flag & FLAG_TWO_WAY) !== 0 ? XCommand.Request : XCommand.Oneway;
    const req = new DubboRequest(id, command, flag, head, new DubboRequestHeaders(head, content), content, layout);
    return { kind: 'frame', frame: req, bytes: total };
  }

  encode(msg: XFrame): Buffer {
    if (msg.kind === 'response') {
      const f = msg as DubboResponse;
      const layout = f.layout;
      if (layout !== null && f.content === layout.content) {
        // Unchanged since it was read: the received bytes with this hop's id.
        writeId(layout.raw, ID_AT, f.requestId);
        layout.raw[STATUS_AT] = f.status;
        return layout.raw;
      }
      return frame(f.flag, f.status, f.requestId, f.content);
    }
    const f = msg as DubboRequest;
    const layout = f.layout;
    if (layout !== null && f.content === layout.content && !f.headers.dirty) {
      writeId(layout.raw, ID_AT, f.requestId);
      return layout.raw;
    }
    if (f.headers.dirty && f.head !== null) return frame(f.flag, 0, f.requestId, withAttachments(f));
    return frame(f.flag, 0, f.requestId, f.content);
  }

  heartbeat(requestId: number): XRequest {
    return new DubboRequest(requestId, XCommand.Heartbeat, FLAG_REQUEST | FLAG_TWO_WAY | FLAG_EVENT | HESSIAN2, null, new DubboRequestHeaders(null, null), NULL_BODY, null);
  }

  heartbeatReply(request: XRequest): XResponse {
    const r = request as DubboRequest;
    return new DubboResponse(r.requestId, FLAG_EVENT | (r.flag & SERIALIZATION_MASK), DubboStatus.OK, new XHeaders(), NULL_BODY, null);
  }

  goAway(): XRequest {
    return new DubboRequest(0, XCommand.GoAway, FLAG_REQUEST | FLAG_EVENT | HESSIAN2, null, new DubboRequestHeaders(null, null), READONLY_BODY, null);
  }

  /**
   * A response with `status`: OK carries the NULL_VALUE result flag (a valid empty result), any other
   * status the status name as its message (what Dubbo consumers read from a failed response).
   */
  reply(request: XRequest | null, status: number): XResponse {
    const r = request as DubboRequest | null;
    const flag = r === null ? HESSIAN2 : r.flag & SERIALIZATION_MASK;
    const content = status === DubboStatus.OK ? hessianEncoder().writeInt(ResultFlag.NULL_VALUE).get() : hessianString(dubboStatusName(status));
    return new DubboResponse(r?.requestId ?? 0, flag, status, new XHeaders(), content, null);
  }

  /** MOSN's dubbo Hijack: the status byte and the `code|text` message it writes. */
  errorReply(request: XRequest | null, err: RingsideError): XResponse {
    const { status, message } = dubboReplyOf(err);
    const r = request as DubboRequest | null;
    return new DubboResponse(r?.requestId ?? 0, HESSIAN2, status, new XHeaders(), hessianString(message), null);
  }

  /** A 2xx direct response is an OK result holding the body as a string; other statuses an error message. */
  directReply(request: XRequest, httpStatus: number, body: string): XResponse {
    const r = request as DubboRequest;
    if (httpStatus >= 200 && httpStatus < 300) {
      const content = hessianEncoder().writeInt(ResultFlag.VALUE).writeString(body).get();
      return new DubboResponse(r.requestId, HESSIAN2, DubboStatus.OK, new XHeaders(), content, null);
    }
    return new DubboResponse(r.requestId, HESSIAN2, this.statusOfHttp(httpStatus), new XHeaders(), hessianString(body === '' ? `${httpStatus}` : body), null);
  }

  statusOfError(err: RingsideError): number {
    return dubboReplyOf(err).status;
  }

  statusOfHttp(httpStatus: number): number {
    if (httpStatus >= 200 && httpStatus < 300) return DubboStatus.OK;
    switch (httpStatus) {
      case 404:
      case 502:
        return DubboStatus.SERVICE_NOT_FOUND;
      case 503:
        return DubboStatus.SERVER_THREADPOOL_EXHAUSTED_ERROR;
      case 504:
        return DubboStatus.CLIENT_TIMEOUT;
      default:
        return DubboStatus.SERVICE_ERROR;
    }
  }

  httpStatusOf(response: XResponse): number {
    return httpClassOfDubboStatus(response.status);
  }

  unprocessed(response: XResponse): boolean {
    // The provider refused before running the call: resending it elsewhere cannot run it twice.
    return response.status === DubboStatus.SERVER_THREADPOOL_EXHAUSTED_ERROR || response.status === DubboStatus.SERVICE_NOT_FOUND;
  }

  /**
   * A two-way request around an encoded invocation body (messages.ts encodeInvocationBody, or
   * Layotto's opaque `data`); `service` and `method` fill the header map when the body's head cannot
   * be read. Dubbo carries a timeout in the attachments only, so `timeoutMs` is not written.
   */
  newRequest(service: string, method: string, headers: Record<string, string>, content: Buffer, _timeoutMs: number): XRequest {
    let head: DubboRequestHead | null = null;
    try {
      head = content.length === 0 ? null : decodeRequestHead(content);
    } catch {
      head = null;
    }
    const init: string[] = head === null ? [DubboHeader.SERVICE, service, DubboHeader.METHOD, method] : [];
    for (const k in headers) init.push(k, headers[k]!);
    const req = new DubboRequest(0, XCommand.Request, FLAG_REQUEST | FLAG_TWO_WAY | HESSIAN2, head, new DubboRequestHeaders(head, content, init), content, null);
    if (head === null) {
      req.path = service;
      req.method = method;
    }
    return req;
  }
}

/** The request body with its attachments map encoded again from the (edited) header map. */
function withAttachments(f: DubboRequest): Buffer {
  const headers = f.headers;
  const attachments = headers.attachments();
  const at = headers.attachmentsAt;
  // Attachments that could not be decoded cannot be edited either: the body goes as it came.
  if (at < 0) return f.content;
  return Buffer.concat([f.content.subarray(0, at), hessianEncoder().write(attachments).get()]);
}

export const dubboCodec: XProtocolCodec = new DubboCodec();
