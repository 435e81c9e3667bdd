/**
 * Minimal incremental HTTP/1.1 response parser for the load generator. It finds where each response
 * ends (Content-Length, chunked, or no body) and reports its status; it never copies bodies or builds
 * header objects, because at 100k+ responses a second per thread every allocation shows up in the
 * figures. Bytes may arrive split anywhere; only a header block cut across reads is copied (rare).
 */

const CR = 13;
const LF = 10;

const enum State {
  Head, // waiting for a complete status line + header block
  Body, // skipping `remaining` body bytes (Content-Length)
  UntilClose, // no length: the body runs until the server closes
  ChunkSize, // reading the hex size of the next chunk
  ChunkExt, // skipping a chunk extension up to CR
  ChunkSizeLf, // expecting LF after the size line
  ChunkData, // skipping `remaining` chunk bytes
  ChunkDataCr, // expecting CR after chunk data
  ChunkDataLf, // expecting LF after chunk data
  TrailerLineStart, // start of a trailer line (or the final empty line)
  TrailerLine, // inside a trailer line
  TrailerEndLf, // expecting the LF of the final empty line
}

/** Thrown for bytes that cannot be an HTTP/1.1 response; the caller closes the connection. */
export class ResponseParseError extends Error {}

export interface ResponseSink {
  /** Called once per complete response, in order; `closeAfter` is true for `Connection: close`. */
  onResponse(status: number, closeAfter: boolean): void;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const MAX_HEAD = 64 * 1024;

export class Http1ResponseParser {
  readonly #sink: ResponseSink;
  #state: State = State.Head;
  #remaining = 0;
  #status = 0;
  #closeAfter = false;
  /** Head bytes carried over from a previous read when a header block was split. */
  #carry: Buffer | null = null;
  /** Set when every request is a HEAD: responses carry headers only, whatever Content-Length says. */
  readonly #noBody: boolean;

  constructor(sink: ResponseSink, headRequests = false) {
    this.#sink = sink;
    this.#noBody = headRequests;
  }

  /** True while a body without a length is being read; the response ends when the peer closes. */
  get readsUntilClose(): boolean {
    return this.#state === State.UntilClose;
  }

