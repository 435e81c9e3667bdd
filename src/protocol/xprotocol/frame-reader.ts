/**
 * Cuts a byte stream into X-protocol frames with the codec's decode(). Read loops hand in views of a
 * reused buffer: whole frames are decoded straight from the view (the codec copies what it keeps),
 * and only an incomplete tail is copied — into a buffer of the frame's whole size when the fixed part
 * already told it, so a large frame arriving in many reads is copied once more, not concatenated
 * again on every read.
 */
import type { XDecodeLimits, XDecodeResult, XFrame, XProtocolCodec } from '../../types/xprotocol.js';

export type FrameErrorResult = Extract<XDecodeResult, { kind: 'error' }>;

export interface FrameSink {
  onFrame(frame: XFrame): void;
  /** Bad bytes: nothing more is decoded (the reader is dead). */
  onDecodeError(result: FrameErrorResult): void;
}

export class FrameReader {
  readonly #codec: XProtocolCodec;
  readonly #limits: XDecodeLimits;
  readonly #sink: FrameSink;
  /** Held bytes of an incomplete frame: pending[0, held). */
  #pending: Buffer | null = null;
  #held = 0;
  #paused = false;
  #dead = false;

  constructor(codec: XProtocolCodec, limits: XDecodeLimits, sink: FrameSink) {
    this.#codec = codec;
    this.#limits = limits;
    this.#sink = sink;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Nothing held: closing here cuts no frame. */
  get idle(): boolean {
    return this.#held === 0;
  }

  get dead(): boolean {
    return this.#dead;
  }

  feed(data: Buffer): void {
    if (this.#dead || data.length === 0) return;
    if (this.#pending === null && !this.#paused) {
      this.#run(data, null);
      return;
    }
    this.#append(data);
    if (!this.#paused) this.#drainHeld();
  }

  /** Stops after the current frame; what follows is held until resume(). */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused || this.#dead) return;
    this.#paused = false;
    this.#drainHeld();
  }

  destroy(): void {
    this.#dead = true;
    this.#pending = null;
    this.#held = 0;
  }

  #drainHeld(): void {
    const pending = this.#pending;
    if (pending === null) return;
    const held = this.#held;
    this.#pending = null;
    this.#held = 0;
    this.#run(pending.subarray(0, held), pending);
  }

  /** Decodes whole frames from buf; keeps the rest. `owner`: the reader's own buffer buf starts. */
  #run(buf: Buffer, owner: Buffer | null): void {
    let off = 0;
    let need = 0;
    while (off < buf.length) {
      if (this.#paused || this.#dead) break;
      const r = this.#codec.decode(off === 0 ? buf : buf.subarray(off), this.#limits);
      if (r.kind === 'need') {
        need = r.bytes;
        break;
      }
      if (r.kind === 'error') {
        this.destroy();
        this.#sink.onDecodeError(r);
        return;
      }
      off += r.bytes;
      this.#sink.onFrame(r.frame);
    }
    if (this.#dead) return;
    const rest = buf.length - off;
    if (rest === 0) return;
    if (owner !== null && off === 0 && this.#pending === null) {
      // Still the same held bytes: keep the buffer (and its spare room) rather than copy it.
      this.#pending = owner;
      this.#held = rest;
      return;
    }
    this.#hold(buf.subarray(off), need);
  }

  #hold(bytes: Buffer, need: number): void {
    const size = Math.max(bytes.length, need, 256);
    const pending = Buffer.allocUnsafe(size);
    bytes.copy(pending, 0);
    this.#pending = pending;
    this.#held = bytes.length;
  }

  #append(data: Buffer): void {
    let pending = this.#pending;
    const held = this.#held;
    if (pending === null) {
      this.#hold(data, 0);
      return;
    }
    if (pending.length - held < data.length) {
      const grown = Buffer.allocUnsafe(Math.max(held + data.length, pending.length * 2));
      pending.copy(grown, 0, 0, held);
      pending = grown;
      this.#pending = grown;
    }
    data.copy(pending, held);
    this.#held = held + data.length;
  }
}
