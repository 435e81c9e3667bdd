/**
 * Fuzz target: dRPC framing (src/drpc/framing.ts), the chunk reassembly every dRPC session runs on
 * the SOCK_SEQPACKET packets it receives.
 *
 * A case is a list of packets, written as a 2-byte length then the packet (the mutations then also
 * move packet boundaries). Checked: nothing but a FramingError leaves the assembler; the messages it
 * completes and the packet it refuses match a reference written from DAOS's receive rules (chunk
 * order, constant totals, sizes that add up, a message within the limit before anything is
 * allocated, no data-less chunks but an empty message's); no completed message passes the limit
 * (bounded memory).
 */
import { ChunkAssembler, FramingError, HEADER_BYTES, MAX_PACKET_BYTES, writeHeader } from '../../../src/drpc/framing.js';
import type { CheckResult, FuzzTarget } from '../engine/target.js';
import type { Rng } from '../engine/rng.js';
import { digest } from './stream-oracle.js';

const MAX_MESSAGE = 200;

function packetsOf(input: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at + 2 <= input.length) {
    const n = input.readUInt16BE(at);
    out.push(input.subarray(at + 2, Math.min(input.length, at + 2 + n)));
    at += 2 + n;
  }
  return out;
}

function framed(packets: Buffer[]): Buffer {
  return Buffer.concat(packets.flatMap((p) => [Buffer.from([p.length >> 8, p.length & 0xff]), p]));
}

const le = (b: Buffer, at: number): bigint => b.readBigUInt64LE(at);

/** DAOS's rules, read packet by packet: the messages completed and the index of a refused packet. */
function reference(packets: Buffer[]): { messages: string[]; refusedAt: number } {
  const messages: string[] = [];
  let parts: Buffer[] = [];
  let next = 0;
  let total = 0n;
  let chunks = 0;
  let got = 0n;
  for (let i = 0; i < packets.length; i++) {
    const p = packets[i]!;
    if (p.length < 24 || p.length > MAX_PACKET_BYTES) return { messages, refusedAt: i };
    const tds = le(p, 0);
    const cds = le(p, 8);
    const idx = p.readUInt32LE(16);
    const tc = p.readUInt32LE(20);
    const data = BigInt(p.length - 24);
    if (cds !== data || idx !== next) return { messages, refusedAt: i };
    if (next === 0) {
      if (tc === 0 || tds > BigInt(MAX_MESSAGE) || BigInt(tc) > (tds > 1n ? tds : 1n)) return { messages, refusedAt: i };
      total = tds;
      chunks = tc;
      got = 0n;
      parts = [];
    } else if (tc !== chunks || tds !== total) return { messages, refusedAt: i };
    if (got + data > total || (data === 0n && total !== 0n)) return { messages, refusedAt: i };
    got += data;
    parts.push(p.subarray(24));
    next++;
    if (next === chunks) {
      if (got !== total) return { messages, refusedAt: i };
      messages.push(digest(Buffer.concat(parts)));
      next = 0;
    }
  }
  return { messages, refusedAt: -1 };
}

function assemble(packets: Buffer[]): { messages: string[]; refusedAt: number; failure: string | null } {
  const a = new ChunkAssembler(MAX_MESSAGE);
  const messages: string[] = [];
  for (let i = 0; i < packets.length; i++) {
    try {
      const r = a.push(Buffer.from(packets[i]!));
      if (r.done) {
        if (r.message.length > MAX_MESSAGE) return { messages, refusedAt: -1, failure: `completed a message of ${r.message.length} bytes past the ${MAX_MESSAGE}-byte limit` };
        messages.push(digest(r.message));
      }
    } catch (err) {
      if (err instanceof FramingError) return { messages, refusedAt: i, failure: null };
      return { messages, refusedAt: i, failure: `threw ${(err as Error)?.stack ?? String(err)}` };
    }
  }
  return { messages, refusedAt: -1, failure: null };
}

/** A message cut into chunks of the given data sizes (DAOS cuts at 131,048 bytes; any cut is legal). */
function chunked(message: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  sizes.forEach((size, i) => {
    const p = Buffer.alloc(HEADER_BYTES + size);
    writeHeader(p, 0, message.length, size, i, sizes.length);
    message.copy(p, HEADER_BYTES, at, at + size);
    out.push(p);
    at += size;
  });
  return out;
}

const call = Buffer.from('\x08\x0a\x10\xe9\x07\x1a\x05hello', 'latin1');
const seeds = [
  framed(chunked(call, [call.length])),
  framed(chunked(Buffer.alloc(0), [0])),
  framed(chunked(Buffer.alloc(120, 7), [50, 50, 20])),
  framed([...chunked(call, [4, call.length - 4]), ...chunked(Buffer.from('second'), [6])]),
  framed(chunked(Buffer.alloc(MAX_MESSAGE, 1), [100, 100])),
];

const dictionary = ['\x00', '\x01', '\x02', '\x03', '\xff', '\x00\x00\x00\x00', '\x01\x00\x00\x00', '\x02\x00\x00\x00', '\xc8\x00\x00\x00\x00\x00\x00\x00', '\xc9\x00\x00\x00\x00\x00\x00\x00', '\xff\xff\xff\xff\xff\xff\xff\xff', '\x00\x18', '\x00\x00'];

export const drpcTarget: FuzzTarget = {
  name: 'drpc',
  ciCases: 20_000,
  seeds,
  dictionary,
  maxBytes: 1000,
  requiredOutcomes: [/2\+ messages/, /refused/, /1 message/],
  check(input: Buffer, _rng: Rng): CheckResult {
    const packets = packetsOf(input);
    const got = assemble(packets);
    const n = got.messages.length;
    const outcome = `${n === 0 ? '0 messages' : n === 1 ? '1 message' : '2+ messages'}${got.refusedAt >= 0 ? ', refused' : ''}`;
    if (got.failure !== null) return { outcome, failure: got.failure };
    const want = reference(packets);
    if (got.refusedAt !== want.refusedAt) return { outcome, failure: `refused packet ${got.refusedAt}, the reference refuses ${want.refusedAt}` };
    if (JSON.stringify(got.messages) !== JSON.stringify(want.messages)) return { outcome, failure: `messages ${JSON.stringify(got.messages)} != reference ${JSON.stringify(want.messages)}` };
    return { outcome, failure: null };
  },
};
