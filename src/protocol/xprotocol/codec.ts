/**
 * The ProtocolCodec every XProtocolCodec gets (registered under the codec's name at the composition
 * root): Auto detection, message decoders/encoders for code that wants the generic interface, and
 * the ProxyHooks the protocol-neutral proxy asks:
 *
 *   errorReply     the codec's status for the error (bolt: no processor, threadpool busy, timeout,
 *                  codec exception …), no content, and `x-ringside-error: <code>` in the header map
 *                  so a runtime channel tells the sidecar's failure from the service's answer
 *   directReply    the route's HTTP status mapped to the protocol's; the body as content
 *   retryStatus    a non-success response as the HTTP class MOSN maps it to (retry_policy matches it)
 *   unprocessed    the codec's word on whether the upstream ran the request
 *   safeToRetry    never: an RPC call is not known to be idempotent, so it is resent only when it
 *                  never left, or the upstream says it did not run it
 *   addForwarded   nothing: these protocols have no forwarded-for field
 *   timeout        the frame's own timeout field
 *   authority      none ('' — virtual hosts match with "*")
 */
import type { RingsideError } from '../../common/errors.js';
import type {
  DecoderCallbacks,
  DecoderOptions,
  DetectResult,
  HeaderMap,
  LocalReply,
  MessageDecoder,
  MessageEncoder,
  ProtocolCodec,
  ProxyHooks,
  RequestFrame,
  ResponseDecoder,
  ResponseFrame,
  ResponseHeadFactory,
} from '../../types/protocol.js';
import { SIDECAR_ERROR_HEADER } from '../../types/proxy.js';
import type { XDecodeLimits, XFrame, XProtocolCodec, XRequest, XResponse } from '../../types/xprotocol.js';
import { RingsideError as Err } from '../../common/errors.js';
import { FrameReader } from './frame-reader.js';

const EMPTY = Buffer.alloc(0);
const MiB = 1024 * 1024;

/** Decode limits from the generic codec limits: head bytes bound class + headers, body bytes the content. */
export function xLimitsOf(limits: DecoderOptions['limits']): XDecodeLimits {
  return { maxHeaderBytes: limits?.maxHeaderBytes ?? 64 * 1024, maxContentBytes: limits?.maxBodyBytes ?? 4 * MiB };
}

/**
 * The codec's answer to an error of Ringside's own, marked with `x-ringside-error: <code>` in its
 * header map (where the protocol has one on the wire) so a runtime channel tells the sidecar's failure
 * from the service's answer.
 */
export function xErrorReply(codec: XProtocolCodec, request: XRequest | null, err: RingsideError): XResponse {
  const head = codec.errorReply !== undefined ? codec.errorReply(request, err) : codec.reply(request, codec.statusOfError(err));
  head.headers.set(SIDECAR_ERROR_HEADER, err.code);
  return head;
}

/** A route's direct response (or a filter's local reply) in the codec's form. */
export function xDirectReply(codec: XProtocolCodec, request: XRequest, status: number, body: string | Buffer): XResponse {
  if (codec.directReply !== undefined) return codec.directReply(request, status, typeof body === 'string' ? body : body.toString('utf8'));
  const head = codec.reply(request, codec.statusOfHttp(status));
  if (body.length > 0) head.content = Buffer.from(body);
  return head;
}

export function xprotocolProxyHooks(codec: XProtocolCodec): ProxyHooks {
  return {
    errorReply(request: RequestFrame, err: RingsideError, _factory: ResponseHeadFactory): LocalReply {
      return { head: xErrorReply(codec, request as XRequest, err), body: null };
    },
    directReply(request: RequestFrame, status: number, body: string, _factory: ResponseHeadFactory): LocalReply {
      return { head: xDirectReply(codec, request as XRequest, status, body), body: null };
    },
    retryStatus(response: ResponseFrame): number | undefined {
      const http = codec.httpStatusOf(response as XResponse);
      return http >= 500 ? http : undefined;
    },
    unprocessed(response: ResponseFrame): boolean {
      return codec.unprocessed(response as XResponse);
    },
    safeToRetry(): boolean {
      return false;
    },
    addForwarded(): void {},
    requestTimeoutMs(request: RequestFrame): number {
      return (request as XRequest).timeoutMs;
    },
    authority(): string {
      return '';
    },
  };
}

