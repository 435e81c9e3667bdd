/**
 * Incremental HTTP/2 frame parser (RFC 9113 §4, §6). Bytes in, one typed frame per callback out.
 *
 * Whole frames inside the chunk handed in are parsed in place (payloads are views into it, valid only
 * during the callback); only a frame cut by the end of a read is copied, up to one frame plus header.
 * HEADERS + CONTINUATION are joined into one header block before it is reported, capped at
 * `maxHeaderBlockBytes`. Frame-level rules (sizes, stream 0, padding, CONTINUATION order) are checked
 * here and raise Http2ConnectionError / Http2StreamError; stream-state rules are the connection's.
 * Unknown frame types are skipped, as the RFC requires.
 */
import { FrameFlag, FrameType, Http2ErrorCode, type Http2Frame } from '../../types/http2.js';
import { Http2ConnectionError, Http2StreamError } from './errors.js';
import { FRAME_HEADER_BYTES } from './frames.js';

export interface FrameParserOptions {
  /** Largest payload accepted (our SETTINGS_MAX_FRAME_SIZE). */
  maxFrameSize: number;
  /** Largest compressed header block (HEADERS + CONTINUATIONs) accepted. */
  maxHeaderBlockBytes: number;
}

export class FrameParser {
  maxFrameSize: number;
  readonly #maxBlock: number;
  readonly #onFrame: (frame: Http2Frame) => void;
  readonly #onStreamError: (err: Http2StreamError) => void;
  /** Bytes of a frame cut by the end of a read. */
  #held: Buffer | null = null;
  /** A header block waiting for CONTINUATION: its stream, END_STREAM flag, pieces and size. */
  #blockStream = 0;
  #blockEnd = false;
  #blockParts: Buffer[] = [];
  #blockBytes = 0;

  constructor(options: FrameParserOptions, onFrame: (frame: Http2Frame) => void, onStreamError: (err: Http2StreamError) => void) {
    this.maxFrameSize = options.maxFrameSize;
    this.#maxBlock = options.maxHeaderBlockBytes;
    this.#onFrame = onFrame;
    this.#onStreamError = onStreamError;
  }

  /** True while a header block is waiting for its CONTINUATION frames. */
  get inHeaderBlock(): boolean {
    return this.#blockStream !== 0;
  }

