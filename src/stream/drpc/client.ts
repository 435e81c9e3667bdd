/**
 * The dRPC upstream client (upstream_protocol drpc): one SOCK_SEQPACKET connection to a host whose
 * address is `drpc:/path.sock`, carrying one call at a time (capacity 1: the protocol is
 * synchronous), so the cluster's ordinary connection pool bounds it — max_connections per cluster,
 * max_pending_requests and the queue timeout for calls waiting for a free connection.
 *
 * Each connection numbers its calls 1, 2, 3 … (DAOS's client rule); the downstream's own sequence
 * stays with the downstream stream, which answers under it. A Response whose sequence is not the
 * call's (and not −1, the answer to an undecodable call) fails the call and the connection. A call
 * abandoned while in flight (route timeout, downstream gone) closes the connection: its late answer
 * would otherwise be taken for the next call's. A peer that closes mid-call fails the call at once
 * (the reactor reports POLLHUP while the call waits).
 *
 * Sockets are driven by the thread's dRPC reactor (src/drpc/reactor.ts); the answer reaches the
 * proxy's downstream actor as a message, on the worker's run loop.
 */
import { RingsideError } from '../../common/errors.js';
import { counter } from '../../common/counters.js';
import type { HeaderMap, RequestFrame } from '../../types/protocol.js';
import type { StreamClient, StreamClientFactory, UpstreamResponseReceiver, UpstreamStream } from '../../types/proxy.js';
import type { ConnectCallback, Host, UpstreamClientEvents } from '../../types/upstream.js';
import { ChunkAssembler, FramingError, toPackets } from '../../drpc/framing.js';
import { errnoName } from '../../drpc/libc.js';
import { decodeResponse, encodeCall, type Response } from '../../drpc/messages.js';
import { PacketSocket } from '../../drpc/packet-socket.js';
import { threadReactor, type Reactor } from '../../drpc/reactor.js';
import { dialSeqpacket } from '../../drpc/sockets.js';
import { DRPC_PROTOCOL, isCallFrame, replyFrame } from '../../protocol/drpc/frames.js';

const connects = counter('drpc.upstream.cx_total');
const connectFailures = counter('drpc.upstream.cx_connect_fail');

export interface DrpcClientFactoryOptions {
  /** Largest response accepted (ringside.limits.max_body_bytes); a larger one fails the call and the connection. */
  maxMessageBytes: number;
  reactor?: Reactor;
}

export class DrpcClientFactory implements StreamClientFactory {
  readonly protocol = DRPC_PROTOCOL;
  readonly #opts: DrpcClientFactoryOptions;

  constructor(opts: DrpcClientFactoryOptions) {
    this.#opts = opts;
  }

  /** A Unix connect completes at once (or fails at once: ENOENT, ECONNREFUSED, EACCES, EAGAIN when the backlog is full). */
  connect(host: Host, events: UpstreamClientEvents, done: ConnectCallback): void {
    const path = host.socketPath;
    if (path === undefined) {
      connectFailures.inc();
      done(new RingsideError('CONNECT_FAILED', 'upstream', `host ${host.address} of cluster ${host.clusterName} is not a dRPC socket (write it drpc:/path/to.sock)`, { retryable: false }), undefined);
      return;
    }
    const r = dialSeqpacket(path);
    if ('errno' in r) {
      connectFailures.inc();
      done(new RingsideError('CONNECT_FAILED', 'upstream', `connect ${errnoName(r.errno)} ${host.address}`, { retryable: true }), undefined);
      return;
    }
    connects.inc();
    done(undefined, new DrpcUpstreamClient(r.fd, host, events, this.#opts.maxMessageBytes, this.#opts.reactor ?? threadReactor()));
  }
}

/** A call on the connection: what the proxy sent and who waits for its answer. */
interface InFlight {
  readonly receiver: UpstreamResponseReceiver;
  /** This connection's sequence of the call; 0 until the call is sent. */
  sequence: number;
  head: RequestFrame | null;
  body: Buffer[];
}

class DrpcUpstreamClient implements StreamClient, UpstreamStream {
  readonly capacity = 1;
  readonly #host: Host;
  readonly #events: UpstreamClientEvents;
  readonly #socket: PacketSocket;
  readonly #assembler: ChunkAssembler;
  #sequence = 0;
  #call: InFlight | null = null;
  #closed = false;

  constructor(fd: number, host: Host, events: UpstreamClientEvents, maxMessageBytes: number, reactor: Reactor) {
    this.#host = host;
    this.#events = events;
    this.#assembler = new ChunkAssembler(maxMessageBytes);
    this.#socket = new PacketSocket(fd, reactor, {
      onPacket: (p) => this.#onPacket(p),
      onClose: (reason, error) => this.#onClosed(error === undefined ? reason : `${reason}: ${error.message}`),
    });
  }

