/**
 * HTTP/1.1 load driver: raw `net` sockets, the request encoded once into a Buffer, responses read
 * through one `onread` buffer per thread and the minimal parser. More than one request in flight per
 * connection means pipelining; requests queued while responses are being delivered go out as one
 * write, because one syscall per request is the cost that bounds a Node load generator, and that
 * write goes straight to the socket's handle (handle-writer.ts).
 */
import net from 'node:net';
import type { ConnectionEvents, FailureKind, Http1Prepared, LoadConnection, PreparedRequest, ProtocolDriver, RequestOptions } from './driver.js';
import { HandleWriter } from './handle-writer.js';
import { Http1ResponseParser, type ResponseSink } from './http1-parser.js';

/** Read buffer shared by every connection of this thread: the parser never keeps a view into it. */
let sharedReadBuffer: Buffer | null = null;

const statusKeys = new Map<number, string>();
function statusKey(status: number): string {
  let key = statusKeys.get(status);
  if (key === undefined) {
    key = String(status);
    statusKeys.set(status, key);
  }
  return key;
}

/** Encodes one request exactly as it will go on the wire, every time. */
export function encodeHttp1Request(target: URL, opts: RequestOptions): Buffer {
  const path = (target.pathname || '/') + target.search;
  const lines = [`${opts.method} ${path} HTTP/1.1`];
  const has = new Set(opts.headers.map(([k]) => k.toLowerCase()));
  if (!has.has('host')) lines.push(`Host: ${target.host}`);
  for (const [k, v] of opts.headers) lines.push(`${k}: ${v}`);
  const body = opts.body;
  const needsLength = body !== undefined || ['POST', 'PUT', 'PATCH'].includes(opts.method);
  if (needsLength && !has.has('content-length')) lines.push(`Content-Length: ${body?.byteLength ?? 0}`);
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
  return body === undefined ? head : Buffer.concat([head, body]);
}

class Http1Connection implements LoadConnection, ResponseSink {
  readonly #events: ConnectionEvents;
  readonly #socket: net.Socket;
  readonly #writer: HandleWriter;
  readonly #parser: Http1ResponseParser;
  readonly #request: Buffer;
  #batch: Buffer;
  /** Views of the batch by request count, made once each. */
  #batchViews: Buffer[] = [];
  // FIFO of (intended, sent) times for requests in flight; responses come back in order.
  #intended = new Float64Array(16);
  #sent = new Float64Array(16);
  #head = 0;
  #count = 0;
  #queued = 0;
  #connected = false;
  #delivering = false;
  #accepting = true;
  #finished = false;
  #failure: FailureKind | null = null;
  #detail = '';

