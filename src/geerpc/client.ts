/**
 * geerpc's Client: one connection, many concurrent calls told apart by Seq (numbered from 1).
 *   dial → TCP/Unix connect (+ `CONNECT /_geeprc_ HTTP/1.0` for http@) + the Option, all within
 *          the connect timeout ("rpc client: connect timeout: expect within 10s");
 *   call → the (Header, args) pair is written whole; the reply settles the call by Seq; a call's
 *          own deadline or AbortSignal removes it ("rpc client: call failed: context deadline
 *          exceeded" / "… context canceled") and a late reply is read and dropped;
 *   close / connection loss → pending calls fail, later calls fail with ErrShutdown.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { DEFAULT_MAX_MESSAGE_BYTES, type GobType } from '../protocol/gob/index.js';
import { parseRpcAddress, type RpcAddress } from './address.js';
import { createCodec, type Codec, type Frame } from './codec.js';
import { goDuration, msToNs } from './duration.js';
import { GeeRpcError, errShutdown } from './errors.js';
import { CODEC_TYPES, GOB_CODEC, MAGIC_NUMBER, encodeOption, type CodecType } from './option.js';
import { CONNECTED, DEFAULT_RPC_PATH } from './server.js';

export interface ClientOptions {
  codec?: CodecType;
  /** Dial + handshake bound in ms (default 10 000, Go's DefaultOption); 0 = none. */
  connectTimeoutMs?: number;
  /** Sent to the server as the Option's HandleTimeout; 0 = the server never times a call out. */
  handleTimeoutMs?: number;
  /** Largest reply accepted (default 16 MiB). */
  maxMessageBytes?: number;
}

export interface CallOptions {
  /** The call's deadline in ms from now. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** How to encode the args on gob streams; inferred from the value when absent. */
  argsType?: GobType;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  cleanup(): void;
}

export class Client {
  readonly #socket: Socket;
  readonly #codec: Codec;
  readonly #pending = new Map<number, Pending>();
  #seq = 1;
  #closing = false;
  #shutdown = false;

