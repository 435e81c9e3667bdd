/**
 * HTTP/1.x field lines (RFC 9112 §5) and the few fields that decide a message's framing and whether
 * its connection is reused: Host, Expect, Connection, Content-Length, Transfer-Encoding; and chunk-size
 * lines (§7.1). Strict on purpose: obs-fold, control bytes, a repeated or non-numeric Content-Length
 * are refused, never guessed at (a proxy that reads a message differently from the next hop is a
 * request-smuggling vector).
 */
import { bytesEqualLower, HEX, TOKEN, VALUE } from './chars.js';
import type { Fault, HeadState } from './head-state.js';
import { latin1Slice } from './start-line.js';

/** Above this a chunk size cannot be represented exactly in a double. */
const MAX_CHUNK_SIZE_DIV16 = Math.floor(Number.MAX_SAFE_INTEGER / 16);

/**
 * One field line buf[start, end) into `list`; `head` (null for trailers, whose framing fields mean
 * nothing) also records the framing fields. A Fault when the line is refused.
 */
export function fieldLine(buf: Buffer, start: number, end: number, list: string[], maxHeaders: number, head: HeadState | null): Fault | undefined {
  const c0 = buf[start]!;
  if (c0 === 32 || c0 === 9) return { message: 'obsolete line folding', status: 400 };
  let i = start;
  while (i < end && TOKEN[buf[i]!] === 1) i++;
  if (i === start || i === end || buf[i] !== 58) return { message: 'invalid header name', status: 400 };
  const nameEnd = i;
  i++;
  while (i < end && (buf[i] === 32 || buf[i] === 9)) i++;
  let ve = end;
  while (ve > i && (buf[ve - 1] === 32 || buf[ve - 1] === 9)) ve--;
  for (let j = i; j < ve; j++) if (VALUE[buf[j]!] !== 1) return { message: 'control byte in header value', status: 400 };
  if (list.length >= maxHeaders * 2) return { message: 'too many header fields', status: 431, limit: true };
  // Substrings of the field section's text when the decoder sliced it whole; else one native slice
  // per field line, then JS substrings: the binding call is the dear part, and a head carries a dozen fields.
  let name: string;
  let value: string;
  const text = head === null ? null : head.text;
  if (text !== null && head!.textBuf === buf && start >= head!.textStart && ve - head!.textStart <= text.length) {
    const o = head!.textStart;
    name = text.slice(start - o, nameEnd - o);
    value = text.slice(i - o, ve - o);
  } else {
    const line = latin1Slice.call(buf, start, ve);
    name = line.slice(0, nameEnd - start);
    value = line.slice(i - start);
  }
  list.push(name, value);
  return head === null ? undefined : framingField(buf, start, nameEnd - start, i, ve, value, head);
}

/** Notes the fields that decide framing and connection reuse, keyed on length before comparing. */
function framingField(buf: Buffer, start: number, nameLen: number, vs: number, ve: number, value: string, head: HeadState): Fault | undefined {
  switch (nameLen) {
    case 4:
      if (bytesEqualLower(buf, start, 'host')) head.hostCount++;
      return undefined;
    case 6:
      if (bytesEqualLower(buf, start, 'expect') && ve - vs === 12 && bytesEqualLower(buf, vs, '100-continue')) head.expect100 = true;
      return undefined;
    case 10:
      if (bytesEqualLower(buf, start, 'connection')) connectionOptions(buf, vs, ve, head);
      return undefined;
    case 14:
      return bytesEqualLower(buf, start, 'content-length') ? contentLength(buf, vs, ve, head) : undefined;
    case 17:
      if (bytesEqualLower(buf, start, 'transfer-encoding')) head.transferEncoding = head.transferEncoding === null ? value : `${head.transferEncoding},${value}`;
      return undefined;
    default:
      return undefined;
  }
}

function connectionOptions(buf: Buffer, vs: number, ve: number, head: HeadState): void {
  // Walk the comma list in place; only two options change what the decoder reports.
  let i = vs;
  while (i <= ve) {
    let j = buf.indexOf(44, i);
    if (j === -1 || j > ve) j = ve;
    let s = i;
    let e = j;
    while (s < e && (buf[s] === 32 || buf[s] === 9)) s++;
    while (e > s && (buf[e - 1] === 32 || buf[e - 1] === 9)) e--;
    if (e - s === 5 && bytesEqualLower(buf, s, 'close')) head.connClose = true;
    else if (e - s === 10 && bytesEqualLower(buf, s, 'keep-alive')) head.connKeepAlive = true;
    i = j + 1;
  }
}

function contentLength(buf: Buffer, vs: number, ve: number, head: HeadState): Fault | undefined {
  if (head.contentLength !== -1) return { message: 'repeated Content-Length', status: 400 };
  if (vs === ve) return { message: 'invalid Content-Length', status: 400 };
  let n = 0;
  for (let j = vs; j < ve; j++) {
    const d = buf[j]! - 48;
    if (d < 0 || d > 9) return { message: 'invalid Content-Length', status: 400 };
    n = n * 10 + d;
    if (n > Number.MAX_SAFE_INTEGER) return { message: 'Content-Length overflows', status: 400 };
  }
  head.contentLength = n;
  return undefined;
}

/**
 * The size of a chunk-size line buf[start, end) (hex, then optional `;` extensions of field-value
 * bytes), or the message of its refusal.
 */
export function chunkSize(buf: Buffer, start: number, end: number): number | string {
  let size = 0;
  let i = start;
  for (; i < end; i++) {
    const d = HEX[buf[i]!]!;
    if (d < 0) break;
    if (size > MAX_CHUNK_SIZE_DIV16) return 'chunk size overflows';
    size = size * 16 + d;
  }
  if (i === start) return 'invalid chunk size';
  if (i < end) {
    if (buf[i] !== 59) return 'invalid chunk size';
    for (let j = i + 1; j < end; j++) if (VALUE[buf[j]!] !== 1) return 'control byte in chunk extension';
  }
  return size;
}
