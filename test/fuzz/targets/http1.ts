/**
 * Fuzz target: Ringside's HTTP/1.1 request decoder against the strict reference parser.
 *
 * Each case is decoded twice — in one read, and cut into random pieces copied through a reused buffer
 * (as the read loop delivers them) — and both must agree with the reference on every complete message
 * (method, target, version, fields, framing, keep-alive, body bytes, trailers), on where the input
 * ends (clean, unfinished, or an error with its status) and on whether the failing message's head was
 * delivered. Small limits make the 413/414/431 paths reachable with small inputs.
 */
import { createHttp1RequestDecoder } from '../../../src/protocol/http1/decoder.js';
import type { RingsideError } from '../../../src/common/errors.js';
import type { HeaderMap, Http1RequestHead } from '../../../src/types/protocol.js';
import type { CheckResult, FuzzTarget } from '../engine/target.js';
import { randomSplit } from '../engine/mutate.js';
import type { Rng } from '../engine/rng.js';
import { parseRequests, type RefLimits, type RefMessage, type RefResult } from './http1-reference.js';

export const FUZZ_LIMITS: RefLimits = { maxHeaderBytes: 512, maxHeaders: 12, maxBodyBytes: 300, maxRequestLineBytes: 160 };

const H = 'Host: example.test\r\n';
const seedText = [
  `GET / HTTP/1.1\r\n${H}\r\n`,
  `GET /a/b?c=d&e=%20f HTTP/1.1\r\n${H}User-Agent: fuzz\r\nAccept: */*\r\n\r\n`,
  `POST /submit HTTP/1.1\r\n${H}Content-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world`,
  `POST /chunks HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n`,
  `POST /trailers HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Checksum: 1\r\nX-More: two\r\n\r\n`,
  `GET /one HTTP/1.1\r\n${H}\r\nGET /two HTTP/1.1\r\n${H}\r\n`,
  `POST /p HTTP/1.1\r\n${H}Content-Length: 4\r\n\r\nbodyGET /after HTTP/1.1\r\n${H}\r\n`,
  `GET /close HTTP/1.1\r\n${H}Connection: close\r\n\r\nGET /behind HTTP/1.1\r\n${H}\r\n`,
  `GET /old HTTP/1.0\r\n\r\n`,
  `GET /old-ka HTTP/1.0\r\nConnection: keep-alive\r\nHost: a\r\n\r\nGET /next HTTP/1.0\r\n\r\n`,
  `PUT /x HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 3\r\n\r\nabc`,
  `\r\n\r\nDELETE /after-empty-lines HTTP/1.1\r\n${H}\r\n`,
  `OPTIONS * HTTP/1.1\r\n${H}\r\n`,
  `GET http://example.test/abs HTTP/1.1\r\n${H}Cookie: a=b; c=d\r\nX-Obs-Text: caf\xe9\r\n\r\n`,
  `POST /te HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nPOST /smuggled HTTP/1.1\r\n${H}Content-Length: 0\r\n\r\n`,
  `POST /cl-body-looks-like-request HTTP/1.1\r\n${H}Content-Length: 36\r\n\r\nGET /inner HTTP/1.1\r\nHost: x\r\n\r\n`,
  `PATCH /tabs HTTP/1.1\r\n${H}X-Tab:\tvalue\t\r\nConnection: keep-alive, Upgrade\r\n\r\n`,
  `POST /big-chunk HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n000A\r\n0123456789\r\n0\r\n\r\n`,
  // Near the limits (12 fields, 512 head bytes, 300 body bytes), so mutations cross them.
  `GET /many HTTP/1.1\r\n${H}${Array.from({ length: 10 }, (_, i) => `X-Field-${i}: ${'v'.repeat(30)}\r\n`).join('')}\r\n`,
  `POST /near-limit HTTP/1.1\r\n${H}Content-Length: 290\r\n\r\n${'b'.repeat(290)}`,
  `POST /near-limit-chunked HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n96\r\n${'c'.repeat(150)}\r\n8c\r\n${'d'.repeat(140)}\r\n0\r\n\r\n`,
  `GET /${'p'.repeat(140)} HTTP/1.1\r\n${H}\r\n`,
];

const dictionary = [
  '\r\n', '\n', '\r', '\r\n\r\n', ' ', '\t', ':', ',', ';', '0', '00', 'f', 'ffffffffffffffff', '\x00', '\xa0', '\x85',
  'Transfer-Encoding: chunked\r\n', 'Transfer-Encoding: chunked, gzip\r\n', 'Transfer-Encoding:\tchunked\xa0\r\n',
  'Transfer-Encoding: CHUNKED\r\n', 'Transfer-Encoding : chunked\r\n', 'Content-Length: 0\r\n', 'Content-Length: 5\r\n',
  'Content-Length: 99999999999999999999\r\n', 'Content-Length: 1,1\r\n', 'Content-Length: +1\r\n', 'Host: b\r\n',
  'Connection: close\r\n', 'Connection: keep-alive\r\n', 'Expect: 100-continue\r\n', ' folded\r\n',
  'HTTP/1.0', 'HTTP/1.1', 'HTTP/2.0', 'HTTP/1.10', 'GET ', 'POST ', 'X-A: b\r\n', '0\r\n\r\n', '5\r\nhello\r\n',
  '1;a=b\r\nx\r\n', 'GET /x HTTP/1.1\r\nHost: y\r\n\r\n', 'x'.repeat(200),
];

interface DecodedMessage {
  head: Http1RequestHead;
  body: string;
  complete: boolean;
  trailers: string[] | null;
}

interface Decoded {
  messages: DecodedMessage[];
  error: RingsideError | null;
  idle: boolean;
}

