/**
 * gRPC's length-prefixed messages (PROTOCOL-HTTP2.md): 1 byte compressed flag, 4 bytes big-endian
 * length, then the message. Kept tiny and allocation-light: this runs for every message of every call.
 */
import { RingsideError } from '../../common/errors.js';

export const MESSAGE_HEADER_BYTES = 5;

/** The wire form of one message (`compressed`: the payload is in the call's grpc-encoding). */
export function frameMessage(payload: Uint8Array, compressed = false): Buffer {
  const out = Buffer.allocUnsafe(MESSAGE_HEADER_BYTES + payload.length);
  out[0] = compressed ? 1 : 0;
  out.writeUInt32BE(payload.length, 1);
  out.set(payload, MESSAGE_HEADER_BYTES);
  return out;
}

export interface DeframedMessage {
  readonly compressed: boolean;
  readonly payload: Buffer;
}

/**
 * Cuts a byte stream (DATA frames) into messages. A message larger than `maxBytes` fails the call
 * with RESOURCE_EXHAUSTED's error (LIMIT_EXCEEDED) before its bytes are buffered.
 */
export class MessageDeframer {
  readonly #maxBytes: number;
  readonly #source: 'upstream' | 'downstream';
  #head = Buffer.alloc(MESSAGE_HEADER_BYTES);
  #headHave = 0;
  #body: Buffer | null = null;
  #bodyHave = 0;
  #compressed = false;

  constructor(maxBytes: number, source: 'upstream' | 'downstream' = 'upstream') {
    this.#maxBytes = maxBytes;
    this.#source = source;
  }

  /** Whether a message is partly read (a stream that ends now ends mid-message). */
  get partial(): boolean {
    return this.#headHave > 0 || this.#body !== null;
  }

  /** Feeds bytes (copied as needed; the chunk may be reused after the call); answers whole messages. */
  push(chunk: Buffer): DeframedMessage[] {
    const out: DeframedMessage[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.#body === null) {
        const n = Math.min(MESSAGE_HEADER_BYTES - this.#headHave, chunk.length - at);
        chunk.copy(this.#head, this.#headHave, at, at + n);
        this.#headHave += n;
        at += n;
        if (this.#headHave < MESSAGE_HEADER_BYTES) break;
        const flag = this.#head[0]!;
        if (flag > 1) throw new RingsideError('UPSTREAM_BAD_RESPONSE', this.#source, `gRPC message flag ${flag} is neither 0 nor 1`);
        const len = this.#head.readUInt32BE(1);
        if (len > this.#maxBytes) {
          throw new RingsideError('LIMIT_EXCEEDED', this.#source, `gRPC message of ${len} bytes is over the ${this.#maxBytes}-byte limit`);
        }
        this.#compressed = flag === 1;
        this.#headHave = 0;
        this.#body = Buffer.allocUnsafe(len);
        this.#bodyHave = 0;
      }
      const n = Math.min(this.#body.length - this.#bodyHave, chunk.length - at);
      chunk.copy(this.#body, this.#bodyHave, at, at + n);
      this.#bodyHave += n;
      at += n;
      if (this.#bodyHave === this.#body.length) {
        out.push({ compressed: this.#compressed, payload: this.#body });
        this.#body = null;
      }
    }
    return out;
  }
}
