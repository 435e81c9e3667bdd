/**
 * Fuzz target: Ringside's HTTP/1.1 response decoder (what upstream clients and the runtime channels
 * read) against the strict response oracle (http1-response-reference.ts).
 *
 * Each case answers a few requests (GET, POST, HEAD, CONNECT, drawn per case); it is decoded in one
 * read and in random pieces through a reused buffer, and both must agree with the oracle on every
 * complete response (status, reason, version, fields, framing, keep-alive, body, trailers) and on how
 * the input ends; then the upstream closes, which must complete an until-close body and fail a cut
 * message. Errors must be the upstream's (502 class); a head of the failing response is delivered
 * exactly when the oracle says it was valid.
 */
import { createHttp1ResponseDecoder } from '../../../src/protocol/http1/decoder.js';
import type { RingsideError } from '../../../src/common/errors.js';
import type { HeaderMap, Http1ResponseHead, RequestFrame } from '../../../src/types/protocol.js';
import type { CheckResult, FuzzTarget } from '../engine/target.js';
import { randomSplit } from '../engine/mutate.js';
import type { Rng } from '../engine/rng.js';
import { FUZZ_LIMITS } from './http1.js';
import { parseResponses, type RefResponse } from './http1-response-reference.js';

interface Decoded {
  head: Http1ResponseHead;
  body: string;
  complete: boolean;
  /** Completed by the upstream's close (an until-close body), not by its bytes. */
  completedByClose: boolean;
  trailers: string[] | null;
}

interface Run {
  messages: Decoded[];
  error: RingsideError | null;
  idle: boolean;
  /** After finish(): complete messages and the error, if any. */
  closed: { complete: number; error: RingsideError | null };
}

const scratch = Buffer.alloc(8192);

function decode(pieces: Buffer[], methods: readonly string[]): Run {
  const out: Run = { messages: [], error: null, idle: false, closed: { complete: 0, error: null } };
  let closing = false;
  const d = createHttp1ResponseDecoder(
    {
      onHead: (head) => void out.messages.push({ head, body: '', complete: false, completedByClose: false, trailers: null }),
      onBody: (_id, chunk) => {
        out.messages[out.messages.length - 1]!.body += chunk.toString('latin1');
      },
      onComplete: (_id, trailers: HeaderMap | null) => {
        const m = out.messages[out.messages.length - 1]!;
        if (closing) m.completedByClose = true;
        else m.complete = true;
        m.trailers = trailers === null ? null : [...trailers.raw];
      },
      onError: (err) => {
        if (out.error !== null) throw new Error(`second onError after "${out.error.message}": ${err.message}`);
        out.error = err;
      },
    },
    { limits: FUZZ_LIMITS },
  );
  for (const m of methods) d.expect({ method: m } as RequestFrame);
  for (const p of pieces) {
    p.copy(scratch, 0);
    d.execute(scratch.subarray(0, p.length));
    scratch.fill(0x58, 0, p.length);
  }
  out.idle = d.idle;
  const before = out.error;
  closing = true;
  d.finish();
  out.closed = { complete: out.messages.filter((m) => m.complete).length, error: out.error === before ? null : out.error };
  out.error = before;
  return out;
}

function diffMessage(d: Decoded, r: RefResponse): string | null {
  const h = d.head;
  const got = JSON.stringify([h.status, h.reason, h.versionMinor, h.contentLength, h.chunked, h.keepAlive, h.untilClose]);
  const want = JSON.stringify([r.status, r.reason, r.versionMinor, r.contentLength, r.chunked, r.keepAlive, r.untilClose]);
  if (got !== want) return `head ${got} != reference ${want}`;
  if (JSON.stringify(h.headers.raw) !== JSON.stringify(r.headers)) return `fields ${JSON.stringify(h.headers.raw)} != reference ${JSON.stringify(r.headers)}`;
  if (d.body !== r.body) return `body ${JSON.stringify(d.body)} != reference ${JSON.stringify(r.body)}`;
  if (JSON.stringify(d.trailers) !== JSON.stringify(r.trailers)) return `trailers ${JSON.stringify(d.trailers)} != reference ${JSON.stringify(r.trailers)}`;
  return null;
}

