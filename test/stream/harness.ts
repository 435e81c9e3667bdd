/**
 * Test harness: a minimal Connection over a real net.Socket (port 0), a server that puts an HTTP/1.x
 * stream connection on each accepted socket, and a raw client that writes bytes and decodes answers.
 * Bytes reach the stream connection through one scratch buffer that is scribbled over after each
 * call, as a read loop with a static buffer would, so kept views are caught.
 */
import net from 'node:net';
import { once } from 'node:events';
import { createHttp1ResponseDecoder } from '../../src/protocol/http1/decoder.js';
import { http1Codec } from '../../src/protocol/http1/codec.js';
import { createHttp1ServerStreamConnection } from '../../src/stream/http1/server-connection.js';
import { CloseMode, ConnectionEvent, type Connection, type Transport } from '../../src/types/network.js';
import type { Http1ResponseHead } from '../../src/types/protocol.js';
import type { ServerStreamConnectionOptions } from '../../src/types/stream.js';

const EMPTY = Buffer.alloc(0);
let nextId = 1;

export class SocketConnection implements Connection {
  readonly id = nextId++;
  readonly listenerName = 'test';
  readonly context = new Map<string, unknown>();
  readonly remoteAddress: string;
  readonly localAddress: string;
  closed = false;
  onData: (data: Buffer, endOfStream: boolean) => void = () => {};
  readonly #socket: net.Socket;
  readonly #listeners: ((event: ConnectionEvent, reason?: string) => void)[] = [];
  readonly #scratch = Buffer.alloc(65536);

  constructor(socket: net.Socket) {
    this.#socket = socket;
    this.remoteAddress = `${socket.remoteAddress}:${socket.remotePort}`;
    this.localAddress = `${socket.localAddress}:${socket.localPort}`;
    socket.on('data', (d: Buffer) => {
      for (let off = 0; off < d.length; off += this.#scratch.length) {
        const n = d.copy(this.#scratch, 0, off);
        this.onData(this.#scratch.subarray(0, n), false);
        this.#scratch.fill(0x58, 0, n);
      }
    });
    socket.on('end', () => this.onData(EMPTY, true));
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.closed) return;
      this.closed = true;
      this.#emit(ConnectionEvent.RemoteClose, 'peer closed');
    });
  }

  write(data: Buffer): void {
    if (!this.closed) this.#socket.write(Buffer.from(data));
  }

  close(mode: CloseMode, reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    if (mode === CloseMode.FlushWrite) this.#socket.end();
    else this.#socket.destroy();
    this.#emit(ConnectionEvent.LocalClose, reason);
  }

  setReadEnabled(enabled: boolean): void {
    if (enabled) this.#socket.resume();
    else this.#socket.pause();
  }

  addEventListener(listener: (event: ConnectionEvent, reason?: string) => void): void {
    this.#listeners.push(listener);
  }

  takeTransport(): Transport {
    throw new Error('not supported in tests');
  }

  #emit(event: ConnectionEvent, reason?: string): void {
    for (const l of this.#listeners) l(event, reason);
  }
}

export interface TestServer {
  port: number;
  close(): Promise<void>;
}

export async function startServer(options: ServerStreamConnectionOptions): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const conn = new SocketConnection(socket);
    const streams = createHttp1ServerStreamConnection(conn, options);
    conn.onData = (data, eos) => streams.onData(data, eos);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

export interface Answer {
  head: Http1ResponseHead;
  body: string;
  trailers: Record<string, string> | null;
}

export interface Exchange {
  answers: Answer[];
  informational: number[];
  raw: string;
  closed: boolean;
  socket: net.Socket;
}

/**
 * Connects, writes the request bytes (a string, or pieces written with a pause between them), and
 * resolves once `count` answers were decoded (and, with waitClose, the server closed).
 */
export async function exchange(
  port: number,
  requests: string | string[],
  methods: string[],
  opts: { waitClose?: boolean; timeoutMs?: number; keepOpen?: boolean } = {},
): Promise<Exchange> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.setNoDelay(true);
  const result: Exchange = { answers: [], informational: [], raw: '', closed: false, socket };
  let current: Answer | null = null;
  const decoder = createHttp1ResponseDecoder({
    onHead: (head) => {
      current = { head, body: '', trailers: null };
    },
    onBody: (_id, chunk) => {
      current!.body += chunk.toString('latin1');
    },
    onComplete: (_id, trailers) => {
      const t: Record<string, string> = {};
      trailers?.forEach((k, v) => (t[k.toLowerCase()] = v));
      current!.trailers = trailers === null ? null : t;
      result.answers.push(current!);
      current = null;
    },
    onError: (err) => {
      throw err;
    },
    onInformational: (head) => result.informational.push(head.status),
  });
  for (const m of methods) decoder.expect(http1Codec.newRequest(m, '/'));
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timeout: ${result.answers.length}/${methods.length} answers, raw=${JSON.stringify(result.raw)}`)),
      opts.timeoutMs ?? 3000,
    );
    const check = (): void => {
      if (result.answers.length >= methods.length && (!opts.waitClose || result.closed)) {
        clearTimeout(timer);
        resolve();
      }
    };
    socket.on('data', (d: Buffer) => {
      result.raw += d.toString('latin1');
      decoder.execute(d);
      check();
    });
    socket.on('close', () => {
      result.closed = true;
      decoder.finish();
      check();
    });
    socket.on('error', () => {});
  });
  const pieces = Array.isArray(requests) ? requests : [requests];
  for (let i = 0; i < pieces.length; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 20));
    socket.write(pieces[i]!);
  }
  await done;
  if (!opts.keepOpen) socket.destroy();
  return result;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
