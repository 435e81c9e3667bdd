/**
 * dRPC message framing, as DAOS sends it over SOCK_SEQPACKET: a message is cut into chunks, one packet
 * each, and every packet starts with a native-endian header
 *
 *   size_t   total_data_size   bytes of the whole message
 *   size_t   chunk_data_size   bytes of this chunk's data (the rest of the packet)
 *   uint32_t chunk_idx         0, 1, 2 … in order
 *   uint32_t total_chunks      the same on every chunk of a message
 *
 * 24 bytes on 64-bit Linux (the only size_t Ringside supports). A packet is at most 1 << 17 bytes, so a
 * chunk carries at most 131,048 data bytes; an empty message is one chunk with no data.
 *
 * Written by hand rather than with a library: it is the hot path of every call and is 24 bytes.
 */
import { endianness } from 'node:os';

export const MAX_PACKET_BYTES = 1 << 17;
export const HEADER_BYTES = 24;
export const MAX_CHUNK_DATA_BYTES = MAX_PACKET_BYTES - HEADER_BYTES;

const LE = endianness() === 'LE';

export interface ChunkHeader {
  totalDataSize: bigint;
  chunkDataSize: bigint;
  chunkIdx: number;
  totalChunks: number;
}

export function writeHeader(buf: Buffer, offset: number, totalDataSize: number, chunkDataSize: number, chunkIdx: number, totalChunks: number): void {
  if (LE) {
    buf.writeBigUInt64LE(BigInt(totalDataSize), offset);
    buf.writeBigUInt64LE(BigInt(chunkDataSize), offset + 8);
    buf.writeUInt32LE(chunkIdx, offset + 16);
    buf.writeUInt32LE(totalChunks, offset + 20);
  } else {
    buf.writeBigUInt64BE(BigInt(totalDataSize), offset);
    buf.writeBigUInt64BE(BigInt(chunkDataSize), offset + 8);
    buf.writeUInt32BE(chunkIdx, offset + 16);
    buf.writeUInt32BE(totalChunks, offset + 20);
  }
}

export function readHeader(buf: Buffer): ChunkHeader {
  return LE
    ? { totalDataSize: buf.readBigUInt64LE(0), chunkDataSize: buf.readBigUInt64LE(8), chunkIdx: buf.readUInt32LE(16), totalChunks: buf.readUInt32LE(20) }
    : { totalDataSize: buf.readBigUInt64BE(0), chunkDataSize: buf.readBigUInt64BE(8), chunkIdx: buf.readUInt32BE(16), totalChunks: buf.readUInt32BE(20) };
}

export function chunkCount(messageBytes: number): number {
  return messageBytes === 0 ? 1 : Math.ceil(messageBytes / MAX_CHUNK_DATA_BYTES);
}

/** The packets of one message, each a separate Buffer so each goes out as exactly one send(). */
export function toPackets(message: Uint8Array): Buffer[] {
  const total = message.length;
  const n = chunkCount(total);
  const out: Buffer[] = new Array<Buffer>(n);
  for (let i = 0, at = 0; i < n; i++) {
    const size = Math.min(MAX_CHUNK_DATA_BYTES, total - at);
    const packet = Buffer.allocUnsafe(HEADER_BYTES + size);
    writeHeader(packet, 0, total, size, i, n);
    packet.set(message.subarray(at, at + size), HEADER_BYTES);
    out[i] = packet;
    at += size;
  }
  return out;
}

/** Why a session's input was refused; the session is failed and closed. */
export class FramingError extends Error {
  override name = 'FramingError';
}

export type AssembleResult = { done: false } | { done: true; message: Buffer };

/**
 * Reassembles one message at a time from packets, checking what DAOS's receiver checks (chunk order,
 * totals that stay the same, no overflow, the byte count at the end) and what it trusts: that the
 * header's chunk size matches the packet, that a message fits the configured limit before anything is
 * allocated, and that chunks other than an empty message's carry data (so a peer cannot announce
 * 2^32 empty chunks). Memory per session: at most one message of `maxMessageBytes`.
 */
