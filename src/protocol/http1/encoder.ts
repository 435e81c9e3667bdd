/**
 * HTTP/1.x encoders. Each message's head is built as one latin1 string and written with its body
 * (when the body is known) into one Buffer, so a typical response leaves in a single write.
 *
 * Framing belongs to the encoder, not to the head it is given: heads forwarded from the other side
 * still carry that hop's Connection / Keep-Alive / Transfer-Encoding fields, which describe a different
 * connection. The encoder drops them and writes its own: Content-Length when known, chunked when the
 * length is unknown and the peer speaks HTTP/1.1, otherwise a body that ends when the connection closes.
 * Field names and values are trusted: decoders validated them, and config-driven mutations validate at
 * config time.
 */
import type { HeaderMap, MessageEncoder, RequestFrame, ResponseFrame } from '../../types/protocol.js';
import { reasonPhrase } from './heads.js';
import { equalsIgnoreCase } from '../headers.js';

const EMPTY = Buffer.alloc(0);
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

/** What a response encoder needs to know about the request it answers. */
export interface AnsweredRequest {
  readonly method: string;
  readonly versionMinor?: 0 | 1;
  readonly keepAlive?: boolean;
}

/** Framing facts found while walking a head's fields. */
interface Walked {
  text: string;
  contentLength: string | null;
  hasHost: boolean;
}

/** Appends every field except hop-by-hop framing ones; reports a Content-Length if one was given. */
function walkFields(headers: HeaderMap, start: string): Walked {
  const raw = headers.raw;
  let text = start;
  let contentLength: string | null = null;
  let hasHost = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const n = name.length;
    // Length first: most fields are none of these, and the comparison is skipped for them; compared
    // in place (no lower-cased copy per field).
    if (n === 4) {
      if (!hasHost) hasHost = equalsIgnoreCase(name, 'host');
    } else if (n === 10) {
      if (equalsIgnoreCase(name, 'connection') || equalsIgnoreCase(name, 'keep-alive')) continue;
    } else if (n === 14) {
      if (equalsIgnoreCase(name, 'content-length')) {
        if (contentLength !== null) continue;
        contentLength = raw[i + 1]!;
      }
    } else if (n === 16) {
      if (equalsIgnoreCase(name, 'proxy-connection')) continue;
    } else if (n === 17) {
      if (equalsIgnoreCase(name, 'transfer-encoding')) continue;
    }
    text += name + ': ' + raw[i + 1]! + '\r\n';
  }
  return { text, contentLength, hasHost };
}

/**
 * The Host field a request without one is sent with (HTTP/1.0 clients may omit it; every request
 * Ringside sends is HTTP/1.1, which requires it): the authority of an absolute-form target, else an
 * empty value — RFC 9112 §3.2 for a target without an authority.
 */
function hostOf(target: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(target);
  if (m === null) return '';
  const authority = m[1]!;
  const at = authority.lastIndexOf('@');
  return at === -1 ? authority : authority.slice(at + 1);
}

/**
 * Buffer#write(text, offset, length, 'latin1') normalises its arguments and switches on the encoding
 * before it reaches the binding's latin1Write; per head that detour cost more than the copy itself.
 */
const latin1Write = (Buffer.prototype as unknown as { latin1Write(this: Buffer, text: string, offset: number, length: number): number }).latin1Write;

/** Writes head text and an optional body into one buffer. */
function join(text: string, body: Buffer | null): Buffer {
  const headLen = text.length; // latin1: one byte per code unit
  const out = Buffer.allocUnsafe(headLen + (body === null ? 0 : body.length));
  latin1Write.call(out, text, 0, headLen);
  if (body !== null && body.length > 0) body.copy(out, headLen);
  return out;
}

function encodeChunk(chunk: Buffer, last: boolean): Buffer {
  if (chunk.length === 0) return last ? LAST_CHUNK : EMPTY;
  const prefix = chunk.length.toString(16) + '\r\n';
  const suffixLen = last ? 7 : 2; // "\r\n" or "\r\n0\r\n\r\n"
  const out = Buffer.allocUnsafe(prefix.length + chunk.length + suffixLen);
  let o = latin1Write.call(out, prefix, 0, prefix.length);
  o += chunk.copy(out, o);
  latin1Write.call(out, last ? '\r\n0\r\n\r\n' : '\r\n', o, suffixLen);
  return out;
}

function encodeLastChunkWithTrailers(trailers: HeaderMap): Buffer {
  let text = '0\r\n';
  const raw = trailers.raw;
  for (let i = 0; i < raw.length; i += 2) text += raw[i]! + ': ' + raw[i + 1]! + '\r\n';
  return join(text + '\r\n', null);
}

const enum Framing {
  None,
  Length,
  Chunked,
  UntilClose,
}

abstract class H1Encoder<F> implements MessageEncoder<F> {
  protected framing = Framing.None;
  protected keep = true;
  #ended = false;

  get keepAlive(): boolean {
    return this.keep;
  }