/** Frames through the generic decoder interface: each frame is a head with endOfStream. */
class XMessageDecoder implements ResponseDecoder {
  readonly #reader: FrameReader;

  constructor(shared: XProtocolCodec, callbacks: DecoderCallbacks<RequestFrame & ResponseFrame>, options: DecoderOptions | undefined, want: 'request' | 'response') {
    // A request decoder reads what a client sent (the server side of a connection), a response decoder the other way.
    const codec = shared.session?.(want === 'request' ? 'server' : 'client') ?? shared;
    this.#reader = new FrameReader(codec, xLimitsOf(options?.limits), {
      onFrame: (frame: XFrame) => {
        if (frame.kind !== want) {
          callbacks.onError(new Err('BAD_REQUEST', want === 'request' ? 'downstream' : 'upstream', `${codec.name}: a ${frame.kind} where a ${want} was expected`));
          return;
        }
        callbacks.onHead(frame as unknown as RequestFrame & ResponseFrame, true);
        callbacks.onComplete(frame.requestId, null);
        if (options?.pauseAfterMessage === true) this.#reader.pause();
      },
      onDecodeError: (r) => callbacks.onError(r.error),
    });
  }

  execute(data: Buffer): void {
    this.#reader.feed(data);
  }
  finish(): void {
    this.#reader.destroy();
  }
  pause(): void {
    this.#reader.pause();
  }
  resume(): void {
    this.#reader.resume();
  }
  destroy(): void {
    this.#reader.destroy();
  }
  get paused(): boolean {
    return this.#reader.paused;
  }
  get idle(): boolean {
    return this.#reader.idle;
  }
  expect(): void {
    // Replies are matched by request id, not by order.
  }
}

/** A frame whose content may arrive after the head: held until the message ends, then one buffer. */
class XMessageEncoder implements MessageEncoder<RequestFrame & ResponseFrame> {
  readonly keepAlive = true;
  readonly #codec: XProtocolCodec;
  #head: XFrame | null = null;
  #parts: Buffer[] = [];

  constructor(shared: XProtocolCodec, side: 'server' | 'client') {
    this.#codec = shared.session?.(side) ?? shared;
  }

  encodeHead(head: RequestFrame | ResponseFrame, body: Buffer | null, endOfStream: boolean): Buffer {
    const frame = head as XFrame;
    if (body !== null && body.length > 0) this.#parts.push(body);
    if (!endOfStream) {
      this.#head = frame;
      return EMPTY;
    }
    return this.#finish(frame);
  }

  encodeData(chunk: Buffer, endOfStream: boolean): Buffer {
    if (chunk.length > 0) this.#parts.push(Buffer.from(chunk));
    return endOfStream && this.#head !== null ? this.#finish(this.#head) : EMPTY;
  }

  encodeTrailers(_trailers: HeaderMap): Buffer {
    return this.#head !== null ? this.#finish(this.#head) : EMPTY;
  }

  #finish(frame: XFrame): Buffer {
    this.#head = null;
    const parts = this.#parts;
    this.#parts = [];
    if (parts.length > 0) frame.content = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    return this.#codec.encode(frame);
  }
}

/** The ProtocolCodec registered under an X-protocol codec's name. */
export function asProtocolCodec(codec: XProtocolCodec): ProtocolCodec {
  return {
    name: codec.name,
    detect: (first: Buffer): DetectResult => codec.detect(first),
    createRequestDecoder: (callbacks, options): MessageDecoder =>
      new XMessageDecoder(codec, callbacks as DecoderCallbacks<RequestFrame & ResponseFrame>, options, 'request'),
    createResponseDecoder: (callbacks, options): ResponseDecoder =>
      new XMessageDecoder(codec, callbacks as DecoderCallbacks<RequestFrame & ResponseFrame>, options, 'response'),
    createRequestEncoder: () => new XMessageEncoder(codec, 'client'),
    createResponseEncoder: () => new XMessageEncoder(codec, 'server'),
    newResponse: (request, status) => codec.reply(request as XRequest | null, status),
    newRequest: (method, path, headers) => {
      const init: Record<string, string> = {};
      headers?.forEach((k, v) => (init[k] = v));
      return codec.newRequest(path, method, init, EMPTY, 0);
    },
    proxy: xprotocolProxyHooks(codec),
  };
}
