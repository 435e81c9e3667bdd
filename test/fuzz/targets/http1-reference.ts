/**
 * A strict RFC 9112 request parser used as the fuzzing oracle for Ringside's HTTP/1.1 decoder.
 *
 * Why not llhttp (node:http)? llhttp is lenient where Ringside is deliberately strict (it accepts
 * bare LF and obs-fold in some modes, CL with TE on requests when lenient flags are set), and it
 * reaches the test only through a socket per case, which caps a CI run at a few thousand cases. An
 * oracle must share Ringside's policy to be useful: every disagreement is then a bug in one of the
 * two. This one is written differently on purpose — whole-input, over a latin1 string, with regular
 * expressions for the grammar — so it does not share the decoder's incremental state machine or its
 * byte tables, and a mistake in one is unlikely to be repeated in the other.
 *
 * Policy (the decoder's documented one): RFC 9112 grammar; empty lines before a request tolerated;
 * every line ends in CRLF; obs-fold, CL with TE, repeated CL, codings other than exactly `chunked`, TE
 * on HTTP/1.0, and a missing (1.1) or repeated Host are errors; chunk sizes are hex without BWS,
 * extensions any field-value bytes; limits as configured.
 */
export interface RefLimits {
  maxHeaderBytes: number;
  maxHeaders: number;
  maxBodyBytes: number;
  maxRequestLineBytes: number;
}

export interface RefMessage {
  method: string;
  target: string;
  versionMinor: 0 | 1;
  /** Flat [name, value, …] as received (values without surrounding OWS). */
  headers: string[];
  contentLength: number;
  chunked: boolean;
  keepAlive: boolean;
  expectContinue: boolean;
  body: string;
  /** Trailer fields, or null when there were none. */
  trailers: string[] | null;
}

export type RefEnd =
  | { kind: 'clean' }
  /** The input stops inside a message (or a line); more bytes could still make it valid. */
  | { kind: 'incomplete'; headDelivered: boolean }
  /** headDelivered: the failing message's head was valid (the error is in its body). */
  | { kind: 'error'; status: number; reason: string; headDelivered: boolean };

export interface RefResult {
  messages: RefMessage[];
  end: RefEnd;
}

const TCHAR = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]";
const TARGET = '[\\x21-\\x7e\\x80-\\xff]';
const REQUEST_LINE = new RegExp(`^(${TCHAR}+) (${TARGET}+) (.*)$`, 's');
const VERSION = /^HTTP\/([0-9])\.([0-9])$/;
/** What an unfinished request line may still become (checked only when the input stops inside it). */
const REQUEST_LINE_PREFIX = new RegExp(
  `^(?:\\r|${TCHAR}*|${TCHAR}+ ${TARGET}*|${TCHAR}+ ${TARGET}+ (?:H(?:T(?:T(?:P(?:/(?:[0-9](?:\\.(?:[0-9]\\r?)?)?)?)?)?)?)?)?)$`,
  's',
);
const FIELD_NAME = new RegExp(`^(${TCHAR}+):`);
const FIELD_VALUE_OK = /^[\t\x20-\x7e\x80-\xff]*$/;
const CHUNK_SIZE_LINE = /^([0-9A-Fa-f]+)(?:;[\t\x20-\x7e\x80-\xff]*)?$/;
const MAX_CHUNK_LINE = 4096;

const MAX_SIZE_DIV16 = BigInt(Math.floor(Number.MAX_SAFE_INTEGER / 16));

