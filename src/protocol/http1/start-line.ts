/**
 * HTTP/1.x start lines (RFC 9112 §3, §4): the request line `method SP target SP HTTP/1.x`, the status
 * line `HTTP/1.x SP 3DIGIT [SP reason]`, and the early check of an unfinished request line, so bytes
 * that can never start a request (a TLS ClientHello, binary noise) are refused on their first read
 * instead of being held until the line limit. Each parser fills in the HeadState and answers a Fault
 * when the line is refused.
 */
import { TARGET, TOKEN, VALUE } from './chars.js';
import type { Fault, HeadState } from './head-state.js';

/**
 * Buffer#toString('latin1', s, e) goes through argument checks and an encoding switch before reaching
 * the binding's latin1Slice; on a head's dozen strings that detour was a third of decode time.
 */
export const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Buffer, start: number, end: number): string }).latin1Slice;

/** `HTTP/` as bytes; the version's digits and dot are checked by class. */
const HTTP_SLASH = [72, 84, 84, 80, 47];

export function requestLine(buf: Buffer, start: number, end: number, head: HeadState): Fault | undefined {
  let i = start;
  while (i < end && TOKEN[buf[i]!] === 1) i++;
  if (i === start || i === end || buf[i] !== 32) return { message: 'invalid method', status: 400 };
  head.method = methodString(buf, start, i);
  const t = ++i;
  while (i < end && TARGET[buf[i]!] === 1) i++;
  if (i === t || i === end || buf[i] !== 32) return { message: 'invalid request target', status: 400 };
  head.target = latin1Slice.call(buf, t, i);
  return version(buf, i + 1, end, true, head);
}

export function statusLine(buf: Buffer, start: number, end: number, head: HeadState): Fault | undefined {
  const bad = version(buf, start, Math.min(start + 8, end), false, head);
  if (bad !== undefined) return bad;
  const s = start + 9;
  if (buf[start + 8] !== 32 || end < s + 3) return { message: 'invalid status line', status: 502 };
  const d0 = buf[s]! - 48;
  const d1 = buf[s + 1]! - 48;
  const d2 = buf[s + 2]! - 48;
  if (d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return { message: 'invalid status code', status: 502 };
  head.status = d0 * 100 + d1 * 10 + d2;
  if (end > s + 3) {
    if (buf[s + 3] !== 32) return { message: 'invalid status line', status: 502 };
    for (let j = s + 4; j < end; j++) if (VALUE[buf[j]!] !== 1) return { message: 'control byte in reason phrase', status: 502 };
    head.reason = latin1Slice.call(buf, s + 4, end);
  }
  return undefined;
}

/** Exactly `HTTP/1.x` in buf[start, end). */
function version(buf: Buffer, start: number, end: number, isRequest: boolean, head: HeadState): Fault | undefined {
  const bad = isRequest ? 400 : 502;
  if (
    end - start !== 8 || buf[start] !== 72 || buf[start + 1] !== 84 || buf[start + 2] !== 84 ||
    buf[start + 3] !== 80 || buf[start + 4] !== 47 || buf[start + 6] !== 46
  ) {
    return { message: 'invalid HTTP version', status: bad };
  }
  const major = buf[start + 5]! - 48;
  const minor = buf[start + 7]! - 48;
  if (major < 0 || major > 9 || minor < 0 || minor > 9) return { message: 'invalid HTTP version', status: bad };
  if (major !== 1) return { message: 'unsupported HTTP version', status: isRequest ? 505 : 502 };
  // RFC 9110 §6.2: a higher 1.x minor is answered as the highest minor Ringside speaks.
  head.versionMinor = minor === 0 ? 0 : 1;
  return undefined;
}

/** The common methods as shared constants, so later comparisons are pointer checks. */
function methodString(buf: Buffer, start: number, end: number): string {
  const n = end - start;
  if (n === 3 && buf[start] === 71 && buf[start + 1] === 69 && buf[start + 2] === 84) return 'GET';
  if (n === 4 && buf[start] === 80 && buf[start + 1] === 79 && buf[start + 2] === 83 && buf[start + 3] === 84) return 'POST';
  return latin1Slice.call(buf, start, end);
}

/** Where an unfinished request line stands, so bytes that cannot start a request fail at once. */
const enum Part {
  Method,
  Target,
  Version,
  /** Saw the CR that ends the line (the LF is what completes it). */
  LineCr,
  /** Saw a CR before any method byte: an empty line, whose LF must come next. */
  EmptyCr,
}

/** Progress through an unfinished request line, kept across reads. */
export class RequestLineProgress {
  part = Part.Method;
  index = 0;

  /**
   * Checks data[pos..] as the continuation of an unfinished request line (`fresh`: nothing of it was
   * seen before); the message of the refusal, or undefined. The complete line is parsed again in full
   * by requestLine, so this only has to reject what can never become a request line.
   */
  check(data: Buffer, pos: number, fresh: boolean): string | undefined {
    if (fresh) {
      this.part = Part.Method;
      this.index = 0;
    }
    let part = this.part;
    let index = this.index;
    for (let i = pos; i < data.length; i++) {
      const c = data[i]!;
      switch (part) {
        case Part.Method:
          if (TOKEN[c] === 1) index++;
          else if (c === 32 && index > 0) (part = Part.Target), (index = 0);
          else if (c === 13 && index === 0) part = Part.EmptyCr;
          else return 'invalid method';
          break;
        case Part.Target:
          if (TARGET[c] === 1) index++;
          else if (c === 32 && index > 0) (part = Part.Version), (index = 0);
          else return 'invalid request target';
          break;
        case Part.Version: {
          const ok = index < 5 ? c === HTTP_SLASH[index] : index === 6 ? c === 46 : index < 8 ? c >= 48 && c <= 57 : c === 13;
          if (!ok) return 'invalid HTTP version';
          if (index === 8) part = Part.LineCr;
          index++;
          break;
        }
        default:
          // After a CR only the LF may come, and an LF is never part of these bytes.
          return 'bare CR in request line';
      }
    }
    this.part = part;
    this.index = index;
    return undefined;
  }
}
