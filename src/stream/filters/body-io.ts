/**
 * How the compressor and decompressor reach the body of their direction: one interface over the
 * receiver callbacks (request bodies) and the sender callbacks (response bodies), so a filter's body
 * logic is written once for both directions.
 */
import type { StreamReceiverFilterCallbacks, StreamSenderFilterCallbacks } from '../../types/stream.js';

export interface BodyIo {
  /** Takes the current (not last) piece out of the chain: the filter keeps a copy. */
  swallow(): boolean;
  /** Replaces the last piece's bytes (inline: the current piece; offloaded: the held one). */
  replace(b: Buffer): boolean;
  /** A body that ended in trailers: adds the re-coded body in front of them. */
  add(b: Buffer): boolean;
  /** Lets the held event go on after offloaded work. */
  resume(): void;
}

export function requestBodyIo(cb: StreamReceiverFilterCallbacks): BodyIo {
  return {
    swallow: () => cb.swallowDecodingData(),
    replace: (b) => cb.replaceDecodingData(b),
    add: (b) => cb.addDecodingData(b),
    resume: () => cb.continueDecoding(),
  };
}

export function responseBodyIo(cb: StreamSenderFilterCallbacks): BodyIo {
  return {
    swallow: () => cb.swallowEncodingData(),
    replace: (b) => cb.replaceEncodingData(b),
    add: (b) => cb.addEncodingData(b),
    resume: () => cb.continueEncoding(),
  };
}
