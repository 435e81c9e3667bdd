/**
 * Incremental HTTP/1.x decoder for requests (server side) and responses (client side).
 *
 * Heads are parsed one line at a time with indexOf(LF) over the bytes as they arrive, so a head split
 * across reads is never rescanned: only an unfinished line is copied (into a small growable buffer).
 * Bodies are handed on as views of the caller's buffer. Framing rules are strict on purpose: a proxy
 * that reads a message differently from the next hop is a request-smuggling vector, so anything
 * ambiguous (CL with TE, repeated CL, codings other than one `chunked`, obs-fold, bare LF, bad chunk
 * sizes) ends the connection with an error instead of being guessed at.
 */
import { RingsideError } from '../../common/errors.js';
import type {
  CodecLimits,
  DecoderCallbacks,
  DecoderOptions,
  HeaderMap,
  MessageDecoder,
  Http1RequestHead,
  Http1ResponseHead,
  RequestFrame,
  ResponseDecoder,
} from '../../types/protocol.js';
import { Headers } from '../headers.js';
import { bytesEqualLower, HEX, TARGET, TOKEN, VALUE } from './chars.js';
import { H1Request, H1Response } from './heads.js';

export const defaultLimits: Readonly<CodecLimits> = {
  maxHeaderBytes: 16 * 1024,
  maxHeaders: 100,
  maxBodyBytes: Infinity,
  maxRequestLineBytes: 8 * 1024,
};

/**
 * Buffer#toString('latin1', s, e) goes through argument checks and an encoding switch before reaching
 * the binding's latin1Slice; on a head's dozen strings that detour was a third of decode time.
 */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Buffer, start: number, end: number): string })
  .latin1Slice;

/** Chunk-size lines carry at most extensions nobody uses; a long one is an attack, not a message. */
const MAX_CHUNK_LINE = 4096;
/** Above this a chunk size cannot be represented exactly in a double. */
const MAX_CHUNK_SIZE_DIV16 = Math.floor(Number.MAX_SAFE_INTEGER / 16);

const enum State {
  StartLine,
  HeaderLine,
  BodyLength,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  TrailerLine,
  UntilClose,
  Dead,
}

type AnyHead = Http1RequestHead | Http1ResponseHead;

/** Where an unfinished request line stands, so bytes that cannot start a request fail at once. */
const enum RequestLinePart {
  Method,
  Target,
  Version,
  /** Saw the CR that ends the line (the LF is what completes it). */
  LineCr,
  /** Saw a CR before any method byte: an empty line, whose LF must come next. */
  EmptyCr,
}

/** `HTTP/` as bytes; the version's digits and dot are checked by class. */
const HTTP_SLASH = [72, 84, 84, 80, 47];

class Http1Decoder {
  readonly #isRequest: boolean;
  readonly #cb: DecoderCallbacks<AnyHead>;
  readonly #limits: CodecLimits;
  readonly #pauseAfterMessage: boolean;

  #state = State.StartLine;
  #paused = false;
  #executing = false;
  #finishPending = false;
  /** Bytes received while paused (a private copy). */
  #held: Buffer | null = null;
  /** The unfinished line of a head, chunk-size or trailer section (a private copy). */
  #acc: Buffer | null = null;
  #accLen = 0;

  // Per-message head state, reset by #resetMessage.
  #headBytes = 0;
  #raw: string[] = [];
  #method = '';
  #target = '';
  #status = 0;
  #reason = '';
  #versionMinor: 0 | 1 = 1;
  #contentLength = -1;
  #transferEncoding: string | null = null;
  #connClose = false;
  #connKeepAlive = false;
  #expect100 = false;
  #hostCount = 0;
  /** Partial request line: which part the bytes seen so far are in, and how far into it. */
  #rlPart = RequestLinePart.Method;
  #rlIndex = 0;

  // Per-message body state.
  #id = 0;
  #seq = 0;
  #remaining = 0;
  #bodyBytes = 0;
  #trailers: string[] | null = null;
  /** Methods of requests written but not yet answered (client side). */
  readonly #expected: string[] = [];

  constructor(isRequest: boolean, callbacks: DecoderCallbacks<AnyHead>, options: DecoderOptions = {}) {
    this.#isRequest = isRequest;
    this.#cb = callbacks;
    this.#limits = { ...defaultLimits, ...options.limits };
    this.#pauseAfterMessage = options.pauseAfterMessage ?? false;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get idle(): boolean {
    return this.#state === State.StartLine && this.#accLen === 0 && this.#held === null;
  }

