/**
 * Plain HTTP/2 load driver (`ringside bench -p h2`): h2c with prior knowledge on node:http2
 * sessions, one session per connection with `concurrency` streams in flight on it. Each request is
 * the method, path, headers and body given on the command line; a 2xx/3xx status is a success, any
 * other status is counted under its number. For gRPC (outcome read from grpc-status) use `-p grpc`.
 */
import http2 from 'node:http2';
import type { ConnectionEvents, FailureKind, Http2Prepared, LoadConnection, PreparedRequest, ProtocolDriver, RequestOptions } from './driver.js';

interface InFlight {
  intendedAt: number;
  sentAt: number;
}

class H2Connection implements LoadConnection {
  readonly #events: ConnectionEvents;
  readonly #session: http2.ClientHttp2Session;
  readonly #headers: http2.OutgoingHttpHeaders;
  readonly #body: Buffer | null;
  readonly #inFlight = new Set<InFlight>();
  #connected = false;
  #accepting = true;
  #finished = false;
  #detail = '';

  constructor(spec: Http2Prepared, events: ConnectionEvents) {
    this.#events = events;
    this.#body = spec.body === null ? null : Buffer.from(spec.body.buffer, spec.body.byteOffset, spec.body.byteLength);
    this.#headers = { ':method': spec.method, ':path': spec.path, ...Object.fromEntries(spec.headers) };
    this.#session = http2.connect(spec.authority);
    this.#session.on('connect', () => {
      this.#connected = true;
      this.#events.ready(this);
    });
    this.#session.on('error', (err: NodeJS.ErrnoException) => {
      this.#detail ||= err.code ?? err.message;
    });
    this.#session.on('goaway', () => {
      this.#accepting = false;
    });
    this.#session.on('close', () => this.#onClose());
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  get accepting(): boolean {
    return this.#accepting && !this.#finished && !this.#session.destroyed;
  }

  send(intendedAt: number, sentAt: number): void {
    const stream = this.#session.request(this.#headers, { endStream: this.#body === null });
    const rec: InFlight = { intendedAt, sentAt };
    this.#inFlight.add(rec);
    let status = 0;
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', noop);
    stream.on('error', noop);
    stream.on('close', () => {
      if (!this.#inFlight.delete(rec)) return; // already failed by abort()
      if (status === 0) {
        this.#events.failed(this, 'reset', 1, `stream closed (rst ${stream.rstCode})`);
        return;
      }
      this.#events.response(this, rec.intendedAt, rec.sentAt, status < 400 ? undefined : String(status));
    });
    if (this.#body !== null) stream.end(this.#body);
  }

  oldestSentAt(): number {
    for (const rec of this.#inFlight) return rec.sentAt;
    return Number.POSITIVE_INFINITY;
  }

  abort(kind: FailureKind | null): void {
    if (this.#finished) return;
    this.#failAll(kind);
    this.#session.destroy();
  }

  #failAll(kind: FailureKind | null): void {
    const lost = this.#inFlight.size;
    this.#inFlight.clear();
    this.#finished = true;
    if (kind !== null && lost > 0) this.#events.failed(this, kind, lost, this.#detail || kind);
  }

  #onClose(): void {
    if (!this.#finished) {
      if (!this.#connected) {
        this.#finished = true;
        this.#events.failed(this, 'connect_error', 1, this.#detail || 'closed');
      } else {
        this.#failAll('reset');
      }
    }
    this.#events.closed(this);
  }
}

function noop(): void {}

export const h2Driver: ProtocolDriver = {
  name: 'h2',
  defaultPort: 80,
  async prepare(target: URL, opts: RequestOptions): Promise<PreparedRequest> {
    if (target.protocol !== 'http:') throw new Error(`h2 needs an http:// target (h2c with prior knowledge), got ${target.protocol}//`);
    const port = target.port === '' ? 80 : Number(target.port);
    const headers: [string, string][] = [];
    for (const [k, v] of opts.headers) {
      const name = k.toLowerCase();
      // HTTP/2 forbids connection-specific fields; Host is :authority.
      if (name === 'connection' || name === 'keep-alive' || name === 'transfer-encoding' || name === 'upgrade' || name === 'host') continue;
      headers.push([name, v]);
    }
    const spec: Http2Prepared = {
      protocol: 'h2',
      host: target.hostname.replace(/^\[|\]$/g, ''),
      port,
      authority: `http://${target.hostname}:${port}`,
      method: opts.method,
      path: `${target.pathname}${target.search}`,
      headers,
      body: opts.body === undefined ? null : opts.body,
    };
    return spec;
  },
  connect(spec: PreparedRequest, events: ConnectionEvents): LoadConnection {
    if (spec.protocol !== 'h2') throw new Error('h2 driver given a ' + spec.protocol + ' request');
    return new H2Connection(spec, events);
  },
};
