/**
 * HTTP/2 frame serialisation (RFC 9113 §4.1, §6). Each function returns one Buffer holding the frame
 * header and payload, so a batch of frames leaves in one write. Ringside never pads what it sends and
 * never sends PRIORITY or PUSH_PROMISE.
 */
import { FrameFlag, FrameType } from '../../types/http2.js';

export const FRAME_HEADER_BYTES = 9;

function header(buf: Buffer, at: number, length: number, type: FrameType, flags: number, streamId: number): void {
  buf[at] = (length >>> 16) & 0xff;
  buf[at + 1] = (length >>> 8) & 0xff;
  buf[at + 2] = length & 0xff;
  buf[at + 3] = type;
  buf[at + 4] = flags;
  buf.writeUInt32BE(streamId & 0x7fffffff, at + 5);
}

/** A DATA frame; `data.length` must not pass the peer's max frame size (the caller splits). */
export function encodeData(streamId: number, data: Buffer, endStream: boolean): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + data.length);
  header(out, 0, data.length, FrameType.Data, endStream ? FrameFlag.EndStream : 0, streamId);
  data.copy(out, FRAME_HEADER_BYTES);
  return out;
}

/** The 9-byte header of a DATA frame, for writing header and a borrowed payload side by side. */
export function encodeDataHeader(streamId: number, length: number, endStream: boolean): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header(out, 0, length, FrameType.Data, endStream ? FrameFlag.EndStream : 0, streamId);
  return out;
}

/**
 * A HEADERS frame and as many CONTINUATION frames as the block needs at `maxFrameSize`, all in one
 * buffer (a header block must not be interleaved with other frames).
 */
export function encodeHeaders(streamId: number, block: Buffer, endStream: boolean, maxFrameSize: number): Buffer {
  const frames = Math.max(1, Math.ceil(block.length / maxFrameSize));
  const out = Buffer.allocUnsafe(frames * FRAME_HEADER_BYTES + block.length);
  let at = 0;
  let from = 0;
  for (let i = 0; i < frames; i++) {
    const n = Math.min(maxFrameSize, block.length - from);
    const last = i === frames - 1;
    const type = i === 0 ? FrameType.Headers : FrameType.Continuation;
    let flags = last ? FrameFlag.EndHeaders : 0;
    if (i === 0 && endStream) flags |= FrameFlag.EndStream;
    header(out, at, n, type, flags, streamId);
    block.copy(out, at + FRAME_HEADER_BYTES, from, from + n);
    at += FRAME_HEADER_BYTES + n;
    from += n;
  }
  return out;
}

export function encodeSettings(settings: readonly (readonly [number, number])[]): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + settings.length * 6);
  header(out, 0, settings.length * 6, FrameType.Settings, 0, 0);
  let at = FRAME_HEADER_BYTES;
  for (const [id, value] of settings) {
    out.writeUInt16BE(id, at);
    out.writeUInt32BE(value >>> 0, at + 2);
    at += 6;
  }
  return out;
}

export const SETTINGS_ACK: Buffer = (() => {
  const out = Buffer.alloc(FRAME_HEADER_BYTES);
  header(out, 0, 0, FrameType.Settings, FrameFlag.Ack, 0);
  return out;
})();

export function encodePing(data: Buffer, ack: boolean): Buffer {
  const out = Buffer.alloc(FRAME_HEADER_BYTES + 8);
  header(out, 0, 8, FrameType.Ping, ack ? FrameFlag.Ack : 0, 0);
  data.copy(out, FRAME_HEADER_BYTES, 0, 8);
  return out;
}

export function encodeGoaway(lastStreamId: number, code: number, debug: string): Buffer {
  const text = Buffer.from(debug.slice(0, 256));
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 8 + text.length);
  header(out, 0, 8 + text.length, FrameType.Goaway, 0, 0);
  out.writeUInt32BE(lastStreamId & 0x7fffffff, FRAME_HEADER_BYTES);
  out.writeUInt32BE(code >>> 0, FRAME_HEADER_BYTES + 4);
  text.copy(out, FRAME_HEADER_BYTES + 8);
  return out;
}

export function encodeRstStream(streamId: number, code: number): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 4);
  header(out, 0, 4, FrameType.RstStream, 0, streamId);
  out.writeUInt32BE(code >>> 0, FRAME_HEADER_BYTES);
  return out;
}

export function encodeWindowUpdate(streamId: number, increment: number): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 4);
  header(out, 0, 4, FrameType.WindowUpdate, 0, streamId);
  out.writeUInt32BE(increment & 0x7fffffff, FRAME_HEADER_BYTES);
  return out;
}
