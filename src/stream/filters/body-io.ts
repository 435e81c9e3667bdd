/**
 * How the compressor and decompressor reach the body of their direction: one interface over the
 * receiver callbacks (request bodies) and the sender callbacks (response bodies), so a filter's body
 * logic is written once for both directions.
 */
import { FilterStatus } from '../../types/network.js';
import type { RequestFrame, ResponseFrame } from '../../types/protocol.js';
import type {
  StreamReceiverFilter,
  StreamReceiverFilterCallbacks,
  StreamSenderFilter,
  StreamSenderFilterCallbacks,
} from '../../types/stream.js';

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

/** The body work of one direction: the compressor's and the decompressor's share this shape. */
export interface BodyStage<IO extends BodyIo> {
  /** Set when the head made this body eligible; until then data and trailers pass untouched. */
  active: boolean;
  data(chunk: Buffer, endOfStream: boolean, io: IO): FilterStatus;
  trailers(io: IO): FilterStatus;
  destroy(): void;
}

/**
 * The data, trailers and destroy hooks of a request-body filter: hand each to the stage while it is
 * active. Subclasses decide on the head and set `io` in setReceiverCallbacks.
 */
export abstract class RequestBodyFilter<IO extends BodyIo, Stage extends BodyStage<IO> = BodyStage<IO>> implements StreamReceiverFilter {
  protected io: IO | null = null;

  constructor(protected readonly body: Stage) {}

  abstract setReceiverCallbacks(callbacks: StreamReceiverFilterCallbacks): void;
  abstract onReceiveHeaders(request: RequestFrame, endOfStream: boolean): FilterStatus;

  onReceiveData(chunk: Buffer, endOfStream: boolean): FilterStatus {
    return this.body.active && this.io !== null ? this.body.data(chunk, endOfStream, this.io) : FilterStatus.Continue;
  }

  onReceiveTrailers(): FilterStatus {
    return this.body.active && this.io !== null ? this.body.trailers(this.io) : FilterStatus.Continue;
  }

  onDestroy(): void {
    this.body.destroy();
  }
}

/** The same three hooks for a response-body filter. */
export abstract class ResponseBodyFilter<IO extends BodyIo, Stage extends BodyStage<IO> = BodyStage<IO>> implements StreamSenderFilter {
  protected io: IO | null = null;

  constructor(protected readonly body: Stage) {}

  abstract setSenderCallbacks(callbacks: StreamSenderFilterCallbacks): void;
  abstract onSendHeaders(response: ResponseFrame, endOfStream: boolean): FilterStatus;

  onSendData(chunk: Buffer, endOfStream: boolean): FilterStatus {
    return this.body.active && this.io !== null ? this.body.data(chunk, endOfStream, this.io) : FilterStatus.Continue;
  }

  onSendTrailers(): FilterStatus {
    return this.body.active && this.io !== null ? this.body.trailers(this.io) : FilterStatus.Continue;
  }

  onDestroy(): void {
    this.body.destroy();
  }
}
