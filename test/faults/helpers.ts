/**
 * Clients for the fault and overload tests: a keep-alive HTTP/1.1 client over one raw socket (so a
 * test knows exactly which connection an answer came on and when it was closed), and load loops.
 */
import net from 'node:net';
import http from 'node:http';
import { once } from 'node:events';
import { createHttp1ResponseDecoder } from '../../src/protocol/http1/decoder.js';
import { http1Codec } from '../../src/protocol/http1/codec.js';
import type { ResponseDecoder } from '../../src/types/protocol.js';

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
  ms: number;
}

/** One keep-alive connection; get() sends a request and resolves with its answer, rejects on close. */
export class KeepAliveClient {
  readonly socket: net.Socket;
  closed = false;
  /** Time the server closed the connection (performance.now()), if it did. */
  closedAt = 0;
  readonly #decoder: ResponseDecoder;
  readonly #waiting: { resolve(a: Answer): void; reject(e: Error): void; sent: number }[] = [];
  #current: Answer | null = null;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.#decoder = createHttp1ResponseDecoder({
      onHead: (head) => {
        const headers: Record<string, string> = {};
        head.headers.forEach((k, v) => (headers[k.toLowerCase()] = v));
        this.#current = { status: head.status, headers, body: '', ms: 0 };
      },
      onBody: (_id, chunk) => {
        this.#current!.body += chunk.toString('latin1');
      },
      onComplete: () => {
        const w = this.#waiting.shift();
        const a = this.#current!;
        this.#current = null;
        if (w !== undefined) {
          a.ms = performance.now() - w.sent;
          w.resolve(a);
        }
      },
      onError: (err) => this.#gone(err.message),
    });
    socket.on('data', (d: Buffer) => this.#decoder.execute(d));
    socket.on('error', () => {});
    socket.on('close', () => this.#gone('connection closed'));
  }

  static async connect(address: string): Promise<KeepAliveClient> {
    const i = address.lastIndexOf(':');
    const socket = net.connect(Number(address.slice(i + 1)), address.slice(0, i));
    await once(socket, 'connect');
    socket.setNoDelay(true);
    return new KeepAliveClient(socket);
  }

  get(path: string, headers = ''): Promise<Answer> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject, sent: performance.now() });
      this.#decoder.expect(http1Codec.newRequest('GET', path));
      this.socket.write(`GET ${path} HTTP/1.1\r\nHost: t\r\n${headers}\r\n`);
    });
  }

  #gone(why: string): void {
    if (!this.closed) {
      this.closed = true;
      this.closedAt = performance.now();
    }
    for (const w of this.#waiting.splice(0)) w.reject(new Error(why));
    this.socket.destroy();
  }
}

/** One request on a fresh connection (node:http, no agent). */
export function getOnce(address: string, path: string, timeoutMs = 5000): Promise<Answer> {
  const i = address.lastIndexOf(':');
  const sent = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: address.slice(0, i), port: Number(address.slice(i + 1)), path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body, ms: performance.now() - sent }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