  /** Called when the peer closed: completes a read-until-close body. */
  end(): void {
    if (this.#state === State.UntilClose) this.#complete();
  }

  /** Feeds bytes [start, end) of `buf`; `buf` may be reused by the caller after this returns. */
  feed(buf: Buffer, start: number, end: number): void {
    let pos = start;
    while (pos < end) {
      switch (this.#state) {
        case State.Head: {
          if (this.#carry !== null) {
            const joined = Buffer.concat([this.#carry, buf.subarray(pos, end)]);
            const headEnd = joined.indexOf(HEADER_END);
            if (headEnd === -1) {
              if (joined.length > MAX_HEAD) throw new ResponseParseError('response head too large');
              this.#carry = joined;
              return;
            }
            const consumed = headEnd + 4 - this.#carry.length;
            this.#carry = null;
            this.#parseHead(joined, 0, headEnd);
            pos += consumed;
            break;
          }
          const headEnd = buf.indexOf(HEADER_END, pos);
          if (headEnd === -1 || headEnd + 4 > end) {
            this.#carry = Buffer.from(buf.subarray(pos, end));
            return;
          }
          this.#parseHead(buf, pos, headEnd);
          pos = headEnd + 4;
          break;
        }
        case State.Body: {
          const take = Math.min(this.#remaining, end - pos);
          pos += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#complete();
          break;
        }
        case State.UntilClose:
          return;
        case State.ChunkData: {
          const take = Math.min(this.#remaining, end - pos);
          pos += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#state = State.ChunkDataCr;
          break;
        }
        default:
          pos = this.#chunkBytes(buf, pos, end);
      }
    }
  }

  #parseHead(buf: Buffer, start: number, headEnd: number): void {
    // "HTTP/1.x SSS" — the status sits at fixed offsets.
    if (headEnd - start < 12 || buf[start] !== 0x48 || buf[start + 4] !== 0x2f || buf[start + 8] !== 0x20) {
      throw new ResponseParseError('bad status line');
    }
    const d0 = buf[start + 9]! - 48;
    const d1 = buf[start + 10]! - 48;
    const d2 = buf[start + 11]! - 48;
    if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) throw new ResponseParseError('bad status code');
    const status = d0 * 100 + d1 * 10 + d2;
    let contentLength = -1;
    let chunked = false;
    let close = false;
    let line = buf.indexOf(LF, start) + 1;
    while (line > 0 && line < headEnd) {
      let lineEnd = buf.indexOf(CR, line);
      if (lineEnd === -1 || lineEnd > headEnd) lineEnd = headEnd;
      const first = buf[line]! | 0x20;
      if (first === 0x63 /* c */) {
        if (matchName(buf, line, lineEnd, 'content-length:')) contentLength = parseDecimal(buf, line + 15, lineEnd);
        else if (matchName(buf, line, lineEnd, 'connection:')) close = containsToken(buf, line + 11, lineEnd, 'close');
      } else if (first === 0x74 /* t */ && matchName(buf, line, lineEnd, 'transfer-encoding:')) {
        chunked = containsToken(buf, line + 18, lineEnd, 'chunked');
      }
      line = lineEnd + 2;
    }
    this.#status = status;
    this.#closeAfter = close;
    if (status < 200) {
      // 1xx interim response: the real one follows on the same request.
      this.#state = State.Head;
      return;
    }
    if (this.#noBody || status === 204 || status === 304) {
      this.#complete();
      return;
    }
    if (chunked) {
      this.#remaining = 0;
      this.#state = State.ChunkSize;
    } else if (contentLength > 0) {
      this.#remaining = contentLength;
      this.#state = State.Body;
    } else if (contentLength === 0) {
      this.#complete();
    } else {
      this.#state = State.UntilClose;
    }
  }

  #chunkBytes(buf: Buffer, start: number, end: number): number {
    let pos = start;
    while (pos < end) {
      const b = buf[pos++]!;
      switch (this.#state) {
        case State.ChunkSize:
          if (b === CR) this.#state = State.ChunkSizeLf;
          else if (b === 0x3b /* ; */ || b === 0x20 || b === 0x09) this.#state = State.ChunkExt;
          else {
            const v = hexValue(b);
            if (v < 0) throw new ResponseParseError('bad chunk size');
            this.#remaining = this.#remaining * 16 + v;
          }
          break;
        case State.ChunkExt:
          if (b === CR) this.#state = State.ChunkSizeLf;
          break;
        case State.ChunkSizeLf:
          if (b !== LF) throw new ResponseParseError('bad chunk size line');
          this.#state = this.#remaining === 0 ? State.TrailerLineStart : State.ChunkData;
          // Chunk data is skipped in bulk by feed().
          return pos;
        case State.ChunkDataCr:
          if (b !== CR) throw new ResponseParseError('missing CRLF after chunk');
          this.#state = State.ChunkDataLf;
          break;
        case State.ChunkDataLf:
          if (b !== LF) throw new ResponseParseError('missing CRLF after chunk');
          this.#remaining = 0;
          this.#state = State.ChunkSize;
          break;
        case State.TrailerLineStart:
          this.#state = b === CR ? State.TrailerEndLf : State.TrailerLine;
          break;
        case State.TrailerLine:
          if (b === LF) this.#state = State.TrailerLineStart;
          break;
        case State.TrailerEndLf:
          if (b !== LF) throw new ResponseParseError('bad chunked trailer');
          this.#complete();
          return pos;
        default:
          return pos - 1;
      }
    }
    return pos;
  }

  #complete(): void {
    this.#state = State.Head;
    this.#remaining = 0;
    this.#sink.onResponse(this.#status, this.#closeAfter);
  }
}

function matchName(buf: Buffer, start: number, end: number, lowerName: string): boolean {
  if (end - start < lowerName.length) return false;
  for (let i = 0; i < lowerName.length; i++) {
    const c = buf[start + i]!;
    const lc = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
    if (lc !== lowerName.charCodeAt(i)) return false;
  }
  return true;
}

function parseDecimal(buf: Buffer, start: number, end: number): number {
  let n = 0;
  let seen = false;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c === 0x20 || c === 0x09) {
      if (seen) break;
      continue;
    }
    if (c < 48 || c > 57) throw new ResponseParseError('bad content-length');
    n = n * 10 + (c - 48);
    seen = true;
  }
  if (!seen) throw new ResponseParseError('bad content-length');
  return n;
}

/** Case-insensitive search without building a string: this runs on every keep-alive response. */
function containsToken(buf: Buffer, start: number, end: number, lowerToken: string): boolean {
  const n = lowerToken.length;
  outer: for (let i = start; i + n <= end; i++) {
    for (let j = 0; j < n; j++) {
      if ((buf[i + j]! | 0x20) !== lowerToken.charCodeAt(j)) continue outer;
    }
    return true;
  }
  return false;
}

function hexValue(b: number): number {
  if (b >= 48 && b <= 57) return b - 48;
  const l = b | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}
