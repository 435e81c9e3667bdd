/**
 * bolt load driver (SOFARPC over bolt v1): many calls in flight per connection, paired with their
 * answers by request id. The SofaRequest (service, method, hessian2 arguments) is encoded once by
 * sofa-bolt-node in prepare(); each call sends those bytes with its own id patched in, and an answer
 * is a success when its response status is SUCCESS (0), else it counts under `bolt_<status>`.
 *
 *   ringside bench -p bolt --id com.example.Calc:1.0 --method plus --data '[1,2]' bolt://127.0.0.1:12200
 *
 * --data is the JSON array of arguments: integers go as Java int, other numbers as double, strings
 * as java.lang.String, booleans as boolean.
 */
import net from 'node:net';
import { createRequire } from 'node:module';
import type { BoltPrepared, ConnectionEvents, FailureKind, LoadConnection, PreparedRequest, ProtocolDriver, RequestOptions } from './driver.js';
import { boltCodec } from '../protocol/bolt/codec.js';
import { FrameReader } from '../protocol/xprotocol/frame-reader.js';

const ID_AT = 5;
const MAX_ID = 0xffffffff;
const limits = { maxHeaderBytes: 1 << 20, maxContentBytes: 64 << 20 };

function javaArg(v: unknown): { $class: string; $: unknown } {
  if (typeof v === 'number') return { $class: Number.isInteger(v) ? 'int' : 'double', $: v };
  if (typeof v === 'string') return { $class: 'java.lang.String', $: v };
  if (typeof v === 'boolean') return { $class: 'boolean', $: v };
  throw new Error(`bolt --data: arguments must be numbers, strings or booleans, got ${JSON.stringify(v)}`);
}

class BoltConnection implements LoadConnection {
  readonly #events: ConnectionEvents;
  readonly #frame: Buffer;
  readonly #socket: net.Socket;
  readonly #pending = new Map<number, { intendedAt: number; sentAt: number }>();
  readonly #reader: FrameReader;
  #nextId = 0;
  #open = false;
  #finished = false;
  #corked = false;

  constructor(spec: BoltPrepared, events: ConnectionEvents) {
    this.#events = events;
    this.#frame = Buffer.from(spec.frame.buffer, spec.frame.byteOffset, spec.frame.byteLength);
    this.#reader = new FrameReader(boltCodec, limits, {
      onFrame: (f) => {
        if (f.kind !== 'response') return;
        const p = this.#pending.get(f.requestId);
        if (p === undefined) return;
        this.#pending.delete(f.requestId);
        this.#events.response(this, p.intendedAt, p.sentAt, f.status === 0 ? undefined : `bolt_${f.status}`);
      },
      onDecodeError: (r) => this.#finish('protocol_error', r.error.message),
    });
    this.#socket = net.connect({ host: spec.host, port: spec.port, noDelay: true });
    this.#socket.on('connect', () => {
      this.#open = true;
      this.#events.ready(this);
    });
    this.#socket.on('data', (d: Buffer) => this.#reader.feed(d));
    this.#socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!this.#open) {
        this.#finished = true;
        this.#events.failed(this, 'connect_error', 1, err.code ?? err.message);
      } else this.#finish('reset', err.code ?? err.message);
    });
    this.#socket.on('close', () => {
      if (!this.#finished) this.#finish('reset', 'closed by peer');
      this.#events.closed(this);
    });
  }

  get inFlight(): number {
    return this.#pending.size;
  }

  get accepting(): boolean {
    return this.#open && !this.#finished;
  }

  send(intendedAt: number, sentAt: number): void {
    if (!this.accepting) return;
    do this.#nextId = this.#nextId >= MAX_ID ? 1 : this.#nextId + 1;
    while (this.#pending.has(this.#nextId));
    const id = this.#nextId;
    this.#pending.set(id, { intendedAt, sentAt });
    const out = Buffer.from(this.#frame);
    out.writeUInt32BE(id, ID_AT);
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        this.#socket.uncork();
      });
    }
    this.#socket.write(out);
  }

  oldestSentAt(): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const p of this.#pending.values()) if (p.sentAt < oldest) oldest = p.sentAt;
    return oldest;
  }

  abort(kind: FailureKind | null): void {
    if (!this.#finished) this.#finish(kind, kind ?? 'aborted');
  }

  #finish(kind: FailureKind | null, detail: string): void {
    this.#finished = true;
    const lost = this.#pending.size;
    this.#pending.clear();
    this.#reader.destroy();
    if (kind !== null && lost > 0) this.#events.failed(this, kind, lost, detail);
    this.#socket.destroy();
  }
}

export const boltDriver: ProtocolDriver = {
  name: 'bolt',
  defaultPort: 12200,
  async prepare(target: URL, opts: RequestOptions): Promise<PreparedRequest> {
    if (target.protocol !== 'bolt:' && target.protocol !== 'tcp:') throw new Error(`bolt needs a bolt://host:port target, got ${target.protocol}//`);
    let args: unknown;
    try {
      args = JSON.parse(opts.grpc.data);
    } catch {
      throw new Error('bolt --data must be a JSON array of arguments, e.g. [1,2]');
    }
    if (!Array.isArray(args)) throw new Error('bolt --data must be a JSON array of arguments, e.g. [1,2]');
    const service = opts.grpc.id.includes(':') ? opts.grpc.id : `${opts.grpc.id}:1.0`;
    // sofa-bolt-node writes the SofaRequest exactly as SOFARPC clients do (hessian2 content).
    const sofa = createRequire(import.meta.url)('sofa-bolt-node/lib/protocol') as { requestEncode(id: number, req: unknown, o: unknown): Buffer };
    const frame = sofa.requestEncode(0, { serverSignature: service, methodName: opts.grpc.method, args: args.map(javaArg), timeout: 3000, requestProps: {} }, { protocolType: 'bolt', codecType: 'hessian2', boltVersion: 1 });
    const spec: BoltPrepared = { protocol: 'bolt', host: target.hostname, port: Number(target.port || 12200), frame: new Uint8Array(frame) };
    return spec;
  },
  connect(spec: PreparedRequest, events: ConnectionEvents): LoadConnection {
    return new BoltConnection(spec as BoltPrepared, events);
  },
};