  constructor(spec: Http1Prepared, events: ConnectionEvents) {
    this.#events = events;
    this.#request = Buffer.from(spec.request.buffer, spec.request.byteOffset, spec.request.byteLength);
    this.#batch = this.#request;
    this.#parser = new Http1ResponseParser(this, spec.head);
    sharedReadBuffer ??= Buffer.allocUnsafe(256 * 1024);
    this.#socket = net.connect({
      host: spec.host,
      port: spec.port,
      noDelay: true,
      onread: { buffer: sharedReadBuffer, callback: (n: number, buf: Uint8Array) => this.#onRead(n, buf as Buffer) },
    });
    this.#writer = new HandleWriter(this.#socket, (code) => {
      if (this.#failure === null) {
        this.#failure = 'reset';
        this.#detail = code;
      }
      this.#socket.destroy();
    });
    this.#socket.on('connect', () => {
      this.#connected = true;
      this.#events.ready(this);
      this.#flush();
    });
    this.#socket.on('error', (err: NodeJS.ErrnoException) => {
      if (this.#failure === null) {
        this.#failure = this.#connected ? 'reset' : 'connect_error';
        this.#detail = err.code ?? err.message;
      }
    });
    this.#socket.on('end', () => {
      this.#parser.end();
      this.#socket.destroy();
    });
    this.#socket.on('close', () => this.#onClose());
  }

  get inFlight(): number {
    return this.#count;
  }

  get accepting(): boolean {
    return this.#accepting && !this.#finished;
  }

  send(intendedAt: number, sentAt: number): void {
    if (this.#count === this.#intended.length) this.#grow();
    const i = (this.#head + this.#count) & (this.#intended.length - 1);
    this.#intended[i] = intendedAt;
    this.#sent[i] = sentAt;
    this.#count++;
    this.#queued++;
    if (!this.#delivering && this.#connected) this.#flush();
  }

  oldestSentAt(): number {
    return this.#count === 0 ? Number.POSITIVE_INFINITY : this.#sent[this.#head]!;
  }

  abort(kind: FailureKind | null): void {
    if (this.#finished) return;
    this.#failAll(kind ?? 'reset', kind !== null, kind ?? '');
    this.#socket.destroy();
  }

  onResponse(status: number, closeAfter: boolean): void {
    if (this.#count === 0) throw new Error('response without a request');
    const i = this.#head;
    this.#head = (i + 1) & (this.#intended.length - 1);
    this.#count--;
    if (closeAfter) this.#accepting = false;
    this.#events.response(this, this.#intended[i]!, this.#sent[i]!, status >= 200 && status < 400 ? undefined : statusKey(status));
  }

  /** Returns true: keep reading (onread pauses the socket on false). */
  #onRead(n: number, buf: Buffer): true {
    this.#delivering = true;
    try {
      this.#parser.feed(buf, 0, n);
    } catch (err) {
      this.#delivering = false;
      this.#queued = 0;
      this.#failure = 'protocol_error';
      this.#detail = (err as Error).message;
      this.#failAll('protocol_error', true, this.#detail);
      this.#socket.destroy();
      return true;
    }
    this.#delivering = false;
    this.#flush();
    return true;
  }

  #flush(): void {
    const q = this.#queued;
    if (q === 0 || this.#finished) return;
    this.#queued = 0;
    if (q === 1) {
      this.#writer.write(this.#request);
      return;
    }
    const len = this.#request.length;
    if (this.#batch.length < q * len) {
      const copies = Math.max(q, (this.#batch.length / len) * 2);
      this.#batch = Buffer.alloc(copies * len);
      this.#batchViews = [];
      for (let c = 0; c < copies; c++) this.#request.copy(this.#batch, c * len);
    }
    let view = this.#batchViews[q];
    if (view === undefined) {
      view = this.#batch.subarray(0, q * len);
      this.#batchViews[q] = view;
    }
    this.#writer.write(view);
  }

  #grow(): void {
    const size = this.#intended.length * 2;
    const intended = new Float64Array(size);
    const sent = new Float64Array(size);
    for (let k = 0; k < this.#count; k++) {
      const i = (this.#head + k) & (this.#intended.length - 1);
      intended[k] = this.#intended[i]!;
      sent[k] = this.#sent[i]!;
    }
    this.#intended = intended;
    this.#sent = sent;
    this.#head = 0;
  }

  #failAll(kind: FailureKind, report: boolean, detail: string): void {
    const lost = this.#count;
    this.#count = 0;
    this.#queued = 0;
    this.#finished = true;
    if (report && lost > 0) this.#events.failed(this, kind, lost, detail);
  }

  #onClose(): void {
    if (!this.#finished) {
      if (!this.#connected) {
        this.#finished = true;
        this.#events.failed(this, 'connect_error', 1, this.#detail || 'closed');
      } else {
        this.#failAll(this.#failure ?? 'reset', true, this.#detail || 'connection closed');
      }
    }
    this.#events.closed(this);
  }
}

export const http1Driver: ProtocolDriver = {
  name: 'http1',
  defaultPort: 80,
  async prepare(target: URL, opts: RequestOptions): Promise<PreparedRequest> {
    if (target.protocol !== 'http:') throw new Error(`http1 needs an http:// target, got ${target.protocol}//`);
    const spec: Http1Prepared = {
      protocol: 'http1',
      host: target.hostname.replace(/^\[|\]$/g, ''),
      port: target.port === '' ? 80 : Number(target.port),
      request: encodeHttp1Request(target, opts),
      head: opts.method === 'HEAD',
    };
    return spec;
  },
  connect(spec: PreparedRequest, events: ConnectionEvents): LoadConnection {
    if (spec.protocol !== 'http1') throw new Error('http1 driver given a ' + spec.protocol + ' request');
    return new Http1Connection(spec, events);
  },
};