  private constructor(socket: Socket, codec: Codec, initial: Buffer) {
    this.#socket = socket;
    this.#codec = codec;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => this.#terminate(new GeeRpcError('CONNECTION_LOST', `rpc client: connection lost: ${err.message}`, err)));
    socket.on('close', () => this.#terminate(new GeeRpcError('CONNECTION_LOST', 'rpc client: connection lost: EOF')));
    if (initial.length > 0) this.#onData(initial);
  }

  /** Dials `tcp@host:port`, `http@host:port` or `unix@path`. */
  static async dial(addr: string | RpcAddress, opts: ClientOptions = {}): Promise<Client> {
    const a = typeof addr === 'string' ? parseRpcAddress(addr) : addr;
    const codecType = opts.codec ?? GOB_CODEC;
    if (!CODEC_TYPES.includes(codecType)) throw new GeeRpcError('CODEC', `invalid codec type ${codecType}`);
    const codec = createCodec(codecType, { maxMessageBytes: opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES })!;
    const connectMs = opts.connectTimeoutMs ?? 10_000;
    const socket = a.protocol === 'unix' ? netConnect(a.path) : netConnect(a.port, a.host);
    socket.setNoDelay(true);
    let timer: NodeJS.Timeout | undefined;
    try {
      const handshake = (async (): Promise<Buffer> => {
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', resolve);
          socket.once('error', (err) => reject(new GeeRpcError('CONNECT_FAILED', `rpc client: dial ${formatTarget(a)}: ${err.message}`, err)));
        });
        let rest: Buffer = Buffer.alloc(0);
        if (a.protocol === 'http') {
          socket.write(`CONNECT ${DEFAULT_RPC_PATH} HTTP/1.0\n\n`);
          rest = await readConnectAnswer(socket);
        }
        socket.write(encodeOption({ MagicNumber: MAGIC_NUMBER, CodecType: codecType, ConnectTimeout: msToNs(connectMs), HandleTimeout: msToNs(opts.handleTimeoutMs ?? 0) }));
        return rest;
      })();
      const initial = connectMs > 0
        ? await Promise.race([
            handshake,
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new GeeRpcError('CONNECT_TIMEOUT', `rpc client: connect timeout: expect within ${goDuration(msToNs(connectMs))}`)), connectMs);
            }),
          ])
        : await handshake;
      socket.removeAllListeners('error');
      return new Client(socket, codec, initial);
    } catch (err) {
      socket.destroy();
      throw err;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /** True until the client is closed or its connection is lost (Go's IsAvailable). */
  isAvailable(): boolean {
    return !this.#closing && !this.#shutdown;
  }

  get pendingCalls(): number {
    return this.#pending.size;
  }

  /** Calls `Service.Method` with args; resolves with the decoded reply. */
  call(serviceMethod: string, args: unknown, opts: CallOptions = {}): Promise<unknown> {
    if (!this.isAvailable()) return Promise.reject(errShutdown());
    if (opts.signal?.aborted) return Promise.reject(new GeeRpcError('CANCELLED', 'rpc client: call failed: context canceled'));
    const seq = this.#seq++;
    let bytes: Buffer;
    try {
      bytes = this.#codec.encode({ ServiceMethod: serviceMethod, Seq: seq, Error: '' }, args, opts.argsType);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        this.#pending.delete(seq);
        cleanup();
        reject(new GeeRpcError('CANCELLED', 'rpc client: call failed: context canceled'));
      };
      const cleanup = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      if (opts.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.#pending.delete(seq);
          cleanup();
          reject(new GeeRpcError('DEADLINE_EXCEEDED', 'rpc client: call failed: context deadline exceeded'));
        }, opts.timeoutMs);
      }
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(seq, { resolve, reject, cleanup });
      this.#socket.write(bytes);
    });
  }

  /** Closes the connection; pending calls fail with ErrShutdown. A second close rejects with it. */
  close(): Promise<void> {
    if (this.#closing) return Promise.reject(errShutdown());
    this.#closing = true;
    this.#terminate(errShutdown());
    this.#socket.destroy();
    return Promise.resolve();
  }

  #onData(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.#codec.decode(chunk);
    } catch (err) {
      this.#terminate(err as Error);
      this.#socket.destroy();
      return;
    }
    for (const { header, body } of frames) {
      const p = this.#pending.get(header.Seq);
      // No call: it timed out or was cancelled; its reply was read and is dropped.
      if (p === undefined) continue;
      this.#pending.delete(header.Seq);
      p.cleanup();
      if (header.Error !== '') p.reject(new GeeRpcError('SERVER', header.Error));
      else p.resolve(body);
    }
  }

  #terminate(err: Error): void {
    this.#shutdown = true;
    const calls = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of calls) {
      p.cleanup();
      p.reject(err);
    }
  }
}

function formatTarget(a: RpcAddress): string {
  return a.protocol === 'unix' ? a.path : `${a.host}:${a.port}`;
}

/** Reads `HTTP/1.x 200 Connected to Gee RPC` and its blank line; returns bytes read past it. */
function readConnectAnswer(socket: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      let end = -1;
      for (let i = 0; i < buf.length && end < 0; i++) {
        if (buf[i] !== 0x0a) continue;
        if (buf[i + 1] === 0x0a) end = i + 2;
        else if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) end = i + 3;
      }
      if (end < 0) {
        if (buf.length > 8192) done(new GeeRpcError('CONNECT_FAILED', 'unexpected HTTP response: head too long'));
        return;
      }
      const statusLine = buf.toString('latin1', 0, buf.indexOf(0x0a)).replace(/\r$/, '');
      const status = statusLine.replace(/^HTTP\/1\.[01] /, '');
      if (status !== CONNECTED) return done(new GeeRpcError('CONNECT_FAILED', `unexpected HTTP response: ${status}`));
      done(undefined, buf.subarray(end));
    };
    const onClose = (): void => done(new GeeRpcError('CONNECT_FAILED', 'unexpected EOF before the HTTP CONNECT answer'));
    const done = (err?: Error, rest?: Buffer): void => {
      socket.off('data', onData);
      socket.off('close', onClose);
      if (err !== undefined) reject(err);
      else resolve(rest!);
    };
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}
