/**
 * Fuzz target: the dubbo codec (framing, and the hessian2 head fields the router reads) through the
 * X-protocol frame reader, and the result decoding the dubbo channel does on an answer.
 *
 * The X-protocol checks (xprotocol-check.ts) run against an independent reading of the 16-byte
 * header: magic 0xdabb, flag, status, u64 id (at most 2^53 − 1, so it can be answered exactly), u32
 * body length (refused past the limit from the header alone: nothing is buffered for it). Every
 * complete response frame's body also goes through decodeResult, from which only a RingsideError may
 * leave (hessian.js throwing on bad bytes is caught there).
 */
import { RingsideError } from '../../../src/common/errors.js';
import { dubboCodec } from '../../../src/protocol/dubbo/codec.js';
import { decodeResult, encodeInvocation, errorResponse, exceptionResponse, heartbeatRequest, heartbeatResponse, valueResponse } from '../../../src/protocol/dubbo/messages.js';
import type { XDecodeLimits } from '../../../src/types/xprotocol.js';
import type { CheckResult, FuzzTarget } from '../engine/target.js';
import type { Rng } from '../engine/rng.js';
import { outcomeOf } from './stream-oracle.js';
import { checkXCodec, type Layout } from './xprotocol-check.js';

const LIMITS: XDecodeLimits = { maxHeaderBytes: 256, maxContentBytes: 400 };
const MAX_FRAME = 16 + LIMITS.maxContentBytes;
const MAX_SAFE_ID = BigInt(Number.MAX_SAFE_INTEGER);

function headerLayout(input: Buffer): Layout {
  const frames: number[] = [];
  let at = 0;
  while (at < input.length) {
    const left = input.length - at;
    if (input[at] !== 0xda || (left >= 2 && input[at + 1] !== 0xbb)) return { frames, end: { kind: 'error', reason: 'bad magic' } };
    if (left < 16) return { frames, end: { kind: 'incomplete' } };
    if (input.readBigUInt64BE(at + 4) > MAX_SAFE_ID) return { frames, end: { kind: 'error', reason: 'id past 2^53 - 1' } };
    const len = input.readUInt32BE(at + 12);
    if (len > LIMITS.maxContentBytes) return { frames, end: { kind: 'error', reason: 'body past the limit' } };
    if (left < 16 + len) return { frames, end: { kind: 'incomplete' } };
    frames.push(16 + len);
    at += 16 + len;
  }
  return { frames, end: { kind: 'clean' } };
}

/** decodeResult on each complete response frame; the first escape that is not a RingsideError. */
function results(input: Buffer): string | null {
  let at = 0;
  for (const size of headerLayout(input).frames) {
    const f = input.subarray(at, at + size);
    at += size;
    if ((f[2]! & 0x80) !== 0) continue;
    try {
      decodeResult(f[3]!, f.subarray(16));
    } catch (err) {
      if (!(err instanceof RingsideError)) return `decodeResult threw ${(err as Error)?.stack ?? String(err)}`;
    }
  }
  return null;
}

const call = encodeInvocation({
  id: 5,
  twoWay: true,
  service: 'org.apache.dubbo.samples.UserProvider',
  version: '1.0.0',
  method: 'GetUser',
  descriptor: 'Ljava/lang/String;',
  args: ['A003'],
  attachments: { trace: 'x' },
});
const oneway = encodeInvocation({ id: 6, twoWay: false, service: 'S', version: '', method: 'fire', descriptor: 'IJ', args: [1, 2], attachments: {} });
const seeds = [
  call,
  oneway,
  heartbeatRequest(7),
  heartbeatResponse(7),
  valueResponse(5, { id: 'A003', name: 'Moorse', age: 30 }),
  valueResponse(8, 42, { k: 'v' }),
  valueResponse(9, null),
  exceptionResponse(10, new Error('boom')),
  errorResponse(11, 70, 'service error'),
  Buffer.concat([call, heartbeatRequest(12), oneway]),
  Buffer.concat([valueResponse(5, 'a'), heartbeatResponse(13)]),
];

const dictionary = [
  '\xda\xbb', '\xc2', '\xe2', '\x82', '\x22', '\x14', '\x1e', '\x46', '\x00\x00\x00\x00', '\x00\x00\x01\x90', '\x00\x00\x01\x91', '\xff\xff\xff\xff',
  '\x00\x20\x00\x00\x00\x00\x00\x00', 'N', 'T', 'F', 'H', 'Z', 'M', 'C', 'O', '\x91', '\x04A003', '\x0b2.0.2', '\x30\x04path', 'Ljava/lang/String;',
];

export const dubboTarget: FuzzTarget = {
  name: 'dubbo',
  // hessian2 head decoding costs more per case: 15,000 keep CI lean.
  ciCases: 15_000,
  seeds,
  dictionary,
  maxBytes: 1200,
  requiredOutcomes: [/2\+ then clean/, /then error/, /then incomplete/],
  check(input: Buffer, rng: Rng): CheckResult {
    const r = checkXCodec(dubboCodec, LIMITS, MAX_FRAME, headerLayout, input, rng, false);
    const outcome = outcomeOf(r.trace);
    return { outcome, failure: r.failure ?? results(input) };
  },
};