export function parseRequests(input: Buffer, limits: RefLimits): RefResult {
  const s = input.toString('latin1');
  const messages: RefMessage[] = [];
  let pos = 0;
  let headDelivered = false;
  // Where the parse stopped; set once by fail()/incomplete(), which return null so that every caller
  // ends with `if (x === null) return stopped()`. (Exceptions would be simpler, but a throw costs V8
  // a message object with a source position: most fuzz cases end in an error.)
  let end: RefEnd | null = null;
  const fail = (status: number, reason: string): null => {
    end ??= { kind: 'error', status, reason, headDelivered };
    return null;
  };
  const incomplete = (): null => {
    end ??= { kind: 'incomplete', headDelivered };
    return null;
  };
  const stopped = (): RefResult => ({ messages, end: end! });
  /**
   * The next line without its CRLF. `limit` bounds the line's bytes with its LF (or the unfinished
   * rest of the input), checked before anything else, as the decoder does on each read.
   */
  const nextLine = (limit: number, tooLong: [number, string], partialOk?: (partial: string) => boolean): string | null => {
    const lf = s.indexOf('\n', pos);
    if (lf === -1) {
      if (s.length - pos > limit) return fail(...tooLong);
      if (partialOk !== undefined && !partialOk(s.slice(pos))) return fail(400, 'cannot become a request line');
      return incomplete();
    }
    if (lf + 1 - pos > limit) return fail(...tooLong);
    const line = s.slice(pos, lf);
    pos = lf + 1;
    if (!line.endsWith('\r')) return fail(400, 'bare LF');
    return line.slice(0, -1);
  };
  const trimOws = (v: string): string => v.replace(/^[ \t]+/, '').replace(/[ \t]+$/, '');
  /** One field line into `list`; returns [lower-case name, value]. */
  const field = (line: string, list: string[]): [string, string] | null => {
    if (line[0] === ' ' || line[0] === '\t') return fail(400, 'obs-fold');
    const m = FIELD_NAME.exec(line);
    if (m === null) return fail(400, 'invalid field name');
    const name = m[1]!;
    const value = trimOws(line.slice(name.length + 1));
    if (!FIELD_VALUE_OK.test(value)) return fail(400, 'control byte in field value');
    if (list.length >= limits.maxHeaders * 2) return fail(431, 'too many fields');
    list.push(name, value);
    return [name.toLowerCase(), value];
  };
  const plausible = (partial: string): boolean => REQUEST_LINE_PREFIX.test(partial);

  for (;;) {
    headDelivered = false;
    if (pos === s.length) return { messages, end: { kind: 'clean' } };
    // Start line (empty lines before it are skipped).
    let start: string | null;
    do {
      start = nextLine(limits.maxRequestLineBytes, [414, 'request line too long'], plausible);
      if (start === null) return stopped();
    } while (start === '' && pos < s.length);
    if (start === '') return { messages, end: { kind: 'clean' } };
    let headBytes = start.length + 2;
    const rl = REQUEST_LINE.exec(start);
    if (rl === null) return (fail(400, 'invalid request line'), stopped());
    const v = VERSION.exec(rl[3]!);
    if (v === null) return (fail(400, 'invalid version'), stopped());
    if (v[1] !== '1') return (fail(505, 'unsupported major version'), stopped());
    const versionMinor: 0 | 1 = v[2] === '0' ? 0 : 1;

    // Header section.
    const headers: string[] = [];
    let hosts = 0;
    let contentLength = -1;
    const te: string[] = [];
    let close = false;
    let keepAliveToken = false;
    let expect = false;
    for (;;) {
      const before = pos;
      const line = nextLine(limits.maxHeaderBytes - headBytes, [431, 'header section too large']);
      if (line === null) return stopped();
      headBytes += pos - before;
      if (line === '') break;
      const f = field(line, headers);
      if (f === null) return stopped();
      const [name, value] = f;
      if (name === 'host') hosts++;
      else if (name === 'expect' && value.toLowerCase() === '100-continue') expect = true;
      else if (name === 'connection') {
        for (const opt of value.split(',')) {
          const o = trimOws(opt).toLowerCase();
          if (o === 'close') close = true;
          else if (o === 'keep-alive') keepAliveToken = true;
        }
      } else if (name === 'content-length') {
        if (contentLength !== -1) return (fail(400, 'repeated Content-Length'), stopped());
        if (!/^[0-9]+$/.test(value)) return (fail(400, 'invalid Content-Length'), stopped());
        const n = BigInt(value);
        if (n > BigInt(Number.MAX_SAFE_INTEGER)) return (fail(400, 'Content-Length overflows'), stopped());
        contentLength = Number(n);
      } else if (name === 'transfer-encoding') te.push(value);
    }
    let chunked = false;
    if (te.length > 0) {
      if (contentLength !== -1) return (fail(400, 'CL with TE'), stopped());
      // Exactly one coding, `chunked` (case-insensitive ASCII); OWS was trimmed with the field.
      if (te.length !== 1 || !/^chunked$/i.test(te[0]!)) return (fail(400, 'unsupported TE'), stopped());
      if (versionMinor === 0) return (fail(400, 'TE on HTTP/1.0'), stopped());
      chunked = true;
    }
    if (hosts > 1 || (hosts === 0 && versionMinor === 1)) return (fail(400, 'Host count'), stopped());
    if (contentLength > limits.maxBodyBytes) return (fail(413, 'body too large'), stopped());
    const msg: RefMessage = {
      method: rl[1]!,
      target: rl[2]!,
      versionMinor,
      headers,
      contentLength,
      chunked,
      keepAlive: versionMinor === 1 ? !close : keepAliveToken && !close,
      expectContinue: expect && versionMinor === 1,
      body: '',
      trailers: null,
    };
    headDelivered = true;

    // Body.
    if (chunked) {
      let total = 0;
      for (;;) {
        const sizeLine = nextLine(MAX_CHUNK_LINE, [400, 'chunk size line too long']);
        if (sizeLine === null) return stopped();
        const m = CHUNK_SIZE_LINE.exec(sizeLine);
        if (m === null) return (fail(400, 'invalid chunk size line'), stopped());
        // Sizes are exact up to 2^53: the decoder refuses a digit that would leave that range.
        let size = 0n;
        for (const d of m[1]!) {
          if (size > MAX_SIZE_DIV16) return (fail(400, 'chunk size overflows'), stopped());
          size = size * 16n + BigInt(parseInt(d, 16));
        }
        if (size === 0n) break;
        const n = Number(size);
        total += n;
        if (total > limits.maxBodyBytes) return (fail(413, 'body too large'), stopped());
        if (s.length - pos < n) return (incomplete(), stopped());
        msg.body += s.slice(pos, pos + n);
        pos += n;
        // The CRLF after chunk data: at most two bytes are waited for.
        const lf = s.indexOf('\n', pos);
        if (lf === -1) {
          if (s.length - pos > 2) return (fail(400, 'chunk data not followed by CRLF'), stopped());
          return (incomplete(), stopped());
        }
        if (lf + 1 - pos > 2) return (fail(400, 'chunk data not followed by CRLF'), stopped());
        if (lf !== pos + 1 || s[pos] !== '\r') return (fail(400, 'bare LF after chunk data'), stopped());
        pos = lf + 1;
      }
      const trailers: string[] = [];
      let trailerBytes = 0;
      for (;;) {
        const before = pos;
        const line = nextLine(limits.maxHeaderBytes - trailerBytes, [431, 'trailer section too large']);
        if (line === null) return stopped();
        trailerBytes += pos - before;
        if (line === '') break;
        if (field(line, trailers) === null) return stopped();
      }
      msg.trailers = trailers.length > 0 ? trailers : null;
    } else if (contentLength > 0) {
      if (s.length - pos < contentLength) return (incomplete(), stopped());
      msg.body = s.slice(pos, pos + contentLength);
      pos += contentLength;
    }
    messages.push(msg);
  }
}
