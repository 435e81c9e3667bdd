/**
 * Fuzz target: HTTP/2 framing (src/protocol/http2/frame-parser.ts) and HPACK decoding of the header
 * blocks it reports, as one connection reads them after the preface.
 *
 * Checked: only Http2ConnectionError leaves the parser or the HPACK decoder (stream errors arrive
 * through their callback), one read and random pieces report the same frames, stream errors, header
 * lists and end; an independent reading of the 9-byte frame headers agrees on where frames end: a
 * frame longer than the maximum is refused from its header (nothing buffered for it), the bytes held
 * back are exactly the unfinished frame at the end (at most one frame: bounded memory), no header
 * block passes its bound, and no more frames are reported than were complete.
 */
import { FrameParser } from '../../../src/protocol/http2/frame-parser.js';
import { Http2ConnectionError } from '../../../src/protocol/http2/errors.js';
import { HpackDecoder, HpackEncoder } from '../../../src/protocol/http2/hpack.js';
import {
  encodeData,
  encodeGoaway,
  encodeHeaders,
  encodePing,
  encodeRstStream,
  encodeSettings,
  encodeWindowUpdate,
  SETTINGS_ACK,
} from '../../../src/protocol/http2/frames.js';
import { FrameType, type Http2Frame } from '../../../src/types/http2.js';
import type { CheckResult, FuzzTarget } from '../engine/target.js';
import { randomSplit } from '../engine/mutate.js';
import type { Rng } from '../engine/rng.js';
import { diffTraces, digest, outcomeOf, type Trace } from './stream-oracle.js';

const MAX_FRAME = 256;
const MAX_BLOCK = 400;
const MAX_LIST = 600;

/** Frame boundaries by the 9-byte headers alone: complete frames, and whether one is too long. */
function boundaries(input: Buffer): { complete: number; tail: number; tooLong: boolean } {
  let at = 0;
  let complete = 0;
  while (input.length - at >= 9) {
    const len = input.readUIntBE(at, 3);
    if (len > MAX_FRAME) return { complete, tail: input.length - at, tooLong: true };
    if (input.length - at < 9 + len) break;
    at += 9 + len;
    complete++;
  }
  return { complete, tail: input.length - at, tooLong: false };
}

function describe(f: Http2Frame, hpack: HpackDecoder): string {
  switch (f.type) {
    case FrameType.Data:
      return `DATA ${f.streamId} end=${f.endStream} ${digest(f.data)} flow=${f.flowLength}`;
    case FrameType.Headers: {
      if (f.block.length > MAX_BLOCK) throw new Error(`header block of ${f.block.length} bytes reported past the ${MAX_BLOCK}-byte bound`);
      const d = hpack.decode(f.block, MAX_LIST);
      return `HEADERS ${f.streamId} end=${f.endStream} ${d.fields === null ? `too large (${d.size})` : JSON.stringify(d.fields)}`;
    }
    case FrameType.Settings:
      return `SETTINGS ack=${f.ack} ${JSON.stringify(f.settings)}`;
    case FrameType.Ping:
      return `PING ack=${f.ack} ${digest(f.data)}`;
    case FrameType.Goaway:
      return `GOAWAY ${f.lastStreamId} ${f.code} ${digest(f.debug)}`;
    case FrameType.RstStream:
      return `RST ${f.streamId} ${f.code}`;
    case FrameType.WindowUpdate:
      return `WINDOW_UPDATE ${f.streamId} ${f.increment}`;
    default:
      return `${FrameType[f.type]} ${f.streamId}`;
  }
}

interface Run {
  trace: Trace;
  frames: number;
  held: number;
  maxHeld: number;
}

