/**
 * Fuzz target: the dubbo request and response decoders (framing, and the hessian2 head fields the
 * router reads), and the result decoding the dubbo channel does on an answer.
 *
 * Checked: nothing but a RingsideError leaves a decoder or decodeResult (hessian.js throwing on bad
 * bytes is caught there); each decoder reports the same frames and the same end in one read and in
 * random pieces; frame sizes and ends agree with an independent reading of the 16-byte header; a frame
 * whose header announces a body past the limit is refused from the header alone (nothing is buffered
 * for it: bounded memory); a frame the header reader finds complete is either decoded or refused, and
 * the input is never reported unfinished where the header reader finds it whole.
 */
import { RingsideError } from '../../../src/common/errors.js';
import { createDubboRequestDecoder, createDubboResponseDecoder } from '../../../src/protocol/dubbo/codec.js';
import { DubboRequest, DubboResponse } from '../../../src/protocol/dubbo/frames.js';
import { decodeResult, encodeInvocation, errorResponse, heartbeatRequest, heartbeatResponse, valueResponse, exceptionResponse } from '../../../src/protocol/dubbo/messages.js';
import type { MessageDecoder } from '../../../src/types/protocol.js';
import type { CheckResult, FuzzTarget } from '../engine/target.js';
import { randomSplit } from '../engine/mutate.js';
import type { Rng } from '../engine/rng.js';
import { diffTraces, digest, outcomeOf, type Trace } from './stream-oracle.js';

const MAX_BODY = 400;

// ── the header reader: magic 0xdabb, flag, status, u64 id, u32 body length ───────────────────────

type RefEnd = 'clean' | 'incomplete' | 'bad-magic' | 'too-long';

function headerLayout(input: Buffer): { sizes: number[]; end: RefEnd } {
  const sizes: number[] = [];
  let at = 0;
  while (at < input.length) {
    const left = input.length - at;
    if (input[at] !== 0xda || (left >= 2 && input[at + 1] !== 0xbb)) return { sizes, end: 'bad-magic' };
    if (left < 16) return { sizes, end: 'incomplete' };
    const len = input.readUInt32BE(at + 12);
    if (len > MAX_BODY) return { sizes, end: 'too-long' };
    if (left < 16 + len) return { sizes, end: 'incomplete' };
    sizes.push(16 + len);
    at += 16 + len;
  }
  return { sizes, end: 'clean' };
}

// ── the decoders ───────────────────────────────────────────────────────────────────────────────

interface Run {
  trace: Trace;
  sizes: number[];
  results: string[];
}

function run(kind: 'request' | 'response', pieces: Buffer[]): Run {
  const out: Run = { trace: { items: [], end: 'clean' }, sizes: [], results: [] };
  let dead = false;
  const cb = {
    onHead: (h: DubboRequest | DubboResponse) => {
      if (dead) out.trace.end = 'crash a head after the error';
      if (h instanceof DubboRequest) {
        const hd = h.head;
        out.trace.items.push(`req id=${h.streamId} flag=${h.flag} head=${hd === null ? 'event' : JSON.stringify([hd.dubboVersion, hd.service, hd.version, hd.method, hd.descriptor, hd.argsAt])} frame=${digest(h.bytes)}`);
        out.sizes.push(h.bytes.length);
      } else {
        out.trace.items.push(`res id=${h.streamId} flag=${h.flag} status=${h.status} frame=${digest(h.bytes!)}`);
        out.sizes.push(h.bytes!.length);
        // What the dubbo channel does with an answer: decode its result; only a RingsideError may leave.
        try {
          const r = decodeResult(h.status, h.bytes!.subarray(16));
          out.results.push(r.kind);
        } catch (err) {
          out.results.push(err instanceof RingsideError ? `error ${err.code}` : `crash decodeResult: ${(err as Error)?.stack ?? String(err)}`);
        }
      }
    },
    onBody: () => undefined,
    onComplete: () => undefined,
    onError: (err: RingsideError) => {
      if (!(err instanceof RingsideError)) out.trace.end = `crash onError with ${String(err)}`;
      else if (dead) out.trace.end = 'crash a second onError';
      else out.trace.end = `error ${err.code}`;
      dead = true;
    },
  };
  const decoder: MessageDecoder =
    kind === 'request' ? createDubboRequestDecoder(cb, { limits: { maxBodyBytes: MAX_BODY } }) : createDubboResponseDecoder(cb, { limits: { maxBodyBytes: MAX_BODY } });
  try {
    for (const p of pieces) {
      decoder.execute(Buffer.from(p));
    }
    if (!dead && !decoder.idle) out.trace.end = 'incomplete';
  } catch (err) {
    out.trace.end = `crash ${(err as Error)?.stack ?? String(err)}`;
  }
  return out;
}

