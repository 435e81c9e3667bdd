/**
 * The checks every X-protocol fuzz target runs (bolt, boltv2, dubbo), through the FrameReader the
 * multiplexed stream layer uses: nothing but the codec's own error result leaves decode (a throw is a
 * crash); one read and random pieces agree; decode never asks to buffer more than a frame within the
 * limits can take (bounded memory); frame sizes and the end agree with the target's independent
 * layout reader; every decoded frame, with a header added as a proxy's route would, encodes and
 * decodes back to the same frame (header and content too for bolt; see checkXCodec).
 */
import { FrameReader } from '../../../src/protocol/xprotocol/frame-reader.js';
import type { XDecodeLimits, XFrame, XProtocolCodec } from '../../../src/types/xprotocol.js';
import { randomSplit } from '../engine/mutate.js';
import type { Rng } from '../engine/rng.js';
import { diffTraces, digest, type Trace } from './stream-oracle.js';

/** What a frame is, without its headers and content: kind, command or status, id, service. */
function describeCore(f: XFrame): string {
  return f.kind === 'request' ? `req cmd=${f.command} id=${f.requestId} path=${JSON.stringify(f.path)}` : `res status=${f.status} hb=${f.heartbeat} id=${f.requestId}`;
}

function describe(f: XFrame): string {
  const what = f.kind === 'request' ? `req cmd=${f.command} timeout=${f.timeoutMs} path=${JSON.stringify(f.path)}` : `res status=${f.status} hb=${f.heartbeat}`;
  return `${what} id=${f.requestId} headers=${JSON.stringify(f.headers.raw)} content=${digest(f.content)}`;
}

interface Decoded {
  trace: Trace;
  sizes: number[];
  /** Set when decode asked to buffer more than any frame within the limits can take. */
  overAsk: number;
  frames: XFrame[];
}

function read(codec: XProtocolCodec, limits: XDecodeLimits, maxFrame: number, pieces: Buffer[]): Decoded {
  const out: Decoded = { trace: { items: [], end: 'clean' }, sizes: [], overAsk: 0, frames: [] };
  // decode() as the reader calls it, watched: the sizes it reports and what it asks to hold.
  const watched = Object.create(codec) as XProtocolCodec;
  watched.decode = (buf, limits) => {
    const r = codec.decode(buf, limits);
    if (r.kind === 'frame') out.sizes.push(r.bytes);
    if (r.kind === 'need' && r.bytes > maxFrame) out.overAsk = r.bytes;
    return r;
  };
  const reader = new FrameReader(watched, limits, {
    onFrame: (f) => {
      out.trace.items.push(describe(f));
      out.frames.push(f);
    },
    onDecodeError: (r) => {
      if (!r.error.code) out.trace.end = `crash error result without a code: ${r.error.message}`;
      else if (out.trace.end === 'clean') out.trace.end = `error ${r.error.code} id=${r.requestId} request=${r.request}`;
      else out.trace.end = 'crash a second decode error';
    },
  });
  try {
    for (const p of pieces) reader.feed(Buffer.from(p));
  } catch (err) {
    out.trace.end = `crash ${(err as Error)?.stack ?? String(err)}`;
    return out;
  }
  if (out.trace.end === 'clean' && !reader.idle) out.trace.end = 'incomplete';
  return out;
}

/** A decoded frame with one header added (a route's header edit) encodes and decodes back to itself. */
function roundTrip(codec: XProtocolCodec, f: XFrame, exact: boolean): string | null {
  try {
    f.headers.set('x-fuzz-hop', '1');
    const see = exact ? describe : describeCore;
    const want = see(f);
    const bytes = codec.encode(f);
    const r = codec.decode(bytes, { maxHeaderBytes: 1 << 20, maxContentBytes: 1 << 20 });
    if (r.kind !== 'frame') return `re-encoded frame does not decode: ${r.kind === 'error' ? r.error.message : 'need more'}`;
    if (r.bytes !== bytes.length) return `re-encoded frame is ${bytes.length} bytes, decode used ${r.bytes}`;
    const got = see(r.frame);
    return got === want ? null : `re-encoded frame decodes as ${got}, was ${want}`;
  } catch (err) {
    return `re-encoding threw: ${(err as Error)?.stack ?? String(err)}`;
  }
}

/** Sizes of the frames at the start of an input, read independently of the codec, and how it ends. */
export interface Layout {
  frames: number[];
  end: { kind: 'clean' } | { kind: 'incomplete' } | { kind: 'error'; reason: string };
}

/**
 * One X-protocol codec on one input: one read against random pieces, decode's requests to buffer
 * against `maxFrame`, frame sizes and the end against `layout`, and the re-encoding of every frame —
 * `exactRoundTrip`: with the added header and the content unchanged (bolt); otherwise the same kind,
 * command, id and service (dubbo writes edits back as attachments, and drops them on events and on
 * requests whose attachments cannot be decoded, which it forwards as received).
 */
export function checkXCodec(
  codec: XProtocolCodec,
  limits: XDecodeLimits,
  maxFrame: number,
  layout: (input: Buffer) => Layout,
  input: Buffer,
  rng: Rng,
  exactRoundTrip = true,
): { trace: Trace; failure: string | null } {
  const whole = read(codec, limits, maxFrame, [input]);
  const label = codec.name;
  const split = read(codec, limits, maxFrame, randomSplit(rng, input));
  const diff = diffTraces(whole.trace, split.trace);
  if (diff !== null) return { trace: whole.trace, failure: `${label}: ${diff}` };
  if (whole.overAsk > 0 || split.overAsk > 0) return { trace: whole.trace, failure: `${label}: decode asked to buffer ${Math.max(whole.overAsk, split.overAsk)} bytes, past the ${maxFrame} any frame within the limits takes` };
  const ref = layout(input);
  for (let i = 0; i < whole.sizes.length; i++) {
    const want = ref.frames[i];
    if (whole.sizes[i] !== want) return { trace: whole.trace, failure: `${label}: frame ${i} is ${whole.sizes[i]} bytes, the layout says ${want ?? 'no frame'}` };
  }
  const end = whole.trace.end;
  if (ref.end.kind === 'error' && whole.sizes.length === ref.frames.length && !end.startsWith('error')) {
    return { trace: whole.trace, failure: `${label}: accepted a frame whose fixed part is invalid (${ref.end.reason}); ended ${end}` };
  }
  if (end === 'incomplete' && (ref.end.kind !== 'incomplete' || whole.sizes.length !== ref.frames.length)) {
    return { trace: whole.trace, failure: `${label}: waits for more where the layout says ${ref.end.kind} after ${ref.frames.length} frames` };
  }
  if (end === 'clean' && (ref.end.kind !== 'clean' || whole.sizes.length !== ref.frames.length)) {
    return { trace: whole.trace, failure: `${label}: ended clean after ${whole.sizes.length} frames, the layout says ${ref.end.kind} after ${ref.frames.length}` };
  }
  for (const f of whole.frames) {
    const rt = roundTrip(codec, f, exactRoundTrip);
    if (rt !== null) return { trace: whole.trace, failure: `${label}: ${rt}` };
  }
  return { trace: whole.trace, failure: null };
}
