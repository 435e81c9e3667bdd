/**
 * The output side of one HTTP/2 connection: frames are gathered as they are made and leave as ONE
 * transport write at the next microtask checkpoint — every stream's DATA and HEADERS, the
 * WINDOW_UPDATEs and SETTINGS ACKs one read (or one burst of responses) produced. Nothing is held past
 * the callback that made it: the flush is a microtask, so it runs before the event loop goes on, and
 * before the connection's own write loop sends (which batches what reaches it further).
 *
 * Why gather here: forwarding a stream of small messages made one transport write per DATA frame
 * reach the connection — a Buffer allocated and copied for each frame, then copied again when the
 * connection joined them. Here a frame's header and payload are copied once, next to the frames made
 * before it, into a block this connection took from a slab shared by the thread's connections (bump
 * allocation, as Node's Buffer pool: bytes handed to the transport are never written again; a slab
 * whose blocks are all gone is left to the garbage collector). A block is sized after the
 * connection's last burst (256 B – 32 KiB), so a burst is one piece; the room left in a block serves
 * the next burst unless little is left. A frame larger than a quarter slab gets a buffer of its own.
 * A burst that outgrew its block is joined once (up to 64 KiB; a larger one leaves piece by piece,
 * for the connection's write loop to send as one vectored write).
 */
import { FrameFlag, FrameType } from '../../types/http2.js';
import { FRAME_HEADER_BYTES } from './frames.js';

const SLAB_BYTES = 64 * 1024;
const OWN_BUFFER_BYTES = SLAB_BYTES / 4;
const MIN_BLOCK = 256;
const MAX_BLOCK = 32 * 1024;
/** A burst in several pieces up to this size is joined into one write (past it, each piece goes as is). */
const JOIN_MAX = 64 * 1024;

let slab: Buffer = Buffer.allocUnsafeSlow(SLAB_BYTES);
let slabUsed = 0;

/** `size` bytes of the thread's slab, never handed to anyone else. */
function takeBlock(size: number): Buffer {
  if (slabUsed + size > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const block = slab.subarray(slabUsed, slabUsed + size);
  slabUsed += size;
  return block;
}

export class FrameOut {
  readonly #sink: (bytes: Buffer) => void;
  /** Pieces sealed this burst (filled blocks, or frames of their own), oldest first. */
  #pieces: Buffer[] = [];
  /** The open block: [blockStart, blockUsed) is this burst's, [blockUsed, length) still free. */
  #block: Buffer | null = null;
  #blockStart = 0;
  #blockUsed = 0;
  /** Block size for the next burst: the last burst's size, rounded up, within MIN_BLOCK–MAX_BLOCK. */
  #hint = MIN_BLOCK;
  #scheduled = false;
  /** Bytes gathered and not yet handed to the transport. */
  bytes = 0;

  constructor(sink: (bytes: Buffer) => void) {
    this.#sink = sink;
  }

  /** A DATA frame: its header and `payload` (valid only during this call) are copied in. */
  data(streamId: number, payload: Buffer, endStream: boolean): void {
    const len = payload.length;
    const buf = this.#reserve(FRAME_HEADER_BYTES + len);
    const at = this.#at;
    buf[at] = (len >>> 16) & 0xff;
    buf[at + 1] = (len >>> 8) & 0xff;
    buf[at + 2] = len & 0xff;
    buf[at + 3] = FrameType.Data;
    buf[at + 4] = endStream ? FrameFlag.EndStream : 0;
    buf.writeUInt32BE(streamId & 0x7fffffff, at + 5);
    if (len > 0) payload.copy(buf, at + FRAME_HEADER_BYTES);
    this.#written();
  }

  /** Frames already serialised (HEADERS + CONTINUATIONs, RST_STREAM, WINDOW_UPDATE …), copied in. */
  frame(frames: Buffer): void {
    frames.copy(this.#reserve(frames.length), this.#at);
    this.#written();
  }

  /** Hands everything gathered to the transport now (before a close, so the last frames go out first). */
  flush(): void {
    this.#scheduled = false;
    if (this.bytes === 0) return;
    let size = MIN_BLOCK;
    while (size < this.bytes && size < MAX_BLOCK) size *= 2;
    this.#hint = size;
    this.#seal();
    const block = this.#block;
    // Not room for another burst like this one: let the block go now rather than hold its slab.
    if (block !== null && block.length - this.#blockUsed < size) this.#block = null;
    const pieces = this.#pieces;
    const total = this.bytes;
    this.#pieces = [];
    this.bytes = 0;
    if (pieces.length === 1) this.#sink(pieces[0]!);
    else if (total <= JOIN_MAX) this.#sink(Buffer.concat(pieces, total));
    else for (let i = 0; i < pieces.length; i++) this.#sink(pieces[i]!);
  }

  /** Offset in the buffer #reserve answered where the frame being written starts. */
  #at = 0;

  #reserve(n: number): Buffer {
    const first = this.bytes === 0;
    this.bytes += n;
    if (n > OWN_BUFFER_BYTES) {
      this.#seal();
      const own = Buffer.allocUnsafe(n);
      this.#pieces.push(own);
      this.#at = 0;
      return own;
    }
    let block = this.#block;
    // A burst starts in a block with room for what the last one made, so it stays one piece.
    const room = block === null ? 0 : block.length - this.#blockUsed;
    if (block === null || room < n || (first && room < this.#hint)) {
      this.#seal();
      block = this.#block = takeBlock(Math.max(n, this.#hint));
      this.#blockStart = this.#blockUsed = 0;
    }
    this.#at = this.#blockUsed;
    this.#blockUsed += n;
    return block;
  }

  /** This burst's part of the open block becomes a piece; the rest of the block stays open. */
  #seal(): void {
    if (this.#block === null || this.#blockUsed === this.#blockStart) return;
    this.#pieces.push(this.#block.subarray(this.#blockStart, this.#blockUsed));
    this.#blockStart = this.#blockUsed;
  }

  #written(): void {
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flushTask);
    }
  }

  readonly #flushTask = (): void => {
    if (this.#scheduled) this.flush();
  };
}
