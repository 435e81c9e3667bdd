/**
 * Minimal incremental HTTP/1.1 response parser for the load generator. It finds where each response
 * ends (Content-Length, chunked, or no body) and reports its status; it never copies bodies or builds
 * header objects, because at 100k+ responses a second per thread every allocation shows up in the
 * figures. The head is scanned byte by byte in one pass (no indexOf calls into C++, no strings) and
 * line by line, so a head cut across reads resumes at its cut line; only that line is copied (rare).
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

/** Longest response head accepted (status line and every header line). */
const MAX_HEAD = 64 * 1024;

export class Http1ResponseParser {
  readonly #sink: ResponseSink;
  #state: State = State.Head;
  #remaining = 0;
  // The head being read: filled line by line, so a head split across reads resumes where it stopped.
  #sawStatusLine = false;
  #headBytes = 0;
  #status = 0;
  #contentLength = -1;
  #chunked = false;
  #closeAfter = false;
  /** The start of a head line cut by the end of a read (rare: only that line is copied). */
  #carry: Buffer | null = null;
  /** Set when every request is a HEAD: responses carry headers only, whatever Content-Length says. */
  readonly #noBody: boolean;
  #words: DataView | null = null;
  #wordsBuffer: Buffer | null = null;

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
            pos = this.#finishCarriedLine(buf, pos, end);
            break;
          }
          const stop = this.#scanHead(buf, pos, end);
          if (stop < 0) {
            // A line cut by the end of this read: keep its start for the next one.
            const cut = ~stop;
            if (this.#headBytes + (end - cut) > MAX_HEAD) throw new ResponseParseError('response head too large');
            if (cut < end) this.#carry = Buffer.from(buf.subarray(cut, end));
            return;
          }
          pos = stop;
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

  /** Completes the carried head line with the bytes up to its LF, then scans it; returns where `buf` resumes. */
  #finishCarriedLine(buf: Buffer, pos: number, end: number): number {
    let lf = pos;
    while (lf < end && buf[lf] !== LF) lf++;
    const taken = lf < end ? lf + 1 - pos : end - pos;
    const line = Buffer.concat([this.#carry!, buf.subarray(pos, pos + taken)]);
    if (lf === end) {
      if (this.#headBytes + line.length > MAX_HEAD) throw new ResponseParseError('response head too large');
      this.#carry = line;
      return end;
    }
    this.#carry = null;
    this.#scanHead(line, 0, line.length); // one whole line: it is consumed whatever it was
    return pos + taken;
  }

  /**
   * Reads complete head lines from [pos, end): the status line, then headers, noting only status,
   * Content-Length, Transfer-Encoding: chunked and Connection: close, without building a string.
   * Returns the position after the blank line that ends the head (the response is then in its body
   * or complete), or ~start (negative) of the first line this read does not complete.
   */
  #scanHead(buf: Buffer, pos: number, end: number): number {
    const words = this.#wordsOf(buf);
    for (;;) {
      const lf = findLf(buf, words, pos, end);
      if (lf === end) return ~pos;
      const lineEnd = lf > pos && buf[lf - 1] === CR ? lf - 1 : lf;
      const next = lf + 1;
      this.#headBytes += next - pos;
      if (this.#headBytes > MAX_HEAD) throw new ResponseParseError('response head too large');
      if (!this.#sawStatusLine) {
        this.#statusLine(buf, pos, lineEnd);
      } else if (lineEnd === pos) {
        this.#headComplete();
        return next;
      } else {
        const first = buf[pos]! | 0x20;
        if (first === 0x63 /* c */) {
          // "cont…" or "conn…" tells the two apart at the fourth byte, before any name comparison.
          const fourth = buf[pos + 3]! | 0x20;
          if (fourth === 0x74 /* t */) {
            if (lineEnd - pos >= 15 && isName(words, pos, CONTENT_LENGTH)) this.#contentLength = parseDecimal(buf, pos + 15, lineEnd);
          } else if (fourth === 0x6e /* n */ && lineEnd - pos >= 11 && isName(words, pos, CONNECTION)) {
            this.#closeAfter = containsToken(buf, pos + 11, lineEnd, 'close');
          }
        } else if (first === 0x74 /* t */ && lineEnd - pos >= 18 && isName(words, pos, TRANSFER_ENCODING)) {
          this.#chunked = containsToken(buf, pos + 18, lineEnd, 'chunked');
        }
      }
      pos = next;
    }
  }

  /** A DataView of the buffer being scanned, kept while reads keep coming in the same (onread) buffer. */
  #wordsOf(buf: Buffer): DataView {
    if (this.#words === null || this.#wordsBuffer !== buf) {
      this.#words = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      this.#wordsBuffer = buf;
    }
    return this.#words;
  }

  #statusLine(buf: Buffer, start: number, lineEnd: number): void {
    // "HTTP/1.x SSS" — the status sits at fixed offsets.
    if (lineEnd - start < 12 || buf[start] !== 0x48 || buf[start + 4] !== 0x2f || buf[start + 8] !== 0x20) {
      throw new ResponseParseError('bad status line');
    }
    const d0 = buf[start + 9]! - 48;
    const d1 = buf[start + 10]! - 48;
    const d2 = buf[start + 11]! - 48;
    if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) throw new ResponseParseError('bad status code');
    this.#status = d0 * 100 + d1 * 10 + d2;
    this.#sawStatusLine = true;
    this.#contentLength = -1;
    this.#chunked = false;
    this.#closeAfter = false;
  }

  #headComplete(): void {
    const status = this.#status;
    this.#sawStatusLine = false;
    this.#headBytes = 0;
    if (status < 200) {
      // 1xx interim response: the real one follows on the same request.
      return;
    }
    if (this.#noBody || status === 204 || status === 304) {
      this.#complete();
    } else if (this.#chunked) {
      this.#remaining = 0;
      this.#state = State.ChunkSize;
    } else if (this.#contentLength > 0) {
      this.#remaining = this.#contentLength;
      this.#state = State.Body;
    } else if (this.#contentLength === 0) {
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

/**
 * The index of the first LF in [pos, end), or `end`. Eight bytes at a time while they hold none (a
 * head is mostly header values the generator does not look at): with x = word XOR 0x0a0a0a0a, a byte
 * of the word was LF iff x has a zero byte, i.e. iff (x − 0x01010101) & ~x & 0x80808080 is non-zero.
 */
function findLf(buf: Buffer, words: DataView, pos: number, end: number): number {
  let i = pos;
  while (i + 8 <= end) {
    const a = words.getInt32(i, true) ^ 0x0a0a0a0a;
    const b = words.getInt32(i + 4, true) ^ 0x0a0a0a0a;
    if ((((a - 0x01010101) & ~a) | ((b - 0x01010101) & ~b)) & 0x80808080) break;
    i += 8;
  }
  while (i < end && buf[i] !== LF) i++;
  return i;
}

/**
 * A header name with its colon, as 4-byte words to compare against (little-endian, the last word
 * overlapping the one before it when the length is not a multiple of 4) and, per word, the bits
 * ORed in first: 0x20 on each letter's byte (so "C" and "c" compare equal, and nothing else does:
 * only 0x43 and 0x63 give 0x63 when ORed with 0x20), nothing on "-" and ":" (which must match exactly).
 */
interface NameWords {
  readonly offsets: readonly number[];
  readonly values: readonly number[];
  readonly masks: readonly number[];
}

function nameWords(lowerName: string): NameWords {
  const offsets: number[] = [];
  for (let o = 0; o + 4 <= lowerName.length; o += 4) offsets.push(o);
  if (lowerName.length % 4 !== 0) offsets.push(lowerName.length - 4);
  const values: number[] = [];
  const masks: number[] = [];
  for (const o of offsets) {
    let value = 0;
    let mask = 0;
    for (let i = 0; i < 4; i++) {
      const c = lowerName.charCodeAt(o + i);
      value |= c << (8 * i);
      if (c >= 0x61 && c <= 0x7a) mask |= 0x20 << (8 * i);
    }
    values.push(value | 0);
    masks.push(mask | 0);
  }
  return { offsets, values, masks };
}

const CONTENT_LENGTH = nameWords('content-length:');
const CONNECTION = nameWords('connection:');
const TRANSFER_ENCODING = nameWords('transfer-encoding:');

/** Whether the line at `start` begins with the name (case-insensitive); the caller checked the length. */
function isName(words: DataView, start: number, name: NameWords): boolean {
  const { offsets, values, masks } = name;
  for (let i = 0; i < offsets.length; i++) {
    if ((words.getInt32(start + offsets[i]!, true) | masks[i]!) !== values[i]) return false;
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
