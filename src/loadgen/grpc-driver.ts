/**
 * gRPC unary load driver on node:http2 sessions directly (grpc-js adds a channel, call objects and
 * interceptors per call, which would make the load generator the bottleneck). One session per
 * connection, `concurrency` streams in flight on it; each request is the pre-encoded frame, and the
 * outcome is read from `grpc-status` in the trailers (or in the headers of a trailers-only answer).
 */
import http2 from 'node:http2';
import type { ConnectionEvents, FailureKind, GrpcPrepared, LoadConnection, PreparedRequest, ProtocolDriver, RequestOptions } from './driver.js';
import { buildGrpcCall } from './grpc-request.js';

const codeNames = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE',
  'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
];

function codeKey(raw: string | string[] | undefined): string | undefined {
  if (raw === undefined) return 'missing_grpc_status';
  const code = Number(Array.isArray(raw) ? raw[0] : raw);
  if (code === 0) return undefined;
  return codeNames[code] ?? `grpc_${code}`;
}

interface InFlight {
  intendedAt: number;
  sentAt: number;
  stream: http2.ClientHttp2Stream;
}

class GrpcConnection implements LoadConnection {
  readonly #events: ConnectionEvents;
  readonly #session: http2.ClientHttp2Session;
  readonly #headers: http2.OutgoingHttpHeaders;
  readonly #frame: Buffer;
  /** Insertion order = send order, so the first entry is the oldest. */
  readonly #inFlight = new Set<InFlight>();
  #connected = false;
  #accepting = true;
  #finished = false;
  #detail = '';

  constructor(spec: GrpcPrepared, events: ConnectionEvents) {
    this.#events = events;
    this.#frame = Buffer.from(spec.frame.buffer, spec.frame.byteOffset, spec.frame.byteLength);
    this.#headers = {
      ':method': 'POST',
      ':path': spec.path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...spec.metadata,
    };
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
    const stream = this.#session.request(this.#headers, { endStream: false });
    const rec: InFlight = { intendedAt, sentAt, stream };
    this.#inFlight.add(rec);
    let headers: http2.IncomingHttpHeaders | undefined;
    let trailers: http2.IncomingHttpHeaders | undefined;
    stream.on('response', (h) => (headers = h));
    stream.on('trailers', (t) => (trailers = t));
    stream.on('data', noop);
    stream.on('error', noop);
    stream.on('close', () => {
      if (!this.#inFlight.delete(rec)) return; // already failed by abort()
      if (headers === undefined) {
        this.#events.failed(this, 'reset', 1, `stream closed (rst ${stream.rstCode})`);
        return;
      }
      const httpStatus = Number(headers[':status']);
      let error: string | undefined;
      if (httpStatus !== 200) error = `http_${httpStatus}`;
      else error = codeKey(trailers?.['grpc-status'] ?? headers['grpc-status']);
      this.#events.response(this, rec.intendedAt, rec.sentAt, error);
    });
    stream.end(this.#frame);
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

export const grpcDriver: ProtocolDriver = {
  name: 'grpc',
  defaultPort: 34904,
  async prepare(target: URL, opts: RequestOptions): Promise<PreparedRequest> {
    if (target.protocol !== 'http:' && target.protocol !== 'grpc:') {
      throw new Error(`grpc needs an http:// or grpc:// target (plaintext h2c), got ${target.protocol}//`);
    }
    const call = await buildGrpcCall(opts.grpc);
    const host = target.hostname.replace(/^\[|\]$/g, '');
    const port = target.port === '' ? 34904 : Number(target.port);
    const metadata: Record<string, string> = {};
    for (const [k, v] of opts.headers) metadata[k.toLowerCase()] = v;
    const spec: GrpcPrepared = {
      protocol: 'grpc',
      host,
      port,
      authority: `http://${target.hostname}:${port}`,
      path: call.path,
      frame: call.frame,
      metadata,
    };
    return spec;
  },
  connect(spec: PreparedRequest, events: ConnectionEvents): LoadConnection {
    if (spec.protocol !== 'grpc') throw new Error('grpc driver given a ' + spec.protocol + ' request');
    return new GrpcConnection(spec, events);
  },
};