  /** Feeds bytes; frames are reported synchronously. Throws the connection error a bad frame is. */
  execute(chunk: Buffer): void {
    let data = chunk;
    if (this.#held !== null) {
      data = Buffer.concat([this.#held, chunk]);
      this.#held = null;
    }
    let at = 0;
    const end = data.length;
    while (end - at >= FRAME_HEADER_BYTES) {
      const length = (data[at]! << 16) | (data[at + 1]! << 8) | data[at + 2]!;
      if (length > this.maxFrameSize) {
        throw new Http2ConnectionError(Http2ErrorCode.FrameSizeError, `frame of ${length} bytes exceeds SETTINGS_MAX_FRAME_SIZE ${this.maxFrameSize}`);
      }
      if (end - at < FRAME_HEADER_BYTES + length) break;
      const type = data[at + 3]!;
      const flags = data[at + 4]!;
      const streamId = data.readUInt32BE(at + 5) & 0x7fffffff;
      const payload = data.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length);
      at += FRAME_HEADER_BYTES + length;
      try {
        this.#frame(type, flags, streamId, payload);
      } catch (err) {
        // A stream error ends one stream; the frames after it in this read still count.
        if (err instanceof Http2StreamError) this.#onStreamError(err);
        else throw err;
      }
    }
    if (at < end) this.#held = Buffer.from(data.subarray(at));
  }

  /** Bytes held for a frame not yet complete (memory bound: at most one frame). */
  get heldBytes(): number {
    return this.#held?.length ?? 0;
  }

  #frame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.#blockStream !== 0 && (type !== FrameType.Continuation || streamId !== this.#blockStream)) {
      throw new Http2ConnectionError(Http2ErrorCode.ProtocolError, `expected CONTINUATION for stream ${this.#blockStream}`);
    }
    switch (type) {
      case FrameType.Data: {
        if (streamId === 0) throw new Http2ConnectionError(Http2ErrorCode.ProtocolError, 'DATA on stream 0');
        const data = (flags & FrameFlag.Padded) !== 0 ? unpad(payload, 0) : payload;
        this.#onFrame({ type: FrameType.Data, streamId, endStream: (flags & FrameFlag.EndStream) !== 0, data, flowLength: payload.length });
        return;
      }
      case FrameType.Headers: {
        if (streamId === 0) throw new Http2ConnectionError(Http2ErrorCode.ProtocolError, 'HEADERS on stream 0');
        let block = (flags & FrameFlag.Padded) !== 0 ? unpad(payload, (flags & FrameFlag.Priority) !== 0 ? 5 : 0) : payload;
        if ((flags & FrameFlag.Priority) !== 0) {
          // Priority signals are deprecated (RFC 9113 §5.3.2); the fields are skipped, not acted on.
          if ((flags & FrameFlag.Padded) === 0) {
            if (block.length < 5) throw new Http2ConnectionError(Http2ErrorCode.FrameSizeError, 'HEADERS too short for its priority fields');
            block = block.subarray(5);
          }
        }
        const endStream = (flags & FrameFlag.EndStream) !== 0;
        if ((flags & FrameFlag.EndHeaders) !== 0) {
          this.#checkBlockSize(block.length);
          this.#onFrame({ type: FrameType.Headers, streamId, endStream, block });
          return;
        }
        this.#blockStream = streamId;
        this.#blockEnd = endStream;
        this.#blockBytes = 0;
        this.#blockParts = [];
        this.#addBlockPart(block);
        return;
      }
      case FrameType.Continuation: {
        if (this.#blockStream === 0) throw new Http2ConnectionError(Http2ErrorCode.ProtocolError, 'CONTINUATION without HEADERS');
        this.#addBlockPart(payload);
        if ((flags & FrameFlag.EndHeaders) === 0) return;
        const parts = this.#blockParts;
        const block = parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.#blockBytes);
        const id = this.#blockStream;
        this.#blockStream = 0;
        this.#blockParts = [];
        this.#onFrame({ type: FrameType.Headers, streamId: id, endStream: this.#blockEnd, block });
        return;
      }
      case FrameType.Priority:
        if (streamId === 0) throw new Http2ConnectionError(Http2ErrorCode.ProtocolError, 'PRIORITY on stream 0');
        if (payload.length !== 5) throw new Http2StreamError(streamId, Http2ErrorCode.FrameSizeError, 'PRIORITY payload is not 5 bytes');
        this.#onFrame({ type: FrameType.Priority, streamId });
        return;
      case FrameType.RstStream:
        if (streamId === 0) throw new Http2ConnectionError(Http2ErrorCode.ProtocolError, 'RST_STREAM on stream 0');
        if (payload.length !== 4) throw new Http2ConnectionError(Http2ErrorCode.FrameSizeError, 'RST_STREAM payload is not 4 bytes');
        this.#onFrame({ type: FrameType.RstStream, streamId, code: payload.readUInt32BE(0) });
        return;
      case FrameType.Settings: {
        if (streamId !== 0) throw new Http2ConnectionError(Http2ErrorCode.ProtocolError, 'SETTINGS on a stream');
        const ack = (flags & FrameFlag.Ack) !== 0;
        if (ack && payload.length !== 0) throw new Http2ConnectionError(Http2ErrorCode.FrameSizeError, 'SETTINGS ack with a payload');
        if (payload.length % 6 !== 0) throw new Http2ConnectionError(Http2ErrorCode.FrameSizeError, 'SETTINGS payload is not a multiple of 6');
        const settings: [number, number][] = [];
        for (let i = 0; i < payload.length; i += 6) settings.push([payload.readUInt16BE(i), payload.readUInt32BE(i + 2)]);
        this.#onFrame({ type: FrameType.Settings, ack, settings });
        return;
      }
      case FrameType.PushPromise:
        this.#onFrame({ type: FrameType.PushPromise, streamId });
        return;
      case FrameType.Ping:
        if (streamId !== 0) throw new Http2ConnectionError(Http2ErrorCode.ProtocolError, 'PING on a stream');
        if (payload.length !== 8) throw new Http2ConnectionError(Http2ErrorCode.FrameSizeError, 'PING payload is not 8 bytes');
        this.#onFrame({ type: FrameType.Ping, ack: (flags & FrameFlag.Ack) !== 0, data: payload });
        return;
      case FrameType.Goaway:
        if (streamId !== 0) throw new Http2ConnectionError(Http2ErrorCode.ProtocolError, 'GOAWAY on a stream');
        if (payload.length < 8) throw new Http2ConnectionError(Http2ErrorCode.FrameSizeError, 'GOAWAY payload shorter than 8 bytes');
        this.#onFrame({
          type: FrameType.Goaway,
          lastStreamId: payload.readUInt32BE(0) & 0x7fffffff,
          code: payload.readUInt32BE(4),
          debug: payload.subarray(8),
        });
        return;
      case FrameType.WindowUpdate: {
        if (payload.length !== 4) throw new Http2ConnectionError(Http2ErrorCode.FrameSizeError, 'WINDOW_UPDATE payload is not 4 bytes');
        const increment = payload.readUInt32BE(0) & 0x7fffffff;
        if (increment === 0) {
          if (streamId === 0) throw new Http2ConnectionError(Http2ErrorCode.ProtocolError, 'WINDOW_UPDATE of 0 on the connection');
          throw new Http2StreamError(streamId, Http2ErrorCode.ProtocolError, 'WINDOW_UPDATE of 0');
        }
        this.#onFrame({ type: FrameType.WindowUpdate, streamId, increment });
        return;
      }
      default:
        // Unknown frame types are ignored (RFC 9113 §4.1, §5.5).
        return;
    }
  }

  #checkBlockSize(n: number): void {
    if (n > this.#maxBlock) {
      throw new Http2ConnectionError(Http2ErrorCode.EnhanceYourCalm, `header block of ${n} bytes exceeds the ${this.#maxBlock}-byte bound`);
    }
  }

  #addBlockPart(part: Buffer): void {
    this.#blockBytes += part.length;
    this.#checkBlockSize(this.#blockBytes);
    // The payload is a view into a read buffer reused after this call: keep a copy.
    this.#blockParts.push(Buffer.from(part));
  }
}

/** Strips padding (RFC 9113 §6.1): the pad length byte, `skip` more header bytes, then the pad. */
function unpad(payload: Buffer, skip: number): Buffer {
  if (payload.length < 1 + skip) throw new Http2ConnectionError(Http2ErrorCode.FrameSizeError, 'padded frame too short for its pad length');
  const pad = payload[0]!;
  if (pad >= payload.length - skip) throw new Http2ConnectionError(Http2ErrorCode.ProtocolError, 'padding as long as the frame payload');
  return payload.subarray(1 + skip, payload.length - pad);
}