function run(pieces: Buffer[]): Run {
  const out: Run = { trace: { items: [], end: 'clean' }, frames: 0, held: 0, maxHeld: 0 };
  const hpack = new HpackDecoder(4096);
  const parser = new FrameParser(
    { maxFrameSize: MAX_FRAME, maxHeaderBlockBytes: MAX_BLOCK },
    (f) => {
      out.frames++;
      out.trace.items.push(describe(f, hpack));
    },
    (e) => out.trace.items.push(`stream error ${e.streamId} ${e.code}`),
  );
  try {
    for (const p of pieces) {
      parser.execute(Buffer.from(p));
      out.maxHeld = Math.max(out.maxHeld, parser.heldBytes);
    }
    out.held = parser.heldBytes;
    if (out.held > 0) out.trace.end = 'incomplete';
  } catch (err) {
    out.trace.end = err instanceof Http2ConnectionError ? `error ${err.code}` : `crash ${(err as Error)?.stack ?? String(err)}`;
  }
  return out;
}

// ── seeds: what a client sends after the preface ──────────────────────────────────────────────────

const enc = new HpackEncoder();
const get = enc.encode([':method', 'GET', ':scheme', 'http', ':path', '/a', ':authority', 'example.test', 'user-agent', 'fuzz']);
const post = enc.encode([':method', 'POST', ':scheme', 'http', ':path', '/echo.Echo/Say', ':authority', 'x', 'content-type', 'application/grpc', 'te', 'trailers']);
const big = new HpackEncoder().encode([':method', 'GET', ':path', '/big', 'x-long', 'v'.repeat(180)]);
const seeds = [
  Buffer.concat([encodeSettings([[3, 100], [4, 65535]]), SETTINGS_ACK, encodeHeaders(1, get, true, MAX_FRAME)]),
  Buffer.concat([encodeHeaders(3, post, false, MAX_FRAME), encodeData(3, Buffer.from('\x00\x00\x00\x00\x05hello', 'latin1'), true)]),
  Buffer.concat([encodeHeaders(5, big, true, 64)]),
  Buffer.concat([encodePing(Buffer.alloc(8, 1), false), encodeWindowUpdate(0, 1000), encodeWindowUpdate(1, 10), encodeRstStream(1, 8), encodeGoaway(7, 0, 'bye')]),
  // A padded DATA frame and a HEADERS frame with padding and priority fields.
  Buffer.from('00000a00090000000104abcd000000000000', 'hex'),
  Buffer.concat([Buffer.from([0, 0, get.length + 7, 1, 0x2d, 0, 0, 0, 9, 1, 0, 0, 0, 0, 16]), get, Buffer.from([0])]),
];

const dictionary = ['\x00', '\x01', '\x04', '\x05', '\x08', '\x09', '\xff', '\x00\x00\x00', '\x00\x01\x00', '\x7f\xff\xff\xff', '\x80\x00\x00\x01', '\x00\x00\x00\x00', '\x00\x00\x00\x01', '\x3f\xe1\x1f', '\x82', '\x84', '\x86', '\x40\x03abc\x03def', '\x20', '\x8f'];

export const http2Target: FuzzTarget = {
  name: 'http2',
  ciCases: 20_000,
  seeds,
  dictionary,
  maxBytes: 1200,
  requiredOutcomes: [/2\+ then clean/, /then error/, /then incomplete/],
  check(input: Buffer, rng: Rng): CheckResult {
    const whole = run([input]);
    const split = run(randomSplit(rng, input));
    const outcome = outcomeOf(whole.trace);
    const diff = diffTraces(whole.trace, split.trace);
    if (diff !== null) return { outcome, failure: diff };
    const b = boundaries(input);
    if (Math.max(whole.maxHeld, split.maxHeld) > 9 + MAX_FRAME) return { outcome, failure: `held ${Math.max(whole.maxHeld, split.maxHeld)} bytes, past one frame` };
    if (whole.frames > b.complete) return { outcome, failure: `${whole.frames} frames reported from ${b.complete} complete` };
    const end = whole.trace.end;
    if (b.tooLong && !end.startsWith('error')) return { outcome, failure: `a frame past ${MAX_FRAME} bytes was not refused (ended ${end})` };
    if (!end.startsWith('error') && whole.held !== b.tail) return { outcome, failure: `holds ${whole.held} bytes; the unfinished frame at the end is ${b.tail}` };
    return { outcome, failure: null };
  },
};
