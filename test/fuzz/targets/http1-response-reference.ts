/**
 * A strict RFC 9112 response parser, the fuzzing oracle for Ringside's HTTP/1.1 response decoder (the
 * upstream side of the proxy and the runtime channels). Written like the request oracle
 * (http1-reference.ts): whole input, regular expressions, no shared state machine with the decoder.
 *
 * Policy (the decoder's documented one): the request policy's line, field and chunk grammar; a status
 * line `HTTP/1.x SP 3DIGIT [SP reason]`; 1xx (but 101) heads skipped; each final response answers the
 * next request written (HEAD, 204 and 304 have no body; a response nobody asked for, a 101 and an
 * accepted CONNECT are errors); no Content-Length and no chunked coding: the body runs until close.
 * Every error is the upstream's, so only "error" is compared, not a status.
 */
import type { RefLimits } from './http1-reference.js';

export interface RefResponse {
  status: number;
  reason: string;
  versionMinor: 0 | 1;
  headers: string[];
  contentLength: number;
  chunked: boolean;
  keepAlive: boolean;
  untilClose: boolean;
  body: string;
  trailers: string[] | null;
}

export type RefResponseEnd =
  | { kind: 'clean' }
  /** Unfinished; `untilClose`: the open message is an until-close body, which a close completes. */
  | { kind: 'incomplete'; headDelivered: boolean; untilClose: RefResponse | null }
  | { kind: 'error'; reason: string; headDelivered: boolean };

const TCHAR = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]";
const STATUS_LINE = /^HTTP\/([0-9])\.([0-9]) ([1-9][0-9]{2})(?: ([\t\x20-\x7e\x80-\xff]*))?$/;
const FIELD_NAME = new RegExp(`^(${TCHAR}+):`);
const FIELD_VALUE_OK = /^[\t\x20-\x7e\x80-\xff]*$/;
const CHUNK_SIZE_LINE = /^([0-9A-Fa-f]+)(?:;[\t\x20-\x7e\x80-\xff]*)?$/;
const MAX_CHUNK_LINE = 4096;
const MAX_SIZE_DIV16 = BigInt(Math.floor(Number.MAX_SAFE_INTEGER / 16));