function checkOneKind(kind: 'request' | 'response', input: Buffer, rng: Rng): { trace: Trace; failure: string | null } {
  const whole = run(kind, [input]);
  const split = run(kind, randomSplit(rng, input));
  const diff = diffTraces(whole.trace, split.trace);
  if (diff !== null) return { trace: whole.trace, failure: `${kind}: ${diff}` };
  const crash = whole.results.find((r) => r.startsWith('crash'));
  if (crash !== undefined) return { trace: whole.trace, failure: `${kind}: ${crash}` };
  const ref = headerLayout(input);
  for (let i = 0; i < whole.sizes.length; i++) {
    if (whole.sizes[i] !== ref.sizes[i]) return { trace: whole.trace, failure: `${kind}: frame ${i} is ${whole.sizes[i]} bytes, the header says ${ref.sizes[i] ?? 'no frame'}` };
  }
  const end = whole.trace.end;
  const allFrames = whole.sizes.length === ref.sizes.length;
  if ((ref.end === 'bad-magic' || ref.end === 'too-long') && allFrames && !end.startsWith('error')) {
    return { trace: whole.trace, failure: `${kind}: ${ref.end} header not refused (ended ${end})` };
  }
  if (end === 'incomplete' && !(ref.end === 'incomplete' && allFrames)) return { trace: whole.trace, failure: `${kind}: waits for more where the header says ${ref.end} after ${ref.sizes.length} frames` };
  if (end === 'clean' && !(ref.end === 'clean' && allFrames)) return { trace: whole.trace, failure: `${kind}: ended clean after ${whole.sizes.length} frames, the header says ${ref.end} after ${ref.sizes.length}` };
  return { trace: whole.trace, failure: null };
}

// ── seeds ──────────────────────────────────────────────────────────────────────────────────────

const call = encodeInvocation({
  id: 5n,
  twoWay: true,
  service: 'org.apache.dubbo.samples.UserProvider',
  version: '1.0.0',
  method: 'GetUser',
  descriptor: 'Ljava/lang/String;',
  args: ['A003'],
  attachments: { trace: 'x' },
});
const oneway = encodeInvocation({ id: 6n, twoWay: false, service: 'S', version: '', method: 'fire', descriptor: 'IJ', args: [1, 2], attachments: {} });
const seeds = [
  call,
  oneway,
  heartbeatRequest(7n),
  heartbeatResponse(7n),
  valueResponse(5n, { id: 'A003', name: 'Moorse', age: 30 }),
  valueResponse(8n, 42, { k: 'v' }),
  valueResponse(9n, null),
  exceptionResponse(10n, new Error('boom')),
  errorResponse(11n, 70, 'service error'),
  Buffer.concat([call, heartbeatRequest(12n), oneway]),
  Buffer.concat([valueResponse(5n, 'a'), heartbeatResponse(13n)]),
];

const dictionary = [
  '\xda\xbb', '\xc2', '\xe2', '\x82', '\x22', '\x14', '\x1e', '\x46', '\x00\x00\x00\x00', '\x00\x00\x01\x90', '\x00\x00\x01\x91', '\xff\xff\xff\xff',
  'N', 'T', 'F', 'H', 'Z', 'M', 'C', 'O', '\x91', '\x04A003', '\x0b2.0.2', '\x30\x04path', 'Ljava/lang/String;',
];

export const dubboTarget: FuzzTarget = {
  name: 'dubbo',
  // hessian2 head decoding (dubbo) and value decoding (gob) cost more per case: 15,000 keep CI lean.
  ciCases: 15_000,
  seeds,
  dictionary,
  maxBytes: 1200,
  requiredOutcomes: [/2\+ then clean/, /then error/, /then incomplete/],
  check(input: Buffer, rng: Rng): CheckResult {
    const req = checkOneKind('request', input, rng);
    if (req.failure !== null) return { outcome: `req ${outcomeOf(req.trace)}`, failure: req.failure };
    const res = checkOneKind('response', input, rng);
    return { outcome: `req ${outcomeOf(req.trace)}; res ${outcomeOf(res.trace)}`, failure: res.failure };
  },
};