export class ChunkAssembler {
  readonly #maxMessageBytes: number;
  #message: Buffer | null = null;
  #expectedBytes = 0;
  #received = 0;
  #nextIdx = 0;
  #totalChunks = 0;

  constructor(maxMessageBytes: number) {
    this.#maxMessageBytes = maxMessageBytes;
  }

  /** True between the first and the last chunk of a message. */
  get inProgress(): boolean {
    return this.#nextIdx > 0;
  }

  /** One packet as received (header and data). Throws FramingError on anything out of order. */
  push(packet: Buffer): AssembleResult {
    if (packet.length < HEADER_BYTES) throw new FramingError(`packet of ${packet.length} bytes is shorter than the ${HEADER_BYTES}-byte chunk header`);
    if (packet.length > MAX_PACKET_BYTES) throw new FramingError(`packet of ${packet.length} bytes is larger than the ${MAX_PACKET_BYTES}-byte maximum`);
    const h = readHeader(packet);
    const dataBytes = packet.length - HEADER_BYTES;
    if (h.chunkDataSize !== BigInt(dataBytes)) {
      throw new FramingError(`chunk ${h.chunkIdx} header says ${h.chunkDataSize} data bytes, the packet carries ${dataBytes}`);
    }
    if (h.chunkIdx !== this.#nextIdx) throw new FramingError(`possible lost chunk: got chunk index ${h.chunkIdx}, expected ${this.#nextIdx}`);
    if (this.#nextIdx === 0) {
      if (h.totalChunks === 0) throw new FramingError('chunk 0 announces 0 total chunks');
      if (h.totalDataSize > BigInt(this.#maxMessageBytes)) {
        throw new FramingError(`message of ${h.totalDataSize} bytes is larger than the ${this.#maxMessageBytes}-byte limit`);
      }
      const total = Number(h.totalDataSize);
      if (h.totalChunks > Math.max(1, total)) throw new FramingError(`${h.totalChunks} chunks cannot carry a message of ${total} bytes`);
      this.#expectedBytes = total;
      this.#totalChunks = h.totalChunks;
      this.#received = 0;
      // A one-chunk message needs no reassembly buffer: its data is copied once, out of the read buffer.
      this.#message = h.totalChunks === 1 ? null : Buffer.allocUnsafe(total);
    } else {
      if (h.totalChunks !== this.#totalChunks) {
        throw new FramingError(`inconsistent total chunks at chunk ${h.chunkIdx} (${h.totalChunks}, before ${this.#totalChunks})`);
      }
      if (h.totalDataSize !== BigInt(this.#expectedBytes)) {
        throw new FramingError(`inconsistent message size at chunk ${h.chunkIdx} (${h.totalDataSize}, before ${this.#expectedBytes})`);
      }
    }
    if (this.#received + dataBytes > this.#expectedBytes) {
      throw new FramingError(`data overflow at chunk ${h.chunkIdx} (message ${this.#expectedBytes} bytes, received ${this.#received}, chunk ${dataBytes})`);
    }
    if (dataBytes === 0 && this.#expectedBytes !== 0) throw new FramingError(`chunk ${h.chunkIdx} carries no data`);
    const last = h.chunkIdx + 1 === this.#totalChunks;
    if (this.#message === null) {
      // Single chunk: dataBytes === expected is checked below.
      if (dataBytes !== this.#expectedBytes) throw new FramingError(`expected a message of ${this.#expectedBytes} bytes, got ${dataBytes}`);
      this.#reset();
      return { done: true, message: Buffer.from(packet.subarray(HEADER_BYTES)) };
    }
    packet.copy(this.#message, this.#received, HEADER_BYTES);
    this.#received += dataBytes;
    this.#nextIdx++;
    if (!last) return { done: false };
    if (this.#received !== this.#expectedBytes) throw new FramingError(`expected a message of ${this.#expectedBytes} bytes, got ${this.#received}`);
    const message = this.#message;
    this.#reset();
    return { done: true, message };
  }

  #reset(): void {
    this.#message = null;
    this.#nextIdx = 0;
    this.#received = 0;
    this.#expectedBytes = 0;
    this.#totalChunks = 0;
  }
}
