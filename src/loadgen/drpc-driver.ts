/**
 * dRPC load driver: one SOCK_SEQPACKET session per connection, one call in flight on it (the protocol
 * is synchronous; more load means more connections). Each call is the prepared module, method and
 * body under the connection's next sequence number; the outcome is the Response status.
 *
 *   ringside bench -p drpc --call 10/1001 --id ID --method M --data S   drpc:/path/to.sock
 *   ringside bench -p drpc --call 7/701 --body-file payload.bin         drpc:/path/to.sock
 */
import type { ConnectionEvents, DrpcPrepared, FailureKind, LoadConnection, PreparedRequest, ProtocolDriver, RequestOptions } from './driver.js';
import { ChunkAssembler, FramingError, toPackets } from '../drpc/framing.js';
import { errnoName, loadLibc } from '../drpc/libc.js';
import { Status, checkIds, decodeResponse, encodeCall } from '../drpc/messages.js';
import { PacketSocket } from '../drpc/packet-socket.js';
import { threadReactor } from '../drpc/reactor.js';
import { dialSeqpacket } from '../drpc/sockets.js';
import { messageType } from '../runtime/proto.js';

const verbs = ['NONE', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];
/** Largest response a bench connection accepts. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

class DrpcConnection implements LoadConnection {
  readonly #events: ConnectionEvents;
  readonly #spec: DrpcPrepared;
  readonly #body: Buffer;
  readonly #assembler = new ChunkAssembler(MAX_RESPONSE_BYTES);
  #socket: PacketSocket | null = null;
  #sequence = 0;
  #pending: { intendedAt: number; sentAt: number } | null = null;
  #finished = false;

  constructor(spec: DrpcPrepared, events: ConnectionEvents) {
    this.#events = events;
    this.#spec = spec;
    this.#body = Buffer.from(spec.body.buffer, spec.body.byteOffset, spec.body.byteLength);
    // The engine expects ready/failed after connect() returned, as with a socket's connect event.
    setImmediate(() => this.#open());
  }

  get inFlight(): number {
    return this.#pending === null ? 0 : 1;
  }

  get accepting(): boolean {
    return !this.#finished && this.#socket !== null && this.#pending === null;
  }

  send(intendedAt: number, sentAt: number): void {
    const socket = this.#socket;
    if (socket === null || this.#pending !== null) return;
    this.#pending = { intendedAt, sentAt };
    const call = encodeCall({ module: this.#spec.module, method: this.#spec.method, sequence: ++this.#sequence, body: this.#body });
    socket.send(toPackets(call));
  }

  oldestSentAt(): number {
    return this.#pending === null ? Number.POSITIVE_INFINITY : this.#pending.sentAt;
  }

  abort(kind: FailureKind | null): void {
    if (this.#finished) return;
    this.#finish(kind, kind ?? 'aborted');
  }

  #open(): void {
    const r = dialSeqpacket(this.#spec.path);
    if ('errno' in r) {
      this.#finished = true;
      this.#events.failed(this, 'connect_error', 1, errnoName(r.errno));
      this.#events.closed(this);
      return;
    }
    this.#socket = new PacketSocket(r.fd, threadReactor(), {
      onPacket: (p) => this.#onPacket(p),
      onClose: (reason) => {
        if (!this.#finished) this.#finish('reset', reason);
        this.#events.closed(this);
      },
    });
    this.#events.ready(this);
  }

  #onPacket(packet: Buffer): void {
    let r;
    try {
      r = this.#assembler.push(packet);
    } catch (err) {
      if (!(err instanceof FramingError)) throw err;
      this.#finish('protocol_error', err.message);
      return;
    }
    if (!r.done) return;
    const pending = this.#pending;
    if (pending === null) {
      this.#finish('protocol_error', 'a response with no call in flight');
      return;
    }
    let status: Status;
    try {
      const resp = decodeResponse(r.message);
      if (resp.sequence !== this.#sequence && resp.sequence !== -1) {
        this.#finish('protocol_error', `response sequence ${resp.sequence}, expected ${this.#sequence}`);
        return;
      }
      status = resp.status;
    } catch (err) {
      this.#finish('protocol_error', `undecodable response: ${(err as Error).message}`);
      return;
    }
    this.#pending = null;
    this.#events.response(this, pending.intendedAt, pending.sentAt, status === Status.SUCCESS ? undefined : (Status[status] ?? `status_${status}`));
  }

  /** Fails the call in flight (if any) as `kind` and closes the session. */
  #finish(kind: FailureKind | null, detail: string): void {
    this.#finished = true;
    const lost = this.#pending === null ? 0 : 1;
    this.#pending = null;
    if (kind !== null && lost > 0) this.#events.failed(this, kind, lost, detail);
    this.#socket?.close(detail);
  }
}

