/**
 * What the HTTP/2 connection keeps per stream (state, both flow-control windows, queued output,
 * header-block count) and the token bucket that bounds a peer's resets and control frames (rapid-reset
 * and control-flood defences), apart from the connection's frame handling in connection.ts.
 */
import { StreamState } from '../../types/http2.js';

/** One stream's record in the connection. */
export class Stream {
  state = StreamState.Open;
  sendWindow: number;
  recvWindow: number;
  /** Bytes received and passed on but not yet credited back to the peer. */
  unacked = 0;
  receiving = true;
  /** Header blocks received: the first is the head (or 1xx), a later one with END_STREAM the trailers. */
  blocks = 0;
  /** A final (non-1xx) head was received (client role). */
  finalHead = false;
  /** The handler knows this stream (its head was delivered, or it opened it). */
  announced: boolean;
  queue: Buffer[] = [];
  queuedBytes = 0;
  /** END_STREAM is owed after the queued data (with trailers when set). */
  endQueued = false;
  trailers: Buffer | null = null;
  blocked = false;
  constructor(readonly id: number, sendWindow: number, recvWindow: number, announced: boolean) {
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
    this.announced = announced;
  }
  get localEnded(): boolean {
    return this.state === StreamState.HalfClosedLocal || this.state === StreamState.Closed;
  }
  get remoteEnded(): boolean {
    return this.state === StreamState.HalfClosedRemote || this.state === StreamState.Closed;
  }
}

/** A token bucket over one second: `rate` events per second, bursts up to twice that. */
export class RateBound {
  #tokens: number;
  #at = performance.now();
  constructor(readonly rate: number) {
    this.#tokens = rate * 2;
  }
  /** Takes one token; false when the bucket is empty (the bound is passed). */
  take(): boolean {
    const now = performance.now();
    this.#tokens = Math.min(this.rate * 2, this.#tokens + ((now - this.#at) / 1000) * this.rate);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