  /** Makes this the last message on the connection (error replies, draining). */
  closeConnection(): void {
    this.keep = false;
  }

  abstract encodeHead(head: F, body: Buffer | null, endOfStream: boolean): Buffer;

  encodeData(chunk: Buffer, endOfStream: boolean): Buffer {
    if (this.#ended) return EMPTY;
    if (endOfStream) this.#ended = true;
    switch (this.framing) {
      case Framing.Chunked:
        return encodeChunk(chunk, endOfStream);
      case Framing.None:
        return EMPTY;
      default:
        return chunk;
    }
  }

  encodeTrailers(trailers: HeaderMap): Buffer {
    if (this.#ended) return EMPTY;
    this.#ended = true;
    return this.framing === Framing.Chunked ? encodeLastChunkWithTrailers(trailers) : EMPTY;
  }

  /** Head text → buffer, with the body framed the way the head said. */
  protected finishHead(text: string, body: Buffer | null, endOfStream: boolean): Buffer {
    if (endOfStream) this.#ended = true;
    if (body === null || body.length === 0 || this.framing === Framing.None) {
      const head = join(text, null);
      if (endOfStream && this.framing === Framing.Chunked) return Buffer.concat([head, LAST_CHUNK]);
      return head;
    }
    if (this.framing === Framing.Chunked) return Buffer.concat([join(text, null), encodeChunk(body, endOfStream)]);
    return join(text, body);
  }
}

class H1ResponseEncoder extends H1Encoder<ResponseFrame> {
  readonly #request: AnsweredRequest | null;

  constructor(request: AnsweredRequest | null) {
    super();
    this.#request = request;
    this.keep = request === null ? false : request.keepAlive ?? true;
  }

  encodeHead(head: ResponseFrame, body: Buffer | null, endOfStream: boolean): Buffer {
    const status = head.status;
    const req = this.#request;
    const v10 = req !== null && req.versionMinor === 0;
    const walked = walkFields(head.headers, `HTTP/1.1 ${status} ${head.reason || reasonPhrase(status)}\r\n`);
    let text = walked.text;
    const noBody = (req !== null && req.method === 'HEAD') || status === 204 || status === 304 || status < 200;
    if (noBody) {
      this.framing = Framing.None;
      // A HEAD answer keeps the Content-Length of the GET it describes; nothing else is added.
    } else if (walked.contentLength !== null) {
      this.framing = Framing.Length;
    } else if (endOfStream) {
      this.framing = Framing.Length;
      text += 'Content-Length: ' + (body === null ? 0 : body.length) + '\r\n';
    } else if (!v10) {
      this.framing = Framing.Chunked;
      text += 'Transfer-Encoding: chunked\r\n';
    } else {
      // An HTTP/1.0 peer cannot read chunks: the body ends when Ringside closes the connection.
      this.framing = Framing.UntilClose;
      this.keep = false;
    }
    if (!this.keep) text += 'Connection: close\r\n';
    else if (v10) text += 'Connection: keep-alive\r\n';
    return this.finishHead(text + '\r\n', body, endOfStream);
  }
}

class H1RequestEncoder extends H1Encoder<RequestFrame> {
  encodeHead(head: RequestFrame, body: Buffer | null, endOfStream: boolean): Buffer {
    const walked = walkFields(head.headers, `${head.method} ${head.path} HTTP/1.1\r\n`);
    let text = walked.text;
    if (!walked.hasHost) text += 'Host: ' + hostOf(head.path) + '\r\n';
    if (walked.contentLength !== null) {
      this.framing = Framing.Length;
    } else if (endOfStream) {
      const len = body === null ? 0 : body.length;
      // RFC 9110 §8.6: a body-less GET carries no Content-Length; methods that expect one say 0.
      const m = head.method;
      if (len > 0 || m === 'POST' || m === 'PUT' || m === 'PATCH') {
        this.framing = Framing.Length;
        text += 'Content-Length: ' + len + '\r\n';
      } else {
        this.framing = Framing.None;
      }
    } else {
      this.framing = Framing.Chunked;
      text += 'Transfer-Encoding: chunked\r\n';
    }
    if (!this.keep) text += 'Connection: close\r\n';
    return this.finishHead(text + '\r\n', body, endOfStream);
  }
}

/** An encoder that can also be told to make its message the connection's last. */
export interface Http1Encoder<F> extends MessageEncoder<F> {
  closeConnection(): void;
}

/** Server side: the response to `request` (null when the request could not even be decoded). */
export function createHttp1ResponseEncoder(request: AnsweredRequest | null): Http1Encoder<ResponseFrame> {
  return new H1ResponseEncoder(request);
}

/** Client side: a request toward an HTTP/1.1 upstream. */
export function createHttp1RequestEncoder(): Http1Encoder<RequestFrame> {
  return new H1RequestEncoder();
}

/** The interim answer to `Expect: 100-continue`. */
export const CONTINUE_100: Buffer = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
