/**
 * Fuzz target: the bolt and boltv2 codecs, through the X-protocol FrameReader the stream layer uses.
 *
 * Each case is read by both codecs, in one read and in random pieces. Checked: nothing but the
 * codec's own error result leaves decode (a throw is a crash); both readings agree; every frame's
 * size is the one SOFABolt's layout gives (an independent length reader below); a frame the layout
 * says passes the limits is refused from its fixed part, and decode never asks to buffer more than a
 * frame within the limits can be (bounded memory); every decoded frame, with a header added as a
 * proxy's route would, encodes and decodes back to itself.
 */
import { crc32 } from 'node:zlib';
import { boltCodec, boltv2Codec } from '../../../src/protocol/bolt/codec.js';
import type { XDecodeLimits, XProtocolCodec } from '../../../src/types/xprotocol.js';
import type { CheckResult, FuzzTarget } from '../engine/target.js';
import type { Rng } from '../engine/rng.js';
import { outcomeOf } from './stream-oracle.js';
import { checkXCodec, type Layout } from './xprotocol-check.js';

const LIMITS: XDecodeLimits = { maxHeaderBytes: 256, maxContentBytes: 512 };
/** The most any frame within LIMITS can take: the largest fixed part, both sections, a CRC. */
const MAX_FRAME = 24 + LIMITS.maxHeaderBytes + LIMITS.maxContentBytes + 4;

// ── an independent reading of SOFABolt's layout: sizes and the checks a fixed part allows ──────────

/** Frame sizes by the protocol's own field positions (RpcProtocol / RpcProtocolV2). */
function boltLayout(input: Buffer, v2Allowed: boolean): Layout {
  const frames: number[] = [];
  let at = 0;
  while (at < input.length) {
    const b = input.subarray(at);
    const proto = b[0]!;
    const v2 = proto === 2;
    if (proto !== 1 && !(v2 && v2Allowed)) return { frames, end: { kind: 'error', reason: 'protocol code' } };
    const typeAt = v2 ? 2 : 1;
    if (b.length <= typeAt) return { frames, end: { kind: 'incomplete' } };
    const type = b[typeAt]!;
    if (type !== 0 && type !== 1 && type !== 2) return { frames, end: { kind: 'error', reason: 'command type' } };
    const request = type !== 0;
    // v1 request 22, response 20; v2 adds ver1 and switch (24, 22).
    const fixed = (request ? 22 : 20) + (v2 ? 2 : 0);
    if (b.length < fixed) return { frames, end: { kind: 'incomplete' } };
    const lens = fixed - 8;
    const classLen = b.readUInt16BE(lens);
    const headerLen = b.readUInt16BE(lens + 2);
    const contentLen = b.readUInt32BE(lens + 4);
    if (classLen + headerLen > LIMITS.maxHeaderBytes || contentLen > LIMITS.maxContentBytes) return { frames, end: { kind: 'error', reason: 'length past the limit' } };
    const cmd = b.readUInt16BE(typeAt + 1);
    // Requests: heartbeat 0, request 1, MOSN's goaway 100; responses: heartbeat 0, response 2.
    const cmdOk = request ? cmd === 1 || cmd === 0 || cmd === 100 : cmd === 2 || cmd === 0;
    if (!cmdOk) return { frames, end: { kind: 'error', reason: 'command code' } };
    const crc = v2 && (b[11]! & 1) !== 0 ? 4 : 0;
    const total = fixed + classLen + headerLen + contentLen + crc;
    if (b.length < total) return { frames, end: { kind: 'incomplete' } };
    frames.push(total);
    at += total;
  }
  return { frames, end: { kind: 'clean' } };
}

// ── seeds ──────────────────────────────────────────────────────────────────────────────────────

function withCrc(frame: Buffer): Buffer {
  const b = Buffer.concat([frame, Buffer.alloc(4)]);
  b[11] = b[11]! | 1;
  b.writeUInt32BE(crc32(b.subarray(0, b.length - 4)) >>> 0, b.length - 4);
  return b;
}

function seedsOf(codec: XProtocolCodec): Buffer[] {
  const req = codec.newRequest('com.example.Echo:1.0', 'echo', { trace: 'abc' }, Buffer.from('hello bolt'), 3000);
  req.requestId = 7;
  const big = codec.newRequest('com.example.Big:1.0', 'put', {}, Buffer.alloc(400, 0x61), 0);
  big.requestId = 8;
  const ok = codec.reply(req, 0);
  ok.content = Buffer.from('answer');
  const busy = codec.reply(req, 0x0010);
  const hb = codec.heartbeat(9);
  const out = [req, big, ok, busy, hb, codec.heartbeatReply(hb)].map((f) => codec.encode(f));
  const ga = codec.goAway();
  if (ga !== null) out.push(codec.encode(ga));
  out.push(Buffer.concat([out[0]!, out[2]!, out[4]!]));
  return out;
}

const v1Seeds = seedsOf(boltCodec);
const v2Seeds = seedsOf(boltv2Codec);
const seeds = [...v1Seeds, ...v2Seeds, withCrc(v2Seeds[0]!), Buffer.concat([v1Seeds[0]!, v2Seeds[2]!])];

const dictionary = [
  '\x01', '\x02', '\x00', '\xff', '\x00\x01', '\x00\x02', '\x00\x05', '\x00\x00', '\xff\xff', '\x00\x00\x00\x00', '\xff\xff\xff\xff',
  '\x00\x00\x01\x00', '\x00\x00\x02\x00', '\x00\x00\x00\x10', 'sofa_head_method_name', 'service', '\x00\x00\x00\x07service',
];

export const boltTarget: FuzzTarget = {
  name: 'bolt',
  ciCases: 20_000,
  seeds,
  dictionary,
  maxBytes: 1500,
  requiredOutcomes: [/2\+ then clean/, /then error/, /then incomplete/],
  check(input: Buffer, rng: Rng): CheckResult {
    // boltv2's codec reads protocol 1 and 2 frames; bolt's only 1.
    const a = checkXCodec(boltCodec, LIMITS, MAX_FRAME, (b) => boltLayout(b, false), input, rng);
    if (a.failure !== null) return { outcome: outcomeOf(a.trace), failure: a.failure };
    const b = checkXCodec(boltv2Codec, LIMITS, MAX_FRAME, (b) => boltLayout(b, true), input, rng);
    return { outcome: `v1 ${outcomeOf(a.trace)}; v2 ${outcomeOf(b.trace)}`, failure: b.failure };
  },
};
