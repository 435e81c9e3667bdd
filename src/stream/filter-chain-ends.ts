/**
 * The body half of the stream filter callbacks, the same for every server stream (HTTP/1.1, HTTP/2,
 * X-Protocol, dRPC): a filter resumes, replaces, swallows or adds body data on the request's chain
 * (decoding) or the response's (encoding). A server stream extends this and sets the two chains when
 * its listener has filters; the rest of the callbacks (local replies, resets, the request itself)
 * stay the protocol's own.
 */
import type { RequestFrame, ResponseFrame } from '../types/protocol.js';
import type { StreamReceiverFilter, StreamSenderFilter } from '../types/stream.js';
import type { FilterChain } from './filter-chain.js';

export abstract class FilterChainEnds {
  /** The request's filter chain; null without stream filters. */
  protected recvChain: FilterChain<StreamReceiverFilter, RequestFrame> | null = null;
  /** The response's filter chain; null without stream filters. */
  protected sendChain: FilterChain<StreamSenderFilter, ResponseFrame> | null = null;

  continueDecoding(): void {
    this.recvChain?.resume();
  }

  continueEncoding(): void {
    this.sendChain?.resume();
  }

  replaceDecodingData(chunk: Buffer): boolean {
    return this.recvChain?.replaceData(chunk) ?? false;
  }

  swallowDecodingData(): boolean {
    return this.recvChain?.swallowData() ?? false;
  }

  addDecodingData(chunk: Buffer): boolean {
    return this.recvChain?.addData(chunk) ?? false;
  }

  replaceEncodingData(chunk: Buffer): boolean {
    return this.sendChain?.replaceData(chunk) ?? false;
  }

  swallowEncodingData(): boolean {
    return this.sendChain?.swallowData() ?? false;
  }

  addEncodingData(chunk: Buffer): boolean {
    return this.sendChain?.addData(chunk) ?? false;
  }
}