  get available(): boolean {
    return !this.#closed && this.#call === null;
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(reason: string): void {
    this.#socket.close(reason);
  }

  // ── StreamClient ──
  newStream(receiver: UpstreamResponseReceiver): UpstreamStream {
    this.#call = { receiver, sequence: 0, head: null, body: [] };
    return this;
  }

  // ── UpstreamStream (this connection's one call) ──
  sendHead(head: RequestFrame, body: Buffer | null, endOfStream: boolean): void {
    const call = this.#call;
    if (call === null) return;
    call.head = head;
    if (body !== null && body.length > 0) call.body.push(body);
    if (endOfStream) this.#sendCall(call);
  }

  sendData(chunk: Buffer, endOfStream: boolean): void {
    const call = this.#call;
    if (call === null || call.head === null) return;
    if (chunk.length > 0) call.body.push(Buffer.from(chunk));
    if (endOfStream) this.#sendCall(call);
  }

  sendTrailers(_trailers: HeaderMap): void {
    const call = this.#call;
    if (call !== null && call.head !== null) this.#sendCall(call);
  }

  reset(reason: string): void {
    const call = this.#call;
    if (call === null) return;
    this.#call = null;
    // Sent and unanswered: the answer would arrive for the next call. Never sent: the connection is clean.
    if (call.sequence !== 0) this.#socket.close(`call abandoned: ${reason}`);
    else this.#events.onIdle();
  }

  #sendCall(call: InFlight): void {
    if (call.sequence !== 0) return;
    const head = call.head!;
    if (!isCallFrame(head)) {
      this.#call = null;
      call.receiver.onUpstreamError(new RingsideError('BAD_REQUEST', 'internal', `a ${head.protocol} request cannot be sent to dRPC host ${this.#host.address}`, { retryable: false }), false);
      this.#events.onIdle();
      return;
    }
    const parts = call.body;
    const body = parts.length === 0 ? head.body : parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    call.body = [];
    call.sequence = ++this.#sequence;
    const bytes = encodeCall({ module: head.moduleId, method: head.methodId, sequence: call.sequence, body });
    this.#socket.send(toPackets(bytes));
  }

  #onPacket(packet: Buffer): void {
    let r;
    try {
      r = this.#assembler.push(packet);
    } catch (err) {
      if (!(err instanceof FramingError)) throw err;
      this.#failCall(new RingsideError('UPSTREAM_BAD_RESPONSE', 'upstream', `bad dRPC framing from ${this.#host.address}: ${err.message}`, { retryable: false }));
      return;
    }
    if (!r.done) return;
    const call = this.#call;
    if (call === null || call.sequence === 0) {
      this.#failCall(new RingsideError('UPSTREAM_BAD_RESPONSE', 'upstream', `${this.#host.address} sent a response with no call in flight`));
      return;
    }
    let resp: Response;
    try {
      resp = decodeResponse(r.message);
    } catch (err) {
      this.#failCall(new RingsideError('UPSTREAM_BAD_RESPONSE', 'upstream', `undecodable dRPC response from ${this.#host.address}: ${(err as Error).message}`, { retryable: false }));
      return;
    }
    if (resp.sequence !== call.sequence && resp.sequence !== -1) {
      this.#failCall(new RingsideError('UPSTREAM_BAD_RESPONSE', 'upstream', `${this.#host.address} answered sequence ${resp.sequence} to call ${call.sequence}`, { retryable: false }));
      return;
    }
    this.#call = null;
    call.receiver.onUpstreamHead(replyFrame(call.head!.requestId, resp.status, resp.body), true);
    if (!this.#closed) this.#events.onIdle();
  }

  /** Fails the call in flight with `err` and closes the connection. */
  #failCall(err: RingsideError): void {
    const call = this.#call;
    this.#call = null;
    call?.receiver.onUpstreamError(err, false);
    this.#socket.close(err.message);
  }

  #onClosed(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    const call = this.#call;
    this.#call = null;
    if (call !== null) {
      // Never sent: nothing reached the upstream, so another try may take it (retryable).
      const sent = call.sequence !== 0;
      call.receiver.onUpstreamError(new RingsideError('UPSTREAM_RESET', 'upstream', `dRPC host ${this.#host.address} closed the connection${sent ? ' mid-call' : ''}: ${reason}`, { retryable: !sent }), false);
    }
    this.#events.onClose(reason);
  }
}
