/**
 * Incremental HTTP/1.x decoder for requests (server side) and responses (client side).
 *
 * Heads are parsed one line at a time with indexOf(LF) over the bytes as they arrive, so a head split
 * across reads is never rescanned: only an unfinished line is copied (into a small growable buffer).
 * Bodies are handed on as views of the caller's buffer. Framing rules are strict on purpose: a proxy
 * that reads a message differently from the next hop is a request-smuggling vector, so anything
 * ambiguous (CL with TE, repeated CL, codings other than one `chunked`, obs-fold, bare LF, bad chunk
 * sizes) ends the connection with an error instead of being guessed at.
 *
 * This file is the state machine: lines and bodies as they arrive, limits, pausing, callbacks. What a
 * line means is parsed in start-line.ts (request and status lines), fields.ts (field lines, framing
 * fields, chunk sizes) into a HeadState (head-state.ts).
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
import { H1Request, H1Response } from './heads.js';
import { HeadState, type Fault } from './head-state.js';
import { RequestLineProgress, latin1Slice, requestLine, statusLine } from './start-line.js';
import { chunkSize, fieldLine } from './fields.js';

export const defaultLimits: Readonly<CodecLimits> = {
  maxHeaderBytes: 16 * 1024,
  maxHeaders: 100,
  maxBodyBytes: Infinity,
  maxRequestLineBytes: 8 * 1024,
};

/** Chunk-size lines carry at most extensions nobody uses; a long one is an attack, not a message. */
const MAX_CHUNK_LINE = 4096;
/** The end of a field section. */
const CRLF_CRLF = Buffer.from('\r\n\r\n', 'latin1');
/**
 * A head with at least this many fields makes the next head of the connection be sliced as one
 * string when it arrives whole: the search for its end costs about what two per-line slices do.
 */
const WHOLE_SECTION_MIN_FIELDS = 4;
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

  /** Per-message head state, reset by #resetMessage. */
  readonly #head = new HeadState();
  /** Progress through an unfinished request line. */
  readonly #rl = new RequestLineProgress();

  // Per-message body state.
  #id = 0;
  #seq = 0;
  #remaining = 0;
  #bodyBytes = 0;
  #trailers: string[] | null = null;
  /** Methods of requests written but not yet answered (client side). */
  readonly #expected: string[] = [];
  /** The last head had many fields: slice the next field section whole (HeadState.text). */
  #sliceWhole = false;

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
    this.#head.text = null;
    this.#head.textBuf = null;
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
      // The field section's text is only valid while its buffer is being decoded.
      this.#head.textBuf = null;
      this.#head.text = null;
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
      if (this.#state === State.StartLine && this.#isRequest) {
        const bad = this.#rl.check(data, pos, this.#accLen === 0);
        if (bad !== undefined) {
          this.#fail(bad, 400);
          return data.length;
        }
      }
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
        if (this.#head.headBytes + bytes <= this.#limits.maxHeaderBytes) return true;
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
        this.#head.headBytes = bytes;
        if (!this.#failed(this.#isRequest ? requestLine(buf, start, end, this.#head) : statusLine(buf, start, end, this.#head))) {
          this.#state = State.HeaderLine;
          // Only from the caller's buffer: the line buffer holds one line and stale bytes after it.
          if (this.#sliceWhole && buf !== this.#acc) this.#sliceFieldSection(buf, lf + 1);
        }
        return;
      case State.HeaderLine:
        this.#head.headBytes += bytes;
        if (end === start) this.#headComplete();
        else this.#failed(fieldLine(buf, start, end, this.#head.raw, this.#limits.maxHeaders, this.#head));
        return;
      case State.TrailerLine:
        this.#head.headBytes += bytes;
        if (end === start) this.#complete(new Headers(this.#trailers!));
        else this.#failed(fieldLine(buf, start, end, this.#trailers!, this.#limits.maxHeaders, null));
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

  /** Reports a Fault, if any; true when there was one. */
  #failed(fault: Fault | undefined): boolean {
    if (fault === undefined) return false;
    this.#fail(fault.message, fault.status, fault.limit === true);
    return true;
  }

  /** The field section starting at buf[from], as one string, when the whole of it is in buf and within limits. */
  #sliceFieldSection(buf: Buffer, from: number): void {
    const h = this.#head;
    const room = this.#limits.maxHeaderBytes - h.headBytes;
    if (room <= 0) return;
    const end = buf.indexOf(CRLF_CRLF, from);
    // The section's last line ends with the first CRLF of the pair; an empty section has none.
    if (end === -1 || end + 4 - from > room) return;
    h.text = latin1Slice.call(buf, from, end + 2);
    h.textBuf = buf;
    h.textStart = from;
  }

  #headComplete(): void {
    const h = this.#head;
    h.text = null;
    h.textBuf = null;
    this.#sliceWhole = h.raw.length >= WHOLE_SECTION_MIN_FIELDS * 2;
    const te = h.transferEncoding;
    const bad = this.#isRequest ? 400 : 502;
    let chunked = false;
    if (te !== null) {
      if (h.contentLength !== -1) return this.#fail('both Content-Length and Transfer-Encoding', bad);
      // Only a single `chunked` coding: anything else would make Ringside and the next hop disagree
      // about where the body ends, or force Ringside to strip codings it cannot re-apply. Compared
      // exactly: fields are already stripped of OWS, and String#trim would also strip obs-text such as
      // NBSP (0xA0), turning `chunked\xa0` — a coding no other parser knows — into chunked.
      if (te.length !== 7 || te.toLowerCase() !== 'chunked') return this.#fail('unsupported Transfer-Encoding', bad);
      if (h.versionMinor === 0) return this.#fail('Transfer-Encoding in an HTTP/1.0 message', bad);
      chunked = true;
    }
    const keepAlive = h.versionMinor === 1 ? !h.connClose : h.connKeepAlive && !h.connClose;
    const headers = new Headers(h.raw);
    if (this.#isRequest) {
      if (h.hostCount > 1 || (h.hostCount === 0 && h.versionMinor === 1)) {
        return this.#fail(h.hostCount === 0 ? 'missing Host' : 'repeated Host', 400);
      }
      const id = ++this.#seq;
      const head = new H1Request(
        id, h.method, h.target, headers, h.versionMinor, h.contentLength, chunked, keepAlive,
        h.expect100 && h.versionMinor === 1,
      );
      this.#startBody(id, chunked, h.contentLength, false, head);
      return;
    }
    const status = h.status;
    if (status < 200 && status !== 101) {
      const info = new H1Response(0, status, h.reason, headers, h.versionMinor);
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
    const untilClose = !noBody && !chunked && h.contentLength === -1;
    const head = new H1Response(
      id, status, h.reason, headers, h.versionMinor, h.contentLength, chunked && !noBody,
      keepAlive && !untilClose, untilClose,
    );
    this.#startBody(id, chunked && !noBody, noBody ? -1 : h.contentLength, untilClose, head);
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
    const size = chunkSize(buf, start, end);
    if (typeof size === 'string') return this.#fail(size, 400);
    if (size === 0) {
      this.#trailers = [];
      this.#head.headBytes = 0;
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
    this.#head.reset();
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
