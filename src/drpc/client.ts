/**
 * ClientConnection: the calling side of a dRPC session (DAOS's drpc.ClientConnection). Calls are
 * synchronous on the wire — one in flight per connection — so sendMsg queues a call behind the one
 * that runs. The client numbers its calls 1, 2, 3 … and checks that each Response carries its call's
 * sequence. A call that times out closes the connection: its late answer would otherwise be taken
 * for the next call's.
 */
import { ChunkAssembler, FramingError, toPackets } from './framing.js';
import { errnoName } from './libc.js';
import { decodeResponse, encodeCall, type Response } from './messages.js';
import { PacketSocket } from './packet-socket.js';
import { threadReactor, type Reactor } from './reactor.js';
import { dialSeqpacket } from './sockets.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './server.js';

export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

export interface ClientConnectionOptions {
  /** Per-call timeout in ms (default 10 s); 0 waits forever. */
  timeoutMs?: number;
  /** Largest response accepted (default 4 MiB); a larger one fails the call and the connection. */
  maxMessageBytes?: number;
  reactor?: Reactor;
}

/** What the caller sets; the sequence is the connection's. */
export interface CallInput {
  module: number;
  method: number;
  body?: Uint8Array;
}

export class DrpcClientError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

interface Pending {
  sequence: number;
  resolve: (r: Response) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

export class ClientConnection {
  readonly path: string;
  readonly #timeoutMs: number;
  readonly #maxMessageBytes: number;
  readonly #reactor: Reactor;
  #socket: PacketSocket | null = null;
  #assembler: ChunkAssembler;
  #sequence = 0;
  #pending: Pending | null = null;
  #tail: Promise<unknown> = Promise.resolve();
  #closeError: Error | null = null;

  constructor(path: string, opts: ClientConnectionOptions = {}) {
    this.path = path;
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.#maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#reactor = opts.reactor ?? threadReactor();
    this.#assembler = new ChunkAssembler(this.#maxMessageBytes);
  }

  get connected(): boolean {
    return this.#socket !== null && !this.#socket.closed;
  }

  /** Connects (a Unix connect completes at once or fails with ENOENT, ECONNREFUSED, EACCES …). */
  async connect(): Promise<void> {
    if (this.connected) return;
    let r = dialSeqpacket(this.path);
    // EAGAIN: the server's backlog is full; give it a few turns to accept.
    for (let i = 0; 'errno' in r && r.errno === 11 && i < 50; i++) {
      await new Promise((res) => setTimeout(res, 10));
      r = dialSeqpacket(this.path);
    }
    if ('errno' in r) throw new DrpcClientError(errnoName(r.errno), `connect ${errnoName(r.errno)} ${this.path}`);
    this.#sequence = 0;
    this.#closeError = null;
    this.#assembler = new ChunkAssembler(this.#maxMessageBytes);
    this.#socket = new PacketSocket(r.fd, this.#reactor, {
      onPacket: (packet) => this.#onPacket(packet),
      onClose: (reason, error) => this.#onClose(reason, error),
    });
  }

  /** Sends a call and resolves with its Response (whatever its status); rejects on transport errors. */
  sendMsg(call: CallInput, opts: { timeoutMs?: number } = {}): Promise<Response> {
    const run = (): Promise<Response> => this.#send(call, opts.timeoutMs ?? this.#timeoutMs);
    const p = this.#tail.then(run, run);
    this.#tail = p.catch(() => undefined);
    return p;
  }

  close(): void {
    this.#socket?.close('closed by the client');
  }

  #send(call: CallInput, timeoutMs: number): Promise<Response> {
    const socket = this.#socket;
    if (socket === null || socket.closed) {
      return Promise.reject(this.#closeError ?? new DrpcClientError('NOT_CONNECTED', `not connected to ${this.path}`));
    }
    const sequence = ++this.#sequence;
    const bytes = encodeCall({ module: call.module, method: call.method, sequence, body: Buffer.from(call.body ?? EMPTY) });
    return new Promise<Response>((resolve, reject) => {
      const pending: Pending = { sequence, resolve, reject, timer: undefined };
      if (timeoutMs > 0) {
        pending.timer = setTimeout(() => {
          this.#fail(new DrpcClientError('TIMEOUT', `dRPC call ${call.module}/${call.method} (sequence ${sequence}) timed out after ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.#pending = pending;
      socket.send(toPackets(bytes));
    });
  }

  #onPacket(packet: Buffer): void {
    let r;
    try {
      r = this.#assembler.push(packet);
    } catch (err) {
      if (!(err instanceof FramingError)) throw err;
      this.#fail(new DrpcClientError('BAD_RESPONSE', `bad response framing from ${this.path}: ${err.message}`, { cause: err }));
      return;
    }
    if (!r.done) return;
    const pending = this.#pending;
    if (pending === null) {
      this.#fail(new DrpcClientError('BAD_RESPONSE', `${this.path} sent a response with no call in flight`));
      return;
    }
    let resp: Response;
    try {
      resp = decodeResponse(r.message);
    } catch (err) {
      this.#fail(new DrpcClientError('BAD_RESPONSE', `undecodable response from ${this.path}: ${(err as Error).message}`, { cause: err }));
      return;
    }
    // A server that could not decode the call answers with sequence -1; that answer is still ours.
    if (resp.sequence !== pending.sequence && resp.sequence !== -1) {
      this.#fail(new DrpcClientError('BAD_RESPONSE', `response sequence ${resp.sequence} does not match call sequence ${pending.sequence}`));
      return;
    }
    this.#pending = null;
    if (pending.timer !== undefined) clearTimeout(pending.timer);
    pending.resolve(resp);
  }

  /** Fails the call in flight and closes the connection. */
  #fail(err: Error): void {
    this.#closeError = err;
    const pending = this.#pending;
    this.#pending = null;
    if (pending !== null) {
      if (pending.timer !== undefined) clearTimeout(pending.timer);
      pending.reject(err);
    }
    this.#socket?.close(err.message);
  }

  #onClose(reason: string, error: Error | undefined): void {
    const err = this.#closeError ?? new DrpcClientError('CONNECTION_CLOSED', `dRPC connection to ${this.path} closed: ${reason}${error ? `: ${error.message}` : ''}`);
    this.#closeError = err;
    const pending = this.#pending;
    this.#pending = null;
    if (pending !== null) {
      if (pending.timer !== undefined) clearTimeout(pending.timer);
      pending.reject(err);
    }
  }
}

const EMPTY = new Uint8Array(0);