function compare(label: string, d: Run, input: Buffer, methods: readonly string[]): string | null {
  const ref = parseResponses(input, methods, FUZZ_LIMITS);
  const complete = d.messages.filter((m) => m.complete);
  if (complete.length !== ref.messages.length) return `${label}: ${complete.length} complete responses, reference ${ref.messages.length} (${ref.end.kind}; decoder ${d.error?.message ?? 'no error'})`;
  for (let i = 0; i < complete.length; i++) {
    const diff = diffMessage(complete[i]!, ref.messages[i]!);
    if (diff !== null) return `${label}: response ${i}: ${diff}`;
  }
  const open = d.messages.length - complete.length;
  if (open > 1) return `${label}: a complete response after an unfinished one`;
  const end = ref.end;
  if (d.error !== null && (d.error.status !== 502 || !/UPSTREAM_BAD_RESPONSE|LIMIT_EXCEEDED/.test(d.error.code))) return `${label}: error ${d.error.code} ${d.error.status}, not the upstream's 502`;
  if (end.kind === 'clean') {
    if (d.error !== null) return `${label}: error "${d.error.message}" on input the reference accepts`;
    if (!d.idle || open !== 0) return `${label}: not idle after input the reference finds complete`;
    if (d.closed.error !== null) return `${label}: a close after complete responses failed: ${d.closed.error.message}`;
    return null;
  }
  if (end.kind === 'error') {
    if (d.error === null) return `${label}: accepted what the reference rejects (${end.reason})`;
    if ((open === 1) !== end.headDelivered) return `${label}: head of the failing response delivered=${open === 1}, reference ${end.headDelivered}`;
    return null;
  }
  if (d.error !== null) return `${label}: error "${d.error.message}" on an unfinished but valid prefix`;
  if (d.idle) return `${label}: idle inside an unfinished response`;
  if ((open === 1) !== end.headDelivered) return `${label}: head of the open response delivered=${open === 1}, reference ${end.headDelivered}`;
  // The upstream closes: an until-close body ends there; anything else was cut.
  if (end.untilClose !== null) {
    if (d.closed.error !== null) return `${label}: close failed an until-close body: ${d.closed.error.message}`;
    const last = d.messages[d.messages.length - 1]!;
    if (!last.completedByClose) return `${label}: close did not complete the until-close body`;
    const diff = diffMessage(last, end.untilClose);
    return diff === null ? null : `${label}: until-close response: ${diff}`;
  }
  if (d.closed.error === null) return `${label}: a close inside a response was not reported`;
  return null;
}

const seedText = [
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello',
  'HTTP/1.1 204 No Content\r\nServer: x\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;e=1\r\n!!!\r\n0\r\nX-Sum: 1\r\n\r\n',
  'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\nuntil the upstream closes',
  'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\nETag: "a"\r\n\r\n',
  'HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 9\r\n\r\nnot found',
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
  'HTTP/1.1 200 Connection established\r\n\r\n',
  'HTTP/1.1 503\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n',
  `HTTP/1.1 200 OK\r\nContent-Length: 290\r\n\r\n${'b'.repeat(290)}`,
  `HTTP/1.1 200 OK\r\n${Array.from({ length: 10 }, (_, i) => `X-F-${i}: ${'v'.repeat(30)}\r\n`).join('')}Content-Length: 0\r\n\r\n`,
  'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nAHTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops',
];

const dictionary = [
  '\r\n', '\n', '\r', '\r\n\r\n', ' ', '\t', ':', ';', '0', 'f', '\x00', '\xa0', 'HTTP/1.1 ', 'HTTP/1.0 ', 'HTTP/2.0 ', '200', '100', '101', '204', '304', '999',
  'Content-Length: 0\r\n', 'Content-Length: 5\r\n', 'Content-Length: 1,1\r\n', 'Transfer-Encoding: chunked\r\n', 'Transfer-Encoding: gzip\r\n', 'Connection: close\r\n',
  'Connection: keep-alive\r\n', ' folded\r\n', '0\r\n\r\n', '5\r\nhello\r\n', 'x'.repeat(200),
];

const METHODS = ['GET', 'GET', 'POST', 'HEAD', 'CONNECT'];

export const http1ResponseTarget: FuzzTarget = {
  name: 'http1-response',
  ciCases: 20_000,
  seeds: seedText.map((t) => Buffer.from(t, 'latin1')),
  dictionary,
  maxBytes: 1500,
  requiredOutcomes: [/2\+ then clean/, /error/, /until close/, /incomplete/],
  check(input: Buffer, rng: Rng): CheckResult {
    const methods = Array.from({ length: 1 + rng.below(3) }, () => rng.pick(METHODS));
    const ref = parseResponses(input, methods, FUZZ_LIMITS);
    const n = ref.messages.length === 0 ? '0' : ref.messages.length === 1 ? '1' : '2+';
    const outcome = `${n} then ${ref.end.kind === 'incomplete' && ref.end.untilClose !== null ? 'until close' : ref.end.kind}`;
    const f1 = compare('one read', decode([input], methods), input, methods);
    if (f1 !== null) return { outcome, failure: f1 };
    return { outcome, failure: compare('split reads', decode(randomSplit(rng, input), methods), input, methods) };
  },
};
