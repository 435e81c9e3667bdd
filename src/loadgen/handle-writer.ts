/**
 * Writes a load connection's request bytes straight to its socket's libuv handle.
 *
 * Why: `socket.write` goes through the Writable state machine (writeOrBuffer, a new WriteWrap per
 * call, and an afterWrite callback deferred with process.nextTick even when the kernel took every
 * byte at once). A load thread writes once per read of responses, so at 100k requests a second that
 * bookkeeping is a visible share of the generator's own CPU — time that a target sharing the
 * machine then lacks. The handle's `writeBuffer(req, bytes)` is what `socket.write` ends in: it tries
 * a synchronous write first and only queues inside libuv (calling `req.oncomplete` later) when the
 * kernel buffer is full. A synchronous write never binds `req` to a native request, so one WriteWrap
 * is reused until a write goes asynchronous; that one then belongs to libuv until it completes, and
 * the next write takes a fresh one. Ordering is libuv's: a write issued while an earlier one is
 * queued queues behind it.
 *
 * The handle API is Node's internal `stream_wrap` binding (reached through process.binding, which
 * Node 20 still allows for it); when it is missing or the socket has no stream handle, the writer
 * falls back to `socket.write`.
 */
import type { Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { streamWrapBinding } from '../common/stream-wrap.js';

interface WriteReq {
  oncomplete: (status: number) => void;
  /** Keeps the bytes alive while libuv holds them (an asynchronous write). */
  buffer: Uint8Array | null;
}

interface StreamHandle {
  writeBuffer(req: WriteReq, data: Uint8Array): number;
}

const binding = streamWrapBinding<WriteReq>();

/** True when writes go straight to the handle (tests check that the fast path is the one measured). */
export const directWritesAvailable = binding !== null;

export class HandleWriter {
  readonly #socket: Socket;
  readonly #onError: (code: string) => void;
  #req: WriteReq | null = null;
  #failed = false;
  /** Writes that went asynchronous (the kernel buffer was full): how often the slow path ran. */
  asyncWrites = 0;

  /** `onError` is called once, with the errno name, when a write fails; the caller closes the socket. */
  constructor(socket: Socket, onError: (code: string) => void) {
    this.#socket = socket;
    this.#onError = onError;
  }

  write(data: Uint8Array): void {
    if (this.#failed) return;
    const handle = (this.#socket as unknown as { _handle: StreamHandle | null })._handle;
    if (binding === null || handle === null || typeof handle.writeBuffer !== 'function') {
      this.#socket.write(data);
      return;
    }
    const req = this.#req ?? this.#newReq();
    const err = handle.writeBuffer(req, data);
    if (err !== 0) {
      this.#fail(err);
      return;
    }
    if (binding.streamBaseState[binding.kLastWriteWasAsync] !== 0) {
      // libuv owns this request until oncomplete; the next write needs its own.
      req.buffer = data;
      this.#req = null;
      this.asyncWrites++;
    }
  }

  #newReq(): WriteReq {
    const req = new binding!.WriteWrap();
    req.buffer = null;
    req.oncomplete = (status: number) => {
      req.buffer = null;
      if (status < 0) this.#fail(status);
    };
    this.#req = req;
    return req;
  }

  #fail(status: number): void {
    if (this.#failed) return;
    this.#failed = true;
    let code: string;
    try {
      code = getSystemErrorName(status);
    } catch {
      code = `write error ${status}`;
    }
    this.#onError(code);
  }
}