export function parseResponses(input: Buffer, methods: readonly string[], limits: RefLimits): { messages: RefResponse[]; end: RefResponseEnd } {
  const s = input.toString('latin1');
  const messages: RefResponse[] = [];
  const expected = [...methods];
  let pos = 0;
  let headDelivered = false;
  let end: RefResponseEnd | null = null;
  const fail = (reason: string): null => {
    end ??= { kind: 'error', reason, headDelivered };
    return null;
  };
  const incomplete = (untilClose: RefResponse | null = null): null => {
    end ??= { kind: 'incomplete', headDelivered, untilClose };
    return null;
  };
  const stopped = () => ({ messages, end: end! });
  const nextLine = (limit: number, tooLong: string): string | null => {
    const lf = s.indexOf('\n', pos);
    if (lf === -1) return s.length - pos > limit ? fail(tooLong) : incomplete();
    if (lf + 1 - pos > limit) return fail(tooLong);
    const line = s.slice(pos, lf);
    pos = lf + 1;
    if (!line.endsWith('\r')) return fail('bare LF');
    return line.slice(0, -1);
  };
  const trimOws = (v: string): string => v.replace(/^[ \t]+/, '').replace(/[ \t]+$/, '');
  const field = (line: string, list: string[]): [string, string] | null => {
    if (line[0] === ' ' || line[0] === '\t') return fail('obs-fold');
    const m = FIELD_NAME.exec(line);
    if (m === null) return fail('invalid field name');
    const name = m[1]!;
    const value = trimOws(line.slice(name.length + 1));
    if (!FIELD_VALUE_OK.test(value)) return fail('control byte in field value');
    if (list.length >= limits.maxHeaders * 2) return fail('too many fields');
    list.push(name, value);
    return [name.toLowerCase(), value];
  };

  for (;;) {
    headDelivered = false;
    if (pos === s.length) return { messages, end: { kind: 'clean' } };
    let start: string | null;
    do {
      start = nextLine(limits.maxRequestLineBytes, 'status line too long');
      if (start === null) return stopped();
    } while (start === '' && pos < s.length);
    if (start === '') return { messages, end: { kind: 'clean' } };
    let headBytes = start.length + 2;
    const sl = STATUS_LINE.exec(start);
    if (sl === null) return (fail('invalid status line'), stopped());
    if (sl[1] !== '1') return (fail('unsupported major version'), stopped());
    const versionMinor: 0 | 1 = sl[2] === '0' ? 0 : 1;
    const status = Number(sl[3]);

    const headers: string[] = [];
    let contentLength = -1;
    const te: string[] = [];
    let close = false;
    let keepAliveToken = false;
    for (;;) {
      const before = pos;
      const line = nextLine(limits.maxHeaderBytes - headBytes, 'header section too large');
      if (line === null) return stopped();
      headBytes += pos - before;
      if (line === '') break;
      const f = field(line, headers);
      if (f === null) return stopped();
      const [name, value] = f;
      if (name === 'connection') {
        for (const opt of value.split(',')) {
          const o = trimOws(opt).toLowerCase();
          if (o === 'close') close = true;
          else if (o === 'keep-alive') keepAliveToken = true;
        }
      } else if (name === 'content-length') {
        if (contentLength !== -1) return (fail('repeated Content-Length'), stopped());
        if (!/^[0-9]+$/.test(value)) return (fail('invalid Content-Length'), stopped());
        const n = BigInt(value);
        if (n > BigInt(Number.MAX_SAFE_INTEGER)) return (fail('Content-Length overflows'), stopped());
        contentLength = Number(n);
      } else if (name === 'transfer-encoding') te.push(value);
    }
    let chunked = false;
    if (te.length > 0) {
      if (contentLength !== -1) return (fail('CL with TE'), stopped());
      if (te.length !== 1 || !/^chunked$/i.test(te[0]!)) return (fail('unsupported TE'), stopped());
      if (versionMinor === 0) return (fail('TE on HTTP/1.0'), stopped());
      chunked = true;
    }
    // 1xx (not 101): informational, skipped; the final response still answers the request.
    if (status < 200 && status !== 101) continue;
    const method = expected.shift();
    if (method === undefined) return (fail('response without a request'), stopped());
    if (status === 101) return (fail('101'), stopped());
    if (method === 'CONNECT' && status < 300) return (fail('CONNECT accepted'), stopped());
    const noBody = method === 'HEAD' || status === 204 || status === 304;
    const untilClose = !noBody && !chunked && contentLength === -1;
    const keepAlive = versionMinor === 1 ? !close : keepAliveToken && !close;
    if (!noBody && contentLength > limits.maxBodyBytes) return (fail('body too large'), stopped());
    const msg: RefResponse = { status, reason: sl[4] ?? '', versionMinor, headers, contentLength, chunked: chunked && !noBody, keepAlive: keepAlive && !untilClose, untilClose, body: '', trailers: null };
    headDelivered = true;

    if (noBody) {
      // nothing
    } else if (chunked) {
      let total = 0;
      for (;;) {
        const sizeLine = nextLine(MAX_CHUNK_LINE, 'chunk size line too long');
        if (sizeLine === null) return stopped();
        const m = CHUNK_SIZE_LINE.exec(sizeLine);
        if (m === null) return (fail('invalid chunk size line'), stopped());
        let size = 0n;
        for (const d of m[1]!) {
          if (size > MAX_SIZE_DIV16) return (fail('chunk size overflows'), stopped());
          size = size * 16n + BigInt(parseInt(d, 16));
        }
        if (size === 0n) break;
        const n = Number(size);
        total += n;
        if (total > limits.maxBodyBytes) return (fail('body too large'), stopped());
        if (s.length - pos < n) return (incomplete(), stopped());
        msg.body += s.slice(pos, pos + n);
        pos += n;
        const lf = s.indexOf('\n', pos);
        if (lf === -1) return s.length - pos > 2 ? (fail('chunk data not followed by CRLF'), stopped()) : (incomplete(), stopped());
        if (lf + 1 - pos > 2) return (fail('chunk data not followed by CRLF'), stopped());
        if (lf !== pos + 1 || s[pos] !== '\r') return (fail('bare LF after chunk data'), stopped());
        pos = lf + 1;
      }
      const trailers: string[] = [];
      let trailerBytes = 0;
      for (;;) {
        const before = pos;
        const line = nextLine(limits.maxHeaderBytes - trailerBytes, 'trailer section too large');
        if (line === null) return stopped();
        trailerBytes += pos - before;
        if (line === '') break;
        if (field(line, trailers) === null) return stopped();
      }
      msg.trailers = trailers.length > 0 ? trailers : null;
    } else if (untilClose) {
      const rest = s.length - pos;
      if (rest > limits.maxBodyBytes) return (fail('body too large'), stopped());
      msg.body = s.slice(pos);
      pos = s.length;
      return (incomplete(msg), stopped());
    } else if (contentLength > 0) {
      if (s.length - pos < contentLength) return (incomplete(), stopped());
      msg.body = s.slice(pos, pos + contentLength);
      pos += contentLength;
    }
    messages.push(msg);
  }
}
