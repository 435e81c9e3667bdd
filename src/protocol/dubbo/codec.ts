/**
 * The dubbo codec as one ProtocolCodec, registered under "dubbo" at the composition root (Auto
 * detection: the magic 0xdabb). Requests are decoded to their head (routing fields) and keep their
 * bytes; responses keep theirs: the proxy forwards frames, it never re-encodes arguments or results.
 */
import { RingsideError } from '../../common/errors.js';
import type { Registry } from '../../common/registry.js';
import type {
  DecoderCallbacks,
  DecoderOptions,
  HeaderMap,
  MessageDecoder,
  MessageEncoder,
  ProtocolCodec,
  RequestFrame,
  ResponseDecoder,
  ResponseFrame,
} from '../../types/protocol.js';
import { Headers } from '../headers.js';
import { DubboStatus, FLAG_REQUEST, FLAG_TWO_WAY, HESSIAN2 } from './constants.js';
import { FrameReader, detectDubbo, frame, isEvent, isRequest, serializationOf, type DubboRawFrame, type FramingFault } from './framing.js';
import { DUBBO, DubboRequest, DubboResponse } from './frames.js';
import { decodeRequestHead } from './head.js';
import { errorResponse } from './messages.js';
import { dubboProxyHooks } from './proxy-hooks.js';

/** Dubbo's own default payload limit (8 MiB), used when the listener sets no body limit. */
export const DEFAULT_MAX_DUBBO_BODY = 8 * 1024 * 1024;

function limitOf(options: DecoderOptions | undefined): number {
  const max = options?.limits?.maxBodyBytes;
  return max === undefined || !Number.isFinite(max) ? DEFAULT_MAX_DUBBO_BODY : max;
}

function faultError(fault: FramingFault, source: 'downstream' | 'upstream'): RingsideError {
  if (fault.kind === 'too-long') return new RingsideError('LIMIT_EXCEEDED', source, fault.message);
  return new RingsideError(source === 'downstream' ? 'BAD_REQUEST' : 'UPSTREAM_BAD_RESPONSE', source, fault.message);
}

/**
 * The bytes a dubbo server answers a broken connection with before closing it, as Dubbo's
 * ExchangeCodec does: BAD_REQUEST for a frame past the payload limit (its id is known), and for a
 * wrong magic a BAD_REQUEST with id 0 (no id can be trusted).
 */
export function faultReply(err: RingsideError, id: bigint | undefined): Buffer {
  return errorResponse(id ?? 0n, DubboStatus.BAD_REQUEST, err.message);
}

/** Decodes requests; a response or a non-hessian2 invocation on a request stream is bad input. */
export function createDubboRequestDecoder(cb: DecoderCallbacks<DubboRequest>, options?: DecoderOptions): MessageDecoder & { lastFaultId: bigint | undefined } {
  let lastFaultId: bigint | undefined;
  const reader: FrameReader = new FrameReader(
    {
      onFrame: (f: DubboRawFrame) => {
        if (!isRequest(f.flag)) {
          reader.destroy();
          cb.onError(new RingsideError('BAD_REQUEST', 'downstream', 'dubbo: a response frame where a request was expected'));
          return false;
        }
        let head = null;
        if (!isEvent(f.flag)) {
          if (serializationOf(f.flag) !== HESSIAN2) {
            lastFaultId = f.id;
            reader.destroy();
            cb.onError(new RingsideError('BAD_REQUEST', 'downstream', `dubbo: serialization id ${serializationOf(f.flag)} is not supported (hessian2 = 2 only)`));
            return false;
          }
          try {
            head = decodeRequestHead(f.body);
          } catch (err) {
            lastFaultId = f.id;
            reader.destroy();
            cb.onError(err as RingsideError);
            return false;
          }
        }
        // The request owns a copy: the read buffer is reused, the proxy forwards these bytes later.
        const req = new DubboRequest(f.id, f.flag, Buffer.from(f.bytes), head);
        cb.onHead(req, false);
        cb.onBody(req.requestId, req.body, true);
        cb.onComplete(req.requestId, null);
        return options?.pauseAfterMessage === true ? false : undefined;
      },
      onFault: (fault) => {
        lastFaultId = fault.id;
        cb.onError(faultError(fault, 'downstream'));
      },
    },
    limitOf(options),
  );
  return {
    execute: (data) => reader.push(data),
    finish: () => {
      if (!reader.idle && !reader.dead) {
        reader.destroy();
        cb.onError(new RingsideError('BAD_REQUEST', 'downstream', 'dubbo: connection closed in the middle of a frame'));
      }
    },
    pause: () => reader.pause(),
    resume: () => reader.resume(),
    destroy: () => reader.destroy(),
    get paused() {
      return reader.paused;
    },
    get idle() {
      return reader.idle;
    },
    get lastFaultId() {
      return lastFaultId;
    },
  };
}