  expect(request: RequestFrame): void {
    this.#expected.push(request.method);
  }

  execute(data: Buffer): void {
    if (this.#state === State.Dead || data.length === 0) return;
    if (this.#paused || this.#executing) {
      this.#hold(data, 0);
      return;
    }
    this.#run(data);
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#executing) return; // the running loop picks up where it stopped
    const held = this.#held;
    this.#held = null;
    if (held !== null) this.#run(held);
    else if (this.#finishPending) this.finish();
  }

  finish(): void {
    if (this.#state === State.Dead) return;
    if (this.#paused || this.#executing || this.#held !== null) {
      this.#finishPending = true;
      return;
    }
    if (this.#state === State.UntilClose) {
      this.#complete(null);
    } else if (!(this.#state === State.StartLine && this.#accLen === 0)) {
      this.#fail('connection closed in the middle of a message', this.#isRequest ? 400 : 502);
      return;
    }
    this.destroy();
  }

  destroy(): void {
    this.#state = State.Dead;
    this.#held = null;
    this.#acc = null;
    this.#accLen = 0;
  }

  #hold(data: Buffer, pos: number): void {
    const rest = data.subarray(pos);
    this.#held = this.#held === null ? Buffer.from(rest) : Buffer.concat([this.#held, rest]);
  }

  #run(first: Buffer): void {
    this.#executing = true;
    let data: Buffer | null = first;
    try {
      outer: while (data !== null) {
        const len = data.length;
        let pos = 0;
        while (pos < len) {
          if (this.#state === State.Dead) break outer;
          if (this.#paused) {
            this.#hold(data, pos);
            break outer;
          }
          switch (this.#state) {
            case State.BodyLength:
            case State.ChunkData: {
              const take = Math.min(this.#remaining, len - pos);
              this.#remaining -= take;
              const end = pos + take;
              const done = this.#remaining === 0;
              if (this.#state === State.ChunkData) {
                if (done) this.#state = State.ChunkDataEnd;
                this.#cb.onBody(this.#id, data.subarray(pos, end), false);
              } else {
                this.#cb.onBody(this.#id, data.subarray(pos, end), done);
                if (done && this.#state === State.BodyLength) this.#complete(null);
              }
              pos = end;
              break;
            }
            case State.UntilClose:
              if (this.#addBody(len - pos)) this.#cb.onBody(this.#id, data.subarray(pos), false);
              pos = len;
              break;
            default:
              pos = this.#readLine(data, pos);
          }
        }
        // Bytes fed re-entrantly by a callback were held; they come after this buffer, in order.
        if (this.#paused) break;
        data = this.#held;
        this.#held = null;
      }
    } finally {
      this.#executing = false;
    }
    if (this.#finishPending && !this.#paused && this.#held === null) {
      this.#finishPending = false;
      this.finish();
    }
  }

  /** Consumes up to and including the next LF, or stores the unfinished line; returns the new position. */
  #readLine(data: Buffer, pos: number): number {
    const lf = data.indexOf(10, pos);
    if (lf === -1) {
      const add = data.length - pos;
      if (!this.#lineFits(this.#accLen + add)) return data.length;
      // A client that never sends a line break (a TLS ClientHello, binary noise) is refused on its
      // first bytes instead of being held until the line limit: only the unfinished-line path pays.
      if (this.#state === State.StartLine && this.#isRequest && !this.#plausibleRequestLine(data, pos)) return data.length;
      this.#append(data, pos, data.length);
      return data.length;
    }
    if (this.#accLen === 0) {
      if (this.#lineFits(lf + 1 - pos)) this.#line(data, pos, lf);
      return lf + 1;
    }
    this.#append(data, pos, lf + 1);
    const acc = this.#acc!;
    const accLen = this.#accLen;
    this.#accLen = 0;
    if (this.#lineFits(accLen)) this.#line(acc, 0, accLen - 1);
    return lf + 1;
  }

  /**
   * Checks data[pos..] as the continuation of an unfinished request line (the bytes before it were
   * checked by earlier calls); false after reporting the error. The complete line is parsed again in
   * full by #requestLine, so this only has to reject what can never become a request line.
   */
  #plausibleRequestLine(data: Buffer, pos: number): boolean {
    if (this.#accLen === 0) {
      this.#rlPart = RequestLinePart.Method;
      this.#rlIndex = 0;
    }
    let part = this.#rlPart;
    let index = this.#rlIndex;
    for (let i = pos; i < data.length; i++) {
      const c = data[i]!;
      switch (part) {
        case RequestLinePart.Method:
          if (TOKEN[c] === 1) index++;
          else if (c === 32 && index > 0) (part = RequestLinePart.Target), (index = 0);
          else if (c === 13 && index === 0) part = RequestLinePart.EmptyCr;
          else return this.#failStart('invalid method');
          break;
        case RequestLinePart.Target:
          if (TARGET[c] === 1) index++;
          else if (c === 32 && index > 0) (part = RequestLinePart.Version), (index = 0);
          else return this.#failStart('invalid request target');
          break;
        case RequestLinePart.Version: {
          const ok = index < 5 ? c === HTTP_SLASH[index] : index === 6 ? c === 46 : index < 8 ? c >= 48 && c <= 57 : c === 13;
          if (!ok) return this.#failStart('invalid HTTP version');
          if (index === 8) part = RequestLinePart.LineCr;
          index++;
          break;
        }
        default:
          // After a CR only the LF may come, and an LF is never part of these bytes.
          return this.#failStart('bare CR in request line');
      }
    }
    this.#rlPart = part;
    this.#rlIndex = index;
    return true;
  }

  #failStart(message: string): false {
    this.#fail(message, 400);
    return false;
  }

  #append(data: Buffer, from: number, to: number): void {
    const need = this.#accLen + (to - from);
    if (this.#acc === null || this.#acc.length < need) {
      const grown = Buffer.allocUnsafe(Math.max(256, need * 2));
      if (this.#acc !== null) this.#acc.copy(grown, 0, 0, this.#accLen);
      this.#acc = grown;
    }
    data.copy(this.#acc, this.#accLen, from, to);
    this.#accLen = need;
  }

  /** Checks a (possibly unfinished) line of `bytes` against the limit of the current section. */
  #lineFits(bytes: number): boolean {
    switch (this.#state) {
      case State.StartLine:
        if (bytes <= this.#limits.maxRequestLineBytes) return true;
        if (this.#isRequest) this.#fail('request line too long', 414, true);
        else this.#fail('status line too long', 502, true);
        return false;
      case State.HeaderLine:
      case State.TrailerLine:
        if (this.#headBytes + bytes <= this.#limits.maxHeaderBytes) return true;
        this.#fail('header section too large', 431, true);
        return false;
      case State.ChunkSize:
        if (bytes <= MAX_CHUNK_LINE) return true;
        this.#fail('chunk size line too long', 400);
        return false;
      case State.ChunkDataEnd:
        if (bytes <= 2) return true;
        this.#fail('chunk data not followed by CRLF', 400);
        return false;
      default:
        return true;
    }
  }

  /** One complete line: buf[start, lf) where buf[lf] is LF. */
  #line(buf: Buffer, start: number, lf: number): void {
    if (lf === start || buf[lf - 1] !== 13) {
      this.#fail('bare LF in message', 400);
      return;
    }
    const end = lf - 1;
    const bytes = lf + 1 - start;
    switch (this.#state) {
      case State.StartLine:
        if (end === start) return; // RFC 9112 §2.2: tolerate empty lines before a message
        this.#headBytes = bytes;
        if (this.#isRequest) this.#requestLine(buf, start, end);
        else this.#statusLine(buf, start, end);
        return;
      case State.HeaderLine:
        this.#headBytes += bytes;
        if (end === start) this.#headComplete();
        else this.#field(buf, start, end, this.#raw, true);
        return;
      case State.TrailerLine:
        this.#headBytes += bytes;
        if (end === start) this.#complete(new Headers(this.#trailers!));
        else this.#field(buf, start, end, this.#trailers!, false);
        return;
      case State.ChunkSize:
        this.#chunkSize(buf, start, end);
        return;
      case State.ChunkDataEnd:
        if (end !== start) this.#fail('chunk data not followed by CRLF', 400);
        else this.#state = State.ChunkSize;
        return;
      default:
        return;
    }
  }

  #requestLine(buf: Buffer, start: number, end: number): void {
    let i = start;
    while (i < end && TOKEN[buf[i]!] === 1) i++;
    if (i === start || i === end || buf[i] !== 32) return this.#fail('invalid method', 400);
    this.#method = methodString(buf, start, i);
    const t = ++i;
    while (i < end && TARGET[buf[i]!] === 1) i++;
    if (i === t || i === end || buf[i] !== 32) return this.#fail('invalid request target', 400);
    this.#target = latin1Slice.call(buf, t, i);
    if (!this.#version(buf, i + 1, end)) return;
    this.#state = State.HeaderLine;
  }

  #statusLine(buf: Buffer, start: number, end: number): void {
    if (!this.#version(buf, start, Math.min(start + 8, end))) return;
    const s = start + 9;
    if (buf[start + 8] !== 32 || end < s + 3) return this.#fail('invalid status line', 502);
    const d0 = buf[s]! - 48;
    const d1 = buf[s + 1]! - 48;
    const d2 = buf[s + 2]! - 48;
    if (d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return this.#fail('invalid status code', 502);
    this.#status = d0 * 100 + d1 * 10 + d2;
    if (end > s + 3) {
      if (buf[s + 3] !== 32) return this.#fail('invalid status line', 502);
      for (let j = s + 4; j < end; j++) if (VALUE[buf[j]!] !== 1) return this.#fail('control byte in reason phrase', 502);
      this.#reason = latin1Slice.call(buf, s + 4, end);
    }
    this.#state = State.HeaderLine;
  }

  /** Parses exactly `HTTP/1.x` in buf[start, end); false after reporting an error. */
  #version(buf: Buffer, start: number, end: number): boolean {
    const bad = this.#isRequest ? 400 : 502;
    if (
      end - start !== 8 || buf[start] !== 72 || buf[start + 1] !== 84 || buf[start + 2] !== 84 ||
      buf[start + 3] !== 80 || buf[start + 4] !== 47 || buf[start + 6] !== 46
    ) {
      this.#fail('invalid HTTP version', bad);
      return false;
    }
    const major = buf[start + 5]! - 48;
    const minor = buf[start + 7]! - 48;
    if (major < 0 || major > 9 || minor < 0 || minor > 9) {
      this.#fail('invalid HTTP version', bad);
      return false;
    }
    if (major !== 1) {
      this.#fail('unsupported HTTP version', this.#isRequest ? 505 : 502);
      return false;
    }
    // RFC 9110 §6.2: a higher 1.x minor is answered as the highest minor Ringside speaks.
    this.#versionMinor = minor === 0 ? 0 : 1;
    return true;
  }

  /** One field line; `head` is false for trailers, whose framing fields mean nothing. */
  #field(buf: Buffer, start: number, end: number, list: string[], head: boolean): void {
    const c0 = buf[start]!;
    if (c0 === 32 || c0 === 9) return this.#fail('obsolete line folding', 400);
    let i = start;
    while (i < end && TOKEN[buf[i]!] === 1) i++;
    if (i === start || i === end || buf[i] !== 58) return this.#fail('invalid header name', 400);
    const nameEnd = i;
    i++;
    while (i < end && (buf[i] === 32 || buf[i] === 9)) i++;
    let ve = end;
    while (ve > i && (buf[ve - 1] === 32 || buf[ve - 1] === 9)) ve--;
    for (let j = i; j < ve; j++) if (VALUE[buf[j]!] !== 1) return this.#fail('control byte in header value', 400);
    if (list.length >= this.#limits.maxHeaders * 2) return this.#fail('too many header fields', 431, true);
    // One native slice per field line, then JS substrings: the binding call is the dear part, and a
    // head carries a dozen fields.
    const line = latin1Slice.call(buf, start, ve);
    const name = line.slice(0, nameEnd - start);
    const value = line.slice(i - start);
    list.push(name, value);
    if (head) this.#framingField(buf, start, nameEnd - start, i, ve, value);
  }

  /** Notes the fields that decide framing and connection reuse, keyed on length before comparing. */
  #framingField(buf: Buffer, start: number, nameLen: number, vs: number, ve: number, value: string): void {
    switch (nameLen) {
      case 4:
        if (bytesEqualLower(buf, start, 'host')) this.#hostCount++;
        return;
      case 6:
        if (bytesEqualLower(buf, start, 'expect') && ve - vs === 12 && bytesEqualLower(buf, vs, '100-continue')) {
          this.#expect100 = true;
        }
        return;
      case 10:
        if (bytesEqualLower(buf, start, 'connection')) this.#connection(buf, vs, ve);
        return;
      case 14:
        if (bytesEqualLower(buf, start, 'content-length')) this.#contentLengthField(buf, vs, ve);
        return;
      case 17:
        if (bytesEqualLower(buf, start, 'transfer-encoding')) {
          this.#transferEncoding = this.#transferEncoding === null ? value : `${this.#transferEncoding},${value}`;
        }
        return;
      default:
        return;
    }
  }

  #connection(buf: Buffer, vs: number, ve: number): void {
    // Walk the comma list in place; only two options change what the decoder reports.
    let i = vs;
    while (i <= ve) {
      let j = buf.indexOf(44, i);
      if (j === -1 || j > ve) j = ve;
      let s = i;
      let e = j;
      while (s < e && (buf[s] === 32 || buf[s] === 9)) s++;
      while (e > s && (buf[e - 1] === 32 || buf[e - 1] === 9)) e--;
      if (e - s === 5 && bytesEqualLower(buf, s, 'close')) this.#connClose = true;
      else if (e - s === 10 && bytesEqualLower(buf, s, 'keep-alive')) this.#connKeepAlive = true;
      i = j + 1;
    }
  }

  #contentLengthField(buf: Buffer, vs: number, ve: number): void {
    if (this.#contentLength !== -1) return this.#fail('repeated Content-Length', 400);
    if (vs === ve) return this.#fail('invalid Content-Length', 400);
    let n = 0;
    for (let j = vs; j < ve; j++) {
      const d = buf[j]! - 48;
      if (d < 0 || d > 9) return this.#fail('invalid Content-Length', 400);
      n = n * 10 + d;
      if (n > Number.MAX_SAFE_INTEGER) return this.#fail('Content-Length overflows', 400);
    }
    this.#contentLength = n;
  }

  #headComplete(): void {
    const te = this.#transferEncoding;
    const bad = this.#isRequest ? 400 : 502;
    let chunked = false;
    if (te !== null) {
      if (this.#contentLength !== -1) return this.#fail('both Content-Length and Transfer-Encoding', bad);
      // Only a single `chunked` coding: anything else would make Ringside and the next hop disagree
      // about where the body ends, or force Ringside to strip codings it cannot re-apply. Compared
      // exactly: fields are already stripped of OWS, and String#trim would also strip obs-text such as
      // NBSP (0xA0), turning `chunked\xa0` — a coding no other parser knows — into chunked.
      if (te.length !== 7 || te.toLowerCase() !== 'chunked') return this.#fail('unsupported Transfer-Encoding', bad);
      if (this.#versionMinor === 0) return this.#fail('Transfer-Encoding in an HTTP/1.0 message', bad);
      chunked = true;
    }
    const keepAlive = this.#versionMinor === 1 ? !this.#connClose : this.#connKeepAlive && !this.#connClose;
    const headers = new Headers(this.#raw);
    if (this.#isRequest) {
      if (this.#hostCount > 1 || (this.#hostCount === 0 && this.#versionMinor === 1)) {
        return this.#fail(this.#hostCount === 0 ? 'missing Host' : 'repeated Host', 400);
      }
      const id = ++this.#seq;
      const head = new H1Request(
        id, this.#method, this.#target, headers, this.#versionMinor, this.#contentLength, chunked, keepAlive,
        this.#expect100 && this.#versionMinor === 1,
      );
      this.#startBody(id, chunked, this.#contentLength, false, head);
      return;
    }
    const status = this.#status;
    if (status < 200 && status !== 101) {
      const info = new H1Response(0, status, this.#reason, headers, this.#versionMinor);
      this.#resetMessage();
      this.#cb.onInformational?.(info);
      return;
    }
    const method = this.#expected.shift();
    if (method === undefined) return this.#fail('response without a request', 502);
    // A 101 or an accepted CONNECT would turn the connection into a tunnel of opaque bytes. Ringside
    // does not carry tunnels, and passing the head on would leave the client talking to nobody.
    if (status === 101) return this.#fail('upstream switched protocols (101); tunnels are not supported', 502);
    if (method === 'CONNECT' && status < 300) return this.#fail('upstream accepted CONNECT; tunnels are not supported', 502);
    const id = ++this.#seq;
    const noBody = method === 'HEAD' || status === 204 || status === 304;
    const untilClose = !noBody && !chunked && this.#contentLength === -1;
    const head = new H1Response(
      id, status, this.#reason, headers, this.#versionMinor, this.#contentLength, chunked && !noBody,
      keepAlive && !untilClose, untilClose,
    );
    this.#startBody(id, chunked && !noBody, noBody ? -1 : this.#contentLength, untilClose, head);
  }

  #startBody(id: number, chunked: boolean, length: number, untilClose: boolean, head: AnyHead): void {
    if (length > this.#limits.maxBodyBytes) return this.#fail('body too large', this.#isRequest ? 413 : 502, true);
    this.#id = id;
    this.#bodyBytes = 0;
    const empty = !chunked && !untilClose && length <= 0;
    this.#state = chunked ? State.ChunkSize : untilClose ? State.UntilClose : empty ? State.StartLine : State.BodyLength;
    this.#remaining = length;
    this.#cb.onHead(head, empty);
    if (empty && this.#state === State.StartLine) this.#complete(null);
  }

  #chunkSize(buf: Buffer, start: number, end: number): void {
    let size = 0;
    let i = start;
    for (; i < end; i++) {
      const d = HEX[buf[i]!]!;
      if (d < 0) break;
      if (size > MAX_CHUNK_SIZE_DIV16) return this.#fail('chunk size overflows', 400);
      size = size * 16 + d;
    }
    if (i === start) return this.#fail('invalid chunk size', 400);
    if (i < end) {
      if (buf[i] !== 59) return this.#fail('invalid chunk size', 400);
      for (let j = i + 1; j < end; j++) if (VALUE[buf[j]!] !== 1) return this.#fail('control byte in chunk extension', 400);
    }
    if (size === 0) {
      this.#trailers = [];
      this.#headBytes = 0;
      this.#state = State.TrailerLine;
      return;
    }
    if (!this.#addBody(size)) return;
    this.#remaining = size;
    this.#state = State.ChunkData;
  }

  /** Counts body bytes against the limit; false after reporting the error. */
  #addBody(n: number): boolean {
    this.#bodyBytes += n;
    if (this.#bodyBytes <= this.#limits.maxBodyBytes) return true;
    this.#fail('body too large', this.#isRequest ? 413 : 502, true);
    return false;
  }

  #complete(trailers: HeaderMap | null): void {
    const id = this.#id;
    this.#resetMessage();
    if (this.#pauseAfterMessage) this.#paused = true;
    this.#cb.onComplete(id, trailers !== null && trailers.size > 0 ? trailers : null);
  }

  #resetMessage(): void {
    this.#state = State.StartLine;
    this.#headBytes = 0;
    this.#raw = [];
    this.#reason = '';
    this.#contentLength = -1;
    this.#transferEncoding = null;
    this.#connClose = false;
    this.#connKeepAlive = false;
    this.#expect100 = false;
    this.#hostCount = 0;
    this.#trailers = null;
  }

  #fail(message: string, status: number, limit = false): void {
    if (this.#state === State.Dead) return;
    this.destroy();
    const err = this.#isRequest
      ? new RingsideError(limit ? 'LIMIT_EXCEEDED' : 'BAD_REQUEST', 'downstream', message, { status })
      : new RingsideError(limit ? 'LIMIT_EXCEEDED' : 'UPSTREAM_BAD_RESPONSE', 'upstream', message, {
          status: 502,
          retryable: false,
        });
    this.#cb.onError(err);
  }
}

/** The common methods as shared constants, so later comparisons are pointer checks. */
function methodString(buf: Buffer, start: number, end: number): string {
  const n = end - start;
  if (n === 3 && buf[start] === 71 && buf[start + 1] === 69 && buf[start + 2] === 84) return 'GET';
  if (n === 4 && buf[start] === 80 && buf[start + 1] === 79 && buf[start + 2] === 83 && buf[start + 3] === 84) return 'POST';
  return latin1Slice.call(buf, start, end);
}

/** Server side: decodes requests arriving from a downstream. */
export function createHttp1RequestDecoder(
  callbacks: DecoderCallbacks<Http1RequestHead>,
  options?: DecoderOptions,
): MessageDecoder {
  return new Http1Decoder(true, callbacks as DecoderCallbacks<AnyHead>, options);
}

/** Client side: decodes responses arriving from an upstream; call expect() per request written. */
export function createHttp1ResponseDecoder(
  callbacks: DecoderCallbacks<Http1ResponseHead>,
  options?: DecoderOptions,
): ResponseDecoder {
  return new Http1Decoder(false, callbacks as DecoderCallbacks<AnyHead>, options);
}