/** The body of a preset call: InvokeService (10/1001) or SayHello (10/1002) of the runtime module. */
function presetBody(module: number, method: number, opts: RequestOptions): Uint8Array {
  const g = opts.grpc;
  if (module === 10 && method === 1001) {
    const verb = verbs.indexOf(g.verb.toUpperCase());
    if (verb < 0) throw new Error(`unknown --verb "${g.verb}" (known: ${verbs.join(', ')})`);
    const type = messageType('spec.proto.runtime.v1.InvokeServiceRequest');
    return type.encode({ id: g.id, message: { method: g.method, data: { type_url: '', value: Buffer.from(g.data, 'utf8') }, content_type: g.contentType, http_extension: { verb, querystring: '' } } }).finish();
  }
  if (module === 10 && method === 1002) return messageType('spec.proto.runtime.v1.SayHelloRequest').encode({ name: 'bench' }).finish();
  return new Uint8Array(0);
}

export const drpcDriver: ProtocolDriver = {
  name: 'drpc',
  defaultPort: 0,
  prepare(target: URL, opts: RequestOptions): Promise<PreparedRequest> {
    if (target.protocol !== 'drpc:' && target.protocol !== 'unix:') {
      return Promise.reject(new Error(`drpc needs a drpc:/path/to.sock target, got ${target.protocol}//`));
    }
    const path = decodeURIComponent(target.pathname);
    if (path === '' || !path.startsWith('/')) return Promise.reject(new Error(`drpc needs an absolute socket path (drpc:/path/to.sock), got "${target.href}"`));
    const m = /^(\d+)\/(\d+)$/.exec(opts.grpc.call ?? '10/1001');
    if (m === null) return Promise.reject(new Error(`bad --call "${opts.grpc.call}" for drpc: expected MODULE/METHOD, e.g. 10/1001`));
    const module = Number(m[1]);
    const method = Number(m[2]);
    const bad = checkIds(module, method);
    if (bad !== undefined) return Promise.reject(new Error(`bad --call: ${bad}`));
    let body: Uint8Array;
    try {
      body = opts.body ?? presetBody(module, method, opts);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const spec: DrpcPrepared = { protocol: 'drpc', host: '', port: 0, path, module, method, body };
    return Promise.resolve(spec);
  },
  probe(spec: PreparedRequest): Promise<void> {
    if (spec.protocol !== 'drpc') return Promise.reject(new Error('drpc driver given a ' + spec.protocol + ' request'));
    const r = dialSeqpacket(spec.path);
    if ('errno' in r) return Promise.reject(new Error(`cannot connect to drpc:${spec.path}: ${errnoName(r.errno)}`));
    // A bare close: the server sees a session end before its first call.
    loadLibc().close(r.fd);
    return Promise.resolve();
  },
  connect(spec: PreparedRequest, events: ConnectionEvents): LoadConnection {
    if (spec.protocol !== 'drpc') throw new Error('drpc driver given a ' + spec.protocol + ' request');
    return new DrpcConnection(spec, events);
  },
};
