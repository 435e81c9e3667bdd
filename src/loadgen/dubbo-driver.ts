/**
 * dubbo load driver: raw `net` sockets carrying dubbo request frames (hessian2, two-way), many in
 * flight per connection (--concurrency), answers matched by id. The invocation body is encoded once
 * from --id (service[:version]), --method and --data (a JSON array of arguments or
 * {"args":[...],"argTypes":[...]}); each send only writes a fresh 16-byte header in front of it.
 *
 *   ringside bench -p dubbo --id com.example.Calc:1.0.0 --method plus --data '[1,2]' dubbo://127.0.0.1:20880
 */
import net from 'node:net';
import type { ConnectionEvents, DubboPrepared, FailureKind, LoadConnection, PreparedRequest, ProtocolDriver, RequestOptions } from './driver.js';
import { DubboStatus, dubboStatusName } from '../protocol/dubbo/constants.js';
import { writeHeader } from '../protocol/dubbo/framing.js';
import { FLAG_REQUEST, FLAG_TWO_WAY, HEADER_BYTES, HESSIAN2 } from '../protocol/dubbo/constants.js';
import { dubboCodec } from '../protocol/dubbo/codec.js';
import { FrameReader } from '../protocol/xprotocol/frame-reader.js';
import { XCommand } from '../types/xprotocol.js';
import { dubboJsonBody } from '../runtime/channel/dubbo-json.js';

/** Largest response a bench connection accepts. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

class DubboConnection implements LoadConnection {
  readonly #events: ConnectionEvents;
  readonly #socket: net.Socket;
  readonly #body: Buffer;
  readonly #reader: FrameReader;
  readonly #pending = new Map<number, { intendedAt: number; sentAt: number }>();
  #batch: Buffer[] = [];
  #nextId = 0;
  #connected = false;
  #delivering = false;
  #finished = false;
  #failure: FailureKind | null = null;
  #detail = '';

  constructor(spec: DubboPrepared, events: ConnectionEvents) {
    this.#events = events;
    this.#body = Buffer.from(spec.body.buffer, spec.body.byteOffset, spec.body.byteLength);
    this.#reader = new FrameReader(
      dubboCodec,
      { maxHeaderBytes: MAX_RESPONSE_BYTES, maxContentBytes: MAX_RESPONSE_BYTES },
      {
        onFrame: (f) => {
          if (f.kind === 'request') {
            if (f.command === XCommand.Heartbeat) this.#socket.write(dubboCodec.encode(dubboCodec.heartbeatReply(f)));
            return;
          }
          const p = this.#pending.get(f.requestId);
          if (p === undefined) return;
          this.#pending.delete(f.requestId);
          this.#events.response(this, p.intendedAt, p.sentAt, f.status === DubboStatus.OK ? undefined : dubboStatusName(f.status));
        },
        onDecodeError: (r) => {
          this.#failure = 'protocol_error';
          this.#detail = r.error.message;
          this.#socket.destroy();
        },
      },
    );
    this.#socket = net.connect({ host: spec.host, port: spec.port, noDelay: true });
    this.#socket.on('connect', () => {
      this.#connected = true;
      this.#events.ready(this);
      this.#flush();
    });
    this.#socket.on('data', (d: Buffer) => {
      this.#delivering = true;
      try {
        this.#reader.feed(d);
      } finally {
        this.#delivering = false;
      }
      this.#flush();
    });
    this.#socket.on('error', (err: NodeJS.ErrnoException) => {
      if (this.#failure === null) {
        this.#failure = this.#connected ? 'reset' : 'connect_error';
        this.#detail = err.code ?? err.message;
      }
    });
    this.#socket.on('end', () => this.#socket.destroy());
    this.#socket.on('close', () => {
      this.#reader.destroy();
      if (!this.#finished) this.#failAll(this.#failure ?? 'reset', this.#detail || 'closed by peer');
      this.#events.closed(this);
    });
  }

  get inFlight(): number {
    return this.#pending.size;
  }

  get accepting(): boolean {
    return !this.#finished;
  }

  send(intendedAt: number, sentAt: number): void {
    this.#nextId = this.#nextId >= 0xffffffff ? 1 : this.#nextId + 1;
    this.#pending.set(this.#nextId, { intendedAt, sentAt });
    const head = Buffer.allocUnsafe(HEADER_BYTES);
    writeHeader(head, 0, FLAG_REQUEST | FLAG_TWO_WAY | HESSIAN2, 0, this.#nextId, this.#body.length);
    this.#batch.push(head, this.#body);
    if (!this.#delivering && this.#connected) this.#flush();
  }

  oldestSentAt(): number {
    for (const p of this.#pending.values()) return p.sentAt;
    return Number.POSITIVE_INFINITY;
  }

  abort(kind: FailureKind | null): void {
    if (this.#finished) return;
    this.#failAll(kind ?? 'reset', kind ?? '', kind !== null);
    this.#socket.destroy();
  }

  #flush(): void {
    if (this.#batch.length === 0 || this.#finished) return;
    const out = this.#batch.length === 2 ? this.#batch : [Buffer.concat(this.#batch)];
    this.#batch = [];
    for (const b of out) this.#socket.write(b);
  }

  #failAll(kind: FailureKind, detail: string, report = true): void {
    this.#finished = true;
    const lost = this.#pending.size;
    this.#pending.clear();
    if (report && lost > 0) this.#events.failed(this, kind, lost, detail);
    else if (report && !this.#connected) this.#events.failed(this, kind, 1, detail);
  }
}

export const dubboDriver: ProtocolDriver = {
  name: 'dubbo',
  defaultPort: 20880,
  prepare(target: URL, opts: RequestOptions): Promise<PreparedRequest> {
    if (target.protocol !== 'dubbo:' && target.protocol !== 'tcp:') {
      return Promise.reject(new Error(`dubbo needs a dubbo://host:port target, got ${target.protocol}//`));
    }
    let body: Buffer;
    try {
      body = dubboJsonBody({ data: Buffer.from(opts.grpc.data, 'utf8'), id: opts.grpc.id, method: opts.grpc.method, attachments: {} });
    } catch (err) {
      return Promise.reject(new Error(`bad dubbo call (--id service[:version], --method, --data JSON arguments): ${(err as Error).message}`));
    }
    return Promise.resolve({
      protocol: 'dubbo',
      host: target.hostname.replace(/^\[|\]$/g, ''),
      port: target.port === '' ? 20880 : Number(target.port),
      body: new Uint8Array(body),
    } satisfies DubboPrepared);
  },
  connect(spec: PreparedRequest, events: ConnectionEvents): LoadConnection {
    return new DubboConnection(spec as DubboPrepared, events);
  },
};
