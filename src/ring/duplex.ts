/**
 * A Node Duplex over a RingPipe end, for libraries that want streams (grpc-js connection injection,
 * stream.pipeline). Backpressure maps one to one: a write whose bytes did not all fit completes its
 * callback on onDrain; a push() the consumer refuses pauses the end, so the peer's ring fills.
 * end() half-closes the ring; destroy(err) resets it with err's message; a reset seen from the peer
 * destroys the stream with a RingsideError the data plane can map to a status.
 */
import { Duplex } from 'node:stream';
import { RingsideError } from '../common/errors.js';
import type { RingEndpoint } from '../types/ring.js';

export class RingDuplex extends Duplex {
  readonly #ep: RingEndpoint;
  #pendingWrite: ((err?: Error | null) => void) | null = null;

  constructor(ep: RingEndpoint) {
    super({ allowHalfOpen: true });
    this.#ep = ep;
    // Nothing is read until the stream's consumer asks (_read), so no bytes pile up in the Readable.
    ep.pause();
    ep.onData = (chunk) => {
      // The ring reuses the chunk's memory after this call returns.
      if (!this.push(Buffer.from(chunk))) ep.pause();
    };
    ep.onEnd = () => {
      this.push(null);
    };
    ep.onDrain = () => {
      const cb = this.#pendingWrite;
      this.#pendingWrite = null;
      cb?.();
    };
    ep.onClose = (reason) => {
      if (reason !== undefined) {
        this.destroy(new RingsideError('UNAVAILABLE', 'internal', `ring pipe ${ep.pipeId} reset: ${reason}`, { retryable: false }));
        return;
      }
      const cb = this.#pendingWrite;
      this.#pendingWrite = null;
      // Graceful close with a write still waiting: the peer stopped reading, so it can never complete.
      cb?.(closedError(ep));
      if (!this.readableEnded) this.push(null);
    };
  }

  override _read(): void {
    this.#ep.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.#ep.closed) {
      cb(closedError(this.#ep));
      return;
    }
    if (this.#ep.write(chunk)) cb();
    else this.#pendingWrite = cb;
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#ep.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.#ep.closed) {
      if (err !== null) this.#ep.reset(err.message);
      else this.#ep.close();
    }
    const pending = this.#pendingWrite;
    this.#pendingWrite = null;
    pending?.(err ?? closedError(this.#ep));
    cb(err);
  }
}

function closedError(ep: RingEndpoint): RingsideError {
  return new RingsideError('UNAVAILABLE', 'internal', `ring pipe ${ep.pipeId} is closed`, { retryable: false });
}