/** Decodes responses, matched to requests by id (not by order): expect() has nothing to record. */
export function createDubboResponseDecoder(cb: DecoderCallbacks<DubboResponse>, options?: DecoderOptions): ResponseDecoder {
  const reader: FrameReader = new FrameReader(
    {
      onFrame: (f: DubboRawFrame) => {
        if (isRequest(f.flag) && !isEvent(f.flag)) {
          reader.destroy();
          cb.onError(new RingsideError('UPSTREAM_BAD_RESPONSE', 'upstream', 'dubbo: a request frame where a response was expected'));
          return false;
        }
        const res = new DubboResponse(f.id, f.flag, f.status, Buffer.from(f.bytes));
        cb.onHead(res, false);
        cb.onBody(res.requestId, res.body, true);
        cb.onComplete(res.requestId, null);
        return options?.pauseAfterMessage === true ? false : undefined;
      },
      onFault: (fault) => cb.onError(faultError(fault, 'upstream')),
    },
    limitOf(options),
  );
  return {
    execute: (data) => reader.push(data),
    finish: () => {
      if (!reader.idle && !reader.dead) {
        reader.destroy();
        cb.onError(new RingsideError('UPSTREAM_RESET', 'upstream', 'dubbo: connection closed in the middle of a frame'));
      }
    },
    pause: () => reader.pause(),
    resume: () => reader.resume(),
    destroy: () => reader.destroy(),
    expect: () => {},
    get paused() {
      return reader.paused;
    },
    get idle() {
      return reader.idle;
    },
  };
}

/**
 * Encodes a request toward an upstream: a DubboRequest goes out as the bytes it arrived in with its
 * id; a request built by newRequest() needs a body (an encoded invocation) from the caller.
 */
function requestEncoder(): MessageEncoder<RequestFrame> {
  return {
    encodeHead(head, body) {
      if (head instanceof DubboRequest) {
        if (body === null || body === head.body) return Buffer.from(head.bytes);
        return frame(head.flag, 0, head.streamId, body);
      }
      return frame(FLAG_REQUEST | FLAG_TWO_WAY | HESSIAN2, 0, BigInt(head.requestId), body ?? Buffer.alloc(0));
    },
    encodeData: () => Buffer.alloc(0),
    encodeTrailers: () => Buffer.alloc(0),
    keepAlive: true,
  };
}

/** Encodes the response to `request`: a forwarded DubboResponse as received, else a status reply. */
function responseEncoder(request: DubboRequest): MessageEncoder<ResponseFrame> {
  return {
    encodeHead(head, body) {
      if (head instanceof DubboResponse && head.bytes !== null && (body === null || body === head.body)) {
        return Buffer.from(head.bytes);
      }
      const flag = head instanceof DubboResponse ? head.flag : HESSIAN2;
      return frame(flag, head.status, request.streamId, body ?? Buffer.alloc(0));
    },
    encodeData: () => Buffer.alloc(0),
    encodeTrailers: () => Buffer.alloc(0),
    keepAlive: true,
  };
}

export const dubboCodec: ProtocolCodec<DubboRequest, DubboResponse> = {
  name: DUBBO,
  detect: detectDubbo,
  createRequestDecoder: createDubboRequestDecoder,
  createResponseDecoder: createDubboResponseDecoder,
  createRequestEncoder: requestEncoder,
  createResponseEncoder: responseEncoder,
  newResponse: (request, status) => new DubboResponse(request?.streamId ?? 0n, HESSIAN2, status, null),
  newRequest: (method: string, path: string, headers?: HeaderMap): RequestFrame => {
    const h = headers ?? new Headers();
    return { protocol: DUBBO, requestId: 0, method, path, headers: h };
  },
  proxy: dubboProxyHooks,
};

/** Registers the dubbo codec; called once from the composition root. */
export function registerDubbo(codecs: Registry<ProtocolCodec>): void {
  codecs.register(DUBBO, dubboCodec as unknown as ProtocolCodec);
}