const scratch = Buffer.alloc(8192);

function decode(pieces: Buffer[]): Decoded {
  const out: Decoded = { messages: [], error: null, idle: false };
  const decoder = createHttp1RequestDecoder(
    {
      onHead: (head) => {
        out.messages.push({ head, body: '', complete: false, trailers: null });
      },
      onBody: (_id, chunk) => {
        out.messages[out.messages.length - 1]!.body += chunk.toString('latin1');
      },
      onComplete: (_id, trailers: HeaderMap | null) => {
        const m = out.messages[out.messages.length - 1]!;
        m.complete = true;
        m.trailers = trailers === null ? null : [...trailers.raw];
      },
      onError: (err) => {
        if (out.error !== null) throw new Error(`second onError after "${out.error.message}": ${err.message}`);
        out.error = err;
      },
    },
    { limits: FUZZ_LIMITS },
  );
  for (const p of pieces) {
    // Through a reused buffer, scribbled over after each call: a decoder keeping a view is caught.
    p.copy(scratch, 0);
    decoder.execute(scratch.subarray(0, p.length));
    scratch.fill(0x58, 0, p.length);
  }
  out.idle = decoder.idle;
  return out;
}

function describeHead(h: RefMessage): string {
  return JSON.stringify([h.method, h.target, h.versionMinor, h.contentLength, h.chunked, h.keepAlive, h.expectContinue]);
}

/** The first difference between a decoded message and the reference's, or null. */
function diffMessage(d: DecodedMessage, r: RefMessage): string | null {
  const h = d.head;
  const got = JSON.stringify([h.method, h.path, h.versionMinor, h.contentLength, h.chunked, h.keepAlive, h.expectContinue]);
  const want = describeHead(r);
  if (got !== want) return `head ${got} != reference ${want}`;
  const fields = JSON.stringify(h.headers.raw);
  if (fields !== JSON.stringify(r.headers)) return `fields ${fields} != reference ${JSON.stringify(r.headers)}`;
  if (d.body !== r.body) return `body ${JSON.stringify(d.body)} != reference ${JSON.stringify(r.body)}`;
  if (JSON.stringify(d.trailers) !== JSON.stringify(r.trailers)) return `trailers ${JSON.stringify(d.trailers)} != reference ${JSON.stringify(r.trailers)}`;
  return null;
}

function compare(label: string, d: Decoded, ref: RefResult, exactStatus: boolean): string | null {
  const complete = d.messages.filter((m) => m.complete);
  if (complete.length !== ref.messages.length) {
    return `${label}: ${complete.length} complete messages, reference ${ref.messages.length} (${ref.end.kind}${ref.end.kind === 'error' ? ` ${ref.end.status} ${ref.end.reason}` : ''}; decoder ${d.error?.message ?? 'no error'})`;
  }
  for (let i = 0; i < complete.length; i++) {
    const diff = diffMessage(complete[i]!, ref.messages[i]!);
    if (diff !== null) return `${label}: message ${i}: ${diff}`;
  }
  const extraHead = d.messages.length - complete.length;
  if (extraHead > 1 || (extraHead === 1 && d.messages[d.messages.length - 1]!.complete)) return `${label}: a complete message after an unfinished one`;
  const end = ref.end;
  if (end.kind === 'clean') {
    if (d.error !== null) return `${label}: decoder error "${d.error.message}" (${d.error.status}) on input the reference accepts`;
    if (!d.idle || extraHead !== 0) return `${label}: decoder not idle after input the reference finds complete`;
    return null;
  }
  if (end.kind === 'incomplete') {
    if (d.error !== null) return `${label}: decoder error "${d.error.message}" (${d.error.status}) on an unfinished but valid prefix`;
    if (d.idle) return `${label}: decoder idle inside an unfinished message`;
  } else {
    if (d.error === null) return `${label}: decoder accepted what the reference rejects (${end.status} ${end.reason})`;
    if (d.error.status === undefined || d.error.status < 400) return `${label}: error status ${d.error.status} below 400`;
    if (exactStatus && d.error.status !== end.status) return `${label}: status ${d.error.status} ("${d.error.message}"), reference ${end.status} (${end.reason})`;
  }
  if ((extraHead === 1) !== end.headDelivered) return `${label}: head of the failing message delivered=${extraHead === 1}, reference ${end.headDelivered}`;
  return null;
}

function outcomeOf(ref: RefResult): string {
  const n = ref.messages.length === 0 ? '0' : ref.messages.length === 1 ? '1' : '2+';
  return ref.end.kind === 'error' ? `${n} then error ${ref.end.status}` : `${n} then ${ref.end.kind}`;
}

export const http1Target: FuzzTarget = {
  name: 'http1',
  ciCases: 100_000,
  seeds: seedText.map((t) => Buffer.from(t, 'latin1')),
  dictionary,
  maxBytes: 1500,
  requiredOutcomes: [/2\+ then clean/, /error 400/, /error 413/, /error 414/, /error 431/, /error 505/, /incomplete/],
  check(input: Buffer, rng: Rng): CheckResult {
    const ref = parseRequests(input, FUZZ_LIMITS);
    const outcome = outcomeOf(ref);
    const whole = decode([input]);
    const f1 = compare('one read', whole, ref, true);
    if (f1 !== null) return { outcome, failure: f1 };
    // Cut into pieces, the decoder must reach the same messages and the same verdict; the status may
    // differ only in which limit or check trips first on a piece (414 vs 400 on a long, bad line).
    const f2 = compare('split reads', decode(randomSplit(rng, input)), ref, false);
    return { outcome, failure: f2 };
  },
};
